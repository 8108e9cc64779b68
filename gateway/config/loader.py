"""Build :class:`Settings` from the config file and the environment, checking everything.

Every mistake a human can make in the configuration is reported here, at start-up, naming the
setting (``providers.stripe.deadline`` or ``STRIPE_DEADLINE``) and what was expected, rather
than as a failure on some later request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from gateway.config import auth_schema, schema
from gateway.config.casts import ConfigError, Setting
from gateway.config.providers import configured_defaults, load_provider, off_reason
from gateway.config.settings import (
    AuthSettings,
    IdentitySettings,
    JwtSettings,
    ProviderSettings,
    Settings,
    sandbox_settings,
)
from gateway.config.sources import assign, read_file, read_section, section, unknown
from gateway.config.typos import misspelt_variables

if TYPE_CHECKING:
    from gateway.providers.spec import ProviderSpec

__all__ = ["CONFIG_ENV", "load_settings"]

CONFIG_ENV = schema.CONFIG_ENV
_ENDPOINT = (schema.BASE_URL, schema.API_KEY)
"""The settings that say a provider is configured: either one is enough (a key alone means
the provider's public API)."""

logger = logging.getLogger("customer_gateway.config")


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    config_file: str | Path | None = None,
    mode: str | None = None,
) -> Settings:
    """Settings from a JSON config file (optional) and the environment (which wins).

    ``mode`` (``serve --mode``) wins over ``CUSTOMER_GATEWAY_MODE`` and the file. In ``auto``
    mode, with no provider configured (no base URL or API key, in the environment or the file)
    every provider points at the built-in sandbox; otherwise only configured providers are on.
    ``sandbox`` always runs the sandbox; ``live`` never does, and needs a configured provider.
    """
    from gateway.providers.registry import BY_NAME, SPECS

    env = os.environ if env is None else env
    path = config_file or env.get(CONFIG_ENV)
    data = read_file(path) if path else {}
    top = read_section(schema.GATEWAY, data, "", env, sections=schema.SECTIONS)
    if mode is not None:
        top["mode"] = schema.MODE.read(mode, "--mode", from_env=True)
    chosen = top.get("mode", schema.MODE.default)
    auth = _auth(data, env)
    _check_variables(env, live=chosen == "live", theirs={auth.jwt.hs_secret_env})

    provider_data = section(data, "providers", "providers")
    for name in provider_data:
        if name not in BY_NAME:
            raise unknown(f"providers.{name}", "provider", name, list(BY_NAME))
    sections = {
        spec.name: section(provider_data, spec.name, f"providers.{spec.name}") for spec in SPECS
    }
    configured = [spec.name for spec in SPECS if _endpoint(spec, sections[spec.name], env)]
    sandbox = chosen == "sandbox" or (chosen == "auto" and not configured)
    if sandbox and configured:
        logger.warning(
            "sandbox mode: the sandbox's own URLs and keys replace those set for %s; "
            "run with --mode live (or CUSTOMER_GATEWAY_MODE=live) to use them",
            ", ".join(configured),
        )
    defaults = sandbox_settings()
    providers = {
        spec.name: load_provider(
            spec,
            defaults[spec.name] if sandbox else configured_defaults(spec),
            _drop(sections[spec.name], _keys()) if sandbox else sections[spec.name],
            _drop(env, _names(spec)) if sandbox else env,
            configured=not sandbox,
        )
        for spec in SPECS
    }
    settings = assign(
        Settings(providers=providers, identity=_identity(data, env), sandbox=sandbox, auth=auth),
        schema.GATEWAY,
        top,
    )
    if chosen == "live" and not settings.enabled():
        raise ConfigError(
            "live mode needs at least one provider on, with its API key (and its base URL "
            "unless it is the public API): set e.g. STRIPE_API_KEY, or add providers.<name> "
            "to the config file. Live mode never falls back to the sandbox."
        )
    _check_named_providers_are_on(settings, top, sections, env)
    _check_trusted_documents(settings)
    return settings


