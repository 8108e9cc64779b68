"""Stripe's customer object (API version ``2026-10-28.endive``) and its create/update parameters.

Field limits follow Stripe's OpenAPI spec: ``business_name`` and ``individual_name`` are
strings of at most 150 characters that the object only carries once set (neither is
nullable); a ``shipping`` hash needs ``name`` and ``address``, and its address always comes
back as an object with all six parts (``null`` where not given).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

from gateway.providers.stripe_like.simulator import (
    JSON,
    ApiError,
    CustomerShape,
    Kind,
    created_bounds,
    email_param,
    int_param,
    merge_metadata,
    missing_parameter,
    string_param,
    unknown_parameter,
)
from gateway.providers.stripe_like.simulator.shape import (
    NULLABLE_STRING,
    READ_ONLY_FIELDS,
    ReadOnlyCheck,
)

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
TAX_EXEMPT = ("none", "exempt", "reverse")
MAX_LENGTHS: Final[Mapping[str, int]] = {
    "business_name": 150,
    "description": 5000,
    "individual_name": 150,
    "name": 256,
    "phone": 5000,
}
OPTIONAL_STRINGS = ("business_name", "individual_name")
"""Strings the object leaves out until they are set (not nullable in the spec)."""

_MODELLED: Final[Mapping[str, Kind]] = {
    "address": Kind.HASH,
    "balance": Kind.INTEGER,
    "business_name": Kind.STRING,
    "description": Kind.STRING,
    "email": Kind.STRING,
    "individual_name": Kind.STRING,
    "invoice_prefix": Kind.STRING,
    "invoice_settings": Kind.HASH,
    "metadata": Kind.HASH,
    "name": Kind.STRING,
    "next_invoice_sequence": Kind.INTEGER,
    "phone": Kind.STRING,
    "preferred_locales": Kind.LIST,
    "shipping": Kind.HASH,
    "tax_exempt": Kind.STRING,
}
# Accepted so real client code does not trip over them, but not modelled by the sandbox.
_ACCEPTED = frozenset({"cash_balance", "coupon", "expand", "promotion_code", "source", "tax"})


def default_customer(customer_id: str, created: int) -> JSON:
    """A customer with every documented field at its default (docs.stripe.com customer object)."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": hashlib.sha1(customer_id.encode()).hexdigest()[:8].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


