"""``generate()``: the fixed scenarios, then seeded customers spread over the overlap patterns."""

from __future__ import annotations

import random
from typing import Final

from gateway.config import IdentitySettings
from gateway.providers.registry import SPECS
from gateway.providers.spec import SeedContext
from gateway.sandbox.dataset.model import Dataset
from gateway.sandbox.dataset.patterns import (
    PATTERN_WEIGHTS,
    PATTERNS,
    TOFUPAY_ELIGIBLE,
    TOFUPAY_SHARE,
    quotas,
)
from gateway.sandbox.dataset.profiles import Profile, email_variant
from gateway.sandbox.dataset.records import Builder
from gateway.sandbox.dataset.scenarios import FIXED_CUSTOMERS, fixed_scenarios

DEFAULT_EXTERNAL_ID_KEY: Final = IdentitySettings().external_id_metadata_key


def generate(
    seed: int = 0, customers: int = 200, *, external_id_key: str = DEFAULT_EXTERNAL_ID_KEY
) -> Dataset:
    """``customers`` distinct real-world customers: the fixed scenarios, then seeded ones.

    The same ``seed`` and ``customers`` always give the same records in the same order.
    ``external_id_key`` is the Stripe metadata key holding the company id.
    """
    if customers < 0:
        raise ValueError(f"customers must be >= 0, not {customers}")
    b = fixed_scenarios(customers, external_id_key)
    b.rng = random.Random(seed)
    remaining = max(0, customers - FIXED_CUSTOMERS)
    plan = [name for name, count in quotas(remaining).items() for _ in range(count)]
    b.rng.shuffle(plan)
    eligible = [index for index, name in enumerate(plan) if name in TOFUPAY_ELIGIBLE]
    tofupay = set(b.rng.sample(eligible, min(len(eligible), round(TOFUPAY_SHARE * remaining))))
    ordinals = dict.fromkeys(PATTERN_WEIGHTS, 0)
    tofupay_seen = 0
    for index, name in enumerate(plan):
        profile = b.profile()
        PATTERNS[name](b, profile, ordinals[name])
        ordinals[name] += 1
        if index in tofupay:
            kind = ("exact", "case", "exact", "upper")[tofupay_seen % 4]
            email = profile.email if kind == "exact" else email_variant(profile.email, kind)
            b.tofupay(profile, email=email)
            tofupay_seen += 1
        _seed_plugged_in(b, profile, index)
    return Dataset(b.records)


def _seed_plugged_in(b: Builder, profile: Profile, index: int) -> None:
    """Offer a generated customer to every provider whose spec brings its own seed generator."""
    context = SeedContext(
        index=index,
        name=profile.name,
        email=profile.email,
        company=profile.company,
        company_id=profile.company_id,
        created=profile.created,
        currency=profile.currency,
        country=profile.address.country,
    )
    for spec in SPECS:
        if spec.seed is not None and (record := spec.seed(context)) is not None:
            b.add(spec.name, record)
