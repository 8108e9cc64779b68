"""The prepared extension runner: the same hooks, in the same order, with the same exceptions as
Strawberry's own runner, and Strawberry's per-request hook lookup gone from the gateway's
schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from resolvers.extension_runner import PreparedExtensionsRunner
from resolvers.schema import build_schema

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")


def recording(name: str, events: list[str], *, fail_in: str = "") -> type[SchemaExtension]:
    """An extension whose generator hooks log entry, exit and the exception they saw;
    ``fail_in`` names a hook that raises on entry."""

    def hook(stage: str) -> Any:
        def run(self: SchemaExtension) -> Iterator[None]:
            if stage == fail_in:
                events.append(f"{name}.{stage} raises")
                raise RuntimeError(f"{name} refused in {stage}")
            events.append(f"{name}.{stage} in")
            try:
                yield
            except Exception as exc:
                events.append(f"{name}.{stage} saw {exc}")
                raise
            events.append(f"{name}.{stage} out")

        return run

    return type(name, (SchemaExtension,), {stage: hook(stage) for stage in STAGES})


def async_recording(events: list[str]) -> type[SchemaExtension]:
    """An extension with an async generator hook: a kind the prepared path leaves to
    Strawberry."""

    class AsyncHooked(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            events.append("async.on_execute in")
            yield
            events.append("async.on_execute out")

    return AsyncHooked


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> int:
        return 1

    @strawberry.field
    def broken(self) -> int:
        raise ValueError("resolver failed")


class PreparedSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PreparedExtensionsRunner(execution_context, extensions)


async def run_both(query: str, make: Any) -> tuple[tuple[list[str], Any], tuple[list[str], Any]]:
    """(events, result summary) of ``query`` under Strawberry's runner and the prepared one;
    ``make(events)`` gives the extension classes."""
    outcomes = []
    for schema_class in (strawberry.Schema, PreparedSchema):
        events: list[str] = []
        schema = schema_class(query=Query, extensions=make(events))
        result = await schema.execute(query)
        errors = [error.message for error in result.errors or []]
        outcomes.append((events, (result.data, errors)))
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("query", ["{ ok }", "{ broken }", "{ nope }", "{ ok"])
async def test_hooks_run_in_the_same_order_with_the_same_answer(query: str) -> None:
    strawberry_run, prepared = await run_both(
        query, lambda events: [recording("A", events), recording("B", events)]
    )
    assert prepared == strawberry_run
    assert prepared[0][0] == "A.on_operation in"


@pytest.mark.parametrize("fail_in", STAGES)
async def test_a_hook_that_raises_on_entry_unwinds_the_hooks_entered_before_it(
    fail_in: str,
) -> None:
    (strawberry_events, strawberry_result), (events, result) = await run_both(
        "{ ok }",
        lambda events: [recording("A", events), recording("B", events, fail_in=fail_in)],
    )
    assert result == strawberry_result == (None, [f"B refused in {fail_in}"])
    # Strawberry leaves A's hook suspended; here it sees the failure and finishes.
    unwound = f"A.{fail_in} saw B refused in {fail_in}"
    assert unwound not in strawberry_events
    at = strawberry_events.index(f"B.{fail_in} raises") + 1
    assert events == [*strawberry_events[:at], unwound, *strawberry_events[at:]]


async def test_a_hook_that_raises_on_exit_is_seen_by_the_hook_around_it() -> None:
    def make(events: list[str]) -> list[type[SchemaExtension]]:
        class RaisesOnExit(SchemaExtension):
            def on_execute(self) -> Iterator[None]:
                yield
                raise RuntimeError("refused on exit")

        return [recording("A", events), RaisesOnExit]

    strawberry_run, prepared = await run_both("{ ok }", make)
    assert prepared == strawberry_run
    assert "A.on_execute saw refused on exit" in prepared[0]


async def test_a_stage_with_a_hook_of_another_kind_runs_through_strawberry() -> None:
    strawberry_run, prepared = await run_both(
        "{ ok }", lambda events: [recording("A", events), async_recording(events)]
    )
    assert prepared == strawberry_run
    assert "async.on_execute out" in prepared[0]


async def test_the_gateway_schema_looks_no_hook_up_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = build_schema()
    await schema.execute("{ __typename }")  # the hooks are prepared on first use

    def looked_up(*args: object) -> None:
        raise AssertionError("Strawberry's runner looked a hook up")

    monkeypatch.setattr(ExtensionContextManagerBase, "get_hook", looked_up)
    result = await schema.execute("query Named { __typename }")
    assert result.errors is None
    assert result.data == {"__typename": "Query"}