def _check_variables(env: Mapping[str, str], *, live: bool, theirs: Collection[str] = ()) -> None:
    """Variables that look like a misspelt setting: refused in live mode, else warned about.
    ``theirs`` are variables the configuration names (the JWT secret's), never misspelt."""
    misspelt = [m for m in misspelt_variables(env) if m.name not in theirs]
    if misspelt and live:
        names = ", ".join(str(m) for m in misspelt)
        raise ConfigError(
            f"live mode refuses variables that look misspelt: {names}. "
            "Rename them, or unset them if they are not meant for the gateway."
        )
    for found in misspelt:
        logger.warning(
            "%s is not a variable the gateway reads; did you mean %s?", found.name, found.meant
        )


def _endpoint(spec: ProviderSpec, data: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """Whether a provider is configured: a base URL or an API key, in the file or the env."""
    return any(env.get(name) for name in _names(spec)) or any(key in data for key in _keys())


def _names(spec: ProviderSpec) -> list[str]:
    return [name for s in _ENDPOINT if (name := s.env_name(spec.env_prefix))]


def _keys() -> list[str]:
    return [s.key for s in _ENDPOINT]


def _drop(values: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in names}


def _identity(data: Mapping[str, Any], env: Mapping[str, str]) -> IdentitySettings:
    values = read_section(schema.IDENTITY, section(data, "identity", "identity"), "identity", env)
    identity = assign(IdentitySettings(), schema.IDENTITY, values)
    _check_link_rules(identity)
    return identity


def _auth(data: Mapping[str, Any], env: Mapping[str, str]) -> AuthSettings:
    """The ``auth`` section and its ``jwt`` and ``rate_limit`` sections, with the JWT secret
    read from the variable the file names. Whether live mode may start without any of it is
    decided by :func:`gateway.auth.control.access_control`."""
    found = section(data, "auth", "auth")
    auth = AuthSettings()
    for declared, name in (
        (auth_schema.AUTH, ""),
        (auth_schema.AUTH_JWT, "jwt"),
        (auth_schema.AUTH_RATE, "rate_limit"),
    ):
        where = f"auth.{name}" if name else "auth"
        values = read_section(
            declared,
            section(found, name, where) if name else found,
            where,
            env,
            sections=() if name else auth_schema.AUTH_SECTIONS,
        )
        auth = assign(auth, declared, values)
    return replace(auth, jwt=_jwt(auth.jwt, env)) if auth.jwt.enabled else auth


_HS = ("HS256", "HS384", "HS512")
MIN_SECRET: Final = 32
"""Characters an HS secret needs at least (RFC 7518 asks for a key as long as the hash)."""


def _jwt(jwt: JwtSettings, env: Mapping[str, str]) -> JwtSettings:
    """Checks that need several JWT settings at once; the secret read from its variable."""
    for setting, value in (
        (auth_schema.JWT_ISSUER, jwt.issuer),
        (auth_schema.JWT_AUDIENCE, jwt.audience),
    ):
        if not value:
            raise ConfigError(
                f"auth.jwt.{setting.key}: required with JWTs (or {setting.env}), so a token "
                "another issuer or service was given is refused"
            )
    algorithms = jwt.algorithms or (
        *(("RS256", "ES256") if jwt.jwks_url else ()),
        *(("HS256",) if jwt.hs_secret_env else ()),
    )
    for index, algorithm in enumerate(algorithms):
        hs = algorithm in _HS
        if hs and not jwt.hs_secret_env:
            raise ConfigError(
                f"auth.jwt.algorithms[{index}]: {algorithm} needs auth.jwt.hs_secret_env"
            )
        if not hs and not jwt.jwks_url:
            raise ConfigError(f"auth.jwt.algorithms[{index}]: {algorithm} needs auth.jwt.jwks_url")
    secret = ""
    if jwt.hs_secret_env:
        secret = env.get(jwt.hs_secret_env, "")
        if len(secret) < MIN_SECRET:
            state = "is not set" if not secret else f"holds fewer than {MIN_SECRET} characters"
            raise ConfigError(
                f"auth.jwt.hs_secret_env: {jwt.hs_secret_env} {state}; set it to a random "
                f"secret of at least {MIN_SECRET} characters"
            )
    return replace(jwt, algorithms=tuple(algorithms), hs_secret=secret)


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


def _check_trusted_documents(settings: Settings) -> None:
    """Load the trusted-documents manifest now, as the app will, so a missing file, a document
    that does not parse or an id that is not its hash stops start-up (and ``config check``)."""
    from gateway.documents import PersistedDocuments

    PersistedDocuments.from_settings(settings)


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
