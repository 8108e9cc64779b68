"""The settings objects: frozen, grouped by what each knob governs, defaults from the schema.

Nothing here imports the provider registry at module level: the registry imports the provider
packages, whose adapters import these classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.auth.keys import ApiKey
from gateway.config import auth_schema as a
from gateway.config import schema as s

__all__ = [
    "AuthSettings",
    "BreakerPolicy",
    "CachePolicy",
    "IdentitySettings",
    "InboundLimits",
    "JwtSettings",
    "ProviderSettings",
    "RateLimit",
    "RetryPolicy",
    "Settings",
    "SyncSettings",
    "Timeouts",
    "default_link_rules",
    "sandbox_settings",
]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; ``deadline`` bounds one logical call, retries and backoff included."""

    connect: float = s.CONNECT_TIMEOUT.default
    read: float = s.READ_TIMEOUT.default
    deadline: float = s.DEADLINE.default


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of retryable failures, with full-jitter exponential backoff (seconds)."""

    max_retries: int = s.MAX_RETRIES.default
    backoff_base: float = s.BACKOFF_BASE.default
    backoff_max: float = s.BACKOFF_MAX.default


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int = s.BREAKER_THRESHOLD.default
    """Consecutive failures that open the circuit."""
    reset: float = s.BREAKER_RESET.default
    """Seconds the circuit stays open before one probe is let through."""


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """The record cache for one provider (gateway/core/record_cache.py); ``ttl`` 0 is off."""

    ttl: float = s.CACHE_TTL.default
    """Seconds an answer is served from the cache."""
    stale_ttl: float = s.CACHE_STALE_TTL.default
    """Seconds past ``ttl`` an answer may still be served while the provider is failing."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Client-side token bucket; a ``rate`` (requests/second) of 0 turns it off."""

    rate: float = s.RATE_LIMIT.default
    burst: int = s.RATE_BURST.default


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Everything one adapter needs to reach its provider. The key stays out of every repr."""

    name: str
    base_url: str
    api_key: str = field(repr=False)
    enabled: bool = s.ENABLED.default
    webhook_secret: str = field(default=s.WEBHOOK_SECRET.default, repr=False)
    """Checks the provider's signed webhooks (``POST /webhooks/<name>``); empty: refused."""
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    rate_limit: RateLimit = RateLimit()
    max_concurrency: int = s.MAX_CONCURRENCY.default
    cache: CachePolicy = CachePolicy()


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """How records are merged; see gateway/identity for the rules."""

    external_id_metadata_key: str = s.EXTERNAL_ID_KEY.default
    """Stripe metadata key holding the company's own id (= Lago external_id, FO extra_id)."""
    placeholder_emails: frozenset[str] = s.PLACEHOLDER_EMAILS.default
    link_rules: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: default_link_rules())
    """Link namespace -> the ``provider:path`` fields holding its values (``[]`` spreads a list,
    ``{external_id_key}`` is replaced by :attr:`external_id_metadata_key`). Two records sharing a
    value in one namespace are the same customer. Values in ``stripe_id`` must look like a Stripe
    customer id: a ChartMogul ``cus_<uuid>`` never counts."""
    max_records_per_provider: int = s.MAX_RECORDS_PER_PROVIDER.default
    max_hops: int = s.MAX_HOPS.default
    max_records: int = s.MAX_RECORDS.default
    field_priority: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per unified field, providers in priority order; missing fields use the defaults."""


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """Bearer JWTs: RS/PS/ES checked against ``jwks_url``, HS against the secret read from the
    variable ``hs_secret_env`` names. Off while neither is set."""

    jwks_url: str = a.JWKS_URL.default
    hs_secret_env: str = a.HS_SECRET_ENV.default
    hs_secret: str = field(default="", repr=False)
    """The shared secret, read from ``hs_secret_env`` at start-up; never logged."""
    issuer: str = a.JWT_ISSUER.default
    audience: str = a.JWT_AUDIENCE.default
    algorithms: tuple[str, ...] = a.JWT_ALGORITHMS_SETTING.default
    scopes_claim: str = a.JWT_SCOPES_CLAIM.default
    leeway: float = a.JWT_LEEWAY.default

    @property
    def enabled(self) -> bool:
        return bool(self.jwks_url or self.hs_secret_env)


@dataclass(frozen=True, slots=True)
class InboundLimits:
    """Per key: a request token bucket and a budget of estimated upstream calls per minute."""

    rate: float = a.INBOUND_RATE.default
    burst: int = a.INBOUND_BURST.default
    cost_per_minute: int = a.COST_PER_MINUTE.default


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Who may call the gateway and what they may do (docs/security.md#access-control)."""

    open: bool = a.AUTH_OPEN.default
    """Explicitly no access control in live mode (the sandbox is open unless keys are set)."""
    api_keys: tuple[ApiKey, ...] = field(default=a.API_KEYS.default, repr=False)
    introspection: bool | None = a.INTROSPECTION.default
    """``True``: everyone admitted; ``False``: the ``introspection`` scope only; ``None``: by
    mode (on for the sandbox, scope-only live)."""
    graphiql: bool | None = a.GRAPHIQL.default
    """``None``: by mode (on for the sandbox, off live)."""
    jwt: JwtSettings = JwtSettings()
    rate_limit: InboundLimits = InboundLimits()

    @property
    def configured(self) -> bool:
        """Whether any credential is configured (so callers must present one)."""
        return bool(self.api_keys) or self.jwt.enabled


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How the identity index is kept current (gateway/sync)."""

    enabled: bool = s.SYNC.default
    """Whether ``serve`` runs the sync in the background."""
    poll_interval: float = s.SYNC_POLL_INTERVAL.default
    """Seconds between polls of a provider's events list."""
    relist_interval: float = s.SYNC_RELIST_INTERVAL.default
    """Seconds between complete re-listings of a provider without an events list."""
    page_size: int = s.SYNC_PAGE_SIZE.default
    """Records per listing page; 0 = each provider's ``max_page_size``."""

    def page_size_for(self, max_page_size: int) -> int:
        """The page size to ask a provider for: ours, never above what it serves."""
        return min(self.page_size, max_page_size) if self.page_size else max_page_size


