"""Lago's rules for customer params: which values it takes, how it casts them, what it refuses.

:class:`CustomerInput` applies one upsert payload the way Lago's UpsertFromApiService does; the
upsert route and seeding both go through it, so a dataset record is held to the API's rules.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from gateway.providers.lago.simulator.codes import COUNTRIES, CURRENCIES, TIMEZONES
from gateway.providers.lago.simulator.errors import Errors, LagoInvalid, LagoNotFound
from gateway.providers.lago.simulator.shape import (
    ADDRESS_FIELDS,
    BILLING_ENTITY_CODE,
    TEXT_FIELDS,
    Customer,
)
from gateway.sandbox.coerce import is_int

PAYMENT_PROVIDERS: Final = ("stripe", "adyen", "gocardless")
"""Payment providers the OpenAPI document accepts in ``billing_configuration``."""
METADATA_MAX: Final = 5
METADATA_KEY_MAX: Final = 20
METADATA_VALUE_MAX: Final = 100

_CUSTOMER_TYPES: Final = ("company", "individual")
_ZERO_AMOUNT_OPTIONS: Final = ("inherit", "skip", "finalize")
_ISSUING_ANCHORS: Final = ("current_period_end", "next_period_start")
_ISSUING_ADJUSTMENTS: Final = ("align_with_finalization_date", "keep_anchor")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _valid_email(value: str) -> bool:
    """Lago accepts one address or a comma-separated list of them."""
    return all(_EMAIL.match(part.strip()) for part in value.split(","))


def scalar_text(value: Any) -> str | None:
    """Rails casts permitted scalars to a string column; ``None`` stays ``None``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _presence(value: str | None) -> str | None:
    """Lago normalises address fields: null bytes dropped, blank becomes ``None``."""
    return (value.replace("\x00", "") or None) if value is not None else None


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _non_negative_int(value: Any) -> bool:
    return value is None or (is_int(value) and value >= 0)


