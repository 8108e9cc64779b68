"""Shared fixtures: simulators in-process (ASGI) or on loopback (for the official SDKs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.types import ASGIApp

from gateway.sandbox.runner import ThreadedServer


@pytest.fixture
def live_server() -> Iterator[Callable[[ASGIApp], str]]:
    """Start ASGI apps on free 127.0.0.1 ports; every one is stopped when the test ends."""
    servers: list[ThreadedServer] = []

    def start(app: ASGIApp) -> str:
        server = ThreadedServer(app)
        server.__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__(None, None, None)
