"""The sandbox's seeded dataset: one overlapping customer base spread over the five providers.

:func:`generate` builds it deterministically from a seed (``random.Random(seed)`` only: no clock,
no global state), so a test or a demo sees the same customers every run. :func:`load_dataset`
reads the same shape from a JSON file instead. Records are *minimal*, in each provider's own API
shape; the simulators fill every other field with its documented default.

The overlap patterns, their proportions and the fields that link records are documented in
docs/dataset.md; the fixed scenarios below are always the first customers, whatever the seed.
"""

from __future__ import annotations

import copy
import json
import random
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from gateway.config import IdentitySettings
from gateway.providers.registry import PROVIDERS, SPECS
from gateway.providers.spec import SeedContext

ID_FIELDS: Final[Mapping[str, str]] = {s.name: s.dataset_id_field for s in SPECS}
"""The field that identifies a record within its provider (unique per provider in a dataset)."""

DEFAULT_EXTERNAL_ID_KEY: Final = IdentitySettings().external_id_metadata_key

STRIPE_DATA_SOURCE_UUID: Final = "ds_5f0f2c1e-8a3b-4c7d-9e21-3b6a1d0c4f11"
"""The ChartMogul data source fed by Stripe (``billing-system-type`` ``Stripe``)."""
IMPORT_DATA_SOURCE_UUID: Final = "ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22"
"""The ChartMogul data source fed by the Import API (``billing-system-type`` ``Import API``)."""

# --- Fixed scenarios: the first customers of every dataset, independent of the seed -----------

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

# --- Proportions ---------------------------------------------------------------------------

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
_TOFUPAY_ELIGIBLE: Final = frozenset(
    {"linked", "conflicting", "email_only", "stripe_only", "stripe_duplicate"}
)
LINK_PROBABILITY: Final[Mapping[str, float]] = {
    "chartmogul": 0.93,
    "firstofficer": 0.90,
    "lago": 0.88,
}
"""For a ``linked`` customer: chance of a record in each provider besides Stripe."""


class DatasetError(ValueError):
    """A dataset file a human must fix; the message names the file, provider and record."""


class Dataset:
    """Records per registered provider, each in that provider's own (possibly minimal) API shape.

    ``Dataset({"stripe": [...]})`` or ``Dataset(stripe=[...])``; providers left out have none.
    Immutable: the records are copied in and handed out as tuples.
    """

    __slots__ = ("_records",)

    def __init__(
        self,
        records: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        /,
        **by_provider: Sequence[Mapping[str, Any]],
    ) -> None:
        given = {**(records or {}), **by_provider}
        if unknown := sorted(set(given) - set(PROVIDERS)):
            raise ValueError(
                f"unknown provider(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(PROVIDERS)}"
            )
        self._records: dict[str, tuple[dict[str, Any], ...]] = {
            name: tuple(dict(record) for record in given.get(name, ())) for name in PROVIDERS
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self._records == other._records

    def __hash__(self) -> int:
        return hash(self.dumps())

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(records)}" for name, records in self._records.items())
        return f"Dataset({counts})"

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """A deep copy in the file format, so callers can't alter the dataset through it."""
        return {name: copy.deepcopy(list(records)) for name, records in self._records.items()}

    def dumps(self) -> str:
        """The dataset as a JSON file's text (stable: the same dataset gives the same bytes)."""
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"

    def for_provider(self, name: str) -> Sequence[Mapping[str, Any]]:
        """One provider's records by name, as the sandbox cluster looks them up."""
        if name not in self._records:
            raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}")
        return self._records[name]


# --- Word lists ----------------------------------------------------------------------------

