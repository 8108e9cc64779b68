"""Whether a provider may be called now, and what each call's outcome teaches the breaker.

A call is refused, without being sent, while the provider's last 429 asks us to wait
(gateway-wide), while another replica's announced opening or cool-down runs, or while the
circuit is open. Once a call ends, its one verdict goes to the breaker, and what it taught
(the circuit opened or closed, a cool-down began) is announced to the other replicas.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.errors import ErrorKind, ProviderError
from gateway.providers.health import ProviderHealth
from gateway.providers.resilience import BreakerState, CircuitBreaker, Permit, SharedCircuit
from gateway.providers.upstream.answers import ErrorFactory
from gateway.telemetry.upstream import UpstreamTelemetry

__all__ = ["CircuitGate"]

logger = logging.getLogger("customer_gateway.providers")


class CircuitGate:
    """One provider's refusals and verdicts; ``shared`` is set when replicas share them."""

    def __init__(
        self,
        provider: str,
        breaker: CircuitBreaker,
        health: ProviderHealth,
        telemetry: UpstreamTelemetry,
        error: ErrorFactory,
    ) -> None:
        self.provider = provider
        self.breaker = breaker
        self.health = health
        self.telemetry = telemetry
        self.shared: SharedCircuit | None = None
        self._error = error

    def refusal(self) -> ProviderError | None:
        """Why a call may not be sent now (a cool-down here or elsewhere), else ``None``."""
        return self.cooling_down() or self._open_elsewhere()

    def cooling_down(self) -> ProviderError | None:
        """The fail-fast error while the provider's last 429 asks us to wait, gateway-wide."""
        wait = self.health.cooldown()
        if wait <= 0:
            return None
        return self._error(
            ErrorKind.RATE_LIMITED,
            f"rate limited by the provider: not sent, {wait:.1f}s of its cool-down left",
            code="cooling_down",
            retry_after=wait,
        )

    def circuit_open(self) -> ProviderError:
        """The fail-fast error while the circuit is open: a rate limit if 429s opened it."""
        last = self.health.last_error
        limited = last is not None and last.kind is ErrorKind.RATE_LIMITED
        cause = " after repeated rate limiting" if limited else ""
        return self._error(
            ErrorKind.RATE_LIMITED if limited else ErrorKind.UNAVAILABLE,
            f"circuit open{cause}; next probe in {self.breaker.retry_in():.1f}s",
            code="circuit_open",
        )

    def report(self, permit: Permit, judged: tuple[Any, bool] | None) -> None:
        """The call's one verdict for the breaker: its last attempt that reached the provider
        decides. A 429 counts as a failure, holding the circuit open for its ``Retry-After``."""
        if judged is None:
            return
        outcome, provider_up = judged
        if isinstance(outcome, ProviderError) and outcome.kind is ErrorKind.RATE_LIMITED:
            self._record_failure(permit, open_for=outcome.retry_after)
        elif provider_up:
            self.breaker.record_success(permit)
        else:
            self._record_failure(permit)

    async def announce(self, before: BreakerState, outcome: Any) -> None:
        """Tell the other replicas what this call taught: the circuit opened, a 429's
        cool-down started, or an open circuit closed again. Nothing when not shared."""
        if self.shared is None:
            return
        after = self.breaker.state
        cooldown = self.health.cooldown()
        if after is BreakerState.OPEN and before is not BreakerState.OPEN:
            last = self.health.last_error
            kind = last.kind if last is not None else ErrorKind.UNAVAILABLE
            await self.shared.announce(self.breaker.retry_in(), kind.value)
        elif cooldown > 0 and isinstance(outcome, ProviderError):
            await self.shared.announce(cooldown, ErrorKind.RATE_LIMITED.value)
        elif after is BreakerState.CLOSED and before is not BreakerState.CLOSED:
            await self.shared.announce(0.0, "")

    def _open_elsewhere(self) -> ProviderError | None:
        """The fail-fast error while another replica's announced opening or cool-down runs."""
        found = self.shared.refusal() if self.shared is not None else None
        if found is None:
            return None
        wait, kind = found
        limited = kind == ErrorKind.RATE_LIMITED.value
        return self._error(
            ErrorKind.RATE_LIMITED if limited else ErrorKind.UNAVAILABLE,
            f"{'rate limited' if limited else 'circuit open'} on another gateway instance: "
            f"not sent, next try in {wait:.1f}s",
            code="cooling_down" if limited else "circuit_open",
            retry_after=wait if limited else None,
        )

    def _record_failure(self, permit: Permit, *, open_for: float | None = None) -> None:
        before = self.breaker.state
        self.breaker.record_failure(permit, open_for=open_for)
        if before is not BreakerState.OPEN and self.breaker.state is BreakerState.OPEN:
            logger.warning(
                "circuit opened for %s after %d consecutive failures; next probe in %.1fs",
                self.provider,
                self.breaker.failures,
                self.breaker.retry_in(),
            )
            self.telemetry.circuit_opened(self.provider)
