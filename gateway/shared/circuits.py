"""Circuit openings and rate-limit cool-downs, told to every replica.

When a replica's breaker opens for a provider, or the provider answers 429 with a
``Retry-After``, the other replicas should not have to find out by failing themselves. The
replica :meth:`~ProviderCircuit.announce`\\ s it: ``customer-gateway:circuit:<provider>`` holds
``{"until": <epoch seconds>, "kind": ...}`` (expiring then) and a ``circuit`` message tells the
others at once. Each replica keeps what it heard in memory, so the check before every call
(:meth:`ProviderCircuit.refusal`) costs no round trip; on (re)connecting it reads the keys, for
what it missed. A replica whose probe succeeds announces the provider back (``until`` 0).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from gateway.shared.events import Events
from gateway.shared.link import KEY_PREFIX, SharedUnavailable

__all__ = ["ProviderCircuit", "SharedCircuits"]


def _key(provider: str) -> str:
    return f"{KEY_PREFIX}circuit:{provider}"


class SharedCircuits:
    """What the replicas have announced, per provider: until when, and why."""

    def __init__(self, events: Events, *, wall: Callable[[], float] = time.time) -> None:
        self.events = events
        self.wall = wall
        self._open: dict[str, tuple[float, str]] = {}

    def provider(self, name: str) -> ProviderCircuit:
        return ProviderCircuit(self, name)

    def heard(self, message: Mapping[str, Any]) -> None:
        """A ``circuit`` message from another replica."""
        self._set(str(message["provider"]), float(message["until"]), str(message["kind"]))

    async def load(self, providers: Collection[str]) -> None:
        """Read the announcements in force (after (re)connecting: messages were missed)."""
        names = sorted(providers)
        if not names:
            return
        values = await self.events.link.run(
            "circuit", lambda client: client.mget([_key(n) for n in names])
        )
        for name, value in zip(names, values, strict=True):
            data: dict[str, Any] = json.loads(value) if value is not None else {}
            self._set(name, float(data.get("until", 0)), str(data.get("kind", "")))

    def _set(self, provider: str, until: float, kind: str) -> None:
        if until > self.wall():
            self._open[provider] = (until, kind)
        else:
            self._open.pop(provider, None)

    def refusal(self, provider: str) -> tuple[float, str] | None:
        """Seconds left of an opening or cool-down another replica announced, and its kind
        (an :class:`~gateway.errors.ErrorKind` value); ``None`` if none."""
        found = self._open.get(provider)
        if found is None:
            return None
        left = found[0] - self.wall()
        if left <= 0:
            del self._open[provider]
            return None
        return left, found[1]

    async def announce(self, provider: str, seconds: float, kind: str) -> None:
        """Tell every replica ``provider`` is not to be called for ``seconds`` (0: it may be
        again). Never raises: an announcement Redis cannot carry is simply not made."""
        until = self.wall() + seconds if seconds > 0 else 0.0
        body = json.dumps({"until": until, "kind": kind})

        async def store(client: Any) -> None:
            if until:
                await client.set(_key(provider), body, px=max(1, int(seconds * 1000)))
            else:
                await client.delete(_key(provider))

        try:
            await self.events.link.run("circuit", store)
            await self.events.publish(
                "circuit", "circuit", provider=provider, until=until, kind=kind
            )
        except SharedUnavailable:
            pass


class ProviderCircuit:
    """One provider's view of :class:`SharedCircuits`, handed to its HTTP client."""

    def __init__(self, circuits: SharedCircuits, provider: str) -> None:
        self.circuits = circuits
        self.name = provider

    def refusal(self) -> tuple[float, str] | None:
        return self.circuits.refusal(self.name)

    async def announce(self, seconds: float, kind: str) -> None:
        await self.circuits.announce(self.name, seconds, kind)
