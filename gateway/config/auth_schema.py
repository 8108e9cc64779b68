"""The access-control settings (file section ``auth``, with ``auth.jwt`` and
``auth.rate_limit``), declared once like every other setting (:mod:`gateway.config.schema`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from gateway.auth.keys import ApiKey
from gateway.config.casts import (
    Invalid,
    Setting,
    boolean,
    integer,
    nonblank,
    number,
    text_list,
    url,
)

__all__ = ["AUTH", "AUTH_JWT", "AUTH_RATE", "AUTH_SECTIONS"]


JWT_ALGORITHMS: Final = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "HS256",
    "HS384",
    "HS512",
)
"""Signature algorithms a token may use: RS/PS/ES verified against the JWKS, HS with the
shared secret. ``none`` is never accepted."""


def _api_keys(raw: object, from_env: bool) -> tuple[ApiKey, ...]:
    """``[{"id": ..., "sha256": ..., "scopes": [...]}]``: ids unique and non-blank, hashes 64
    hex characters (and distinct), scopes known and at least one."""
    from gateway.auth.scopes import SCOPES

    if not isinstance(raw, list):
        raise Invalid('a list of {"id", "sha256", "scopes"} objects')
    keys: list[ApiKey] = []
    for index, item in enumerate(raw):
        at = f"[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"id", "sha256", "scopes"}:
            raise Invalid('an object with exactly "id", "sha256" and "scopes"', at, item)
        key_id, sha, scopes = item["id"], item["sha256"], item["scopes"]
        if not isinstance(key_id, str) or not key_id.strip() or key_id != key_id.strip():
            raise Invalid("a non-blank id without surrounding spaces", f"{at}.id", key_id)
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise Invalid("the key's sha256 as 64 hex characters", f"{at}.sha256", sha)
        if not isinstance(scopes, list) or not scopes:
            raise Invalid(f"a non-empty list of scopes ({', '.join(SCOPES)})", f"{at}.scopes")
        for position, scope in enumerate(scopes):
            if scope not in SCOPES:
                raise Invalid(f"one of {', '.join(SCOPES)}", f"{at}.scopes[{position}]", scope)
        if any(k.id == key_id for k in keys):
            raise Invalid("ids used once", f"{at}.id", key_id)
        if any(k.sha256 == sha.lower() for k in keys):
            raise Invalid("each key configured once (two entries have this sha256)", at, key_id)
        keys.append(ApiKey(key_id, sha.lower(), frozenset(scopes)))
    return tuple(keys)


def _introspection(raw: object, from_env: bool) -> bool:
    """``true``: any admitted caller may introspect; ``false`` or ``"scope"``: only callers
    holding the ``introspection`` scope."""
    if raw == "scope" or (from_env and isinstance(raw, str) and raw.strip().lower() == "scope"):
        return False
    try:
        return boolean(raw, from_env)
    except Invalid:
        raise Invalid('true, false or "scope"') from None


def _env_name(raw: object, from_env: bool) -> str:
    value = nonblank(raw, from_env)
    if not _ENV_NAME.fullmatch(value):
        raise Invalid("an environment variable name such as GATEWAY_JWT_SECRET")
    return value


_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

AUTH_OPEN: Final = Setting(
    "open",
    "open",
    boolean,
    False,
    "serve without access control in live mode (every caller has every scope); "
    "logs a warning at every start",
    env="CUSTOMER_GATEWAY_AUTH_OPEN",
)
API_KEYS: Final[Setting[tuple[ApiKey, ...]]] = Setting(
    "api_keys",
    "api_keys",
    _api_keys,
    (),
    "API keys by id, sha256 of the key, and scopes (the keys themselves are never stored)",
)
INTROSPECTION: Final[Setting[bool | None]] = Setting(
    "introspection",
    "introspection",
    _introspection,
    None,
    '`true`: every admitted caller may introspect; `false` or `"scope"`: only callers with '
    "the `introspection` scope. Default: true on the sandbox, scope-only in live mode",
    env="CUSTOMER_GATEWAY_INTROSPECTION",
)
GRAPHIQL: Final[Setting[bool | None]] = Setting(
    "graphiql",
    "graphiql",
    boolean,
    None,
    "serve the GraphiQL page. Default: on on the sandbox, off in live mode",
    env="CUSTOMER_GATEWAY_GRAPHIQL",
)

JWKS_URL: Final = Setting(
    "jwks_url",
    "jwt.jwks_url",
    url,
    "",
    "where the identity provider publishes its signing keys (RS/PS/ES tokens)",
    env="CUSTOMER_GATEWAY_JWKS_URL",
)
HS_SECRET_ENV: Final = Setting(
    "hs_secret_env",
    "jwt.hs_secret_env",
    _env_name,
    "",
    "name of the environment variable holding the HS256/384/512 shared secret "
    "(at least 32 characters; the secret itself never goes in the file)",
)
JWT_ISSUER: Final = Setting(
    "issuer",
    "jwt.issuer",
    nonblank,
    "",
    "the `iss` every token must carry (required with JWTs)",
    env="CUSTOMER_GATEWAY_JWT_ISSUER",
)
JWT_AUDIENCE: Final = Setting(
    "audience",
    "jwt.audience",
    nonblank,
    "",
    "the `aud` every token must carry (required with JWTs)",
    env="CUSTOMER_GATEWAY_JWT_AUDIENCE",
)
JWT_ALGORITHMS_SETTING: Final[Setting[tuple[str, ...]]] = Setting(
    "algorithms",
    "jwt.algorithms",
    text_list,
    (),
    "signature algorithms accepted; default RS256 and ES256 with a JWKS URL, HS256 with a secret",
    choices=lambda: JWT_ALGORITHMS,
)
JWT_SCOPES_CLAIM: Final = Setting(
    "scopes_claim",
    "jwt.scopes_claim",
    nonblank,
    "scope",
    "claim holding the scopes: a space-separated string (`scope`) or a list (`scp`)",
)
JWT_LEEWAY: Final = Setting(
    "leeway",
    "jwt.leeway",
    number,
    30.0,
    "seconds of clock skew allowed on `exp`, `nbf` and `iat`",
    at_least=0,
)

INBOUND_RATE: Final = Setting(
    "rate",
    "rate_limit.rate",
    number,
    20.0,
    "requests/second each key may send (token bucket), 0 = off",
    env="CUSTOMER_GATEWAY_KEY_RATE_LIMIT",
    at_least=0,
)
INBOUND_BURST: Final = Setting(
    "burst",
    "rate_limit.burst",
    integer,
    40,
    "requests a key may send at once before the rate applies",
    env="CUSTOMER_GATEWAY_KEY_RATE_BURST",
    at_least=1,
)
COST_PER_MINUTE: Final = Setting(
    "cost_per_minute",
    "rate_limit.cost_per_minute",
    integer,
    30000,
    "estimated upstream calls each key's operations may cost per minute, 0 = off",
    env="CUSTOMER_GATEWAY_KEY_COST_BUDGET",
    at_least=0,
)

AUTH: Final[tuple[Setting[Any], ...]] = (AUTH_OPEN, API_KEYS, INTROSPECTION, GRAPHIQL)
AUTH_JWT: Final[tuple[Setting[Any], ...]] = (
    JWKS_URL,
    HS_SECRET_ENV,
    JWT_ISSUER,
    JWT_AUDIENCE,
    JWT_ALGORITHMS_SETTING,
    JWT_SCOPES_CLAIM,
    JWT_LEEWAY,
)
AUTH_RATE: Final[tuple[Setting[Any], ...]] = (INBOUND_RATE, INBOUND_BURST, COST_PER_MINUTE)
AUTH_SECTIONS: Final = ("jwt", "rate_limit")
"""Keys of the ``auth`` section holding sections rather than settings."""