_FIRST_NAMES: Final = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Charlotte", "Mateo", "Hannah", "Leon", "Chloé", "José", "Zoë", "Søren", "Björn", "Amélie",
    "Priya", "Arjun", "Mei", "Kenji", "Fatima", "Omar", "Ingrid", "Lars", "Aisling", "Cian",
    "Lucía", "Diego", "Nadia", "Tomás", "Freya", "Hugo", "Elif", "Yusuf", "Ava", "Ethan",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "Müller",
    "Schmidt", "Dubois", "Martin", "de Vries", "Jansen", "O'Brien", "Murphy", "Fernández",
    "López", "Rossi", "Nakamura", "Patel", "Singh", "Chen", "Wang", "Kim", "Nguyen", "Andersen",
    "Nielsen", "Kowalski", "Novak", "Walsh", "Taylor", "Wilson", "Clarke", "Fischer", "Weber",
    "Moreau", "Laurent", "Bakker", "Visser",
)  # fmt: skip
_COMPANY_STEMS: Final = (
    "Acme", "Northwind", "Bluefin", "Copperleaf", "Brightpath", "Nimbus", "Quarry", "Lumen",
    "Harbor", "Pinecone", "Redwood", "Stratus", "Vertex", "Juniper", "Beacon", "Falcon",
    "Meridian", "Orbit", "Tidal", "Kestrel", "Granite", "Maple", "Summit", "Aurora", "Cobalt",
    "Evergreen", "Foxglove", "Helix", "Ironbark", "Wildflower",
)  # fmt: skip
_COMPANY_KINDS: Final = (
    "Labs", "Analytics", "Software", "Studio", "Systems", "Cloud", "Health", "Logistics",
    "Media", "Robotics", "Payments", "Learning",
)  # fmt: skip
_COMPANY_FORMS: Final[Mapping[str, tuple[str, ...]]] = {
    "US": ("Inc.", "LLC", ""),
    "CA": ("Inc.", "Ltd.", ""),
    "AU": ("Pty Ltd", ""),
    "GB": ("Ltd", "PLC", ""),
    "IE": ("Ltd", "DAC", ""),
    "DE": ("GmbH", "AG", ""),
    "FR": ("SAS", "SARL", ""),
    "NL": ("B.V.", ""),
    "ES": ("S.L.", "S.A.", ""),
}
_PLAN_PRICES: Final = (2900, 4900, 9900, 19900, 49900, 99900)
"""Monthly plan prices in minor units of the customer's currency."""
_USD_PER_MILLE: Final[Mapping[str, int]] = {"usd": 1000, "eur": 1080, "gbp": 1270}
"""Fixed conversion to ChartMogul's account currency (USD), per 1000 minor units."""
_REFERENCE_TIME: Final = 1748736000
"""2025-06-01T00:00:00Z: "now" for the dataset's metrics, so nothing reads the clock."""
_EARLIEST_SIGNUP: Final = 1546300800  # 2019-01-01T00:00:00Z
_LATEST_SIGNUP: Final = 1743465600  # 2025-04-01T00:00:00Z
_ALNUM: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    state: str
    postal: str
    """Template: ``#`` -> a digit, ``@`` -> an upper-case letter."""
    utc_offset: int
    """Hours; ChartMogul renders ``customer-since`` in the customer's offset."""


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    currency: str
    phone_prefix: str
    weight: int
    number_first: bool
    streets: tuple[str, ...]
    cities: tuple[_City, ...]


