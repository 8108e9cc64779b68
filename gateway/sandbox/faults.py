"""Faults a simulator injects on request (latency, errors, 429s, outages, malformed or slow
bodies), validated so a bad admin POST or ``--faults`` value never breaks later requests."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from gateway.sandbox.coerce import is_int

__all__ = ["FaultError", "Faults"]


@dataclass(slots=True)
class Faults:
    """Faults a simulator injects; all off by default.

    Rates are probabilities in [0, 1] drawn from a seeded RNG. ``next_statuses`` is a
    deterministic script: the next requests are answered with these statuses, one each, in order
    (``429`` ones carry ``Retry-After``), before normal service resumes.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    outage: bool = False
    malformed_rate: float = 0.0
    malformed_next: int = 0
    slow_body_ms: float = 0.0
    next_statuses: list[int] = field(default_factory=list)
    seed: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Faults | None = None) -> Faults:
        """Apply admin JSON on top of ``base``; a bad value raises :class:`FaultError` naming it."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"reset"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise FaultError(sorted(unknown)[0], f"unknown fault settings: {names}")
        reset = data.get("reset", False)
        if not isinstance(reset, bool):
            raise FaultError("reset", f"reset: expected true or false, got {reset!r}")
        start = Faults() if base is None or reset else base
        updates = {k: _checked(k, v) for k, v in data.items() if k != "reset"}
        faults = replace(start, **updates)
        faults.next_statuses = list(faults.next_statuses)
        return faults


class FaultError(ValueError):
    """A fault setting the admin route rejects; ``field`` names the offending setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


_RATES = frozenset({"error_rate", "rate_limit_rate", "malformed_rate"})
_DURATIONS = frozenset({"latency_ms", "jitter_ms", "retry_after", "slow_body_ms"})


def _status(name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not is_int(value) or not 100 <= value <= 599:
        raise FaultError(name, f"{name}: expected an HTTP status (100-599), got {value!r}")
    return int(value)


def _checked(name: str, value: Any) -> Any:
    """``value`` validated for fault setting ``name``, so a bad POST never breaks later requests."""
    if name in _RATES or name in _DURATIONS:
        if not (is_int(value) or isinstance(value, float)) or value != value:
            raise FaultError(name, f"{name}: expected a number, got {value!r}")
        if name in _RATES and not 0 <= value <= 1:
            raise FaultError(name, f"{name}: expected a probability in [0, 1], got {value!r}")
        if value < 0 or value == float("inf"):
            raise FaultError(name, f"{name}: expected a finite number >= 0, got {value!r}")
        return float(value)
    if name == "outage":
        if not isinstance(value, bool):
            raise FaultError(name, f"{name}: expected true or false, got {value!r}")
        return value
    if name == "error_status":
        return _status(name, value)
    if name == "next_statuses":
        if not isinstance(value, list):
            raise FaultError(name, f"{name}: expected a list of HTTP statuses, got {value!r}")
        return [_status(name, item) for item in value]
    if name in ("malformed_next", "seed"):
        if not is_int(value) or (name == "malformed_next" and value < 0):
            raise FaultError(name, f"{name}: expected a whole number >= 0, got {value!r}")
        return value
    raise FaultError(name, f"unknown fault settings: {name}")  # pragma: no cover
