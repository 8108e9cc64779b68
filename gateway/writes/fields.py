"""How :class:`~gateway.providers.base.CustomerWrite` fields are named to clients.

Field errors and skipped-field reports use the GraphQL input names (``externalId``, not
``external_id``), so a form can map them straight onto its own inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

INPUT_NAMES: Final[Mapping[str, str]] = {
    "email": "email",
    "name": "name",
    "phone": "phone",
    "company": "company",
    "description": "description",
    "address": "address",
    "currency": "currency",
    "metadata": "metadata",
    "external_id": "externalId",
    "stripe_id": "stripeId",
    "data_source_uuid": "chartmogulDataSourceUuid",
}
"""CustomerWrite field -> the ``CustomerInput`` field a client sent it in."""

ADDRESS_INPUT_NAMES: Final[Mapping[str, str]] = {
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "state": "state",
    "postal_code": "postalCode",
    "country": "country",
}
"""Address field -> the ``AddressInput`` field."""

PROVIDER_LABELS: Final[Mapping[str, str]] = {
    "stripe": "Stripe",
    "chartmogul": "ChartMogul",
    "firstofficer": "FirstOfficer",
    "lago": "Lago",
    "tofupay": "Tofupay",
}


def input_name(field: str) -> str:
    return INPUT_NAMES.get(field, field)


def label(provider: str) -> str:
    """A provider's name as people write it, for messages."""
    return PROVIDER_LABELS.get(provider, provider)