_COUNTRIES: Final = (
    _Country(
        "US", "usd", "+1", 45, True,
        ("Main Street", "Market Street", "Oak Avenue", "Mission Street", "Broadway", "Pine Street"),
        (
            _City("San Francisco", "CA", "941##", -8), _City("New York", "NY", "100##", -5),
            _City("Austin", "TX", "787##", -6), _City("Seattle", "WA", "981##", -8),
            _City("Boston", "MA", "021##", -5), _City("Chicago", "IL", "606##", -6),
            _City("Denver", "CO", "802##", -7),
        ),
    ),
    _Country(
        "GB", "gbp", "+44", 15, True,
        ("High Street", "Church Road", "Station Road", "Victoria Road"),
        (
            _City("London", "England", "EC# #@@", 0), _City("Manchester", "England", "M# #@@", 0),
            _City("Edinburgh", "Scotland", "EH# #@@", 0), _City("Bristol", "England", "BS# #@@", 0),
        ),
    ),
    _Country(
        "DE", "eur", "+49", 10, False,
        ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße"),
        (
            _City("Berlin", "Berlin", "10###", 1), _City("Munich", "Bavaria", "80###", 1),
            _City("Hamburg", "Hamburg", "20###", 1),
        ),
    ),
    _Country(
        "FR", "eur", "+33", 7, True,
        ("Rue de la Paix", "Avenue Victor Hugo", "Rue du Moulin"),
        (_City("Paris", "Île-de-France", "750##", 1), _City("Lyon", "Rhône", "6900#", 1)),
    ),
    _Country(
        "NL", "eur", "+31", 5, False,
        ("Keizersgracht", "Prinsengracht", "Damrak"),
        (
            _City("Amsterdam", "Noord-Holland", "10## @@", 1),
            _City("Utrecht", "Utrecht", "35## @@", 1),
        ),
    ),
    _Country(
        "IE", "eur", "+353", 4, True,
        ("Grafton Street", "Baggot Street", "Dame Street"),
        (_City("Dublin", "Dublin", "D0# @###", 0), _City("Cork", "Cork", "T12 @###", 0)),
    ),
    _Country(
        "ES", "eur", "+34", 4, False,
        ("Calle Mayor", "Gran Vía", "Calle de Alcalá"),
        (_City("Madrid", "Madrid", "280##", 1), _City("Barcelona", "Catalonia", "080##", 1)),
    ),
    _Country(
        "CA", "usd", "+1", 6, True,
        ("King Street West", "Granville Street", "Queen Street"),
        (_City("Toronto", "ON", "M5V #@#", -5), _City("Vancouver", "BC", "V6B #@#", -8)),
    ),
    _Country(
        "AU", "usd", "+61", 4, True,
        ("George Street", "Collins Street", "Queen Street"),
        (_City("Sydney", "NSW", "2000", 10), _City("Melbourne", "VIC", "3000", 10)),
    ),
)  # fmt: skip
_COUNTRY_WEIGHTS: Final = tuple(c.weight for c in _COUNTRIES)
_COUNTRY_BY_CODE: Final = {c.code: c for c in _COUNTRIES}


# --- One real-world customer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Address:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    utc_offset: int


