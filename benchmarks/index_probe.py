"""The identity index read in this process: a random sample of its customers, and the time of
each read a lookup makes (benchmarks/identity_index.py prints both)."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.config import IdentitySettings
from gateway.identity import normalise_email
from gateway.index import IndexedCustomer, PageQuery, open_index
from gateway.model import RecordRef


@dataclass(frozen=True, slots=True)
class Key:
    """One sampled customer: its id, one of its records, its email, its member count."""

    customer_id: str
    ref: RecordRef
    email: str
    members: int


async def sample(url: str, count: int, seed: int) -> tuple[dict[str, int], int, list[Key]]:
    """Records per provider and customers in the index, and ``count`` random customers (each
    with one random member record and an email that matches)."""
    index = await open_index(url, IdentitySettings())
    try:
        stats = await index.stats()
        customers: list[IndexedCustomer] = []
        after: str | None = None
        while True:
            page = await index.page(PageQuery(first=500, after=after))
            customers += page.customers
            if not page.has_next_page:
                break
            after = page.end_cursor
        rng = random.Random(seed)
        rng.shuffle(customers)
        placeholders = IdentitySettings().placeholder_emails
        keys: list[Key] = []
        for customer in customers:
            snapshots = await index.records(customer.members)
            emails = sorted(
                e for r in snapshots.values() if (e := normalise_email(r.email, placeholders))
            )
            if emails:
                ref = rng.choice(customer.members)
                keys.append(Key(customer.id, ref, emails[0], len(customer.members)))
            if len(keys) == count:
                break
        return dict(stats.records_per_provider), stats.customers, keys
    finally:
        await index.aclose()


async def time_reads(url: str, keys: list[Key]) -> dict[str, list[float]]:
    """Milliseconds per index read, each key in turn (one warm-up pass first)."""
    index = await open_index(url, IdentitySettings())
    reads: dict[str, Callable[[Key], Awaitable[object]]] = {
        "customers_by_email": lambda k: index.customers_by_email(k.email),
        "customer_of": lambda k: index.customer_of(k.ref),
        "customer": lambda k: index.customer(k.customer_id),
    }
    out: dict[str, list[float]] = {name: [] for name in reads}
    try:
        for key in keys[:50]:
            for read in reads.values():
                await read(key)
        for key in keys:
            for name, read in reads.items():
                started = time.perf_counter()
                found = await read(key)
                out[name].append((time.perf_counter() - started) * 1000)
                if not found:
                    raise RuntimeError(f"{name} found nothing for {key}")
    finally:
        await index.aclose()
    return out
