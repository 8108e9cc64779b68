"""Provider records for a customer, in each built-in provider's own API shape, with unique ids.

:class:`Builder` is the one place that knows how Stripe, ChartMogul, FirstOfficer, Lago and
Tofupay write a customer; the patterns and scenarios only decide *which* records a customer gets.
Every random draw goes through ``Builder.rng`` in a fixed order, so a seed fixes the output.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from gateway.providers.registry import PROVIDERS
from gateway.sandbox.dataset.profiles import (
    EARLIEST_SIGNUP,
    LATEST_SIGNUP,
    Address,
    Profile,
    ascii_slug,
)
from gateway.sandbox.dataset.words import (
    ALNUM,
    COMPANY_FORMS,
    COMPANY_KINDS,
    COMPANY_STEMS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    LAST_NAMES,
    PLAN_PRICES,
    USD_PER_MILLE,
    fill,
    street_line,
)

STRIPE_DATA_SOURCE_UUID: Final = "ds_5f0f2c1e-8a3b-4c7d-9e21-3b6a1d0c4f11"
"""The ChartMogul data source fed by Stripe (``billing-system-type`` ``Stripe``)."""
IMPORT_DATA_SOURCE_UUID: Final = "ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22"
"""The ChartMogul data source fed by the Import API (``billing-system-type`` ``Import API``)."""


def _iso_offset(timestamp: int, hours: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone(timedelta(hours=hours))).isoformat()


def _iso_z(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Builder:
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
            candidate = "cus_" + "".join(self.rng.choices(ALNUM, k=14))
            if candidate not in self.used:
                return self._claim(candidate)

    def company_id(self) -> str:
        while True:
            candidate = "co_" + "".join(self.rng.choices(ALNUM[:36].lower(), k=12))
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

    def profile(self) -> Profile:
        rng = self.rng
        country = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]
        city = rng.choice(country.cities)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        stem, kind = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_KINDS)
        form = rng.choice(COMPANY_FORMS[country.code])
        company = " ".join(part for part in (stem, kind, form) if part)
        local = rng.choice(
            (f"{first}.{last}", first, f"{first[:1]}{last}", f"{first}{last}", "billing")
        )
        local = ".".join(ascii_slug(part) for part in local.split("."))
        status = rng.choices(("Active", "Past Due", "Cancelled", "New Lead"), (78, 6, 11, 5))[0]
        return Profile(
            name=f"{first} {last}",
            email=self.email(local, f"{ascii_slug(stem + kind)}.example"),
            company=company,
            company_id=self.company_id(),
            address=Address(
                line1=street_line(country, rng),
                line2=rng.choice((None, None, None, f"Suite {rng.randint(100, 999)}")),
                city=city.name,
                state=city.state,
                postal_code=fill(city.postal, rng),
                country=country.code,
                utc_offset=city.utc_offset,
            ),
            phone=country.phone_prefix
            + fill("#" * (10 if country.phone_prefix == "+1" else 9), rng),
            currency=country.currency,
            created=rng.randrange(EARLIEST_SIGNUP, LATEST_SIGNUP),
            price=rng.choice(PLAN_PRICES),
            status=status,
            balance=rng.choice((0, 0, 0, 0, 0, 0, -2500, -10000, 1500)),
        )

    def add(self, provider: str, record: dict[str, Any]) -> dict[str, Any]:
        self.records[provider].append(record)
        return record

    def stripe(
        self,
        p: Profile,
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

    def chartmogul(self, p: Profile, *, stripe_id: str | None, email: str | None = None) -> None:
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
        mrr_usd = p.mrr * USD_PER_MILLE[p.currency] // 1000
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
        self, p: Profile, *, stripe_id: str | None, extra_id: str | None, email: str | None = None
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
        p: Profile,
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

    def tofupay(self, p: Profile, *, email: str) -> None:
        """Tofupay keeps its own ids and no metadata: only the email ties it to the rest."""
        self.add(
            "tofupay",
            {
                "id": self.stripe_like_id(),
                "email": email,
                "description": p.company,
                "created": self.rng.randrange(EARLIEST_SIGNUP, LATEST_SIGNUP),
                "currency": p.currency,
                "account_balance": p.balance,
                "metadata": {},
            },
        )
