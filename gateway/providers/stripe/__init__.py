"""Stripe: spec, adapter, simulator and GraphQL record type."""

from gateway.providers.stripe.adapter import StripeAdapter
from gateway.providers.stripe.spec import SPEC

__all__ = ["SPEC", "StripeAdapter"]
