"""The replicas' pub/sub channel: cache invalidations and circuit openings, as JSON messages.

One channel, ``customer-gateway:events``. A message is ``{"origin": <replica>, "type": ...}``
plus its fields; each replica ignores its own (it acted before publishing). The
:class:`Listener` runs for the app's life in a task of its own: it reconnects after Redis
fails, and every (re)subscription calls ``on_connect`` first, because messages sent while it
was away are lost (pub/sub keeps nothing), so what they would have told must be assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from redis.exceptions import RedisError

from gateway.shared.link import KEY_PREFIX, RETRY_AFTER, RedisLink

__all__ = ["CHANNEL", "Events", "Listener"]

CHANNEL: Final = f"{KEY_PREFIX}events"

Handler = Callable[[Mapping[str, Any]], None]

logger = logging.getLogger("customer_gateway.shared")


class Events:
    """Publishing on the channel, as one replica (``origin``)."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.origin = uuid.uuid4().hex

    async def publish(self, topic: str, operation: str, **fields: Any) -> None:
        """Send one ``topic`` message (``operation`` labels a failure in the metrics); raises
        :class:`~gateway.shared.link.SharedUnavailable`."""
        message = json.dumps({"origin": self.origin, "type": topic, **fields})
        await self.link.run(operation, lambda client: client.publish(CHANNEL, message))


class Listener:
    """Delivers the other replicas' messages to a handler per type, for the app's life."""

    def __init__(
        self,
        events: Events,
        handlers: Mapping[str, Handler],
        on_connect: Callable[[], Awaitable[None]],
    ) -> None:
        self.events = events
        self.handlers = dict(handlers)
        self.on_connect = on_connect
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="customer-gateway redis events")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)
            if self._task.done() and not self._task.cancelled():
                with contextlib.suppress(asyncio.CancelledError):
                    self._task.exception()

    async def _run(self) -> None:
        link = self.events.link
        while True:
            client = link.pubsub_client()
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    await self.on_connect()
                    self.connected.set()
                    while True:
                        # A bounded wait, not timeout=None: redis-py's unbounded read can
                        # swallow the cancellation that stops the listener.
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=1.0
                        )
                        if message is not None:
                            self._deliver(message.get("data"))
            except (RedisError, OSError) as exc:
                self.connected.clear()
                link.failed("events", exc)
            finally:
                await client.aclose()
            await asyncio.sleep(RETRY_AFTER)

    def _deliver(self, data: object) -> None:
        try:
            message = json.loads(data) if isinstance(data, bytes | str) else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("origin") == self.events.origin:
            return
        handler = self.handlers.get(str(message.get("type")))
        if handler is None:
            return
        try:
            handler(message)
        except (KeyError, TypeError, ValueError):
            logger.warning("ignored a malformed %s message on %s", message.get("type"), CHANNEL)
