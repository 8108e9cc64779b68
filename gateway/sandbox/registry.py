"""Provider name -> simulator module. Adding a provider adds one line here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

from starlette.applications import Starlette

from gateway.providers.chartmogul import simulator as chartmogul
from gateway.providers.firstofficer import simulator as firstofficer
from gateway.providers.lago import simulator as lago
from gateway.providers.stripe import simulator as stripe
from gateway.providers.tofupay import simulator as tofupay


class SimulatorModule(Protocol):
    def create_app(
        self, records: Sequence[Mapping[str, Any]] = (), *, api_key: str = ...
    ) -> Starlette: ...

    def seed_record(self, record: Mapping[str, Any]) -> dict[str, Any]: ...


SIMULATORS: Mapping[str, ModuleType] = {
    "stripe": stripe,
    "chartmogul": chartmogul,
    "firstofficer": firstofficer,
    "lago": lago,
    "tofupay": tofupay,
}