class CustomerInput:
    """Applies one upsert payload to a customer, the way Lago's UpsertFromApiService does.

    Only keys present in the payload change the customer; unknown keys and non-scalar values
    for scalar fields are dropped (Rails strong parameters). Validation problems collect into
    ``errors``; references to objects the sandbox organisation lacks raise :class:`LagoNotFound`.
    """

    def __init__(self, params: Mapping[str, Any], now: datetime) -> None:
        self.params = params
        self.now = now
        self.errors: Errors = {}

    def fail(self, field_name: str, code: str) -> None:
        codes = self.errors.setdefault(field_name, [])
        if code not in codes:
            codes.append(code)

    def apply(self, customer: Customer, *, new: bool) -> None:
        params = self.params
        self._check_references()
        metadata = params.get("metadata")
        if isinstance(metadata, list) and len(metadata) > METADATA_MAX:
            raise LagoInvalid({"metadata": ["invalid_count"]})
        zero = params.get("finalize_zero_amount_invoice")
        if zero is not None and zero not in _ZERO_AMOUNT_OPTIONS:
            raise LagoInvalid({"finalize_zero_amount_invoice": ["invalid_value"]})
        self._apply_text(customer)
        if "net_payment_term" in params:
            if _non_negative_int(params["net_payment_term"]):
                customer.attrs["net_payment_term"] = params["net_payment_term"]
            else:
                self.fail("net_payment_term", "value_is_invalid")
        if "finalize_zero_amount_invoice" in params:
            customer.attrs["finalize_zero_amount_invoice"] = zero or "inherit"
        if isinstance(params.get("skip_invoice_custom_sections"), bool):
            customer.attrs["skip_invoice_custom_sections"] = params["skip_invoice_custom_sections"]
        shipping = params.get("shipping_address")
        if isinstance(shipping, Mapping):
            self._apply_address(customer.shipping, shipping, "shipping_country")
        billing = params.get("billing_configuration")
        if isinstance(billing, Mapping):
            self._apply_billing(customer.billing, billing)
        if isinstance(metadata, list):
            customer.metadata = self._merge_metadata(customer.metadata, metadata, new=new)
        if self.errors:
            raise LagoInvalid(self.errors)

    def _check_references(self) -> None:
        code = self.params.get("billing_entity_code")
        if code is not None and code != BILLING_ENTITY_CODE:
            raise LagoNotFound("billing_entity_not_found")
        for key, error in (
            ("tax_codes", "tax_not_found"),
            ("invoice_custom_section_codes", "invoice_custom_section_not_found"),
        ):
            codes = self.params.get(key)
            if isinstance(codes, list) and codes:
                raise LagoNotFound(error)

    def _apply_text(self, customer: Customer) -> None:
        attrs = customer.attrs
        for name in TEXT_FIELDS:
            if name not in self.params or not is_scalar(self.params[name]):
                continue
            value = scalar_text(self.params[name])
            if name in ADDRESS_FIELDS:
                value = _presence(value)
            if name == "country" and value is not None:
                value = value.upper()
                if value not in COUNTRIES:
                    self.fail("country", "country_code_invalid")
            elif name == "currency" and value is not None and value not in CURRENCIES:
                self.fail("currency", "value_is_invalid")
            elif name == "email" and value and not _valid_email(value):
                self.fail("email", "invalid_email_format")
            elif name == "timezone" and value is not None and value not in TIMEZONES:
                self.fail("timezone", "invalid_timezone")
            elif name == "customer_type" and value is not None and value not in _CUSTOMER_TYPES:
                self.fail("customer_type", "value_is_invalid")
            attrs[name] = value

    def _apply_address(
        self, target: dict[str, str | None], source: Mapping[str, Any], country_field: str
    ) -> None:
        for name in ADDRESS_FIELDS:
            if name not in source or not is_scalar(source[name]):
                continue
            value = _presence(scalar_text(source[name]))
            if name == "country" and value is not None:
                value = value.upper()
                if value not in COUNTRIES:
                    self.fail(country_field, "country_code_invalid")
            target[name] = value

    def _apply_billing(self, billing: dict[str, Any], source: Mapping[str, Any]) -> None:
        if "invoice_grace_period" in source:
            if _non_negative_int(source["invoice_grace_period"]):
                billing["invoice_grace_period"] = source["invoice_grace_period"]
            else:
                self.fail("invoice_grace_period", "value_is_invalid")
        for key, allowed in (
            ("subscription_invoice_issuing_date_anchor", _ISSUING_ANCHORS),
            ("subscription_invoice_issuing_date_adjustment", _ISSUING_ADJUSTMENTS),
        ):
            if key in source:
                if source[key] is None or source[key] in allowed:
                    billing[key] = source[key]
                else:
                    self.fail(key, "value_is_invalid")
        for key in ("sync", "sync_with_provider"):
            if isinstance(source.get(key), bool):
                billing[key] = source[key]
        if "document_locale" in source and is_scalar(source["document_locale"]):
            billing["document_locale"] = scalar_text(source["document_locale"])
        methods = source.get("provider_payment_methods")
        if "provider_payment_methods" in source and (
            methods is None
            or (isinstance(methods, list) and all(isinstance(m, str) for m in methods))
        ):
            billing["provider_payment_methods"] = methods
        if "payment_provider" in source:
            provider = source["payment_provider"]
            if provider is None:
                for key in (
                    "payment_provider",
                    "payment_provider_code",
                    "provider_customer_id",
                    "provider_payment_methods",
                ):
                    billing[key] = None
            elif provider in PAYMENT_PROVIDERS:
                if provider != billing["payment_provider"]:
                    billing["provider_customer_id"] = None
                billing["payment_provider"] = provider
                if provider == "stripe" and billing["provider_payment_methods"] is None:
                    billing["provider_payment_methods"] = ["card"]
            else:
                self.fail("payment_provider", "value_is_invalid")
        if billing["payment_provider"] is None:
            return  # Lago keeps provider ids only on a provider customer.
        if "payment_provider_code" in source and isinstance(source["payment_provider_code"], str):
            billing["payment_provider_code"] = source["payment_provider_code"]
        if "provider_customer_id" in source and is_scalar(source["provider_customer_id"]):
            billing["provider_customer_id"] = scalar_text(source["provider_customer_id"]) or None

    def _merge_metadata(
        self, current: list[dict[str, Any]], items: list[Any], *, new: bool
    ) -> list[dict[str, Any]]:
        """Lago's rule: items with a known ``id`` update it, others are created, and (on an
        update) every existing item not named by id is removed afterwards. A created key that
        is already taken at that moment fails with ``value_already_exist``."""
        result = [dict(item) for item in current]
        named: set[str] = set()
        created: list[str] = []
        for raw in items:
            if not isinstance(raw, Mapping):
                continue
            key = scalar_text(raw.get("key")) if is_scalar(raw.get("key")) else None
            value = scalar_text(raw.get("value")) if is_scalar(raw.get("value")) else None
            if not key or not key.strip():
                self.fail("key", "value_is_mandatory")
            elif len(key) > METADATA_KEY_MAX:
                self.fail("key", "value_is_too_long")
            if not value or not value.strip():
                self.fail("value", "value_is_mandatory")
            elif len(value) > METADATA_VALUE_MAX:
                self.fail("value", "value_is_too_long")
            display = raw.get("display_in_invoice") is True
            existing = next(
                (m for m in result if not new and raw.get("id") and m["lago_id"] == raw["id"]),
                None,
            )
            if existing is not None:
                if any(m["key"] == key and m is not existing for m in result):
                    self.fail("key", "value_already_exist")
                existing.update(key=key, value=value, display_in_invoice=display)
                named.add(existing["lago_id"])
                continue
            if any(m["key"] == key for m in result):
                self.fail("key", "value_already_exist")
            item: dict[str, Any] = {
                "lago_id": str(uuid.uuid4()),
                "key": key,
                "value": value,
                "display_in_invoice": display,
                "created_at": self.now,
            }
            result.append(item)
            created.append(item["lago_id"])
        if new:
            return result
        keep = named | set(created)
        return [m for m in result if m["lago_id"] in keep]
