"""A serving app freezes its start-up heap out of the cyclic collector's walks and spaces out
young collections (other apps do not: tests make and drop many, and frozen garbage cycles would
never be collected), and what a request read is freed by reference counting once it is
answered."""

from __future__ import annotations

import asyncio
import gc
import types
from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager

from gateway.config import Settings, sandbox_settings
from gateway.heap import YOUNG_THRESHOLD
from gateway.model import CustomerRecord
from gateway.server import create_app
from tests.conftest import GatewayHarness


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's heap goes back to the collector
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("unfrozen")
async def test_a_serving_app_freezes_the_heap_it_started_with() -> None:
    app = create_app(Settings(providers=sandbox_settings()), adapters={}, freeze_heap=True)
    made_before: list[object] = []

    async with LifespanManager(app):
        made_while_serving: list[object] = []
        assert gc.get_freeze_count() > 0
        tracked = {id(found) for found in gc.get_objects()}
        assert id(made_before) not in tracked  # frozen: the collector no longer walks it
        assert id(made_while_serving) in tracked
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_freezes_nothing_unless_asked() -> None:
    app = create_app(Settings(providers=sandbox_settings()), adapters={})

    thresholds = gc.get_threshold()

    async with LifespanManager(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds


@pytest.fixture
def no_cyclic_collector() -> Iterator[None]:
    """Only reference counting frees objects while the test runs."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def live_records() -> int:
    return sum(isinstance(found, CustomerRecord) for found in gc.get_objects())


@pytest.mark.usefixtures("no_cyclic_collector")
async def test_the_records_a_request_read_are_freed_once_it_is_answered(
    gateway: GatewayHarness,
) -> None:
    # A request's objects sit in reference cycles (the ASGI scope's state, Strawberry's
    # execution context); what it read must not wait for the cyclic collector.
    before = live_records()

    response = await gateway.client.post(
        "/graphql", json={"query": "{ customers(first: 10) { nodes { name } } }"}
    )

    assert len(response.json()["data"]["customers"]["nodes"]) == 10
    for _ in range(3):  # the disconnect watch, cancelled at the answer, ends a turn later
        await asyncio.sleep(0)
    assert live_records() == before


@pytest.mark.usefixtures("no_cyclic_collector")
async def test_a_request_leaves_no_reference_cycles_behind(gateway: GatewayHarness) -> None:
    # graphql-core's executor, the request context and the scope's state were in cycles, and
    # under load freeing them was most of the cyclic collector's work (gateway/heap.py).
    queries = [
        '{ customerByEmail(email: "ada@lovelace.example") { name metrics { mrr { amount } } } }',
        "{ customers(first: 5) { nodes { name } } }",
        "query Q { a: __typename ...F } fragment F on Query { b: __typename }",
    ]
    for query in queries:  # once first: what a first request caches is not garbage
        await gateway.client.post("/graphql", json={"query": query})
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for query in queries:
            response = await gateway.client.post("/graphql", json={"query": query})
            assert "errors" not in response.json()
        for _ in range(3):  # the disconnect watch, cancelled at the answer, ends a turn later
            await asyncio.sleep(0)
        gc.collect()
        left = {f"{type(found).__module__}.{type(found).__qualname__}" for found in gc.garbage}
        left |= {
            found.__qualname__ for found in gc.garbage if isinstance(found, types.FunctionType)
        }
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not left & CYCLIC_BEFORE, left & CYCLIC_BEFORE


CYCLIC_BEFORE = {
    "gateway.core.context.RequestContext",
    "gateway.core.loaders.Loaders",
    "gateway.request_guard.RequestGuard",
    "starlette.requests.Request",
    "starlette.datastructures.State",
    "resolvers.execution.ReleasingExecutionContext",
    "graphql.execution.collect_fields.CollectedFields",
    "graphql.execution.collect_fields.FieldDetails",
    "expanded_size.<locals>.fragment",
    "expanded_size.<locals>.selection_set",
}
"""What the cyclic collector found after every request before (the last two: the fragment
counter's nested functions, which called each other)."""
