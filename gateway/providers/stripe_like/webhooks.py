"""Stripe's signed webhooks, for Stripe and Tofupay: ``Stripe-Signature`` and endpoints.

A delivery carries ``Stripe-Signature: t=<unix>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(endpoint secret, ``"<t>.<body>"``); several ``v1`` entries may be present (during
a secret roll) and any one matching suffices. As stripe-python's ``WebhookSignature`` does, a
timestamp older than :data:`TOLERANCE` seconds is refused (the replay window); comparisons are
constant-time. The simulator signs with :func:`signature_header`, so both ends share one
definition (tests check it against the official SDK's ``construct_event``).

Endpoints are registered with ``POST /v1/webhook_endpoints`` (``url``, ``enabled_events[]``);
Stripe returns the endpoint's ``secret`` (``whsec_…``) on creation only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from gateway.model import ChangeEvent
from gateway.providers.stripe_like.feed import CUSTOMER_EVENTS, Parse, change_event
from gateway.providers.webhooks import (
    Subscribe,
    Verify,
    WebhookRejected,
    WebhookScheme,
    header,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "SIGNATURE_HEADER",
    "TOLERANCE",
    "WEBHOOK_ENDPOINTS",
    "scheme",
    "signature",
    "signature_header",
]

SIGNATURE_HEADER: Final = "Stripe-Signature"
TOLERANCE: Final = 300
"""Seconds a signed timestamp stays acceptable (stripe-python's ``DEFAULT_TOLERANCE``)."""
SCHEME: Final = "v1"
WEBHOOK_ENDPOINTS: Final = "/v1/webhook_endpoints"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` signature: hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed by ``secret``."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The ``Stripe-Signature`` header a delivery carries (a simulator's signer)."""
    return {SIGNATURE_HEADER: f"t={timestamp},{SCHEME}={signature(secret, timestamp, body)}"}


def _parse_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, _, found = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(found)
            except ValueError:
                timestamp = None
        elif key == SCHEME:
            signatures.append(found)
    if timestamp is None:
        raise WebhookRejected("unable to extract the timestamp from the Stripe-Signature header")
    if not signatures:
        raise WebhookRejected("no v1 signature in the Stripe-Signature header")
    return timestamp, signatures


def check_signature(body: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    """Raise :class:`WebhookRejected` unless ``body`` is signed with ``secret``, recently."""
    value = header(headers, SIGNATURE_HEADER)
    if not value:
        raise WebhookRejected("missing Stripe-Signature header")
    timestamp, signatures = _parse_header(value)
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise WebhookRejected("no signature matches the payload")
    if timestamp < now - TOLERANCE:
        raise WebhookRejected(f"timestamp outside the tolerance zone ({TOLERANCE} s)")


def parse_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise WebhookRejected("the body is not an event object")
    return event


def scheme(provider: str, parse: Parse) -> WebhookScheme:
    """Stripe's webhooks for ``provider``, whose records ``parse`` builds."""

    def verify(
        body: bytes, headers: Mapping[str, str], secret: str, now: float
    ) -> list[ChangeEvent]:
        check_signature(body, headers, secret, now)
        event = parse_event(body)
        if event.get("type") not in CUSTOMER_EVENTS:
            return []  # accepted and ignored: the sink only wants customer changes
        change = change_event(provider, parse, event)
        if change is None:
            raise WebhookRejected(f"a {event.get('type')} event without a customer object")
        return [change]

    async def subscribe(client: httpx.AsyncClient, url: str) -> str | None:
        form = {"url": url, "enabled_events[]": list(CUSTOMER_EVENTS)}
        response = await client.post(WEBHOOK_ENDPOINTS, data=form)
        response.raise_for_status()
        secret = response.json().get("secret")
        return secret if isinstance(secret, str) else None

    checked_verify: Verify = verify
    checked_subscribe: Subscribe = subscribe
    return WebhookScheme(verify=checked_verify, subscribe=checked_subscribe)
