"""How :class:`~gateway.model.CustomerWrite` fields are named to clients.

Field errors and skipped-field reports use the GraphQL input names (``externalId``, not
``external_id``), so a form can map them straight onto its own inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway.model import WritableField

INPUT_NAMES: Final[Mapping[WritableField, str]] = {
    WritableField.EMAIL: "email",
    WritableField.NAME: "name",
    WritableField.PHONE: "phone",
    WritableField.COMPANY: "company",
    WritableField.DESCRIPTION: "description",
    WritableField.ADDRESS: "address",
    WritableField.CURRENCY: "currency",
    WritableField.METADATA: "metadata",
    WritableField.EXTERNAL_ID: "externalId",
    WritableField.STRIPE_ID: "stripeId",
    WritableField.DATA_SOURCE_UUID: "chartmogulDataSourceUuid",
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


def input_name(field: str) -> str:
    """The GraphQL input name of a :class:`WritableField` (given as the enum or its value)."""
    return INPUT_NAMES[WritableField(field)]
