"""gateway/bound.py and the scopes built on it: set for the block, restored after it (also when
it raises), seen by the tasks the block starts, and nested blocks restore in order."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

import pytest

from gateway.bound import Bound
from gateway.core.loaders import fresh_reads, reading_fresh
from gateway.providers.notices import collect_notices, notice
from gateway.providers.upstream.counting import count_upstream_calls, counted
from gateway.request_scope import RequestEnded, current_scope, request_scope
from gateway.telemetry.labels import OTHER, current_upstream_kind, upstream_kind

VAR: ContextVar[str] = ContextVar("bound_test", default="outside")


async def test_the_block_sees_the_value_and_its_tasks_inherit_it() -> None:
    with Bound(VAR, "inside", 42) as given:
        assert given == 42
        assert VAR.get() == "inside"
        assert await asyncio.create_task(asyncio.to_thread(VAR.get)) == "inside"
    assert VAR.get() == "outside"


def test_nested_blocks_restore_in_order_also_when_the_block_raises() -> None:
    with Bound(VAR, "outer", None):
        with pytest.raises(ValueError), Bound(VAR, "inner", None):
            assert VAR.get() == "inner"
            raise ValueError
        assert VAR.get() == "outer"
    assert VAR.get() == "outside"


def test_the_gateway_scopes_bind_and_restore() -> None:
    with count_upstream_calls() as calls, collect_notices() as notices:
        counted("stripe")
        notice("stripe", "served by the list filter")
        notice("stripe", "a second notice is not kept")
        with upstream_kind("email"):
            assert current_upstream_kind() == "email"
        with upstream_kind("a path /v1/customers"):
            assert current_upstream_kind() == OTHER
        with fresh_reads(), fresh_reads(False):  # inside a fresh block, reads stay fresh
            assert reading_fresh()
        assert not reading_fresh()
    assert calls == {"stripe": 1}
    assert dict(notices) == {"stripe": "served by the list filter"}
    counted("stripe")  # outside the block: not counted there
    assert calls == {"stripe": 1}


async def test_a_request_scope_tracks_its_calls_and_ends_when_left() -> None:
    with request_scope(30.0) as scope:
        assert current_scope() is scope
        with scope.call(write=True):
            assert scope.in_flight() == 1
            with scope.call():  # a retry's call inside the same task
                assert scope.in_flight() == 2
            assert scope.in_flight() == 1
        assert scope.in_flight() == 0
        assert scope.wrote
    assert current_scope() is None
    assert scope.ended
    with pytest.raises(RequestEnded), scope.call():
        pass
