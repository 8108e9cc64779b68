"""Stripe's customer store: the shared store plus the search index, which lags writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.providers.stripe.simulator.search import SEARCH_INDEX, search_keys
from gateway.providers.stripe.simulator.shape import STRIPE
from gateway.providers.stripe_like.simulator import CustomerStore


def stripe_store(
    records: Iterable[Mapping[str, Any]] = (), *, search_lag_seconds: float = 0.0
) -> CustomerStore:
    """A store seeded with ``records`` and indexed for search over every version search can
    still see (a lagging search finds a customer by its old email)."""
    store = CustomerStore()
    store.search_lag_seconds = search_lag_seconds
    store.add_index(SEARCH_INDEX, search_keys, versions=True)
    STRIPE.seed_store(store, records)
    return store
