"""A stored Lago customer from a dataset record, refused where the API would refuse it.

A record is in the API's answer shape (``CustomerObjectExtended``), possibly minimal. Its shape
is checked first: only the object's own fields, each of the documented JSON type (the API
would never have answered otherwise). Its values then go through :class:`CustomerInput`, the
upsert route's own rules, so a country, currency, timezone or email Lago refuses is refused
here too. Read-only fields (ids, times) are kept as given.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from gateway.providers.lago.simulator.errors import LagoInvalid, LagoNotFound
from gateway.providers.lago.simulator.input import CustomerInput
from gateway.providers.lago.simulator.shape import (
    ADDRESS_FIELDS,
    BILLING_KEYS,
    TEXT_FIELDS,
    Customer,
)
from gateway.sandbox.coerce import is_int, refuse_unknown

_OBJECTS: Final = ("billing_configuration", "shipping_address")
_HELD_ELSEWHERE: Final = (
    "integration_customers",
    "taxes",
    "applicable_invoice_custom_sections",
    "error_details",
)
"""Lists of objects the sandbox organisation has none of: a seed may only give them empty."""
_READ_ONLY_TEXT: Final = ("slug", "applicable_timezone", "account_type", "billing_entity_code")
"""Text the API derives (or, for the billing entity, another organisation may have set)."""
_READ_ONLY: Final = frozenset(
    {
        *_READ_ONLY_TEXT,
        *_HELD_ELSEWHERE,
        "lago_id",
        "sequential_id",
        "created_at",
        "updated_at",
    }
)
FIELDS: Final = frozenset(
    {
        *TEXT_FIELDS,
        *_READ_ONLY,
        *_OBJECTS,
        "external_id",
        "net_payment_term",
        "finalize_zero_amount_invoice",
        "skip_invoice_custom_sections",
        "metadata",
    }
)
"""Every key of ``CustomerObjectExtended``; a seed with any other key is refused."""
_METADATA_FIELDS: Final = ("lago_id", "key", "value", "display_in_invoice", "created_at")
_BILLING_BOOLS: Final = ("sync", "sync_with_provider")
_BILLING_INTS: Final = ("invoice_grace_period",)


def parse_time(field: str, value: Any, fallback: datetime) -> datetime:
    """An ISO 8601 time (UTC when it has no offset); ``None`` is ``fallback``."""
    if value is None:
        return fallback
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"{field} must be an ISO 8601 time, not {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _uuid(field: str, value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise ValueError(f"{field} must be a UUID, not {value!r}")


def _check_types(where: str, data: Mapping[str, Any], texts: tuple[str, ...]) -> None:
    for key in texts:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{where}{key} must be a string or null, not {data[key]!r}")


def _check_billing(billing: Mapping[str, Any]) -> None:
    refuse_unknown(billing, BILLING_KEYS, "Lago billing_configuration")
    where = "billing_configuration."
    texts = tuple(k for k in BILLING_KEYS if k not in (*_BILLING_BOOLS, *_BILLING_INTS))
    _check_types(where, billing, tuple(k for k in texts if k != "provider_payment_methods"))
    for key in _BILLING_BOOLS:
        if key in billing and not isinstance(billing[key], bool):
            raise ValueError(f"{where}{key} must be true or false, not {billing[key]!r}")
    for key in _BILLING_INTS:
        if billing.get(key) is not None and not is_int(billing[key]):
            raise ValueError(f"{where}{key} must be an integer or null, not {billing[key]!r}")
    methods = billing.get("provider_payment_methods")
    if methods is not None and not (
        isinstance(methods, list) and all(isinstance(m, str) for m in methods)
    ):
        raise ValueError(f"{where}provider_payment_methods must be a list of strings or null")


def _check_metadata(items: Any) -> None:
    if not isinstance(items, list):
        raise ValueError("metadata must be a list of {key, value, display_in_invoice}")
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError(f"metadata items must be objects, not {item!r}")
        refuse_unknown(item, _METADATA_FIELDS, "Lago metadata")
        _check_types("metadata.", item, ("key", "value"))
        if not isinstance(item.get("display_in_invoice", False), bool):
            raise ValueError("metadata.display_in_invoice must be true or false")


def check_shape(record: Mapping[str, Any]) -> None:
    """Refuse fields ``CustomerObjectExtended`` lacks and values of another JSON type."""
    if not isinstance(record, Mapping):
        raise ValueError("a Lago customer must be a JSON object")
    refuse_unknown(record, FIELDS, "Lago customer")
    external_id = record.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise ValueError(f"external_id must be a non-empty string, not {external_id!r}")
    _check_types("", record, (*TEXT_FIELDS, *_READ_ONLY_TEXT, "finalize_zero_amount_invoice"))
    if record.get("net_payment_term") is not None and not is_int(record["net_payment_term"]):
        raise ValueError(f"net_payment_term must be an integer, not {record['net_payment_term']!r}")
    if not isinstance(record.get("skip_invoice_custom_sections", False), bool):
        raise ValueError("skip_invoice_custom_sections must be true or false")
    for key in _OBJECTS:
        if record.get(key) is not None and not isinstance(record[key], Mapping):
            raise ValueError(f"{key} must be an object, not {record[key]!r}")
    if isinstance(shipping := record.get("shipping_address"), Mapping):
        refuse_unknown(shipping, ADDRESS_FIELDS, "Lago shipping_address")
        _check_types("shipping_address.", shipping, ADDRESS_FIELDS)
    if isinstance(billing := record.get("billing_configuration"), Mapping):
        _check_billing(billing)
    if record.get("metadata") is not None:
        _check_metadata(record["metadata"])
    for key in _HELD_ELSEWHERE:
        if record.get(key):
            raise ValueError(f"{key} must be empty: the sandbox organisation has none")


def build_seed(record: Mapping[str, Any], sequential_id: int) -> Customer:
    """A stored customer from a (possibly minimal) customer object; ids and times are kept.

    Raises ``ValueError`` naming the field (a :class:`LagoInvalid` for the API's value rules).
    """
    check_shape(record)
    seq = record.get("sequential_id", sequential_id)
    if not is_int(seq) or seq < 1:
        raise ValueError(f"sequential_id must be a positive integer, not {seq!r}")
    now = datetime.now(UTC)
    customer = Customer.blank(record["external_id"], seq, now)
    if record.get("lago_id") is not None:
        customer.lago_id = _uuid("lago_id", record["lago_id"])
    customer.created_at = parse_time("created_at", record.get("created_at"), now)
    customer.updated_at = parse_time("updated_at", record.get("updated_at"), customer.created_at)
    # Read-only fields are not params; the billing entity may be another organisation's.
    params = {k: v for k, v in record.items() if k not in _READ_ONLY}
    try:
        CustomerInput(params, customer.created_at).apply(customer, new=True)
    except LagoNotFound as exc:
        raise ValueError(f"invalid Lago customer: {exc.code}") from exc
    # Each given metadata item became one stored item, in order: keep its given id and time.
    for stored, given in zip(customer.metadata, record.get("metadata") or (), strict=True):
        if given.get("lago_id") is not None:
            stored["lago_id"] = _uuid("metadata.lago_id", given["lago_id"])
        stored["created_at"] = parse_time(
            "metadata.created_at", given.get("created_at"), customer.created_at
        )
    return customer


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The full customer object a seed record stands for; ``ValueError`` if Lago would refuse it."""
    try:
        return build_seed(record, 1).render()
    except LagoInvalid as exc:
        raise ValueError(f"invalid Lago customer: {exc}") from exc
