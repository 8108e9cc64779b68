"""The sandbox kept live: ``serve`` subscribes its own ``/webhooks/<provider>`` URL with every
simulator that sends webhooks, through the provider's own API, and keeps the secrets.

Each provider's :class:`~gateway.providers.webhooks.WebhookScheme` registers the URL
(Stripe and Tofupay: ``POST /v1/webhook_endpoints``, whose answer holds the ``whsec_`` secret;
Lago: ``POST /api/v1/webhook_endpoints``). Where the API returns no secret (Lago signs with the
organization's HMAC key, shown only in its UI), the simulator's admin route
``GET /__sandbox/webhook_secret`` stands in for reading the UI. A customer created in a
simulator then reaches the gateway within moments of the API's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from gateway.config import ProviderSettings
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.registry import BY_NAME
from gateway.providers.webhooks import load_scheme
from gateway.sandbox.base import ADMIN_PREFIX

__all__ = ["reachable_url", "subscribe_gateway"]

logger = logging.getLogger("customer_gateway.sandbox")

TIMEOUT = 5.0
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "[::1]"}


def reachable_url(listen_url: str) -> str:
    """A URL a local simulator can call for a gateway listening on ``listen_url`` (a wildcard
    address such as ``0.0.0.0`` becomes loopback)."""
    parts = urlsplit(listen_url)
    host = parts.hostname or "127.0.0.1"
    loopback = _WILDCARD_HOSTS.get(host, host)
    netloc = f"[{loopback.strip('[]')}]" if ":" in loopback else loopback
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def _auth_headers(provider: ProviderSettings) -> Mapping[str, str]:
    adapter = BY_NAME[provider.name].adapter
    if isinstance(adapter, type) and issubclass(adapter, HTTPAdapter):
        return adapter.auth_headers(provider.api_key)  # a class method: no client is built
    return {"Authorization": f"Bearer {provider.api_key}"}


async def subscribe_gateway(
    providers: Mapping[str, ProviderSettings], gateway_url: str
) -> dict[str, str]:
    """Subscribe ``<gateway_url>/webhooks/<name>`` with every enabled provider that sends
    webhooks; returns the secrets by provider. A provider that refuses is logged and left out
    (the gateway still serves; that provider's changes arrive by polling only)."""
    secrets: dict[str, str] = {}
    for provider in providers.values():
        spec = BY_NAME.get(provider.name)
        scheme = load_scheme(spec) if spec is not None and provider.enabled else None
        if scheme is None:
            continue
        url = f"{gateway_url.rstrip('/')}/webhooks/{provider.name}"
        try:
            async with httpx.AsyncClient(
                base_url=provider.base_url, headers=_auth_headers(provider), timeout=TIMEOUT
            ) as client:
                secret = await scheme.subscribe(client, url)
                if secret is None:
                    response = await client.get(f"{ADMIN_PREFIX}/webhook_secret")
                    response.raise_for_status()
                    secret = response.json()["secret"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            logger.warning("could not subscribe to %s webhooks: %s", provider.name, exc)
            continue
        if isinstance(secret, str) and secret:
            secrets[provider.name] = secret
            logger.info("subscribed to %s webhooks at %s", provider.name, url)
    return secrets
