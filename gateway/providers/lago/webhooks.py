"""Lago's signed customer webhooks: ``X-Lago-Signature`` (HMAC) and webhook endpoints.

With ``signature_algo: hmac`` Lago signs each delivery with the organization's HMAC key
(shown in its UI, Developers > API keys): ``X-Lago-Signature`` is base64(HMAC-SHA256(key,
body)), ``X-Lago-Signature-Algorithm: hmac``, and ``X-Lago-Unique-Key`` names the delivery (for
idempotency). The signature covers no timestamp, so there is no replay window to check:
replays are harmless because events apply by ``occurred_at`` (the customer's ``updated_at``)
and older ones change nothing. JWT-signed endpoints (Lago's RS256 scheme) are not accepted.

Bodies are ``{"webhook_type", "object_type": "customer", "organization_id", "customer"}``;
``customer.created`` and ``customer.updated`` become changes (Lago sends no
``customer.deleted``), anything else is accepted and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from gateway.errors import ProviderError
from gateway.model import ChangeEvent, ChangeKind
from gateway.providers import coerce
from gateway.providers.lago.adapter import NAME, to_record
from gateway.providers.webhooks import WebhookRejected, WebhookScheme, header

if TYPE_CHECKING:
    import httpx

__all__ = ["ALGORITHM_HEADER", "SIGNATURE_HEADER", "UNIQUE_KEY_HEADER", "WEBHOOKS", "sign"]

SIGNATURE_HEADER: Final = "X-Lago-Signature"
ALGORITHM_HEADER: Final = "X-Lago-Signature-Algorithm"
UNIQUE_KEY_HEADER: Final = "X-Lago-Unique-Key"
WEBHOOK_ENDPOINTS: Final = "/api/v1/webhook_endpoints"
CUSTOMER_EVENTS: Final[Mapping[str, ChangeKind]] = {
    "customer.created": ChangeKind.CREATED,
    "customer.updated": ChangeKind.UPDATED,
}


def signature(key: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)): the ``X-Lago-Signature`` of an HMAC endpoint."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def sign(body: bytes, key: str, timestamp: int) -> dict[str, str]:
    """The signature headers of a delivery (a simulator's signer; the time is not signed)."""
    return {SIGNATURE_HEADER: signature(key, body), ALGORITHM_HEADER: "hmac"}


def verify(body: bytes, headers: Mapping[str, str], secret: str, now: float) -> list[ChangeEvent]:
    """The customer change a Lago delivery holds, checked against the HMAC key ``secret``."""
    algorithm = header(headers, ALGORITHM_HEADER)
    if algorithm is not None and algorithm.lower() != "hmac":
        raise WebhookRejected(f"unsupported signature algorithm {algorithm!r} (expected hmac)")
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise WebhookRejected("missing X-Lago-Signature header")
    if not hmac.compare_digest(signature(secret, body), given.strip()):
        raise WebhookRejected("the signature does not match the payload")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("webhook_type"), str):
        raise WebhookRejected("the body is not a Lago webhook")
    kind = CUSTOMER_EVENTS.get(payload["webhook_type"])
    if kind is None:
        return []
    try:
        record = to_record(payload.get("customer"))
    except ProviderError:
        raise WebhookRejected(f"a {payload['webhook_type']} webhook without a customer") from None
    occurred = coerce.iso_datetime(record.raw.get("updated_at")) or record.created_at
    if occurred is None:
        raise WebhookRejected("the customer has neither updated_at nor created_at")
    event_id = header(headers, UNIQUE_KEY_HEADER) or f"{payload['webhook_type']}:{record.id}"
    return [ChangeEvent(NAME, event_id, kind, record, occurred)]


async def subscribe(client: httpx.AsyncClient, url: str) -> str | None:
    """``POST /api/v1/webhook_endpoints`` (HMAC, customer events); Lago returns no secret."""
    body = {
        "webhook_endpoint": {
            "webhook_url": url,
            "signature_algo": "hmac",
            "event_types": list(CUSTOMER_EVENTS),
        }
    }
    response = await client.post(WEBHOOK_ENDPOINTS, json=body)
    response.raise_for_status()
    return None


WEBHOOKS: Final = WebhookScheme(verify=verify, subscribe=subscribe)
