"""``serve --workers N``: N gateway processes on one port, each listening on a socket of its own.

uvicorn's supervisor does the work: it starts the workers (``multiprocessing`` spawn), restarts
one that dies, and on SIGTERM/SIGINT stops them all, each draining its requests in flight. The
parent holds the address; each worker listens on it with ``SO_REUSEPORT`` (:class:`OwnListener`),
so the kernel spreads new connections over the workers. Each worker builds its own app with
:func:`app`. What a worker cannot work out alone (the sandbox simulators the parent runs,
command-line options) travels in one private environment variable, :data:`WORKER_ENV`. State is
per process: the idempotency store, breakers, rate limiters and request caches are not shared
(docs/deployment.md#workers).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from gateway.config import ProviderSettings, Settings, load_settings
from gateway.index.engine import INDEX_FILE, running_index_url
from gateway.index.migrate import upgrade_to_head
from gateway.sandbox.runner import bind_address, bind_socket, server_url, set_drain

__all__ = [
    "WORKER_ENV",
    "OwnListener",
    "app",
    "ignore_sighup",
    "listen_on",
    "serve_workers",
    "until_accepting",
]

logger = logging.getLogger("customer_gateway")

WORKER_ENV = "_CUSTOMER_GATEWAY_WORKER"
"""Internal, set by ``serve --workers`` for its workers: JSON with the log level, GraphiQL on or
off, and the sandbox simulators' URLs and keys (or ``null`` on configured providers). Not a
setting: never set it yourself."""


def ignore_sighup() -> None:
    """SIGHUP does not reload: settings are read once, at start-up (docs/deployment.md)."""
    logger.warning(
        "SIGHUP ignored: configuration is read at start-up; restart the gateway to apply changes"
    )


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP is ignored as in a single process (uvicorn
    would restart every worker, each reading the config file again but not the environment)."""

    def handle_hup(self) -> None:
        ignore_sighup()


def listen_on(family: socket.AddressFamily, address: tuple[Any, ...]) -> socket.socket:
    """A worker's own listening socket on the gateway's address (see :class:`OwnListener`)."""
    try:
        return bind_address(family, address, reuse_port=True)
    except OSError as exc:
        # A worker that cannot listen would fail the same way on every restart: exit as
        # uvicorn's own start-up failures do, so the supervisor stops instead of retrying.
        print(f"customer-gateway: worker {os.getpid()}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from exc


class OwnListener:
    """Stands in for the socket in the supervisor's list: a worker, unpickling its arguments
    (spawn), gets a listening socket of its own on the gateway's address.

    On one socket shared by every worker, the worker whose event loop wakes first accepts every
    connection waiting. A client opening its keep-alive connections together (a load balancer's
    pool, a benchmark) could get all of them on one worker while the others idle
    (docs/benchmarks.md). With a socket each, bound with ``SO_REUSEPORT``, the kernel deals each
    new connection to one worker by a hash of its addresses.
    """

    def __init__(self, family: socket.AddressFamily, address: tuple[Any, ...]) -> None:
        self.family = family
        self.address = address

    def __reduce__(self) -> tuple[Callable[..., socket.socket], tuple[Any, ...]]:
        return listen_on, (self.family, self.address)


async def until_accepting(address: tuple[Any, ...], supervisor: asyncio.Future[None]) -> bool:
    """Wait until a worker accepts connections on ``address`` (True), or the supervisor has
    stopped (False: a worker failed to start). Until then a connection would be refused: the
    parent only holds the address."""
    while not supervisor.done():
        try:
            _, writer = await asyncio.open_connection(address[0], address[1])
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return True
    return False


def app() -> Starlette:
    """The app factory each worker runs (``gateway.workers:app``)."""
    from gateway.logs import configure_logging
    from gateway.server import create_app

    spec = json.loads(os.environ[WORKER_ENV])
    configure_logging(spec["log_level"], spec["log_format"])
    settings = load_settings(mode=spec["mode"])
    sandbox: Mapping[str, Mapping[str, str]] | None = spec["sandbox"]
    if sandbox is not None:
        # The parent's simulators, still in sandbox mode: same as a single process.
        providers = {
            name: ProviderSettings(
                name=name,
                base_url=p["base_url"],
                api_key=p["api_key"],
                webhook_secret=p.get("webhook_secret", ""),
            )
            for name, p in sandbox.items()
        }
        settings = replace(settings, providers=providers)
    # One identity index for every worker (the parent's choice: on the sandbox, a file of its
    # own, since an in-memory index would be one per worker).
    settings = replace(settings, index_url=spec["index_url"])
    return create_app(settings, graphiql=spec["graphiql"], open_index=True, freeze_heap=True)


async def serve_workers(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    graphiql: bool,
    log_level: str,
    log_format: str,
    started: Callable[[str], None],
) -> None:
    """Serve ``workers`` processes on ``host:port`` until SIGTERM/SIGINT; ``started`` gets the
    URL once a worker accepts connections. ``settings`` are the parent's: its sandbox providers
    (when ``settings.sandbox``) and drain are passed on."""
    # Held, not listening: it fixes the port (port 0 resolves here) for the workers' sockets.
    sock = bind_socket(host, port, reuse_port=True, listen=False)
    scratch = tempfile.TemporaryDirectory(prefix="customer-gateway-") if settings.sandbox else None
    try:
        shared_index = (
            f"sqlite+aiosqlite:///{Path(scratch.name) / INDEX_FILE}"
            if scratch is not None and not settings.index_url
            else running_index_url(settings)
        )
        # Migrated once, here: workers opening a new index at the same moment would race to
        # create its tables.
        await upgrade_to_head(shared_index)
        os.environ[WORKER_ENV] = json.dumps(
            {
                "log_level": log_level,
                "log_format": log_format,
                "mode": settings.mode,
                "graphiql": graphiql,
                "index_url": shared_index,
                "sandbox": {
                    name: {
                        "base_url": p.base_url,
                        "api_key": p.api_key,
                        "webhook_secret": p.webhook_secret,
                    }
                    for name, p in settings.providers.items()
                }
                if settings.sandbox
                else None,
            }
        )
        config = uvicorn.Config(
            "gateway.workers:app",
            factory=True,
            workers=workers,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        set_drain(config, settings.drain_seconds)
        address = sock.getsockname()
        # What a worker unpickles as a socket (OwnListener), hence the cast.
        listener = cast(socket.socket, OwnListener(sock.family, address))
        supervisor = _Supervisor(config, sockets=[listener])  # signal handlers: the main thread
        # The supervisor blocks; the event loop keeps serving the sandbox meanwhile.
        running = asyncio.ensure_future(asyncio.to_thread(supervisor.run))
        if await until_accepting(address, running):
            started(server_url(*address[:2]))
        await running
        if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
            raise SystemExit("customer-gateway: a worker failed to start (its error is above)")
    finally:
        sock.close()
        os.environ.pop(WORKER_ENV, None)
        if scratch is not None:
            scratch.cleanup()
