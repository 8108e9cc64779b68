"""Tofupay's signed customer webhooks: Stripe's scheme (Tofupay's docs describe none of their
own; as a Stripe-like API it is assumed to sign as Stripe does)."""

from __future__ import annotations

from typing import Final

from gateway.providers.stripe_like.webhooks import scheme
from gateway.providers.tofupay.adapter import NAME, TofupayAdapter

WEBHOOKS: Final = scheme(NAME, TofupayAdapter.to_record)
