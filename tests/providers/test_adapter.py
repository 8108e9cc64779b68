"""``gather_all``: the fan-out every ``HTTPAdapter.resolve_many`` goes through."""

from __future__ import annotations

import asyncio

import pytest

from gateway.providers.adapter import gather_all


async def test_a_lone_call_is_awaited_in_the_callers_task() -> None:
    async def call() -> asyncio.Task[object] | None:
        return asyncio.current_task()

    assert await gather_all([call()]) == [asyncio.current_task()]


async def test_a_lone_calls_failure_is_raised_as_it_is() -> None:
    async def call() -> int:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await gather_all([call()])


async def test_several_calls_all_finish_before_the_first_failure_is_raised() -> None:
    finished: list[str] = []

    async def fails() -> str:
        raise LookupError("first")

    async def slow(name: str) -> str:
        await asyncio.sleep(0.01)
        finished.append(name)
        return name

    with pytest.raises(LookupError, match="first"):
        await gather_all([fails(), slow("a"), slow("b")])
    assert sorted(finished) == ["a", "b"]
    assert await gather_all([slow("c"), slow("d")]) == ["c", "d"]
