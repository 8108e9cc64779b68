"""A customer's row in the index: the surviving values its list filters and sorts on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.config import IdentitySettings
from gateway.identity import MergedCustomer, normalise_email
from gateway.identity.metrics import metric_values, money_total
from gateway.model import Address, Metric, Money

__all__ = ["mrr", "summary_row"]


def mrr(customer: MergedCustomer) -> Money | None:
    """The customer's MRR as ``Customer.metrics.mrr`` shows it."""
    return money_total(metric_values(customer.records, Metric.MRR))


def _text(customer: MergedCustomer, field: str) -> str | None:
    found = customer.fields.get(field)
    return found.value if found is not None and isinstance(found.value, str) else None


def summary_row(
    customer: MergedCustomer,
    settings: IdentitySettings,
    customer_id: str,
    minted_at: datetime,
    synced_at: datetime,
) -> dict[str, Any]:
    """The ``customers`` row for ``customer`` under ``customer_id``."""
    name, company = _text(customer, "name"), _text(customer, "company")
    email = _text(customer, "email")
    address = customer.fields.get("address")
    country = (
        address.value.country
        if address is not None and isinstance(address.value, Address)
        else None
    )
    money = mrr(customer)
    return {
        "id": customer_id,
        "minted_at": minted_at,
        "created_at": customer.created_at,
        "synced_at": synced_at,
        "email": normalise_email(email, settings.placeholder_emails),
        "name": name,
        "name_key": name.casefold() if name else None,
        "company": company,
        "company_key": company.casefold() if company else None,
        "country": country.strip().upper() if country and country.strip() else None,
        "status": _text(customer, "status"),
        "mrr": None if money is None else money.amount,
        "mrr_currency": None if money is None else money.currency,
        "providers": " ".join(sorted({r.provider for r in customer.records})),
    }
