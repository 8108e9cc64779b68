"""``customer-gateway config check``: the effective configuration, secrets masked, then one
cheap authenticated read per enabled provider, so a wrong URL or key shows before traffic does.

The probe goes through each provider's real adapter (its auth, paths and error mapping), with
no retries and a short deadline, and reads one page of one customer: the cheapest call every
provider both authenticates and answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any, Final, TextIO

from gateway.config import auth_schema, schema
from gateway.config.casts import Setting, masked_url
from gateway.config.providers import tune
from gateway.config.settings import AuthSettings, IdentitySettings, ProviderSettings, Settings
from gateway.errors import ErrorKind, ProviderError

if TYPE_CHECKING:
    import httpx

__all__ = ["PROBE_TIMEOUT", "Probe", "check", "describe", "mask", "probe"]

PROBE_TIMEOUT: Final = 5.0
"""Seconds one provider's probe may take, connection included."""

_SHOWN: Final = 4
"""Leading characters of a long key shown (``sk_l``): enough to tell test from live keys."""
_LONG_KEY: Final = 12
"""Keys shorter than this are shown as ``***`` only: a prefix would give away too much."""

_VERDICTS: Final[Mapping[ErrorKind, str]] = {
    ErrorKind.AUTH: "key rejected",
    ErrorKind.UNAVAILABLE: "unreachable",
    ErrorKind.TIMEOUT: "unreachable",
    ErrorKind.RATE_LIMITED: "rate limited",
    ErrorKind.NOT_FOUND: "not found (is the base URL right?)",
    ErrorKind.BAD_RESPONSE: "unexpected answer (is the base URL right?)",
    ErrorKind.BAD_REQUEST: "request refused",
}


@dataclass(frozen=True, slots=True)
class Probe:
    """One provider's answer to the probe."""

    provider: str
    base_url: str
    ok: bool
    verdict: str
    """``ok``, ``key rejected``, ``unreachable``, ..."""
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"  {self.provider:<13} {self.verdict:<14} {self.base_url}{detail}"


def mask(secret: str) -> str:
    """A key as it may be printed: never whole, at most its first few characters."""
    if not secret:
        return "(none)"
    if len(secret) < _LONG_KEY:
        return "***"
    return f"{secret[:_SHOWN]}…(masked)"


def describe(settings: Settings) -> list[str]:
    """The effective configuration, one ``key = value`` line per setting (file keys, so each
    line names what to change), keys masked."""
    where = "the built-in sandbox: FAKE data" if settings.sandbox else "the configured providers"
    lines = [f"mode: {settings.mode} (running on {where})"]
    lines += _lines(settings, schema.GATEWAY, "", skip=(schema.MODE,))
    lines += _lines(settings.identity, schema.IDENTITY, "identity.")
    lines += _auth_lines(settings.auth)
    for provider in settings.providers.values():
        prefix = f"providers.{provider.name}."
        if provider.enabled:
            lines += _lines(provider, schema.PROVIDER, prefix, skip=(schema.ENABLED,))
        else:
            lines.append(f"{prefix}enabled = false")
    return lines


def _auth_lines(auth: AuthSettings) -> list[str]:
    """Access control: key ids and scopes (never their hashes), JWT checks when on; ``null``
    for introspection and GraphiQL means the mode decides."""
    keys = [f"{key.id}: {' '.join(sorted(key.scopes))}" for key in auth.api_keys]
    lines = _lines(auth, auth_schema.AUTH, "auth.", skip=(auth_schema.API_KEYS,))
    lines.append(f"auth.api_keys = {_show(keys)}")
    if auth.jwt.enabled:
        lines += _lines(auth, auth_schema.AUTH_JWT, "auth.jwt.")
    return lines + _lines(auth, auth_schema.AUTH_RATE, "auth.rate_limit.")


def _lines(
    target: Settings | IdentitySettings | ProviderSettings | AuthSettings,
    declared: Sequence[Setting[Any]],
    prefix: str,
    skip: Sequence[Setting[Any]] = (),
) -> list[str]:
    out = []
    for setting in declared:
        if setting in skip:
            continue
        value: Any = reduce(getattr, setting.attr.split("."), target)
        if setting in (schema.API_KEY, schema.WEBHOOK_SECRET):
            shown = mask(value)
        elif setting in (schema.INDEX_URL, schema.REDIS_URL):
            shown = masked_url(value)
        else:
            shown = _show(value)
        out.append(f"{prefix}{setting.key} = {shown}")
    return out


def _show(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: object) -> object:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot show {type(value).__name__}")


async def probe(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    deadline: float = PROBE_TIMEOUT,
) -> list[Probe]:
    """Every enabled provider probed at once (``transports`` as for :func:`create_app`)."""
    return list(
        await asyncio.gather(
            *(
                _probe(provider, settings.identity, (transports or {}).get(provider.name), deadline)
                for provider in settings.enabled()
            )
        )
    )


async def _probe(
    provider: ProviderSettings,
    identity: IdentitySettings,
    transport: httpx.AsyncBaseTransport | None,
    deadline: float,
) -> Probe:
    from gateway.providers.registry import make_adapter

    quick = tune(
        provider,
        max_retries=0,
        deadline=deadline,
        read_timeout=deadline,
        connect_timeout=min(deadline, provider.timeouts.connect),
    )
    adapter = make_adapter(quick, identity, transport)
    try:
        if not adapter.capabilities.list_page:
            return Probe(provider.name, provider.base_url, False, "not probed", "cannot list")
        await adapter.list_page(None, 1)
    except ProviderError as exc:
        status = f"HTTP {exc.status}: " if exc.status is not None else ""
        verdict = _VERDICTS.get(exc.kind, exc.kind.value)
        return Probe(provider.name, provider.base_url, False, verdict, f"{status}{exc.message}")
    finally:
        await adapter.aclose()
    return Probe(provider.name, provider.base_url, True, "ok", "key accepted")


async def check(
    settings: Settings,
    out: TextIO,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    deadline: float = PROBE_TIMEOUT,
) -> int:
    """Print the configuration and the probes to ``out``: 0 when every provider answered with
    its key accepted, 1 otherwise (or when no provider is on)."""
    for line in describe(settings):
        print(line, file=out)
    enabled = settings.enabled()
    if not enabled:
        print("No provider is on: nothing to probe.", file=out)
        return 1
    print(f"\nProbing {len(enabled)} provider(s), {deadline:g}s each:", file=out)
    results = await probe(settings, transports=transports, deadline=deadline)
    for result in results:
        print(result.line(), file=out)
    failed = [r.provider for r in results if not r.ok]
    if failed:
        print(f"{len(failed)} of {len(results)} failed: {', '.join(failed)}", file=out)
        return 1
    print(f"All {len(results)} reachable, keys accepted.", file=out)
    return 0
