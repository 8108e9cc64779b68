"""What each provider's recent answers say about it, for ``/readyz``.

The circuit breaker already tells whether the gateway fails fast for a provider. It does not
count what proves a provider up but still useless to us: a rejected API key (401/403) or a
rate limit (429 with ``Retry-After``). :class:`ProviderHealth` keeps those, one per
:class:`~gateway.providers.http.ProviderHTTP`, fed with every attempt's outcome;
:func:`readiness` reads them through the adapters without knowing any provider by name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.errors import ErrorKind, ProviderError
from gateway.providers.resilience import BreakerState, CircuitBreaker

__all__ = ["ProviderHealth", "circuit_state", "provider_readiness", "readiness"]


class ProviderHealth:
    """The last error an attempt ended with, whether the key was rejected, and how long the
    provider asked us to back off. ``clock`` (monotonic) and ``wall`` are injectable for tests.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self.last_error: ProviderError | None = None
        self.last_error_at: float | None = None
        """Wall-clock time (epoch seconds) of :attr:`last_error`."""
        self.key_rejected = False
        """The provider's last answer was a 401 or 403: the configured key does not work."""
        self._cooldown_until: float | None = None

    def record(self, outcome: object, provider_up: bool | None) -> None:
        """One attempt's outcome (a decoded body or a :class:`ProviderError`) and the breaker's
        verdict; ``provider_up`` ``None`` means the request never reached the provider, which
        says nothing about it."""
        if provider_up is None:
            return
        if not isinstance(outcome, ProviderError):
            self.key_rejected = False
            self._cooldown_until = None  # an answer that is not a 429 ends the cool-down
            return
        self.last_error, self.last_error_at = outcome, self._wall()
        if outcome.status is None:
            return  # no answer (timeout, connection failure): nothing about key or rate
        self.key_rejected = outcome.kind is ErrorKind.AUTH
        self._cooldown_until = (
            self._clock() + (outcome.retry_after or 0.0)
            if outcome.kind is ErrorKind.RATE_LIMITED
            else None
        )

    def cooldown(self) -> float:
        """Seconds left of the last 429's ``Retry-After`` (0 when none is running)."""
        if self._cooldown_until is None:
            return 0.0
        return max(0.0, self._cooldown_until - self._clock())

    def snapshot(self) -> dict[str, Any]:
        error = self.last_error
        return {
            "key_rejected": self.key_rejected,
            "last_error": None
            if error is None or self.last_error_at is None
            else {
                "kind": error.kind.value,
                "status": error.status,
                "at": datetime.fromtimestamp(self.last_error_at, UTC).isoformat(),
            },
            "rate_limit_cooldown_seconds": round(self.cooldown(), 1),
        }


def _parts(adapter: object) -> tuple[CircuitBreaker | None, ProviderHealth | None]:
    """The breaker and health of an adapter's ``http`` client; adapters not built on
    ``HTTPAdapter`` may have neither."""
    http = getattr(adapter, "http", None)
    breaker = getattr(http, "breaker", None)
    health = getattr(http, "health", None)
    return (
        breaker if isinstance(breaker, CircuitBreaker) else None,
        health if isinstance(health, ProviderHealth) else None,
    )


def circuit_state(adapter: object) -> str:
    """``closed``, ``open``, ``half_open``, or ``unknown`` for an adapter without a breaker."""
    breaker, _ = _parts(adapter)
    return str(breaker.state) if breaker is not None else "unknown"


def provider_readiness(adapter: object) -> dict[str, Any]:
    """One provider's entry in ``/readyz``. Usable unless its circuit is open or its key was
    rejected; an adapter the gateway cannot look into counts as usable."""
    breaker, health = _parts(adapter)
    entry: dict[str, Any] = {
        "circuit": circuit_state(adapter),
        "key_rejected": None,
        "last_error": None,
        "rate_limit_cooldown_seconds": None,
    }
    if health is not None:
        entry.update(health.snapshot())
    open_circuit = breaker is not None and breaker.state is BreakerState.OPEN
    shared = getattr(getattr(adapter, "http", None), "shared", None)
    elsewhere = shared.refusal() if shared is not None else None
    if shared is not None:  # with Redis: another replica's opening or cool-down
        entry["open_elsewhere_seconds"] = round(elsewhere[0], 1) if elsewhere else 0.0
    entry["usable"] = not open_circuit and not elsewhere and entry["key_rejected"] is not True
    return entry


def readiness(adapters: Mapping[str, object]) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Whether at least one provider is usable, and every provider's entry by name."""
    providers = {name: provider_readiness(adapters[name]) for name in sorted(adapters)}
    return any(p["usable"] for p in providers.values()), providers
