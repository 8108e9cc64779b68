"""Gateway configuration: provider endpoints, keys and resilience knobs, from env or a file.

With nothing configured every provider points at the built-in sandbox. Setting any provider's
``<NAME>_BASE_URL`` (or a config file entry) switches the gateway to the configured providers.

Environment variables, per provider (``STRIPE``, ``CHARTMOGUL``, ``FIRSTOFFICER``, ``LAGO``,
``TOFUPAY``): ``<P>_BASE_URL``, ``<P>_API_KEY``, ``<P>_TIMEOUT`` (seconds, read),
``<P>_CONNECT_TIMEOUT``, ``<P>_DEADLINE``, ``<P>_MAX_RETRIES``, ``<P>_MAX_CONCURRENCY``,
``<P>_RATE_LIMIT`` (requests/second, 0 = off), ``<P>_ENABLED`` (``0`` turns a provider off).
``CUSTOMER_GATEWAY_CONFIG`` names a JSON file with the same settings (see docs/configuration.md).
``CUSTOMER_GATEWAY_FEDERATION_VERSION`` picks the Apollo Federation version the subgraph links.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

DEFAULT_FEDERATION_VERSION: Final = "2.9"
"""The newest federation link both Apollo's and The Guild's (Hive Gateway's) composers accept:
The Guild's rejects v2.10 and later with ``UNKNOWN_FEDERATION_LINK_VERSION``."""


class ConfigError(ValueError):
    """Raised for configuration a human must fix; the message names the setting."""


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Everything one adapter needs to reach its provider."""

    name: str
    base_url: str
    api_key: str = field(repr=False)
    enabled: bool = True
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    deadline: float = 20.0
    """Upper bound for one logical call, retries and backoff included."""
    max_retries: int = 2
    backoff_base: float = 0.25
    backoff_max: float = 4.0
    max_concurrency: int = 8
    rate_limit: float = 0.0
    """Client-side requests/second; 0 turns the limiter off."""
    rate_burst: int = 10
    breaker_threshold: int = 5
    """Consecutive failures that open the circuit."""
    breaker_reset: float = 15.0
    """Seconds the circuit stays open before one probe is let through."""

    def __repr__(self) -> str:  # keep the key out of every repr, log line and traceback
        return (
            f"ProviderSettings(name={self.name!r}, base_url={self.base_url!r}, "
            f"enabled={self.enabled})"
        )


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """How records are merged; see gateway/identity for the rules."""

    external_id_metadata_key: str = "company_id"
    """Stripe metadata key holding the company's own id (= Lago external_id, FO extra_id)."""
    placeholder_emails: frozenset[str] = frozenset(
        {"", "n/a", "na", "none", "null", "unknown", "test@test.com", "noreply@example.com"}
    )
    link_rules: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: default_link_rules())
    """Link namespace -> the ``provider:path`` fields holding its values (``[]`` spreads a list,
    ``{external_id_key}`` is replaced by :attr:`external_id_metadata_key`). Two records sharing a
    value in one namespace are the same customer. Values in ``stripe_id`` must look like a Stripe
    customer id: a ChartMogul ``cus_<uuid>`` never counts."""
    max_records_per_provider: int = 3
    max_hops: int = 3
    max_records: int = 25
    field_priority: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per unified field, providers in priority order; missing fields use the defaults."""


@dataclass(frozen=True, slots=True)
class Settings:
    providers: Mapping[str, ProviderSettings]
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    sandbox: bool = True
    """True when no provider is configured and the gateway runs the built-in sandbox."""
    primary_provider: str = "stripe"
    write_providers: tuple[str, ...] = ("stripe", "lago")
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the API (CORS); empty = same-origin only."""
    federation_version: str = DEFAULT_FEDERATION_VERSION
    """The Apollo Federation version the subgraph SDL links (``@link(url: ".../v2.9")``)."""

    def enabled(self) -> list[ProviderSettings]:
        return [p for p in self.providers.values() if p.enabled]


_NUMERIC_ENV: Final[Mapping[str, str]] = {
    "TIMEOUT": "read_timeout",
    "CONNECT_TIMEOUT": "connect_timeout",
    "DEADLINE": "deadline",
    "MAX_RETRIES": "max_retries",
    "MAX_CONCURRENCY": "max_concurrency",
    "RATE_LIMIT": "rate_limit",
    "RATE_BURST": "rate_burst",
    "BREAKER_THRESHOLD": "breaker_threshold",
    "BREAKER_RESET": "breaker_reset",
}


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
    """Provider settings pointing at sandbox simulators on ``host``."""
    from gateway.providers.registry import SPECS

    out = {}
    for index, spec in enumerate(SPECS):
        port = spec.sandbox_port if base_port is None else base_port + index
        out[spec.name] = ProviderSettings(
            name=spec.name,
            base_url=f"http://{host}:{port}",
            api_key=spec.sandbox_key,
            rate_limit=0.0,
        )
    return out


