"""The five simulators in-process, adapters on them, and a recording index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from starlette.applications import Starlette

from gateway.config import Settings, SyncSettings, sandbox_settings, tune
from gateway.model import RecordRef
from gateway.providers.contract import ProviderAdapter
from gateway.providers.registry import build_adapters
from gateway.sandbox.base import LoggedRequest, simulator_state
from gateway.sandbox.dataset import Dataset, generate
from gateway.sandbox.faults import Faults
from tests.conftest import build_simulators
from tests.sync.helpers import RecordingIndex

PAGE_SIZE = 7
ID_FIELDS = {
    "stripe": "id",
    "chartmogul": "uuid",
    "firstofficer": "id",
    "lago": "external_id",
    "tofupay": "id",
}
"""The dataset field each adapter takes a record's id from."""


@dataclass
class Sandbox:
    simulators: dict[str, Starlette]
    adapters: dict[str, ProviderAdapter]
    settings: Settings
    dataset: Dataset
    index: RecordingIndex

    def list_calls(self, provider: str) -> list[LoggedRequest]:
        """The listing requests a simulator answered (its customers list, GET)."""
        return [
            e
            for e in simulator_state(self.simulators[provider]).log
            if e.method == "GET" and e.path.rstrip("/").endswith("customers")
        ]

    def count(self, provider: str) -> int:
        return len(self.dataset.for_provider(provider))

    def refs(self, provider: str) -> set[RecordRef]:
        """Every record the provider's simulator holds, from the dataset itself."""
        field = ID_FIELDS[provider]
        return {RecordRef(provider, str(r[field])) for r in self.dataset.for_provider(provider)}

    def set_faults(self, provider: str, **faults: object) -> None:
        state = simulator_state(self.simulators[provider])
        state.set_faults(Faults.from_json(dict(faults), state.faults))


@pytest.fixture(scope="session")
def sync_dataset() -> Dataset:
    return generate(seed=11, customers=30)


@pytest.fixture
async def sandbox(sync_dataset: Dataset) -> AsyncIterator[Sandbox]:
    simulators = build_simulators(sync_dataset)
    providers = {
        name: tune(p, backoff_base=0.001, backoff_max=0.002, max_retries=1, breaker_threshold=0)
        for name, p in sandbox_settings().items()
    }
    settings = Settings(providers=providers, sync=SyncSettings(page_size=PAGE_SIZE))
    transports = {name: httpx.ASGITransport(app=app) for name, app in simulators.items()}
    adapters = build_adapters(settings, transports=transports)
    try:
        yield Sandbox(simulators, adapters, settings, sync_dataset, RecordingIndex())
    finally:
        for adapter in adapters.values():
            await adapter.aclose()


def with_sync(settings: Settings, **changes: object) -> Settings:
    return replace(settings, sync=replace(settings.sync, **changes))