@dataclass(frozen=True, slots=True)
class _Profile:
    """The true facts about one customer; provider records are (possibly skewed) views of it."""

    name: str
    email: str
    company: str
    company_id: str
    address: _Address
    phone: str
    currency: str
    created: int
    price: int
    """Monthly plan price in minor units of ``currency``."""
    status: str
    """ChartMogul's status: Active, Past Due, Cancelled or New Lead."""
    balance: int = 0

    @property
    def mrr(self) -> int:
        return self.price if self.status in ("Active", "Past Due") else 0

    @property
    def months(self) -> int:
        """Months billed so far; cancelled customers stopped paying half way."""
        total = max(1, (_REFERENCE_TIME - self.created) // (30 * 86400))
        if self.status == "New Lead":
            return 0
        return max(1, total // 2) if self.status == "Cancelled" else total


def _fill(template: str, rng: random.Random) -> str:
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice(_ALNUM[10:36]) if ch == "@" else ch
        for ch in template
    )


def _street_line(country: _Country, rng: random.Random) -> str:
    number, street = rng.randint(1, 480), rng.choice(country.streets)
    return f"{number} {street}" if country.number_first else f"{street} {number}"


def _ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Müller" -> "muller", "O'Brien" -> "obrien"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _iso_offset(timestamp: int, hours: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone(timedelta(hours=hours))).isoformat()


def _iso_z(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _email_variant(email: str, kind: str) -> str:
    """The same address as another system stored it: capitalised, shouted and/or padded."""
    local, _, domain = email.partition("@")
    if kind in ("case", "case+space"):
        email = f"{local[:1].upper()}{local[1:]}@{domain[:1].upper()}{domain[1:]}"
    elif kind == "upper":
        email = email.upper()
    if kind in ("space", "case+space"):
        email = f"  {email} "
    return email


# --- Building records -----------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    """Accumulates records and hands out ids that are unique within the dataset."""

    rng: random.Random
    external_id_key: str
    records: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in PROVIDERS}
    )
    used: set[str] = field(default_factory=set)
    """Every id and normalised email handed out so far."""
    next_chartmogul_id: int = 25647
    next_firstofficer_id: int = 1340573
    next_import_id: int = 34916129

    def _claim(self, value: str) -> str:
        self.used.add(value)
        return value

    def stripe_like_id(self) -> str:
        while True:
            candidate = "cus_" + "".join(self.rng.choices(_ALNUM, k=14))
            if candidate not in self.used:
                return self._claim(candidate)

    def company_id(self) -> str:
        while True:
            candidate = "co_" + "".join(self.rng.choices(_ALNUM[:36].lower(), k=12))
            if candidate not in self.used:
                return self._claim(candidate)

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def email(self, local: str, domain: str) -> str:
        """A fresh address: distinct customers never share a (normalised) email."""
        candidate, suffix = f"{local}@{domain}", 1
        while candidate.casefold() in self.used:
            suffix += 1
            candidate = f"{local}{suffix}@{domain}"
        return self._claim(candidate.casefold())

    def profile(self) -> _Profile:
        rng = self.rng
        country = rng.choices(_COUNTRIES, weights=_COUNTRY_WEIGHTS)[0]
        city = rng.choice(country.cities)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        stem, kind = rng.choice(_COMPANY_STEMS), rng.choice(_COMPANY_KINDS)
        form = rng.choice(_COMPANY_FORMS[country.code])
        company = " ".join(part for part in (stem, kind, form) if part)
        local = rng.choice(
            (f"{first}.{last}", first, f"{first[:1]}{last}", f"{first}{last}", "billing")
        )
        local = ".".join(_ascii_slug(part) for part in local.split("."))
        status = rng.choices(("Active", "Past Due", "Cancelled", "New Lead"), (78, 6, 11, 5))[0]
        return _Profile(
            name=f"{first} {last}",
            email=self.email(local, f"{_ascii_slug(stem + kind)}.example"),
            company=company,
            company_id=self.company_id(),
            address=_Address(
                line1=_street_line(country, rng),
                line2=rng.choice((None, None, None, f"Suite {rng.randint(100, 999)}")),
                city=city.name,
                state=city.state,
                postal_code=_fill(city.postal, rng),
                country=country.code,
                utc_offset=city.utc_offset,
            ),
            phone=country.phone_prefix
            + _fill("#" * (10 if country.phone_prefix == "+1" else 9), rng),
            currency=country.currency,
            created=rng.randrange(_EARLIEST_SIGNUP, _LATEST_SIGNUP),
            price=rng.choice(_PLAN_PRICES),
            status=status,
            balance=rng.choice((0, 0, 0, 0, 0, 0, -2500, -10000, 1500)),
        )

    def add(self, provider: str, record: dict[str, Any]) -> dict[str, Any]:
        self.records[provider].append(record)
        return record

    def stripe(
        self,
        p: _Profile,
        *,
        stripe_id: str | None = None,
        email: str | None = None,
        with_company_id: bool = True,
        with_address: bool = True,
    ) -> str:
        """A Stripe customer; returns its id."""
        sid = self._claim(stripe_id) if stripe_id else self.stripe_like_id()
        a = p.address
        self.add(
            "stripe",
            {
                "id": sid,
                "email": p.email if email is None else email,
                "name": p.name,
                "phone": p.phone,
                "description": p.company,
                "address": {
                    "line1": a.line1,
                    "line2": a.line2,
                    "city": a.city,
                    "state": a.state,
                    "postal_code": a.postal_code,
                    "country": a.country,
                }
                if with_address
                else None,
                "created": p.created,
                "currency": p.currency,
                "balance": p.balance,
                "metadata": {self.external_id_key: p.company_id} if with_company_id else {},
            },
        )
        return sid

    def chartmogul(self, p: _Profile, *, stripe_id: str | None, email: str | None = None) -> None:
        """Stripe-sourced (``external_id`` = the Stripe id) or, without a Stripe id, an import."""
        if stripe_id is None:
            external_id, source, system = (
                str(self.next_import_id),
                IMPORT_DATA_SOURCE_UUID,
                "Import API",
            )
            self.next_import_id += self.rng.randint(1, 97)
        else:
            external_id, source, system = stripe_id, STRIPE_DATA_SOURCE_UUID, "Stripe"
        mrr_usd = p.mrr * _USD_PER_MILLE[p.currency] // 1000
        self.add(
            "chartmogul",
            {
                "uuid": "cus_" + self.uuid4(),
                "id": self.next_chartmogul_id,
                "external_id": external_id,
                "external_ids": [external_id],
                "data_source_uuid": source,
                "data_source_uuids": [source],
                "billing-system-type": system,
                "name": p.name,
                "email": p.email if email is None else email,
                "company": p.company,
                "city": p.address.city,
                "state": p.address.state,
                "country": p.address.country,
                "zip": p.address.postal_code,
                "customer-since": _iso_offset(p.created, p.address.utc_offset),
                "status": p.status,
                "mrr": mrr_usd,
                "arr": 12 * mrr_usd,
                "currency": "USD",
            },
        )
        self.next_chartmogul_id += 1

    def firstofficer(
        self, p: _Profile, *, stripe_id: str | None, extra_id: str | None, email: str | None = None
    ) -> None:
        self.add(
            "firstofficer",
            {
                "id": self.next_firstofficer_id,
                "stripe_id": stripe_id,
                "extra_id": extra_id,
                "email": p.email if email is None else email,
                "name": p.name,
                "total_contract_value": p.price * p.months,
                "current_mrr": p.mrr,
                "current_subscription_count": 1 if p.mrr else 0,
                "currency": p.currency,
                "country": p.address.country,
                "state": p.address.state,
            },
        )
        self.next_firstofficer_id += 1

    def lago(
        self,
        p: _Profile,
        *,
        stripe_id: str | None,
        external_id: str | None = None,
        email: str | None = None,
    ) -> None:
        """A Lago customer; ``stripe_id`` adds the Stripe billing configuration that links it."""
        a = p.address
        record: dict[str, Any] = {
            "lago_id": self.uuid4(),
            "external_id": external_id or p.company_id,
            "name": p.name,
            "email": p.email if email is None else email,
            "currency": p.currency.upper(),
            "address_line1": a.line1,
            "city": a.city,
            "zipcode": a.postal_code,
            "state": a.state,
            "country": a.country,
            "phone": p.phone,
            "legal_name": p.company,
            "created_at": _iso_z(p.created + self.rng.randrange(0, 14 * 86400)),
        }
        if stripe_id is not None:
            record["billing_configuration"] = {
                "payment_provider": "stripe",
                "provider_customer_id": stripe_id,
            }
        self.add("lago", record)

    def tofupay(self, p: _Profile, *, email: str) -> None:
        """Tofupay keeps its own ids and no metadata: only the email ties it to the rest."""
        self.add(
            "tofupay",
            {
                "id": self.stripe_like_id(),
                "email": email,
                "description": p.company,
                "created": self.rng.randrange(_EARLIEST_SIGNUP, _LATEST_SIGNUP),
                "currency": p.currency,
                "account_balance": p.balance,
                "metadata": {},
            },
        )


# --- Patterns: each adds one real-world customer ------------------------------------------

_Pattern = Callable[[_Builder, _Profile, int], None]
"""``(builder, profile, ordinal)``; the ordinal (n-th customer of that pattern) picks variants."""


def _linked(b: _Builder, p: _Profile, ordinal: int) -> None:
    sid = b.stripe(p, with_address=b.rng.random() >= 0.1)
    if b.rng.random() < LINK_PROBABILITY["chartmogul"]:
        b.chartmogul(p, stripe_id=sid)
    if b.rng.random() < LINK_PROBABILITY["firstofficer"]:
        b.firstofficer(p, stripe_id=sid, extra_id=p.company_id)
    if b.rng.random() < LINK_PROBABILITY["lago"]:
        b.lago(p, stripe_id=sid)


def _conflicting(b: _Builder, p: _Profile, ordinal: int) -> None:
    """Linked by ids everywhere, but one provider has another name and one another address."""
    first, _, last = p.name.partition(" ")
    renamed = replace(p, name=(f"{first[:1]}. {last}", p.company, f"{last}, {first}")[ordinal % 3])
    country = _COUNTRY_BY_CODE[p.address.country]
    moved_to = b.rng.choice([c for c in country.cities if c.name != p.address.city])
    moved = replace(
        p,
        address=replace(
            p.address,
            line1=_street_line(country, b.rng),
            city=moved_to.name,
            state=moved_to.state,
            postal_code=_fill(moved_to.postal, b.rng),
        ),
    )
    sid = b.stripe(p)
    b.chartmogul(renamed if ordinal % 2 == 0 else p, stripe_id=sid)
    b.firstofficer(renamed if ordinal % 2 == 1 else p, stripe_id=sid, extra_id=p.company_id)
    b.lago(moved, stripe_id=sid)