class StripeShape(CustomerShape):
    """Stripe's customer object and parameters."""

    provider: ClassVar[str] = "Stripe"
    api_version: ClassVar[str | None] = "2026-10-28.endive"
    create_params: ClassVar[frozenset[str]] = frozenset(
        {*_MODELLED, *_ACCEPTED, "payment_method", "tax_id_data", "test_clock"}
    )
    update_params: ClassVar[frozenset[str]] = frozenset({*_MODELLED, *_ACCEPTED, "default_source"})
    list_params: ClassVar[frozenset[str]] = CustomerShape.list_params | {"created", "test_clock"}
    seed_params: ClassVar[Mapping[str, Kind]] = _MODELLED
    seed_fields: ClassVar[Mapping[str, ReadOnlyCheck]] = {
        **READ_ONLY_FIELDS,
        "test_clock": NULLABLE_STRING,
    }

    def defaults(self, customer_id: str, created: int) -> JSON:
        return default_customer(customer_id, created)

    def apply_params(self, obj: JSON, params: Mapping[str, Any]) -> None:
        for name, max_length in MAX_LENGTHS.items():
            if name in params:
                obj[name] = string_param(params, name, max_length=max_length)
        for name in OPTIONAL_STRINGS:
            if name in obj and obj[name] is None:
                del obj[name]
        if "email" in params:
            obj["email"] = email_param(params)
        if "address" in params:
            obj["address"] = address_param(params["address"], "address")
        if "shipping" in params:
            obj["shipping"] = _shipping(params["shipping"])
        if "balance" in params:
            obj["balance"] = int_param(params, "balance")
        if "invoice_prefix" in params:
            prefix = string_param(params, "invoice_prefix")
            if prefix is None or not re.fullmatch(r"[A-Z0-9]{3,12}", prefix):
                raise ApiError(
                    400,
                    "Invalid invoice_prefix: must be 3-12 uppercase letters or numbers.",
                    param="invoice_prefix",
                )
            obj["invoice_prefix"] = prefix
        if "next_invoice_sequence" in params:
            obj["next_invoice_sequence"] = max(1, int_param(params, "next_invoice_sequence"))
        if "preferred_locales" in params:
            locales = params["preferred_locales"]
            if locales == "":
                locales = []
            if not isinstance(locales, list) or not all(isinstance(x, str) for x in locales):
                raise ApiError(400, "Invalid array", param="preferred_locales")
            obj["preferred_locales"] = locales
        if "tax_exempt" in params:
            value = params["tax_exempt"] or "none"
            if value not in TAX_EXEMPT:
                raise ApiError(
                    400,
                    "Invalid tax_exempt: must be one of none, exempt, or reverse",
                    param="tax_exempt",
                )
            obj["tax_exempt"] = value
        if "invoice_settings" in params:
            obj["invoice_settings"] = _invoice_settings(
                obj["invoice_settings"], params["invoice_settings"]
            )
        if "metadata" in params:
            obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])

    def deleted_body(self, customer_id: str) -> JSON:
        return {"id": customer_id, "object": "customer", "deleted": True}

    def email_key(self, email: str) -> str:
        """Stripe's list filter is a case-sensitive exact match."""
        return email

    def list_filter(self, params: Mapping[str, Any]) -> Callable[[JSON], bool]:
        if "created" not in params:
            return lambda obj: True
        bounds = created_bounds(params["created"])
        return lambda obj: all(test(int(obj.get("created") or 0)) for test in bounds)


STRIPE: Final = StripeShape()


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A seed customer completed with defaults; raises ``ValueError`` naming a bad field.

    ``{"id": ..., "deleted": true}`` seeds a deleted customer.
    """
    return STRIPE.seed(record)


def address_param(value: Any, param: str) -> JSON | None:
    """An address hash (all six fields, ``""`` -> null); ``""`` for the whole unsets it."""
    if value == "":
        return None
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid object: {param} must be a hash.", param=param)
    for key in value:
        if key not in ADDRESS_FIELDS:
            raise unknown_parameter(f"{param}[{key}]")
    return {
        key: string_param(value, key, param=f"{param}[{key}]") if key in value else None
        for key in ADDRESS_FIELDS
    }


def _shipping(value: Any) -> JSON | None:
    """A shipping hash: ``name`` and ``address`` required (as the spec's create params say),
    so the object's ``shipping.address`` is always an address object."""
    if value == "":
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: shipping must be a hash.", param="shipping")
    for key in value:
        if key not in ("address", "name", "phone"):
            raise unknown_parameter(f"shipping[{key}]")
    if not value.get("name"):
        raise missing_parameter("shipping[name]")
    if "address" not in value:
        raise missing_parameter("shipping[address]")
    address = value["address"]
    if not isinstance(address, dict):
        raise ApiError(
            400, "Invalid object: shipping[address] must be a hash.", param="shipping[address]"
        )
    return {
        "address": address_param(address, "shipping[address]"),
        "name": string_param(value, "name", param="shipping[name]"),
        "phone": string_param(value, "phone", param="shipping[phone]")
        if "phone" in value
        else None,
    }


def _blank_to_none(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dict):
        return {k: _blank_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_to_none(v) for v in value]
    return value


def _invoice_settings(current: Mapping[str, Any], value: Any) -> JSON:
    if not isinstance(value, dict):
        raise ApiError(
            400, "Invalid object: invoice_settings must be a hash.", param="invoice_settings"
        )
    merged = dict(current)
    for key, item in value.items():
        if key not in merged:
            raise unknown_parameter(f"invoice_settings[{key}]")
        merged[key] = _blank_to_none(item)
    return merged