@dataclass(frozen=True, slots=True)
class Settings:
    providers: Mapping[str, ProviderSettings]
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    sandbox: bool = True
    """True when the gateway runs on the built-in sandbox's fake data: mode ``sandbox``, or
    ``auto`` with no provider configured."""
    mode: str = s.MODE.default
    """The mode asked for: ``sandbox``, ``live`` or ``auto`` (see :data:`schema.MODES`)."""
    primary_provider: str = s.PRIMARY_PROVIDER.default
    write_providers: tuple[str, ...] = s.WRITE_PROVIDERS.default
    cors_origins: tuple[str, ...] = s.CORS_ORIGINS.default
    """Browser origins allowed to call the API (CORS); empty = same-origin only."""
    federation_version: str = s.FEDERATION_VERSION.default
    """The Apollo Federation version the subgraph SDL links (``@link(url: ".../v2.9")``)."""
    log_format: str = s.LOG_FORMAT.default
    """``json``, ``text`` or ``auto`` (text when stderr is a terminal); ``serve --log-format``
    wins over it."""
    drain_seconds: float = s.DRAIN_SECONDS.default
    """On SIGTERM/SIGINT, how long requests in flight may still run (docs/deployment.md)."""
    metrics_address: tuple[str, int] | None = s.METRICS_ADDRESS.default
    """``(host, port)`` where ``serve`` answers ``GET /metrics``, apart from the API; ``None``
    is off (docs/operations.md)."""
    apq_cache_size: int = s.APQ_CACHE_SIZE.default
    """Queries remembered for Automatic Persisted Queries, per process; 0 = APQ off."""
    record_cache_size: int = s.RECORD_CACHE_SIZE.default
    """Lookup answers the record cache holds (LRU), per process."""
    redis_url: str = field(default=s.REDIS_URL.default, repr=False)
    """The Redis the replicas share state on (gateway/shared); empty = in-process only. May hold
    a password: shown only through :func:`~gateway.config.casts.masked_url`."""
    trusted_documents: str = s.TRUSTED_DOCUMENTS.default
    """Path of the persisted-documents manifest (gateway/documents); empty = none."""
    trusted_documents_only: bool = s.TRUSTED_DOCUMENTS_ONLY.default
    """Refuse every query that is not a registered document (docs/security.md)."""
    auth: AuthSettings = field(default_factory=AuthSettings)
    """Access control: keys, tokens, scopes, per-key limits (docs/security.md)."""
    request_deadline: float = s.REQUEST_DEADLINE.default
    """Seconds one GraphQL request may take, every upstream call included (docs/security.md)."""
    max_body_bytes: int = s.MAX_BODY_BYTES.default
    """Largest request body, and GET query string, the gateway reads (docs/security.md)."""
    sync: SyncSettings = SyncSettings()
    """The identity index's background sync (docs/configuration.md, "Identity sync")."""
    data_dir: str = s.DATA_DIR.default
    """Directory of the gateway's own files; empty = the XDG data directory
    (:func:`gateway.index.engine.data_dir`)."""
    identity_cache_ttl: float = s.IDENTITY_CACHE_TTL.default
    """Seconds the identity index's lookups are kept in memory (gateway/index/cached.py)."""
    index_url: str = field(default=s.INDEX_URL.default, repr=False)
    """SQLAlchemy URL of the identity index; empty = ``index.sqlite3`` in the data directory
    (:func:`gateway.index.engine.index_url`). Out of the repr: it may hold a password."""

    def enabled(self) -> list[ProviderSettings]:
        return [p for p in self.providers.values() if p.enabled]

    @property
    def running(self) -> str:
        """Which mode the gateway runs in, ``auto`` resolved: ``sandbox`` or ``live``."""
        return "sandbox" if self.sandbox else "live"


def default_link_rules() -> dict[str, tuple[str, ...]]:
    """Every provider spec's link fields, as ``namespace -> ("provider:path", ...)``."""
    from gateway.providers.registry import SPECS

    rules: dict[str, tuple[str, ...]] = {}
    for spec in SPECS:
        for namespace, paths in spec.link_fields.items():
            rules[namespace] = rules.get(namespace, ()) + tuple(f"{spec.name}:{p}" for p in paths)
    return rules


def sandbox_settings(
    host: str = "127.0.0.1", base_port: int | None = None
) -> dict[str, ProviderSettings]:
    """Provider settings pointing at sandbox simulators on ``host`` (no rate limits)."""
    from gateway.providers.registry import SPECS

    out = {}
    for index, spec in enumerate(SPECS):
        port = spec.sandbox_port if base_port is None else base_port + index
        out[spec.name] = ProviderSettings(
            name=spec.name, base_url=f"http://{host}:{port}", api_key=spec.sandbox_key
        )
    return out
