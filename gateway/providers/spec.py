"""What the gateway knows about a provider, declared once, in the provider's own package.

Everything that used to be keyed by provider name across the code base (config defaults, the
write plan, validation, survivorship order, the GraphQL ``Provider`` enum and ``Customer`` list
fields, the sandbox and its dataset) is derived from the :class:`ProviderSpec` values in
:mod:`gateway.providers.registry`. Adding a provider is one package and one registry line.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gateway.errors import ErrorCode
from gateway.model import Metric, WritableField

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from gateway.config import IdentitySettings, ProviderSettings
    from gateway.providers.contract import Capabilities, ProviderAdapter
    from gateway.telemetry.upstream import UpstreamTelemetry

__all__ = [
    "AdapterFactory",
    "FieldProblem",
    "ProviderSpec",
    "SeedContext",
    "Simulator",
    "WriteCheck",
    "WritePhase",
    "WriteRule",
]


class WritePhase(enum.Enum):
    """Where a provider's create stands in the write plan."""

    INDEPENDENT = "independent"
    """Needs nothing from another provider's create: written first, concurrently."""
    LINKED = "linked"
    """Linked to the link provider's new record id: written once the independent creates are
    done, and skipped when the link provider's create was asked for and failed."""


class AdapterFactory(Protocol):
    """An adapter class (or any callable) building one provider's client; ``telemetry``
    receives its upstream calls' metrics and spans (``HTTPAdapter`` hands it to its client)."""

    capabilities: Capabilities

    def __call__(
        self,
        settings: ProviderSettings,
        identity: IdentitySettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        telemetry: UpstreamTelemetry = ...,
    ) -> ProviderAdapter: ...


class Simulator(Protocol):
    """The sandbox's fake of a provider's API (a module or an object)."""

    def create_app(
        self, records: Sequence[Mapping[str, Any]] = (), *, api_key: str = ...
    ) -> Starlette: ...

    def seed_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A dataset record checked as strictly as the provider's API would, with defaults."""
        ...


@dataclass(frozen=True, slots=True)
class WriteCheck:
    """What a provider's write rule sees of one write aimed at it."""

    given: Mapping[str, Any]
    """The fields the client sent (already normalised), ``None`` meaning "clear"."""
    creating: bool
    link_created: bool
    """The link provider's record is created in the same call (its new id links this one)."""
    record_ids: Collection[str] = ()
    """Updates: the ids of this provider's records being changed."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: WritableField
    message: str
    code: ErrorCode


WriteRule = Callable[[WriteCheck], Iterable[FieldProblem]]
"""A provider's own validation of a write, beyond required and not-clearable fields."""


@dataclass(frozen=True, slots=True)
class SeedContext:
    """One generated customer, as the dataset generator offers it to every provider."""

    index: int
    name: str
    email: str
    company: str
    company_id: str
    created: int
    """Unix seconds."""
    currency: str
    country: str


SeedGenerator = Callable[[SeedContext], "dict[str, Any] | None"]
"""A provider's minimal dataset record for a generated customer, or ``None`` for none."""


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider, declared once. Frozen: specs are shared by every request and test."""

    name: str
    """Lower-case identifier: config keys, env prefixes (upper-cased), record refs."""
    label: str
    """The name as people write it, for messages."""
    adapter: AdapterFactory
    simulator: Simulator
    base_url: str
    """The real API (the adapter adds its own path prefix)."""
    rate_limit: float
    """Documented requests/second: the client-side limiter's default (0: none documented)."""
    sandbox_key: str
    sandbox_port: int
    graphql_type: str
    """``module:Class`` of the provider's GraphQL record type, imported by the GraphQL layer
    only, so the domain core never loads GraphQL code."""
    graphql_field: str
    """The ``Customer`` list field (Python name; GraphQL camel-cases it)."""
    dataset_id_field: str
    """The field naming a record within the provider, in dataset files and seeds."""
    anchor_rank: int
    """Lower ranks anchor a merged customer and break survivorship ties first."""
    write_rank: int
    """Order of outcomes (and of creates within a phase)."""
    write_phase: WritePhase = WritePhase.LINKED
    links_others: bool = False
    """Its new record id is the link :attr:`WritePhase.LINKED` creates are given (Stripe)."""
    graphql_description: str | None = None
    field_priority: Mapping[str, int] = field(default_factory=dict)
    """Unified field -> rank among the providers holding it (0 first); absent: not a source
    by default (configuration can still list it)."""
    customer_metrics: frozenset[Metric] = frozenset()
    """The metrics ``Customer.metrics`` takes from this provider's records."""
    link_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Link namespace -> paths into the raw object holding its values (identity link rules)."""
    required_to_create: tuple[WritableField, ...] = ()
    not_clearable: tuple[WritableField, ...] = ()
    create_only: frozenset[WritableField] = frozenset()
    """Writable on create, not on update (e.g. ChartMogul's external id)."""
    write_rule: WriteRule | None = None
    webhook: str | None = None
    """``module:NAME`` of the provider's :class:`~gateway.providers.webhooks.WebhookScheme`
    (signed customer webhooks: verify, subscribe), imported only by the webhook endpoint;
    ``None``: the provider sends none."""
    seed: SeedGenerator | None = None
    """Adds this provider's record to generated customers (built-in providers are generated by
    the dataset's own scenarios; a new provider plugs in here)."""

    @property
    def capabilities(self) -> Capabilities:
        return self.adapter.capabilities

    @property
    def env_prefix(self) -> str:
        return self.name.upper()

    @property
    def enum_name(self) -> str:
        """The GraphQL ``Provider`` enum member."""
        return self.name.upper()

    def rules(self, check: WriteCheck) -> list[FieldProblem]:
        return list(self.write_rule(check)) if self.write_rule is not None else []
