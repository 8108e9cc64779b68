"""Notices: a provider answered, but in a weaker mode the caller should know about.

An adapter that serves a request by a fallback (Stripe emails by the list filter when customer
search is unavailable) calls :func:`notice`; the GraphQL layer reports what the request collected
in ``extensions.degradedProviders`` beside the providers that failed. Scoped like
:func:`~gateway.providers.upstream.counting.count_upstream_calls`: to the block and the tasks it
starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType

from gateway.bound import Bound

__all__ = ["collect_notices", "current_notices", "notice"]

_notices: ContextVar[dict[str, str] | None] = ContextVar("provider_notices", default=None)


def collect_notices() -> Bound[dict[str, str] | None, Mapping[str, str]]:
    """Collect the notices given within the ``with`` block: the first per provider."""
    found: dict[str, str] = {}
    return Bound(_notices, found, MappingProxyType(found))


def notice(provider: str, message: str) -> None:
    """Tell the current request (if one is collecting) how ``provider`` is being served."""
    if (found := _notices.get()) is not None:
        found.setdefault(provider, message)


def current_notices() -> Mapping[str, str]:
    return MappingProxyType(_notices.get() or {})