def _coerce(name: str, attr: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(ProviderSettings)}[attr]
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("bool", bool):
            return (
                raw
                if isinstance(raw, bool)
                else str(raw).strip().lower() not in {"0", "false", "no", "off"}
            )
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}.{attr}: expected {kind}, got {raw!r}") from exc


def load_settings(
    env: Mapping[str, str] | None = None, *, config_file: str | Path | None = None
) -> Settings:
    """Build settings from a JSON config file (optional) and the environment (wins)."""
    from strawberry.federation.versions import FEDERATION_VERSIONS

    from gateway.providers.registry import BY_NAME, PROVIDERS

    env = os.environ if env is None else env
    file_data: dict[str, Any] = {}
    path = config_file or env.get("CUSTOMER_GATEWAY_CONFIG")
    if path:
        try:
            file_data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(file_data, dict):
            raise ConfigError(f"config file {path} must hold a JSON object")

    file_providers: dict[str, Any] = file_data.get("providers", {})
    configured = any(env.get(f"{p.upper()}_BASE_URL") or p in file_providers for p in PROVIDERS)
    base = sandbox_settings()
    providers: dict[str, ProviderSettings] = {}
    for name in PROVIDERS:
        current = base[name]
        if configured:
            current = replace(
                current,
                base_url=BY_NAME[name].base_url,
                api_key="",
                rate_limit=BY_NAME[name].rate_limit,
                enabled=False,
            )
        overrides: dict[str, Any] = {}
        for key, value in dict(file_providers.get(name, {})).items():
            if key not in {f.name for f in fields(ProviderSettings)} or key == "name":
                raise ConfigError(f"providers.{name}: unknown setting {key!r}")
            overrides[key] = _coerce(name, key, value)
        prefix = name.upper()
        if url := env.get(f"{prefix}_BASE_URL"):
            overrides["base_url"] = url
        if key_value := env.get(f"{prefix}_API_KEY"):
            overrides["api_key"] = key_value
        for suffix, attr in _NUMERIC_ENV.items():
            if (raw := env.get(f"{prefix}_{suffix}")) is not None:
                overrides[attr] = _coerce(name, attr, raw)
        if configured and ("base_url" in overrides or "api_key" in overrides):
            overrides.setdefault("enabled", True)
        if (raw := env.get(f"{prefix}_ENABLED")) is not None:
            overrides["enabled"] = _coerce(name, "enabled", raw)
        current = replace(current, **overrides)
        if configured and current.enabled and not current.api_key:
            raise ConfigError(f"{name} is enabled but has no API key: set {prefix}_API_KEY")
        providers[name] = current

    identity_data = dict(file_data.get("identity", {}))
    identity = IdentitySettings()
    if identity_data:
        if "placeholder_emails" in identity_data:
            identity_data["placeholder_emails"] = frozenset(
                str(e).strip().casefold() for e in identity_data["placeholder_emails"]
            )
        if "link_rules" in identity_data:
            identity_data["link_rules"] = {
                k: tuple(v) for k, v in dict(identity_data["link_rules"]).items()
            }
        if "field_priority" in identity_data:
            identity_data["field_priority"] = {
                k: tuple(v) for k, v in dict(identity_data["field_priority"]).items()
            }
        try:
            identity = replace(identity, **identity_data)
        except TypeError as exc:
            raise ConfigError(f"identity: {exc}") from exc
    if key := env.get("CUSTOMER_GATEWAY_EXTERNAL_ID_KEY"):
        identity = replace(identity, external_id_metadata_key=key)

    primary = env.get(
        "CUSTOMER_GATEWAY_PRIMARY_PROVIDER", file_data.get("primary_provider", "stripe")
    )
    if primary not in PROVIDERS:
        raise ConfigError(
            f"primary_provider must be one of {', '.join(PROVIDERS)}, not {primary!r}"
        )
    writes = tuple(file_data.get("write_providers", ("stripe", "lago")))
    if unknown := sorted(set(writes) - set(PROVIDERS)):
        raise ConfigError(
            f"write_providers: unknown provider(s) {', '.join(unknown)}; "
            f"choose from {', '.join(PROVIDERS)}"
        )
    origins = env.get("CUSTOMER_GATEWAY_CORS_ORIGINS")
    cors = (
        tuple(o.strip() for o in origins.split(",") if o.strip())
        if origins is not None
        else tuple(file_data.get("cors_origins", ()))
    )
    federation = env.get(
        "CUSTOMER_GATEWAY_FEDERATION_VERSION",
        file_data.get("federation_version", DEFAULT_FEDERATION_VERSION),
    )
    if not isinstance(federation, str) or federation not in FEDERATION_VERSIONS:
        raise ConfigError(
            f"federation_version (CUSTOMER_GATEWAY_FEDERATION_VERSION) must be one of "
            f"{', '.join(FEDERATION_VERSIONS)}, not {federation!r}"
        )
    return Settings(
        providers=providers,
        identity=identity,
        sandbox=not configured,
        primary_provider=primary,
        write_providers=writes,
        cors_origins=cors,
        federation_version=federation,
    )
