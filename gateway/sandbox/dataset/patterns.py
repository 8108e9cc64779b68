"""The overlap patterns: how a generated customer is spread over the providers, and how often.

Each pattern adds one real-world customer's records through the :class:`Builder`; the weights,
the Tofupay overlay and the link probabilities are documented in docs/dataset.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Final

from gateway.sandbox.dataset.profiles import Profile, email_variant
from gateway.sandbox.dataset.records import Builder
from gateway.sandbox.dataset.words import COUNTRY_BY_CODE, fill, street_line

PATTERN_WEIGHTS: Final[Mapping[str, float]] = {
    "linked": 0.58,
    "conflicting": 0.08,
    "email_only": 0.07,
    "stripe_only": 0.08,
    "chartmogul_import_only": 0.04,
    "lago_only": 0.04,
    "firstofficer_only": 0.03,
    "stripe_duplicate": 0.03,
    "tofupay_only": 0.03,
    "placeholder": 0.02,
}
"""Share of the generated (non-fixed) customers per pattern; see docs/dataset.md."""
TOFUPAY_SHARE: Final = 0.15
"""Share of the generated customers that also have a Tofupay record, linked only by email."""
TOFUPAY_ELIGIBLE: Final = frozenset(
    {"linked", "conflicting", "email_only", "stripe_only", "stripe_duplicate"}
)
LINK_PROBABILITY: Final[Mapping[str, float]] = {
    "chartmogul": 0.93,
    "firstofficer": 0.90,
    "lago": 0.88,
}
"""For a ``linked`` customer: chance of a record in each provider besides Stripe."""


_Pattern = Callable[[Builder, Profile, int], None]
"""``(builder, profile, ordinal)``; the ordinal (n-th customer of that pattern) picks variants."""


def _linked(b: Builder, p: Profile, ordinal: int) -> None:
    sid = b.stripe(p, with_address=b.rng.random() >= 0.1)
    if b.rng.random() < LINK_PROBABILITY["chartmogul"]:
        b.chartmogul(p, stripe_id=sid)
    if b.rng.random() < LINK_PROBABILITY["firstofficer"]:
        b.firstofficer(p, stripe_id=sid, extra_id=p.company_id)
    if b.rng.random() < LINK_PROBABILITY["lago"]:
        b.lago(p, stripe_id=sid)


def _conflicting(b: Builder, p: Profile, ordinal: int) -> None:
    """Linked by ids everywhere, but one provider has another name and one another address."""
    first, _, last = p.name.partition(" ")
    renamed = replace(p, name=(f"{first[:1]}. {last}", p.company, f"{last}, {first}")[ordinal % 3])
    country = COUNTRY_BY_CODE[p.address.country]
    moved_to = b.rng.choice([c for c in country.cities if c.name != p.address.city])
    moved = replace(
        p,
        address=replace(
            p.address,
            line1=street_line(country, b.rng),
            city=moved_to.name,
            state=moved_to.state,
            postal_code=fill(moved_to.postal, b.rng),
        ),
    )
    sid = b.stripe(p)
    b.chartmogul(renamed if ordinal % 2 == 0 else p, stripe_id=sid)
    b.firstofficer(renamed if ordinal % 2 == 1 else p, stripe_id=sid, extra_id=p.company_id)
    b.lago(moved, stripe_id=sid)


_EMAIL_VARIANTS: Final = ("case+space", "case", "space", "upper")


def _email_only(b: Builder, p: Profile, ordinal: int) -> None:
    """Stripe without a company id; an import and/or unlinked Lago record with a variant email."""
    variant = email_variant(p.email, _EMAIL_VARIANTS[ordinal % len(_EMAIL_VARIANTS)])
    sid = b.stripe(p, with_company_id=False)
    b.firstofficer(p, stripe_id=sid, extra_id=None)
    where = ("chartmogul", "lago", "both")[ordinal % 3]
    if where in ("chartmogul", "both"):
        b.chartmogul(p, stripe_id=None, email=variant)
    if where in ("lago", "both"):
        b.lago(
            p,
            stripe_id=None,
            email=email_variant(p.email, "upper") if where == "both" else variant,
        )


def _stripe_only(b: Builder, p: Profile, ordinal: int) -> None:
    b.stripe(p, with_address=ordinal % 4 != 0)


def _chartmogul_import_only(b: Builder, p: Profile, ordinal: int) -> None:
    b.chartmogul(replace(p, status="New Lead") if ordinal % 2 else p, stripe_id=None)


def _lago_only(b: Builder, p: Profile, ordinal: int) -> None:
    b.lago(p, stripe_id=None)


def _firstofficer_only(b: Builder, p: Profile, ordinal: int) -> None:
    b.firstofficer(p, stripe_id=None, extra_id=None)


def _stripe_duplicate(b: Builder, p: Profile, ordinal: int) -> None:
    """Two Stripe customers (every third time three) with one email; only the first is linked."""
    _linked(b, p, ordinal)
    # A second sign-up rarely types the name the same way.
    for name in (p.name.split()[0], p.name.lower())[: 2 if ordinal % 3 == 0 else 1]:
        created = p.created + b.rng.randrange(86400, 90 * 86400)
        again = replace(p, name=name, created=created, balance=0)
        b.stripe(again, with_company_id=False, with_address=False)


_PLACEHOLDERS: Final = (
    ("stripe", ""),
    ("chartmogul", "n/a"),
    ("stripe", "test@test.com"),
    ("lago", "NoReply@Example.com "),
    ("chartmogul", "N/A "),
    ("lago", "test@test.com"),
    ("chartmogul", "unknown"),
)
"""(provider, email) per placeholder customer, in turn. Stripe and Lago reject a malformed email,
so free-text placeholders such as "n/a" live in ChartMogul imports."""


def _placeholder(b: Builder, p: Profile, ordinal: int) -> None:
    """A single record whose email is a placeholder shared with unrelated customers."""
    provider, email = _PLACEHOLDERS[ordinal % len(_PLACEHOLDERS)]
    if provider == "stripe":
        b.stripe(p, email=email)
    elif provider == "lago":
        b.lago(p, stripe_id=None, email=email)
    else:
        b.chartmogul(p, stripe_id=None, email=email)


def _tofupay_only(b: Builder, p: Profile, ordinal: int) -> None:
    b.tofupay(p, email=p.email)


PATTERNS: Final[Mapping[str, _Pattern]] = {
    "linked": _linked,
    "conflicting": _conflicting,
    "email_only": _email_only,
    "stripe_only": _stripe_only,
    "chartmogul_import_only": _chartmogul_import_only,
    "lago_only": _lago_only,
    "firstofficer_only": _firstofficer_only,
    "stripe_duplicate": _stripe_duplicate,
    "tofupay_only": _tofupay_only,
    "placeholder": _placeholder,
}


def quotas(total: int) -> dict[str, int]:
    """Customers per pattern: the weights applied to ``total`` by largest remainder."""
    exact = {name: weight * total for name, weight in PATTERN_WEIGHTS.items()}
    counts = {name: int(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts
