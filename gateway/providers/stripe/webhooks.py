"""Stripe's signed customer webhooks (the scheme is shared with Tofupay: stripe_like)."""

from __future__ import annotations

from typing import Final

from gateway.providers.stripe.adapter import NAME, StripeAdapter
from gateway.providers.stripe_like.webhooks import scheme

WEBHOOKS: Final = scheme(NAME, StripeAdapter.to_record)
