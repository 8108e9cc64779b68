"""Every setting the gateway reads, declared once: file key, variable, type, default, range.

The tables here drive loading (:mod:`gateway.config.loader`), the settings dataclasses'
defaults (:mod:`gateway.config.settings`) and the tests that keep docs/configuration.md honest.
Environment names and file keys are public API: renaming one breaks deployments. The ``auth``
section's settings are declared the same way in :mod:`gateway.config.auth_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.config.casts import (
    Invalid,
    Setting,
    boolean,
    integer,
    nonblank,
    number,
    origin,
    redis_url,
    text,
    text_list,
    text_lists,
    url,
)
from gateway.logs import LOG_FORMATS

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_FEDERATION_VERSION",
    "GATEWAY",
    "IDENTITY",
    "MODES",
    "PROVIDER",
    "PROVIDER_BY_KEY",
    "SECTIONS",
    "registered",
]


def registered() -> tuple[str, ...]:
    """The registered provider names (imported late: the registry imports this package)."""
    from gateway.providers.registry import PROVIDERS

    return PROVIDERS


def _emails(raw: object, from_env: bool) -> frozenset[str]:
    """Placeholder emails compare trimmed and case-folded, as :func:`normalise_email` does."""
    return frozenset(e.strip().casefold() for e in text_list(raw, from_env))


def _origins(raw: object, from_env: bool) -> tuple[str, ...]:
    items = text_list(raw, from_env)
    for index, item in enumerate(items):
        try:
            origin(item, from_env)
        except Invalid as exc:
            raise Invalid(exc.expected, f"[{index}]", item) from None
    return tuple(item.strip() for item in items)


def _bind_address(raw: object, from_env: bool) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:9464`` for IPv6; port 0 picks a free one), or blank for off."""
    value = text(raw, from_env).strip()
    if not value:
        return None
    expected = "host:port such as 127.0.0.1:9464 ([::1]:9464 for IPv6), or empty for off"
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        raise Invalid(expected) from None
    if not parts.hostname or port is None or parts.username or parts.path or parts.query:
        raise Invalid(expected)
    return parts.hostname, port


def _database_url(raw: object, from_env: bool) -> str:
    """A SQLAlchemy URL the identity index supports, or blank for the default file. Errors
    show the URL with its password masked."""
    from gateway.index.engine import IndexUnavailable, parse_url, safe_url

    value = text(raw, from_env).strip()
    if value:
        try:
            parse_url(value)
        except IndexUnavailable as exc:
            raise Invalid(str(exc), got=safe_url(value)) from None
    return value


def _field_priority(raw: object, from_env: bool) -> dict[str, tuple[str, ...]]:
    """Unified field -> registered providers, best first."""
    from gateway.identity.survivorship import FIELDS

    priority = text_lists(raw, from_env)
    providers = registered()
    for field, names in priority.items():
        if field not in FIELDS:
            raise Invalid(f"a unified field ({', '.join(FIELDS)})", f".{field}", field)
        for index, name in enumerate(names):
            if name not in providers:
                raise Invalid(f"one of {', '.join(providers)}", f".{field}[{index}]", name)
    return priority


# -- one provider (file section ``providers.<name>``, variables ``<NAME>_...``) --------------

