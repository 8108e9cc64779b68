"""A real ``redis-server`` for the session (tests/servers.py), emptied before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.conftest import skip_or_fail
from tests.servers import RedisServer, redis_server_binary, start_redis, stop_redis


def _redis() -> Iterator[RedisServer]:
    """A fresh ``redis-server``, stopped when the fixture ends (skipped, or failed in CI,
    without the binary)."""
    binary = redis_server_binary()
    if binary is None:
        skip_or_fail("redis-server not found (Debian: apt-get install redis-server)")
    server = start_redis(binary)
    try:
        yield server
    finally:
        stop_redis(server)


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    yield from _redis()


@pytest.fixture
async def redis_url(redis_session: RedisServer) -> AsyncIterator[str]:
    """The session server's URL, with nothing left in it by an earlier test."""
    client = Redis.from_url(redis_session.url)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    yield redis_session.url


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of the test's own, which it may stop and start."""
    yield from _redis()
