"""The fixed scenarios: hand-written customers that open every dataset, whatever the seed.

Tests, docs and the GraphiQL example query name them through the constants below.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from gateway.sandbox.dataset.profiles import Address, Profile
from gateway.sandbox.dataset.records import Builder

SHOWCASE_EMAIL: Final = "ada@lovelace.example"
"""In all five providers; ChartMogul spells the name differently, Tofupay the email's case."""
SHOWCASE_STRIPE_ID: Final = "cus_ShowcaseAda001"
SHOWCASE_COMPANY_ID: Final = "co_analyticalengines"
SHOWCASE_TOFUPAY_EMAIL: Final = "Ada@Lovelace.example"

EMAIL_ONLY_EMAIL: Final = "grace@hopper.example"
"""Stripe, plus a ChartMogul import and an unlinked Lago record, tied only by email variants."""
EMAIL_ONLY_STRIPE_ID: Final = "cus_GraceHopper001"
EMAIL_ONLY_CHARTMOGUL_EMAIL: Final = "  Grace@Hopper.example "
EMAIL_ONLY_LAGO_EMAIL: Final = "GRACE@HOPPER.EXAMPLE"
EMAIL_ONLY_LAGO_EXTERNAL_ID: Final = "co_compilerworks"

DUPLICATE_EMAIL: Final = "alan@turing.example"
"""Two Stripe customers with this email; the first is linked to ChartMogul/FirstOfficer/Lago."""
DUPLICATE_STRIPE_IDS: Final = ("cus_AlanTuring0001", "cus_AlanTuring0002")

LAGO_ONLY_EMAIL: Final = "katherine@johnson.example"
LAGO_ONLY_EXTERNAL_ID: Final = "co_trajectorylabs"

PLACEHOLDER_EMAIL: Final = "noreply@example.com"
"""Two unrelated customers (Stripe and Lago) share this placeholder; they must never merge."""
PLACEHOLDER_STRIPE_ID: Final = "cus_Placeholder001"
PLACEHOLDER_LAGO_EXTERNAL_ID: Final = "co_placeholderco"
PLACEHOLDER_LAGO_EMAIL: Final = "NoReply@Example.com"


_FIXED_ADDRESSES: Final[Mapping[str, Address]] = {
    "ada": Address("12 St James's Square", None, "London", "England", "SW1Y 4JH", "GB", 0),
    "grace": Address("1 Navy Yard", "Building 4", "Arlington", "VA", "22202", "US", -5),
    "alan": Address("3 Bletchley Road", None, "Manchester", "England", "M13 9PL", "GB", 0),
    "katherine": Address("2101 NASA Parkway", None, "Houston", "TX", "77058", "US", -6),
    "jordan": Address("88 Pine Street", "Floor 2", "Seattle", "WA", "98101", "US", -8),
    "morgan": Address("5 Church Road", None, "Bristol", "England", "BS1 4DJ", "GB", 0),
}


def _fixed_profile(name: str, email: str, company: str, company_id: str, price: int) -> Profile:
    """A hand-written customer; its address, phone and dates depend on nothing but its name."""
    key = name.split()[0].lower()
    address = _FIXED_ADDRESSES[key]
    index = list(_FIXED_ADDRESSES).index(key)
    return Profile(
        name=name,
        email=email,
        company=company,
        company_id=company_id,
        address=address,
        phone=f"+442079460{100 + index}"
        if address.country == "GB"
        else f"+1202555{100 + index:04d}",
        currency="gbp" if address.country == "GB" else "usd",
        created=1559347200 + index * 31 * 86400 * 7,
        price=price,
        status="Active",
    )


def _showcase(b: Builder) -> None:
    """Ada: ids link Stripe/ChartMogul/FirstOfficer/Lago; Tofupay by email; ChartMogul renames."""
    p = _fixed_profile(
        "Ada Lovelace", SHOWCASE_EMAIL, "Analytical Engines Ltd", SHOWCASE_COMPANY_ID, 49900
    )
    sid = b.stripe(p, stripe_id=SHOWCASE_STRIPE_ID)
    b.chartmogul(replace(p, name="Augusta Ada King"), stripe_id=sid)
    b.firstofficer(p, stripe_id=sid, extra_id=p.company_id)
    b.lago(p, stripe_id=sid)
    b.tofupay(p, email=SHOWCASE_TOFUPAY_EMAIL)