_EMAIL_VARIANTS: Final = ("case+space", "case", "space", "upper")


def _email_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    """Stripe without a company id; an import and/or unlinked Lago record with a variant email."""
    variant = _email_variant(p.email, _EMAIL_VARIANTS[ordinal % len(_EMAIL_VARIANTS)])
    sid = b.stripe(p, with_company_id=False)
    b.firstofficer(p, stripe_id=sid, extra_id=None)
    where = ("chartmogul", "lago", "both")[ordinal % 3]
    if where in ("chartmogul", "both"):
        b.chartmogul(p, stripe_id=None, email=variant)
    if where in ("lago", "both"):
        b.lago(
            p,
            stripe_id=None,
            email=_email_variant(p.email, "upper") if where == "both" else variant,
        )


def _stripe_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    b.stripe(p, with_address=ordinal % 4 != 0)


def _chartmogul_import_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    b.chartmogul(replace(p, status="New Lead") if ordinal % 2 else p, stripe_id=None)


def _lago_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    b.lago(p, stripe_id=None)


def _firstofficer_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    b.firstofficer(p, stripe_id=None, extra_id=None)


def _stripe_duplicate(b: _Builder, p: _Profile, ordinal: int) -> None:
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


def _placeholder(b: _Builder, p: _Profile, ordinal: int) -> None:
    """A single record whose email is a placeholder shared with unrelated customers."""
    provider, email = _PLACEHOLDERS[ordinal % len(_PLACEHOLDERS)]
    if provider == "stripe":
        b.stripe(p, email=email)
    elif provider == "lago":
        b.lago(p, stripe_id=None, email=email)
    else:
        b.chartmogul(p, stripe_id=None, email=email)


def _tofupay_only(b: _Builder, p: _Profile, ordinal: int) -> None:
    b.tofupay(p, email=p.email)


