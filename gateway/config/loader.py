"""Build :class:`Settings` from the config file and the environment, checking everything.

Every mistake a human can make in the configuration is reported here, at start-up, naming the
setting (``providers.stripe.deadline`` or ``STRIPE_DEADLINE``) and what was expected, rather
than as a failure on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.config import schema
from gateway.config.casts import ConfigError, Setting
from gateway.config.providers import configured_defaults, load_provider, off_reason
from gateway.config.settings import IdentitySettings, ProviderSettings, Settings, sandbox_settings
from gateway.config.sources import assign, read_file, read_section, section

__all__ = ["CONFIG_ENV", "load_settings"]

CONFIG_ENV = "CUSTOMER_GATEWAY_CONFIG"


def load_settings(
    env: Mapping[str, str] | None = None, *, config_file: str | Path | None = None
) -> Settings:
    """Settings from a JSON config file (optional) and the environment (which wins).

    With no provider configured (no ``<NAME>_BASE_URL``, no ``providers`` entry) every provider
    points at the built-in sandbox; otherwise only configured providers are on.
    """
    from gateway.providers.registry import BY_NAME, SPECS

    env = os.environ if env is None else env
    path = config_file or env.get(CONFIG_ENV)
    data = read_file(path) if path else {}
    top = read_section(schema.GATEWAY, data, "", env, sections=schema.SECTIONS)

    provider_data = section(data, "providers", "providers")
    for name in provider_data:
        if name not in BY_NAME:
            raise ConfigError(f"providers.{name}: unknown provider; known: {', '.join(BY_NAME)}")
    sections = {
        spec.name: section(provider_data, spec.name, f"providers.{spec.name}") for spec in SPECS
    }
    configured = any(
        env.get(f"{spec.env_prefix}_BASE_URL") or spec.name in provider_data for spec in SPECS
    )
    sandbox = sandbox_settings()
    providers = {
        spec.name: load_provider(
            spec,
            configured_defaults(spec) if configured else sandbox[spec.name],
            sections[spec.name],
            env,
            configured=configured,
        )
        for spec in SPECS
    }
    settings = assign(
        Settings(providers=providers, identity=_identity(data, env), sandbox=not configured),
        schema.GATEWAY,
        top,
    )
    _check_named_providers_are_on(settings, top, sections, env)
    return settings


def _identity(data: Mapping[str, Any], env: Mapping[str, str]) -> IdentitySettings:
    values = read_section(schema.IDENTITY, section(data, "identity", "identity"), "identity", env)
    identity = assign(IdentitySettings(), schema.IDENTITY, values)
    _check_link_rules(identity)
    return identity


def _check_link_rules(identity: IdentitySettings) -> None:
    """Parse every rule now, as matching will (the parse is cached), so a bad one fails
    start-up instead of every request."""
    from gateway.identity.keys import _parse_rule
    from gateway.providers.registry import BY_NAME

    for namespace, rules in identity.link_rules.items():
        for index, text in enumerate(rules):
            rule = _parse_rule(text, identity.external_id_metadata_key)
            if rule.provider not in BY_NAME:
                raise ConfigError(
                    f"identity.link_rules.{namespace}[{index}]: expected a rule on one of "
                    f"{', '.join(BY_NAME)}, got {text!r}"
                )


def _check_named_providers_are_on(
    settings: Settings,
    named: Mapping[str, Any],
    sections: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
) -> None:
    """A primary or write provider named explicitly must be on: naming one that is off is a
    mistake (the defaults may name providers that are off; requests then say so)."""
    from gateway.providers.registry import BY_NAME

    wanted: list[tuple[Setting[Any], str | None]] = [
        (schema.PRIMARY_PROVIDER, named.get("primary_provider")),
        *((schema.WRITE_PROVIDERS, p) for p in named.get("write_providers", ())),
    ]
    for setting, name in wanted:
        if name is None:
            continue
        provider: ProviderSettings = settings.providers[name]
        if not provider.enabled:
            where = setting.env_name() if setting.env and env.get(setting.env) else setting.key
            raise ConfigError(f"{where}: {off_reason(BY_NAME[name], sections[name], env)}")
