"""The Lago customer as stored (columns) and rendered (``CustomerObjectExtended``).

Objects follow the ``CustomerObjectExtended`` schema of Lago's OpenAPI document: required
fields always present, nullable ones as ``null``, non-nullable optional ones (e.g. an unset
``billing_configuration.payment_provider``) left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

SLUG_PREFIX: Final = "LAG-5A1D"
"""The sandbox organisation's document number prefix (slugs are ``<prefix>-<seq:03d>``)."""
BILLING_ENTITY_CODE: Final = "sandbox"
"""The sandbox organisation's only (default) billing entity."""

TEXT_FIELDS: Final = (
    "name",
    "firstname",
    "lastname",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zipcode",
    "country",
    "phone",
    "url",
    "logo_url",
    "legal_name",
    "legal_number",
    "tax_identification_number",
    "timezone",
    "currency",
    "customer_type",
)
"""The customer's plain text columns, all nullable."""
ADDRESS_FIELDS: Final = ("address_line1", "address_line2", "city", "zipcode", "state", "country")
BILLING_KEYS: Final = (
    "invoice_grace_period",
    "subscription_invoice_issuing_date_anchor",
    "subscription_invoice_issuing_date_adjustment",
    "payment_provider",
    "payment_provider_code",
    "provider_customer_id",
    "sync",
    "sync_with_provider",
    "document_locale",
    "provider_payment_methods",
)
BILLING_NULLABLE: Final = frozenset(
    {
        "subscription_invoice_issuing_date_anchor",
        "subscription_invoice_issuing_date_adjustment",
        "provider_payment_methods",
    }
)
"""Billing keys rendered as ``null`` when unset; the others are left out."""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Customer:
    """One customer as Lago stores it (columns), rendered on the way out."""

    lago_id: str
    external_id: str
    sequential_id: int
    created_at: datetime
    updated_at: datetime
    attrs: dict[str, Any] = field(default_factory=dict)
    shipping: dict[str, str | None] = field(default_factory=dict)
    billing: dict[str, Any] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def blank(cls, external_id: str, sequential_id: int, now: datetime) -> Customer:
        """A customer with every column at Lago's default."""
        attrs: dict[str, Any] = dict.fromkeys(TEXT_FIELDS)
        attrs.update(
            net_payment_term=None,
            finalize_zero_amount_invoice="inherit",
            skip_invoice_custom_sections=False,
        )
        return cls(
            lago_id=str(uuid.uuid4()),
            external_id=external_id,
            sequential_id=sequential_id,
            created_at=now,
            updated_at=now,
            attrs=attrs,
            shipping=dict.fromkeys(ADDRESS_FIELDS),
            billing=dict.fromkeys(BILLING_KEYS),
        )

    def render(self) -> dict[str, Any]:
        """The ``CustomerObjectExtended`` JSON object."""
        a = self.attrs
        return {
            "lago_id": self.lago_id,
            "sequential_id": self.sequential_id,
            "slug": f"{SLUG_PREFIX}-{self.sequential_id:03d}",
            "external_id": self.external_id,
            "billing_entity_code": BILLING_ENTITY_CODE,
            "address_line1": a["address_line1"],
            "address_line2": a["address_line2"],
            "applicable_timezone": a["timezone"] or "UTC",
            "city": a["city"],
            "country": a["country"],
            "currency": a["currency"],
            "email": a["email"],
            "legal_name": a["legal_name"],
            "legal_number": a["legal_number"],
            "logo_url": a["logo_url"],
            "name": a["name"],
            "firstname": a["firstname"],
            "lastname": a["lastname"],
            "account_type": "customer",
            "customer_type": a["customer_type"],
            "phone": a["phone"],
            "state": a["state"],
            "tax_identification_number": a["tax_identification_number"],
            "timezone": a["timezone"],
            "url": a["url"],
            "zipcode": a["zipcode"],
            "net_payment_term": a["net_payment_term"],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "finalize_zero_amount_invoice": a["finalize_zero_amount_invoice"],
            "skip_invoice_custom_sections": a["skip_invoice_custom_sections"],
            "billing_configuration": {
                key: value
                for key, value in self.billing.items()
                if value is not None or key in BILLING_NULLABLE
            },
            "shipping_address": dict(self.shipping),
            "metadata": [{**item, "created_at": iso(item["created_at"])} for item in self.metadata],
            "integration_customers": [],
            "taxes": [],
            "applicable_invoice_custom_sections": [],
            "error_details": [],
        }