BASE_URL: Final = Setting(
    "base_url",
    "base_url",
    url,
    "",
    "API base URL, without a path (the adapters add `/v1`, `/api/v1`, ...)",
    env="BASE_URL",
)
API_KEY: Final = Setting(
    "api_key", "api_key", text, "", "secret key; never logged or returned", env="API_KEY"
)
WEBHOOK_SECRET: Final = Setting(
    "webhook_secret",
    "webhook_secret",
    text,
    "",
    "secret signed webhooks are checked with (Stripe/Tofupay `whsec_…`, Lago's HMAC key); "
    "never logged or returned",
    env="WEBHOOK_SECRET",
)
ENABLED: Final = Setting(
    "enabled", "enabled", boolean, True, "`0` turns a configured provider off", env="ENABLED"
)
READ_TIMEOUT: Final = Setting(
    "read_timeout", "timeouts.read", number, 10.0, "read timeout, seconds", env="TIMEOUT", above=0
)
CONNECT_TIMEOUT: Final = Setting(
    "connect_timeout",
    "timeouts.connect",
    number,
    2.0,
    "connect timeout, seconds",
    env="CONNECT_TIMEOUT",
    above=0,
)
DEADLINE: Final = Setting(
    "deadline",
    "timeouts.deadline",
    number,
    20.0,
    "bound on one logical call, retries and waits included, seconds",
    env="DEADLINE",
    above=0,
)
MAX_RETRIES: Final = Setting(
    "max_retries",
    "retry.max_retries",
    integer,
    2,
    "retries of retryable failures (reads; writes only under an idempotency key)",
    env="MAX_RETRIES",
    at_least=0,
)
BACKOFF_BASE: Final = Setting(
    "backoff_base",
    "retry.backoff_base",
    number,
    0.25,
    "first retry's backoff cap, seconds (full jitter, doubling per attempt)",
    at_least=0,
)
BACKOFF_MAX: Final = Setting(
    "backoff_max",
    "retry.backoff_max",
    number,
    4.0,
    "largest backoff, seconds; at least backoff_base",
    at_least=0,
)
MAX_CONCURRENCY: Final = Setting(
    "max_concurrency",
    "max_concurrency",
    integer,
    8,
    "requests in flight to the provider (also the connection pool size)",
    env="MAX_CONCURRENCY",
    at_least=1,
)
RATE_LIMIT: Final = Setting(
    "rate_limit",
    "rate_limit.rate",
    number,
    0.0,
    "client-side requests/second (token bucket), 0 = off",
    env="RATE_LIMIT",
    at_least=0,
)
RATE_BURST: Final = Setting(
    "rate_burst", "rate_limit.burst", integer, 10, "token bucket size", env="RATE_BURST", at_least=1
)
BREAKER_THRESHOLD: Final = Setting(
    "breaker_threshold",
    "breaker.threshold",
    integer,
    5,
    "consecutive failures that open the circuit",
    env="BREAKER_THRESHOLD",
    at_least=0,
)
BREAKER_RESET: Final = Setting(
    "breaker_reset",
    "breaker.reset",
    number,
    15.0,
    "seconds the circuit stays open before one probe",
    env="BREAKER_RESET",
    above=0,
)
CACHE_TTL: Final = Setting(
    "cache_ttl",
    "cache.ttl",
    number,
    0.0,
    "seconds a lookup's answer is served from the record cache, 0 = off",
    env="CACHE_TTL",
    at_least=0,
)
CACHE_STALE_TTL: Final = Setting(
    "cache_stale_ttl",
    "cache.stale_ttl",
    number,
    300.0,
    "seconds past `cache_ttl` an answer may still be served while the provider fails",
    env="CACHE_STALE_TTL",
    at_least=0,
)

PROVIDER: Final[tuple[Setting[Any], ...]] = (
    BASE_URL,
    API_KEY,
    WEBHOOK_SECRET,
    ENABLED,
    READ_TIMEOUT,
    CONNECT_TIMEOUT,
    DEADLINE,
    MAX_RETRIES,
    BACKOFF_BASE,
    BACKOFF_MAX,
    MAX_CONCURRENCY,
    RATE_LIMIT,
    RATE_BURST,
    BREAKER_THRESHOLD,
    BREAKER_RESET,
    CACHE_TTL,
    CACHE_STALE_TTL,
)
PROVIDER_BY_KEY: Final[Mapping[str, Setting[Any]]] = {s.key: s for s in PROVIDER}

# -- identity (file section ``identity``) ----------------------------------------------------

EXTERNAL_ID_KEY: Final = Setting(
    "external_id_metadata_key",
    "external_id_metadata_key",
    nonblank,
    "company_id",
    "Stripe metadata key holding the company's own id (= Lago external_id, FO extra_id)",
    env="CUSTOMER_GATEWAY_EXTERNAL_ID_KEY",
)
PLACEHOLDER_EMAILS: Final = Setting(
    "placeholder_emails",
    "placeholder_emails",
    _emails,
    frozenset({"", "n/a", "na", "none", "null", "unknown", "test@test.com", "noreply@example.com"}),
    "emails that never match (compared trimmed and case-folded)",
)
LINK_RULES: Final[Setting[Mapping[str, tuple[str, ...]]]] = Setting(
    "link_rules",
    "link_rules",
    text_lists,
    {},  # the default comes from the provider specs: settings.default_link_rules
    "link namespace -> the provider:path fields holding its values",
)
MAX_RECORDS_PER_PROVIDER: Final = Setting(
    "max_records_per_provider",
    "max_records_per_provider",
    integer,
    3,
    "records one provider may contribute to one customer",
    at_least=1,
)
MAX_HOPS: Final = Setting(
    "max_hops", "max_hops", integer, 3, "rounds of linked lookups per customer", at_least=1
)
MAX_RECORDS: Final = Setting(
    "max_records", "max_records", integer, 25, "records merged into one customer", at_least=1
)
FIELD_PRIORITY: Final[Setting[Mapping[str, tuple[str, ...]]]] = Setting(
    "field_priority",
    "field_priority",
    _field_priority,
    {},
    "per unified field, providers in priority order; missing fields use the defaults",
)