_PATTERNS: Final[Mapping[str, _Pattern]] = {
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


def _quotas(total: int) -> dict[str, int]:
    """Customers per pattern: the weights applied to ``total`` by largest remainder."""
    exact = {name: weight * total for name, weight in PATTERN_WEIGHTS.items()}
    counts = {name: int(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


# --- Fixed scenarios --------------------------------------------------------------------------


_FIXED_ADDRESSES: Final[Mapping[str, _Address]] = {
    "ada": _Address("12 St James's Square", None, "London", "England", "SW1Y 4JH", "GB", 0),
    "grace": _Address("1 Navy Yard", "Building 4", "Arlington", "VA", "22202", "US", -5),
    "alan": _Address("3 Bletchley Road", None, "Manchester", "England", "M13 9PL", "GB", 0),
    "katherine": _Address("2101 NASA Parkway", None, "Houston", "TX", "77058", "US", -6),
    "jordan": _Address("88 Pine Street", "Floor 2", "Seattle", "WA", "98101", "US", -8),
    "morgan": _Address("5 Church Road", None, "Bristol", "England", "BS1 4DJ", "GB", 0),
}


def _fixed_profile(name: str, email: str, company: str, company_id: str, price: int) -> _Profile:
    """A hand-written customer; its address, phone and dates depend on nothing but its name."""
    key = name.split()[0].lower()
    address = _FIXED_ADDRESSES[key]
    index = list(_FIXED_ADDRESSES).index(key)
    return _Profile(
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


def _showcase(b: _Builder) -> None:
    """Ada: ids link Stripe/ChartMogul/FirstOfficer/Lago; Tofupay by email; ChartMogul renames."""
    p = _fixed_profile(
        "Ada Lovelace", SHOWCASE_EMAIL, "Analytical Engines Ltd", SHOWCASE_COMPANY_ID, 49900
    )
    sid = b.stripe(p, stripe_id=SHOWCASE_STRIPE_ID)
    b.chartmogul(replace(p, name="Augusta Ada King"), stripe_id=sid)
    b.firstofficer(p, stripe_id=sid, extra_id=p.company_id)
    b.lago(p, stripe_id=sid)
    b.tofupay(p, email=SHOWCASE_TOFUPAY_EMAIL)


def _email_only_scenario(b: _Builder) -> None:
    p = _fixed_profile(
        "Grace Hopper", EMAIL_ONLY_EMAIL, "Compiler Works Inc.", EMAIL_ONLY_LAGO_EXTERNAL_ID, 9900
    )
    b.stripe(p, stripe_id=EMAIL_ONLY_STRIPE_ID, with_company_id=False)
    b.chartmogul(p, stripe_id=None, email=EMAIL_ONLY_CHARTMOGUL_EMAIL)
    b.lago(p, stripe_id=None, email=EMAIL_ONLY_LAGO_EMAIL)


def _duplicate_scenario(b: _Builder) -> None:
    p = _fixed_profile("Alan Turing", DUPLICATE_EMAIL, "Bombe Computing Ltd", b.company_id(), 19900)
    first, second = DUPLICATE_STRIPE_IDS
    b.stripe(p, stripe_id=first)
    b.chartmogul(p, stripe_id=first)
    b.firstofficer(p, stripe_id=first, extra_id=p.company_id)
    b.lago(p, stripe_id=first)
    again = replace(p, name="Alan M. Turing", created=p.created + 3 * 86400)
    b.stripe(again, stripe_id=second, with_company_id=False, with_address=False)


def _lago_only_scenario(b: _Builder) -> None:
    p = _fixed_profile(
        "Katherine Johnson", LAGO_ONLY_EMAIL, "Trajectory Labs LLC", LAGO_ONLY_EXTERNAL_ID, 4900
    )
    b.lago(p, stripe_id=None)


def _placeholder_stripe_scenario(b: _Builder) -> None:
    p = _fixed_profile(
        "Jordan Blake", "jordan@blake.example", "Blake Consulting", b.company_id(), 2900
    )
    b.stripe(p, stripe_id=PLACEHOLDER_STRIPE_ID, email=PLACEHOLDER_EMAIL)


def _placeholder_lago_scenario(b: _Builder) -> None:
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
_RESERVED_EMAILS: Final = (
    SHOWCASE_EMAIL,
    EMAIL_ONLY_EMAIL,
    DUPLICATE_EMAIL,
    LAGO_ONLY_EMAIL,
    "jordan@blake.example",
    "morgan@reyes.example",
)


def generate(
    seed: int = 0, customers: int = 200, *, external_id_key: str = DEFAULT_EXTERNAL_ID_KEY
) -> Dataset:
    """``customers`` distinct real-world customers: the fixed scenarios, then seeded ones.

    The same ``seed`` and ``customers`` always give the same records in the same order.
    ``external_id_key`` is the Stripe metadata key holding the company id.
    """
    if customers < 0:
        raise ValueError(f"customers must be >= 0, not {customers}")
    b = _Builder(random.Random(_FIXED_SEED), external_id_key)
    b.used.update(_RESERVED_EMAILS)
    b.used.update((SHOWCASE_STRIPE_ID, EMAIL_ONLY_STRIPE_ID, *DUPLICATE_STRIPE_IDS))
    b.used.update((SHOWCASE_COMPANY_ID, EMAIL_ONLY_LAGO_EXTERNAL_ID, LAGO_ONLY_EXTERNAL_ID))
    b.used.update((PLACEHOLDER_STRIPE_ID, PLACEHOLDER_LAGO_EXTERNAL_ID))
    for scenario in _FIXED_SCENARIOS[:customers]:
        scenario(b)

    b.rng = random.Random(seed)
    remaining = max(0, customers - FIXED_CUSTOMERS)
    plan = [name for name, count in _quotas(remaining).items() for _ in range(count)]
    b.rng.shuffle(plan)
    eligible = [index for index, name in enumerate(plan) if name in _TOFUPAY_ELIGIBLE]
    tofupay = set(b.rng.sample(eligible, min(len(eligible), round(TOFUPAY_SHARE * remaining))))
    ordinals = dict.fromkeys(PATTERN_WEIGHTS, 0)
    tofupay_seen = 0
    for index, name in enumerate(plan):
        profile = b.profile()
        _PATTERNS[name](b, profile, ordinals[name])
        ordinals[name] += 1
        if index in tofupay:
            kind = ("exact", "case", "exact", "upper")[tofupay_seen % 4]
            email = profile.email if kind == "exact" else _email_variant(profile.email, kind)
            b.tofupay(profile, email=email)
            tofupay_seen += 1
        _seed_plugged_in(b, profile, index)
    return Dataset(b.records)


def _seed_plugged_in(b: _Builder, profile: _Profile, index: int) -> None:
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


# --- Loading a dataset file -------------------------------------------------------------------


def _id_problem(provider: str, value: Any) -> str | None:
    """Why ``value`` can't be this provider's record id, or None when it can."""
    if provider == "firstofficer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"id must be an integer, not {value!r}"
        return None
    if not isinstance(value, str) or not value.strip():
        return f"{ID_FIELDS[provider]} must be a non-empty string, not {value!r}"
    return None


def _check_records(path: Path, provider: str, value: Any) -> tuple[dict[str, Any], ...]:
    where = f"{path}: {provider}"
    if not isinstance(value, list):
        raise DatasetError(f"{where}: expected a list of records, got {type(value).__name__}")
    id_field = ID_FIELDS[provider]
    first_seen: dict[Any, int] = {}
    for index, record in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(record, dict):
            raise DatasetError(f"{at}: expected a record object, got {type(record).__name__}")
        if record.get(id_field) is None:
            raise DatasetError(f"{at}: missing id field {id_field!r}")
        if problem := _id_problem(provider, record[id_field]):
            raise DatasetError(f"{at}: {problem}")
        key = record[id_field]
        if key in first_seen:
            raise DatasetError(
                f"{at}: duplicate {id_field} {key!r} (first used by {provider}[{first_seen[key]}])"
            )
        first_seen[key] = index
    return tuple(value)


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset file (see docs/dataset.md); a missing provider key means no records."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read dataset file: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(
            f"{path}: expected a JSON object with provider keys, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(PROVIDERS))
    if unknown:
        raise DatasetError(
            f"{path}: unknown provider key(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(PROVIDERS)}"
        )
    return Dataset({name: _check_records(path, name, data.get(name, [])) for name in PROVIDERS})
