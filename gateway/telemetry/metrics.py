"""The gateway's Prometheus metrics, registered in a registry of their own.

Every instrument lives in the :class:`GatewayMetrics` object's own ``CollectorRegistry``: two
apps in one process (or two tests) never share a counter, and nothing leaks into
``prometheus_client.REGISTRY``. Names and labels are documented in docs/operations.md.

Histograms carry the labels that say *what* was measured (operation; provider and lookup kind);
the counters beside them add *how it ended* (outcome; status), which keeps the number of bucket
series small.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from gateway.telemetry.labels import OperationNames

__all__ = ["CIRCUIT_STATES", "OUTCOMES", "PREFIX", "BreakerLike", "GatewayMetrics"]

PREFIX: Final = "customer_gateway"

_Metric = TypeVar("_Metric", bound=MetricWrapperBase)

OUTCOMES: Final = ("ok", "degraded", "error", "rejected")
"""``ok``: no errors. ``degraded``: a provider failed or answered by a fallback (its fields may
be ``null``). ``error``: executed with errors no provider explains, or the server failed.
``rejected``: refused before execution (unreadable request, parse or validation errors)."""

CIRCUIT_STATES: Final[Mapping[str, int]] = {"closed": 0, "half_open": 1, "open": 2}

_SECONDS_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
"""Up to the default upstream deadline (20 s): a slow provider's whole budget stays visible."""


class BreakerLike(Protocol):
    """What the circuit gauge reads: the state's name (``closed``, ``half_open``, ``open``)."""

    @property
    def state(self) -> object: ...


class _CircuitCollector(Collector):
    """The circuit state gauge, read when scraped: a circuit turns half-open by the clock
    alone, so a gauge set on events would go stale."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._breakers: dict[str, weakref.ReferenceType[BreakerLike]] = {}
        self._lock = threading.Lock()

    def watch(self, provider: str, breaker: BreakerLike) -> None:
        with self._lock:
            self._breakers[provider] = weakref.ref(breaker)

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        with self._lock:
            watched = sorted(self._breakers.items())
        for provider, ref in watched:
            breaker = ref()
            if breaker is not None:
                family.add_metric([provider], CIRCUIT_STATES.get(str(breaker.state), 0))
        return [family]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            self.name,
            "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
            labels=["provider"],
        )


class _RedisCollector(Collector):
    """``customer_gateway_redis_up``, read when scraped; absent when no Redis is configured."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.up: Callable[[], bool] | None = None

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        if self.up is not None:
            family.add_metric([], 1 if self.up() else 0)
        return [family]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            self.name,
            "1 while the shared Redis answers, 0 while the gateway runs on in-process "
            "fallbacks (only when CUSTOMER_GATEWAY_REDIS_URL is set).",
        )


class GatewayMetrics:
    """The instruments of one app, in :attr:`registry`."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, operation_names: int = 100
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.operation_names = OperationNames(operation_names)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], MetricWrapperBase] = {}
        r = self.registry
        self.requests = Counter(
            f"{PREFIX}_graphql_requests",
            "GraphQL requests by operation name and outcome.",
            ["operation", "outcome"],
            registry=r,
        )
        self.request_seconds = Histogram(
            f"{PREFIX}_graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation name.",
            ["operation"],
            buckets=_SECONDS_BUCKETS,
            registry=r,
        )
        self.upstream_requests = Counter(
            f"{PREFIX}_upstream_requests",
            "HTTP requests sent to providers, by provider, lookup kind and status "
            "(status class such as 2xx, or the error kind when no answer came).",
            ["provider", "lookup", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            f"{PREFIX}_upstream_request_duration_seconds",
            "Time from sending a provider request to its verdict, by provider and lookup kind.",
            ["provider", "lookup"],
            buckets=_SECONDS_BUCKETS,
            registry=r,
        )
        self.upstream_retries = Counter(
            f"{PREFIX}_upstream_retries",
            "Retries of provider requests, by provider and the error kind retried.",
            ["provider", "kind"],
            registry=r,
        )
        self.circuit_openings = Counter(
            f"{PREFIX}_upstream_circuit_openings",
            "Times a provider's circuit breaker opened.",
            ["provider"],
            registry=r,
        )
        self.rate_limit_waits = Counter(
            f"{PREFIX}_upstream_rate_limit_waits",
            "Provider requests that waited for the client-side rate limit.",
            ["provider"],
            registry=r,
        )
        self.rate_limit_seconds = Counter(
            f"{PREFIX}_upstream_rate_limit_wait_seconds",
            "Seconds provider requests spent waiting for the client-side rate limit.",
            ["provider"],
            registry=r,
        )
        self.record_cache = Counter(
            f"{PREFIX}_record_cache_lookups",
            "Keys looked up through the record cache, by provider and result: hit (fresh "
            "entry), miss (fetched upstream), coalesced (waited for another request's fetch), "
            "stale (an expired entry served while the provider failed), shared (a miss the Redis "
            "second level answered).",
            ["provider", "result"],
            registry=r,
        )
        self.redis_errors = Counter(
            f"{PREFIX}_redis_errors",
            "Redis commands that failed (the gateway used its in-process fallback), by what "
            "they were for: cache, idempotency, rate_limit, circuit, events, ping.",
            ["operation"],
            registry=r,
        )
        self._circuits = _CircuitCollector(f"{PREFIX}_upstream_circuit_state")
        r.register(self._circuits)
        self._redis = _RedisCollector(f"{PREFIX}_redis_up")
        r.register(self._redis)

    def operation(self, operation: str, outcome: str, seconds: float) -> None:
        """One GraphQL request answered (``operation`` already a label: see
        :attr:`operation_names`)."""
        self._child(self.requests, operation, outcome).inc()
        self._child(self.request_seconds, operation).observe(seconds)

    def upstream(self, provider: str, lookup: str, status: str, seconds: float) -> None:
        self._child(self.upstream_requests, provider, lookup, status).inc()
        self._child(self.upstream_seconds, provider, lookup).observe(seconds)

    def _child(self, metric: _Metric, *values: str) -> _Metric:
        """``metric.labels(*values)``, looked up once: ``labels`` checks and locks on every
        call, and every request and upstream call asks for the same few children again. Label
        values are bounded (operation names are, see :attr:`operation_names`), and children
        are never removed."""
        key = (metric, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return cast(_Metric, child)

    def retry(self, provider: str, kind: str) -> None:
        self.upstream_retries.labels(provider, kind).inc()

    def circuit_opened(self, provider: str) -> None:
        self.circuit_openings.labels(provider).inc()

    def rate_limited(self, provider: str, seconds: float) -> None:
        self.rate_limit_waits.labels(provider).inc()
        self.rate_limit_seconds.labels(provider).inc(seconds)

    def cache_lookups(self, provider: str, result: str, count: int = 1) -> None:
        """``count`` keys of ``provider`` answered by the record cache as ``result``."""
        if count:
            self.record_cache.labels(provider, result).inc(count)

    def redis_error(self, operation: str) -> None:
        self.redis_errors.labels(operation).inc()

    def watch_redis(self, up: Callable[[], bool]) -> None:
        """Report ``up()`` as ``customer_gateway_redis_up`` from now on."""
        self._redis.up = up

    def watch_circuit(self, provider: str, breaker: BreakerLike) -> None:
        """Report ``breaker``'s state as ``provider``'s (replacing an earlier one) while it
        lives."""
        self._circuits.watch(provider, breaker)
