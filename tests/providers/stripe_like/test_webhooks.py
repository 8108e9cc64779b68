"""Verifying Stripe-signed webhooks (Stripe and Tofupay): accepted, ignored or rejected."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from gateway.model import ChangeKind
from gateway.providers.registry import spec
from gateway.providers.stripe.webhooks import WEBHOOKS
from gateway.providers.stripe_like.webhooks import TOLERANCE, signature_header
from gateway.providers.tofupay.webhooks import WEBHOOKS as TOFUPAY_WEBHOOKS
from gateway.providers.webhooks import WebhookRejected, load_scheme

SECRET = "whsec_test_secret_that_must_not_leak"
NOW = 1_800_000_000


def event(kind: str = "customer.updated", **obj: Any) -> bytes:
    customer = {"id": "cus_A1", "object": "customer", "email": "a@x.io", **obj}
    body = {"id": "evt_1", "object": "event", "type": kind, "created": NOW - 5}
    return json.dumps({**body, "data": {"object": customer}}).encode()


def signed(body: bytes, at: int = NOW, secret: str = SECRET) -> dict[str, str]:
    return signature_header(body, secret, at)


def test_the_specs_name_their_schemes() -> None:
    assert load_scheme(spec("stripe")) is WEBHOOKS
    assert load_scheme(spec("tofupay")) is TOFUPAY_WEBHOOKS
    assert load_scheme(spec("chartmogul")) is None


def test_a_signed_customer_event_becomes_a_change() -> None:
    body = event(name="Ada")
    [change] = WEBHOOKS.verify(body, signed(body), SECRET, NOW)
    assert (change.provider, change.event_id, change.kind) == (
        "stripe",
        "evt_1",
        ChangeKind.UPDATED,
    )
    assert change.record.name == "Ada" and change.occurred_at.timestamp() == NOW - 5
    [deleted] = WEBHOOKS.verify(body := event("customer.deleted"), signed(body), SECRET, NOW)
    assert deleted.record.deleted and deleted.record.email == "a@x.io"
    [tofu] = TOFUPAY_WEBHOOKS.verify(body, signed(body), SECRET, NOW)
    assert tofu.provider == "tofupay"


def test_our_signature_is_the_official_sdks() -> None:
    body = event()
    header = signed(body, int(time.time()))["Stripe-Signature"]
    assert stripe.Webhook.construct_event(body.decode(), header, SECRET)["id"] == "evt_1"


def test_other_events_are_accepted_and_ignored() -> None:
    body = json.dumps({"id": "evt_2", "object": "event", "type": "invoice.paid"}).encode()
    assert WEBHOOKS.verify(body, signed(body), SECRET, NOW) == []


def test_any_of_several_v1_signatures_may_match() -> None:
    body = event()
    good = signed(body)["Stripe-Signature"].split(",")[1]
    header = {"stripe-signature": f"t={NOW},v1=deadbeef,{good}"}
    assert len(WEBHOOKS.verify(body, header, SECRET, NOW)) == 1


@pytest.mark.parametrize(
    ("headers", "now", "reason"),
    [
        ({}, NOW, "missing Stripe-Signature"),
        ({"Stripe-Signature": "v1=abc"}, NOW, "timestamp"),
        ({"Stripe-Signature": f"t={NOW}"}, NOW, "no v1 signature"),
        (None, NOW, "no signature matches"),
        ("stale", NOW + TOLERANCE + 1, "tolerance"),
    ],
)
def test_bad_signatures_are_rejected(headers: Any, now: int, reason: str) -> None:
    body = event()
    if headers is None:
        headers = signed(body, secret="whsec_other")
    elif headers == "stale":
        headers = signed(body)
    with pytest.raises(WebhookRejected) as caught:
        WEBHOOKS.verify(body, headers, SECRET, now)
    assert reason in caught.value.reason
    assert SECRET not in caught.value.reason


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"object": "event", "type": "customer.created"}).encode()],
)
def test_malformed_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        WEBHOOKS.verify(body, signed(body), SECRET, NOW)