IDENTITY: Final[tuple[Setting[Any], ...]] = (
    EXTERNAL_ID_KEY,
    PLACEHOLDER_EMAILS,
    LINK_RULES,
    MAX_RECORDS_PER_PROVIDER,
    MAX_HOPS,
    MAX_RECORDS,
    FIELD_PRIORITY,
)

# -- gateway-wide (top level of the file) ----------------------------------------------------

PRIMARY_PROVIDER: Final = Setting(
    "primary_provider",
    "primary_provider",
    nonblank,
    "stripe",
    "provider whose list `customers` enumerates",
    env="CUSTOMER_GATEWAY_PRIMARY_PROVIDER",
    choices=registered,
)
WRITE_PROVIDERS: Final[Setting[tuple[str, ...]]] = Setting(
    "write_providers",
    "write_providers",
    text_list,
    ("stripe", "lago"),
    "providers a create or update goes to when the mutation names none",
    choices=registered,
)
CORS_ORIGINS: Final[Setting[tuple[str, ...]]] = Setting(
    "cors_origins",
    "cors_origins",
    _origins,
    (),
    "browser origins allowed to call the API (CORS); empty = same-origin only",
    env="CUSTOMER_GATEWAY_CORS_ORIGINS",
)

METRICS_ADDRESS: Final[Setting[tuple[str, int] | None]] = Setting(
    "metrics_address",
    "metrics_address",
    _bind_address,
    None,
    "address `serve` answers `GET /metrics` on (Prometheus), apart from the API; empty = off",
    env="CUSTOMER_GATEWAY_METRICS_ADDRESS",
)

DEFAULT_FEDERATION_VERSION: Final = "2.9"
"""The newest federation link both Apollo's and The Guild's (Hive Gateway's) composers accept:
The Guild's rejects v2.10 and later with ``UNKNOWN_FEDERATION_LINK_VERSION``."""


def _federation_versions() -> tuple[str, ...]:
    from strawberry.federation.versions import FEDERATION_VERSIONS

    return tuple(FEDERATION_VERSIONS)


FEDERATION_VERSION: Final = Setting(
    "federation_version",
    "federation_version",
    nonblank,
    DEFAULT_FEDERATION_VERSION,
    "the Apollo Federation version the subgraph SDL links",
    env="CUSTOMER_GATEWAY_FEDERATION_VERSION",
    choices=_federation_versions,
)


LOG_FORMAT: Final = Setting(
    "log_format",
    "log_format",
    nonblank,
    "auto",
    "log lines as `json` (one object per line) or `text`; `auto` = text on a terminal, else json",
    env="CUSTOMER_GATEWAY_LOG_FORMAT",
    choices=lambda: LOG_FORMATS,
)

MODES: Final = ("auto", "sandbox", "live")
"""``sandbox``: the built-in fake providers, loopback only. ``live``: configured providers only,
checked strictly. ``auto``: the sandbox when no provider is configured, else as ``live`` but
with misspelt variables only warned about."""

MODE: Final = Setting(
    "mode",
    "mode",
    nonblank,
    "auto",
    "`sandbox`, `live` or `auto` (the sandbox when no provider is configured)",
    env="CUSTOMER_GATEWAY_MODE",
    choices=lambda: MODES,
)

DRAIN_SECONDS: Final = Setting(
    "drain_seconds",
    "drain_seconds",
    number,
    30.0,
    "seconds requests in flight at SIGTERM/SIGINT may still take before they are answered "
    "503 `SHUTTING_DOWN`",
    env="CUSTOMER_GATEWAY_DRAIN_SECONDS",
    at_least=0,
)

APQ_CACHE_SIZE: Final = Setting(
    "apq_cache_size",
    "apq_cache_size",
    integer,
    1000,
    "queries remembered for Automatic Persisted Queries (least recently used dropped first; "
    "per process); 0 turns APQ off",
    env="CUSTOMER_GATEWAY_APQ_CACHE_SIZE",
    at_least=0,
)
RECORD_CACHE_SIZE: Final = Setting(
    "record_cache_size",
    "record_cache_size",
    integer,
    10_000,
    "lookup answers the record cache holds, least recently used dropped first (per process)",
    env="CUSTOMER_GATEWAY_RECORD_CACHE_SIZE",
    at_least=1,
)
REDIS_URL: Final = Setting(
    "redis_url",
    "redis_url",
    redis_url,
    "",
    "Redis shared by the replicas (record cache, idempotency keys, provider rate limits and "
    "circuits, cache invalidations), e.g. `redis://:password@redis:6379/0`; empty = each "
    "process on its own; its password is never logged",
    env="CUSTOMER_GATEWAY_REDIS_URL",
)
TRUSTED_DOCUMENTS: Final = Setting(
    "trusted_documents",
    "trusted_documents",
    text,
    "",
    "path of the persisted-documents manifest the frontend build produces (JSON); empty = none",
    env="CUSTOMER_GATEWAY_TRUSTED_DOCUMENTS",
)
TRUSTED_DOCUMENTS_ONLY: Final = Setting(
    "trusted_documents_only",
    "trusted_documents_only",
    boolean,
    False,
    "run only the documents registered in `trusted_documents`; refuse every other query",
    env="CUSTOMER_GATEWAY_TRUSTED_DOCUMENTS_ONLY",
)

