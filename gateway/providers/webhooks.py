"""What every provider's webhook scheme offers the gateway: verify a delivery, subscribe a URL.

A provider with signed webhooks declares ``ProviderSpec.webhook`` as ``"module:NAME"`` naming a
:class:`WebhookScheme` in its own package; :func:`load_scheme` imports it, so the gateway's
endpoint (gateway/webhooks.py) never imports provider code by name. Every refusal is one error
type, :class:`WebhookRejected`, whose ``reason`` is safe to show (it never holds the secret).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.model import ChangeEvent

if TYPE_CHECKING:
    import httpx

    from gateway.providers.spec import ProviderSpec

__all__ = ["Subscribe", "Verify", "WebhookRejected", "WebhookScheme", "load_scheme"]


class WebhookRejected(Exception):
    """A delivery refused: bad or missing signature, stale timestamp, malformed body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Verify = Callable[[bytes, Mapping[str, str], str, float], list[ChangeEvent]]
"""``(body, headers, secret, now) -> events``: the customer changes a verified delivery holds
(``[]`` for other events, accepted and ignored), or :class:`WebhookRejected`. Header names are
matched case-insensitively (pass Starlette's ``Headers`` or a lower-cased mapping)."""

Subscribe = Callable[["httpx.AsyncClient", str], Awaitable[str | None]]
"""``(client, url) -> secret``: register ``url`` for customer events through the provider's
API (``client`` has its base URL and key); the signing secret when the API returns one, else
``None`` (Lago signs with the organization's HMAC key, shown only in its UI)."""


@dataclass(frozen=True, slots=True)
class WebhookScheme:
    """One provider's webhooks: how deliveries are verified, how a URL is subscribed."""

    verify: Verify
    subscribe: Subscribe


def load_scheme(spec: ProviderSpec) -> WebhookScheme | None:
    """The scheme ``spec.webhook`` names, or ``None`` for a provider without webhooks."""
    if spec.webhook is None:
        return None
    module_name, _, attribute = spec.webhook.partition(":")
    found = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(found, WebhookScheme):
        raise TypeError(f"{spec.webhook} is a {type(found).__name__}, not a WebhookScheme")
    return found


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever case the mapping holds it in."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value
