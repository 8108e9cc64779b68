"""The per-request context: settings, adapters, fresh dataloaders, degraded providers.

Built by the HTTP layer for every request and handed to the GraphQL resolvers as their
context; the core services take it as their first argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.auth.scopes import OPEN, Principal
from gateway.config import Settings
from gateway.core.graph import IdentityGraph
from gateway.core.loaders import Loaders
from gateway.core.record_cache import RecordCache
from gateway.errors import ProviderError
from gateway.providers.contract import ProviderAdapter
from gateway.writes.idempotency import IdempotencyStore, ReplayStore
from gateway.writes.outcomes import MutationResult

if TYPE_CHECKING:
    from gateway.core.by_id import CustomerLoader


@dataclass
class RequestContext:
    settings: Settings
    adapters: Mapping[str, ProviderAdapter]
    loaders: Loaders
    degraded: dict[str, ProviderError] = field(default_factory=dict)
    """Every provider that failed during this request (first error each), for the response
    ``extensions.degradedProviders``."""
    request: Any = None
    response: Any = None
    query_cost: int | None = None
    """The operation's estimated upstream calls (set by the GraphQL layer before it runs)."""
    idempotency: ReplayStore[MutationResult] = field(default_factory=IdempotencyStore)
    """The app's replay store for mutation idempotency keys (per process, or shared on Redis;
    a context built without one gets its own, which replays nothing across requests)."""
    operation_name: str | None = None
    """The executed operation's name once the document is parsed, for the access log."""
    principal: Principal = OPEN
    """Who the request runs as (the HTTP layer sets the admitted caller; code that builds a
    context itself is trusted and runs open)."""
    graph: IdentityGraph | None = None
    """The app's identity index (``None``: identity is resolved live, ids from anchors)."""
    customers_by_id: dict[bool, CustomerLoader] = field(default_factory=dict, repr=False)
    """The request's batchers of customer-by-id lookups (gateway/core/by_id.py), one per
    ``fresh_reads`` state, each built on first use."""

    @classmethod
    def create(
        cls,
        settings: Settings,
        adapters: Mapping[str, ProviderAdapter],
        request: Any = None,
        response: Any = None,
        idempotency: ReplayStore[MutationResult] | None = None,
        principal: Principal = OPEN,
        record_cache: RecordCache | None = None,
        graph: IdentityGraph | None = None,
    ) -> RequestContext:
        """``record_cache`` is the app's (shared by its requests); without one every read
        goes to the providers."""
        return cls(
            settings=settings,
            adapters=adapters,
            loaders=Loaders(adapters, settings.identity, record_cache),
            request=request,
            response=response,
            idempotency=idempotency if idempotency is not None else IdempotencyStore(),
            principal=principal,
            graph=graph,
        )

    def release(self) -> None:
        """Let go of what the request read, once its response is sent.

        A request's objects sit in reference cycles (Strawberry's execution context, the ASGI
        scope's state, the dataloaders' futures), so everything they hold, every record a page
        read included, would wait for CPython's cyclic collector, whose full collections cost
        a page a sixth of its CPU (docs/benchmarks.md). Dropping the loaders frees the records
        at once."""
        self.loaders.release()
        self.customers_by_id.clear()

    def note_degraded(self, errors: Mapping[str, ProviderError]) -> None:
        for provider, error in errors.items():
            self.degraded.setdefault(provider, error)
