"""ProviderHealth: what attempts' outcomes say about a provider, and readiness over adapters."""

from __future__ import annotations

from gateway.errors import ErrorKind, ProviderError
from gateway.providers.health import ProviderHealth, provider_readiness, readiness
from gateway.providers.resilience import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def error(kind: ErrorKind, status: int | None, retry_after: float | None = None) -> ProviderError:
    return ProviderError("acme", kind, "boom", status=status, retry_after=retry_after)


def test_a_401_rejects_the_key_until_the_provider_answers_otherwise() -> None:
    health = ProviderHealth()

    health.record(error(ErrorKind.AUTH, 401), True)
    assert health.key_rejected

    health.record(error(ErrorKind.TIMEOUT, None), False)  # no answer: says nothing of the key
    assert health.key_rejected
    assert health.last_error is not None and health.last_error.kind is ErrorKind.TIMEOUT

    health.record(error(ErrorKind.NOT_FOUND, 404), True)
    assert not health.key_rejected


def test_the_cool_down_counts_down_from_retry_after_and_ends_with_another_answer() -> None:
    clock = Clock()
    health = ProviderHealth(clock=clock)

    health.record(error(ErrorKind.RATE_LIMITED, 429, retry_after=30), True)
    clock.now += 10
    assert health.cooldown() == 20
    clock.now += 25
    assert health.cooldown() == 0

    health.record(error(ErrorKind.RATE_LIMITED, 429, retry_after=5), True)
    health.record({"ok": True}, True)
    assert health.cooldown() == 0 and health.last_error is not None


def test_an_attempt_that_never_reached_the_provider_is_not_recorded() -> None:
    health = ProviderHealth(wall=lambda: 0.0)

    health.record(error(ErrorKind.TIMEOUT, None), None)

    assert health.snapshot() == {
        "key_rejected": False,
        "last_error": None,
        "rate_limit_cooldown_seconds": 0.0,
    }


def test_the_snapshot_says_when_the_last_error_happened() -> None:
    health = ProviderHealth(wall=lambda: 0.0)

    health.record(error(ErrorKind.UNAVAILABLE, 503), False)

    assert health.snapshot()["last_error"] == {
        "kind": "unavailable",
        "status": 503,
        "at": "1970-01-01T00:00:00+00:00",
    }


class Http:
    def __init__(self) -> None:
        self.breaker = CircuitBreaker(threshold=1, reset_timeout=60)
        self.health = ProviderHealth()


class HttpAdapter:
    def __init__(self) -> None:
        self.http = Http()


def test_an_open_circuit_makes_a_provider_unusable() -> None:
    adapter = HttpAdapter()
    adapter.http.breaker.record_failure()

    assert provider_readiness(adapter)["circuit"] == "open"
    assert provider_readiness(adapter)["usable"] is False


def test_an_adapter_without_an_http_client_is_unknown_but_usable() -> None:
    ready, providers = readiness({"custom": object()})

    assert ready
    assert providers == {
        "custom": {
            "circuit": "unknown",
            "key_rejected": None,
            "last_error": None,
            "rate_limit_cooldown_seconds": None,
            "usable": True,
        }
    }


def test_no_provider_means_not_ready() -> None:
    assert readiness({}) == (False, {})
