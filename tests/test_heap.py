"""A serving app freezes its start-up heap out of the cyclic collector's walks; other apps do
not (tests make and drop many, and frozen garbage cycles would never be collected)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager

from gateway.config import Settings, sandbox_settings
from gateway.server import create_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's heap goes back to the collector


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


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_freezes_nothing_unless_asked() -> None:
    app = create_app(Settings(providers=sandbox_settings()), adapters={})

    async with LifespanManager(app):
        assert gc.get_freeze_count() == 0
