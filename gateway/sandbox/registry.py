"""Provider name -> simulator module. Adding a provider adds one line here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

from starlette.applications import Starlette

from gateway.sandbox import chartmogul, firstofficer, lago, stripe, tofupay


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