def _email_only_scenario(b: Builder) -> None:
    p = _fixed_profile(
        "Grace Hopper", EMAIL_ONLY_EMAIL, "Compiler Works Inc.", EMAIL_ONLY_LAGO_EXTERNAL_ID, 9900
    )
    b.stripe(p, stripe_id=EMAIL_ONLY_STRIPE_ID, with_company_id=False)
    b.chartmogul(p, stripe_id=None, email=EMAIL_ONLY_CHARTMOGUL_EMAIL)
    b.lago(p, stripe_id=None, email=EMAIL_ONLY_LAGO_EMAIL)


def _duplicate_scenario(b: Builder) -> None:
    p = _fixed_profile("Alan Turing", DUPLICATE_EMAIL, "Bombe Computing Ltd", b.company_id(), 19900)
    first, second = DUPLICATE_STRIPE_IDS
    b.stripe(p, stripe_id=first)
    b.chartmogul(p, stripe_id=first)
    b.firstofficer(p, stripe_id=first, extra_id=p.company_id)
    b.lago(p, stripe_id=first)
    again = replace(p, name="Alan M. Turing", created=p.created + 3 * 86400)
    b.stripe(again, stripe_id=second, with_company_id=False, with_address=False)


def _lago_only_scenario(b: Builder) -> None:
    p = _fixed_profile(
        "Katherine Johnson", LAGO_ONLY_EMAIL, "Trajectory Labs LLC", LAGO_ONLY_EXTERNAL_ID, 4900
    )
    b.lago(p, stripe_id=None)


def _placeholder_stripe_scenario(b: Builder) -> None:
    p = _fixed_profile(
        "Jordan Blake", "jordan@blake.example", "Blake Consulting", b.company_id(), 2900
    )
    b.stripe(p, stripe_id=PLACEHOLDER_STRIPE_ID, email=PLACEHOLDER_EMAIL)


def _placeholder_lago_scenario(b: Builder) -> None:
    p = _fixed_profile(
        "Morgan Reyes",
        "morgan@reyes.example",
        "Reyes Freight Ltd",
        PLACEHOLDER_LAGO_EXTERNAL_ID,
        2900,
    )
    b.lago(p, stripe_id=None, email=PLACEHOLDER_LAGO_EMAIL)


_FIXED_SCENARIOS: Final = (
    _showcase,
    _email_only_scenario,
    _duplicate_scenario,
    _lago_only_scenario,
    _placeholder_stripe_scenario,
    _placeholder_lago_scenario,
)
FIXED_CUSTOMERS: Final = len(_FIXED_SCENARIOS)
"""With ``customers >= FIXED_CUSTOMERS`` every fixed scenario above is in the dataset."""
_FIXED_SEED: Final = "customer-gateway fixed scenarios"
_RESERVED: Final = (
    SHOWCASE_EMAIL,
    EMAIL_ONLY_EMAIL,
    DUPLICATE_EMAIL,
    LAGO_ONLY_EMAIL,
    "jordan@blake.example",
    "morgan@reyes.example",
    SHOWCASE_STRIPE_ID,
    EMAIL_ONLY_STRIPE_ID,
    *DUPLICATE_STRIPE_IDS,
    SHOWCASE_COMPANY_ID,
    EMAIL_ONLY_LAGO_EXTERNAL_ID,
    LAGO_ONLY_EXTERNAL_ID,
    PLACEHOLDER_STRIPE_ID,
    PLACEHOLDER_LAGO_EXTERNAL_ID,
)
"""Emails and ids the scenarios write by hand: generated customers never get them."""


def fixed_scenarios(customers: int, external_id_key: str) -> Builder:
    """A builder holding the first ``customers`` fixed scenarios (all of them for
    ``customers >= FIXED_CUSTOMERS``), drawn from their own seed so no seed changes them."""
    b = Builder(random.Random(_FIXED_SEED), external_id_key)
    b.used.update(_RESERVED)
    for scenario in _FIXED_SCENARIOS[:customers]:
        scenario(b)
    return b
