"""One provider's settings: sandbox or configured defaults, then the file, then ``<NAME>_*``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gateway.config.casts import ConfigError
from gateway.config.schema import PROVIDER
from gateway.config.settings import ProviderSettings, RateLimit
from gateway.config.sources import assign, read_section

if TYPE_CHECKING:
    from gateway.providers.spec import ProviderSpec

__all__ = ["configured_defaults", "load_provider", "off_reason", "tune"]


def configured_defaults(spec: ProviderSpec) -> ProviderSettings:
    """A configured-mode provider before any setting: the public API, off, no key."""
    return ProviderSettings(
        name=spec.name,
        base_url=spec.base_url,
        api_key="",
        enabled=False,
        rate_limit=RateLimit(rate=spec.rate_limit),
    )


def load_provider(
    spec: ProviderSpec,
    base: ProviderSettings,
    data: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    configured: bool,
) -> ProviderSettings:
    """``base`` with ``providers.<name>`` from the file and ``<PREFIX>_*`` from ``env``.

    In configured mode a provider is on once it has a base URL or a key (unless ``enabled``
    says otherwise), and a provider that is on needs a key.
    """
    prefix = spec.env_prefix
    values = read_section(PROVIDER, data, f"providers.{spec.name}", env, env_prefix=prefix)
    if configured:
        values.setdefault("enabled", "base_url" in values or "api_key" in values)
    settings = _apply(base, values)
    if configured and settings.enabled and not settings.api_key:
        raise ConfigError(f"{spec.name} is enabled but has no API key: set {prefix}_API_KEY")
    return settings


def tune(settings: ProviderSettings, **values: Any) -> ProviderSettings:
    """``settings`` with some changed by their file keys (``max_retries=0``), checked as the
    config file's are. Handy for tests and embedders; :func:`load_settings` uses the same path."""
    return _apply(settings, read_section(PROVIDER, values, f"providers.{settings.name}", {}))


def off_reason(spec: ProviderSpec, data: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """That a provider is off, why, and how to turn it on, for errors about it."""
    name, prefix = spec.name, spec.env_prefix
    if env.get(f"{prefix}_ENABLED"):
        return f"{name} is off: {prefix}_ENABLED turns it off"
    if "enabled" in data:
        return f"{name} is off: providers.{name}.enabled turns it off"
    return (
        f"{name} is off: set {prefix}_BASE_URL and {prefix}_API_KEY, "
        f"or add providers.{name} to the config file"
    )


def _apply(base: ProviderSettings, values: Mapping[str, Any]) -> ProviderSettings:
    settings = assign(base, PROVIDER, values)
    retry = settings.retry
    if retry.backoff_max < retry.backoff_base:
        raise ConfigError(
            f"providers.{settings.name}.backoff_max: expected a number >= backoff_base "
            f"({retry.backoff_base:g}), got {retry.backoff_max:g}"
        )
    return settings