REQUEST_DEADLINE: Final = Setting(
    "request_deadline",
    "request_deadline",
    number,
    30.0,
    "seconds one GraphQL request may take, every upstream call and retry included",
    env="CUSTOMER_GATEWAY_REQUEST_DEADLINE",
    above=0,
)

MAX_BODY_BYTES: Final = Setting(
    "max_body_bytes",
    "max_body_bytes",
    integer,
    1_048_576,
    "largest request body (and GET query string) in bytes; larger is refused with 413",
    env="CUSTOMER_GATEWAY_MAX_BODY_BYTES",
    at_least=1,
)

# -- identity sync (gateway/sync) -------------------------------------------------------------

SYNC: Final = Setting(
    "sync",
    "sync.enabled",
    boolean,
    True,
    "`serve` keeps the identity index current in the background (backfill, then events or "
    "re-listing), in sandbox and live mode alike",
    env="CUSTOMER_GATEWAY_SYNC",
)
SYNC_POLL_INTERVAL: Final = Setting(
    "sync_poll_interval",
    "sync.poll_interval",
    number,
    5.0,
    "seconds between polls of a provider's events list (Stripe, Tofupay)",
    env="CUSTOMER_GATEWAY_SYNC_POLL_INTERVAL",
    above=0,
)
SYNC_RELIST_INTERVAL: Final = Setting(
    "sync_relist_interval",
    "sync.relist_interval",
    number,
    900.0,
    "seconds between complete re-listings of a provider without an events list",
    env="CUSTOMER_GATEWAY_SYNC_RELIST_INTERVAL",
    above=0,
)
SYNC_PAGE_SIZE: Final = Setting(
    "sync_page_size",
    "sync.page_size",
    integer,
    0,
    "records per listing page during sync; 0 = each provider's largest page",
    env="CUSTOMER_GATEWAY_SYNC_PAGE_SIZE",
    at_least=0,
)

# -- identity index (gateway/index) -----------------------------------------------------------

IDENTITY_CACHE_TTL: Final = Setting(
    "identity_cache_ttl",
    "identity_cache_ttl",
    number,
    1.0,
    "seconds a replica keeps the identity index's who-is-who answers in memory (records are "
    "still fetched fresh); its own writes empty it at once; 0 = ask the index every time",
    env="CUSTOMER_GATEWAY_IDENTITY_CACHE_TTL",
    at_least=0,
)

DATA_DIR: Final = Setting(
    "data_dir",
    "data_dir",
    text,
    "",
    "directory for the gateway's own files (the embedded identity index); empty = "
    "`$XDG_DATA_HOME/customer-gateway`, else `~/.local/share/customer-gateway`",
    env="CUSTOMER_GATEWAY_DATA_DIR",
)
INDEX_URL: Final = Setting(
    "index_url",
    "index_url",
    _database_url,
    "",
    "SQLAlchemy URL of the identity index (`sqlite+aiosqlite:///path` or "
    "`postgresql+asyncpg://user:password@host/db`); empty = `index.sqlite3` in `data_dir`",
    env="CUSTOMER_GATEWAY_INDEX_URL",
)

GATEWAY: Final[tuple[Setting[Any], ...]] = (
    MODE,
    PRIMARY_PROVIDER,
    WRITE_PROVIDERS,
    CORS_ORIGINS,
    FEDERATION_VERSION,
    LOG_FORMAT,
    DRAIN_SECONDS,
    METRICS_ADDRESS,
    APQ_CACHE_SIZE,
    RECORD_CACHE_SIZE,
    REDIS_URL,
    TRUSTED_DOCUMENTS,
    TRUSTED_DOCUMENTS_ONLY,
    REQUEST_DEADLINE,
    MAX_BODY_BYTES,
    SYNC,
    SYNC_POLL_INTERVAL,
    SYNC_RELIST_INTERVAL,
    SYNC_PAGE_SIZE,
    DATA_DIR,
    INDEX_URL,
    IDENTITY_CACHE_TTL,
)

CONFIG_ENV: Final = "CUSTOMER_GATEWAY_CONFIG"
"""The variable naming the config file (a path, so not a setting the file itself could hold)."""

SECTIONS: Final = ("providers", "identity", "auth")
"""Top-level file keys holding sections rather than settings."""
