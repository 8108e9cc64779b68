"""Tofupay customers simulator: a Stripe-like API with the legacy customer shape.

Paths, auth, form encoding, errors, idempotency and list cursors are Stripe's (shared in
:mod:`gateway.providers.stripe_like.simulator`). :mod:`.shape` holds Tofupay's customer object
(``account_balance``, ``sources`` and ``subscriptions`` list objects, no name/phone/address)
and :mod:`.http` the app. There is no search endpoint.
"""

from gateway.providers.tofupay.simulator.http import SANDBOX_KEY, TOFUPAY_ERRORS, create_app
from gateway.providers.tofupay.simulator.shape import TOFUPAY, default_customer, seed_record

__all__ = [
    "SANDBOX_KEY",
    "TOFUPAY",
    "TOFUPAY_ERRORS",
    "create_app",
    "default_customer",
    "seed_record",
]
