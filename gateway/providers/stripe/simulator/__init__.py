"""Stripe customers simulator: the v1 customers API including search, over Stripe's wire format.

Shared conventions (form bodies, errors, idempotency, list cursors, routes) live in
:mod:`gateway.providers.stripe_like.simulator`. Here: :mod:`.shape` (Stripe's customer object,
parameters and seed checks), :mod:`.search` (the query language), :mod:`.store` (the search
index, which lags writes by ``search_lag_seconds``; Stripe: normally under a minute) and
:mod:`.http` (the search route and the app).
"""

from gateway.providers.stripe.simulator.http import SANDBOX_KEY, STRIPE_ERRORS, create_app
from gateway.providers.stripe.simulator.search import SearchQuery, parse_query
from gateway.providers.stripe.simulator.shape import STRIPE, default_customer, seed_record

__all__ = [
    "SANDBOX_KEY",
    "STRIPE",
    "STRIPE_ERRORS",
    "SearchQuery",
    "create_app",
    "default_customer",
    "parse_query",
    "seed_record",
]
