"""The ChartMogul customer object: its fields, defaults, derived values and value rules.

The create and update routes and :func:`seed_record` check values with the same functions
(:func:`string_errors`, :func:`attributes`, :func:`attribute_changes`); a seed is also refused
for fields the customer object does not have and for ids ChartMogul could not have issued.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Final

import pycountry

from gateway.providers.chartmogul.simulator.errors import Invalid
from gateway.sandbox.coerce import is_int, refuse_unknown

DEFAULT_DATA_SOURCE_UUID: Final = "ds_00000000-0000-4000-8000-000000000001"
"""The Import API data source every simulator has, so creates work without seeding one."""
IMPORT_API: Final = "Import API"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CUSTOMER_UUID_RE: Final = re.compile(rf"cus_{_UUID}")
DATA_SOURCE_UUID_RE: Final = re.compile(rf"ds_{_UUID}")

STRING_FIELDS: Final = (
    "name",
    "email",
    "company",
    "city",
    "state",
    "country",
    "zip",
    "lead_created_at",
    "free_trial_started_at",
    "owner",
    "website_url",
)
"""Top-level string fields create and update accept."""
NOT_BLANK: Final = ("data_source_uuid", "external_id", "name")
"""What a create must give."""
_READ_ONLY_STRINGS: Final = (
    "external_id",
    "data_source_uuid",
    "status",
    "customer-since",
    "currency",
    "currency-sign",
    "billing-system-type",
    "billing-system-url",
    "chartmogul-url",
)
FIELDS: Final = frozenset(
    {
        *STRING_FIELDS,
        *_READ_ONLY_STRINGS,
        "id",
        "uuid",
        "external_ids",
        "data_source_uuids",
        "address",
        "attributes",
        "mrr",
        "arr",
    }
)
"""Every key of the customer object (seeds/001); a seed with any other key is refused."""
ADDRESS_FIELDS: Final = ("address_zip", "city", "state", "country")
ATTRIBUTE_FIELDS: Final = ("tags", "custom", "stripe", "clearbit")

_CURRENCY_SIGNS: Final = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}

# Generated ids continue ChartMogul's integer sequence; a process-wide counter keeps them unique
# across simulators and the dataset checker.
_IDS = itertools.count(133_000_001)


def new_customer_uuid() -> str:
    return f"cus_{uuid.uuid4()}"


# --- derived values --------------------------------------------------------------------------


# pycountry's lookups scan its tables (thousands of subdivisions) when a code is not indexed;
# answers are fixed, so they are cached: seeding thousands of customers stays fast.
@functools.lru_cache(maxsize=4096)
def _country_name(code: str | None) -> str | None:
    """``address.country`` holds the full name ("DE" -> "Germany"), as the API answers."""
    if not code:
        return code
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return str(country.name) if country is not None else code


@functools.lru_cache(maxsize=4096)
def _state_name(country: str | None, state: str | None) -> str | None:
    """``address.state`` holds the full name ("CA" in the US -> "California")."""
    if not state or not country:
        return state
    code = state if "-" in state else f"{country.upper()}-{state.upper()}"
    try:
        return str(pycountry.subdivisions.lookup(code).name)
    except LookupError:
        return state


def address(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``address`` object the API derives from the flat location fields."""
    return {
        "address_zip": record.get("zip"),
        "city": record.get("city"),
        "state": _state_name(record.get("country"), record.get("state")),
        "country": _country_name(record.get("country")),
    }


def chartmogul_url(customer_id: int, name: str) -> str:
    slug = re.sub(r"\W+", "_", name).strip("_") or "Customer"
    return f"https://app.chartmogul.com/#/customers/{customer_id}-{slug}"


def _billing_system_url(system: str, external_id: str) -> str | None:
    if system == "Stripe" and external_id.startswith("cus_"):
        return f"https://dashboard.stripe.com/customers/{external_id}"
    return None


# --- value rules (routes and seeds) ----------------------------------------------------------


def string_errors(data: Mapping[str, Any], keys: Iterable[str]) -> dict[str, str]:
    """``{field: "must be a string"}`` for each of ``keys`` given as a non-string non-null."""
    return {
        key: "must be a string"
        for key in keys
        if data.get(key) is not None and not isinstance(data[key], str)
    }


def _invalid_attributes(message: str) -> Invalid:
    return Invalid({"attributes": message})


def custom_attributes(value: Any) -> dict[str, Any]:
    """Requests send ``custom`` as ``[{type,key,value,source}]``; responses hold a key map."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list) and all(
        isinstance(item, Mapping) and isinstance(item.get("key"), str) for item in value
    ):
        return {item["key"]: item.get("value") for item in value}
    raise _invalid_attributes(
        "attributes.custom must be a list of {type, key, value, source} objects"
    )


def _tags(value: Any) -> list[str]:
    tags = value or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _invalid_attributes("attributes.tags must be a list of strings")
    return list(tags)


def _object(given: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = given.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise _invalid_attributes(f"attributes.{key} must be an object")
    return dict(value or {})


def attributes(value: Any) -> dict[str, Any]:
    """A new customer's ``attributes`` from the given ones (``null`` means none)."""
    if value is not None and not isinstance(value, Mapping):
        raise _invalid_attributes("must be an object")
    given = value or {}
    return {
        "tags": _tags(given.get("tags")),
        "custom": custom_attributes(given.get("custom")),
        "stripe": _object(given, "stripe"),
        "clearbit": _object(given, "clearbit"),
    }


def attribute_changes(value: Mapping[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """An update's custom attributes to merge and its tags (``None``: keep the current ones)."""
    tags = _tags(value["tags"]) if "tags" in value else None
    return custom_attributes(value.get("custom")), tags


# --- seeds -----------------------------------------------------------------------------------


def _check_ids(data: Mapping[str, Any]) -> None:
    """Ids ChartMogul issues have fixed shapes; a seed with another could not be real."""
    if "id" in data and not (is_int(data["id"]) and data["id"] > 0):
        raise ValueError(f"id must be a positive integer, not {data['id']!r}")
    if data.get("uuid") is not None and not CUSTOMER_UUID_RE.fullmatch(str(data["uuid"])):
        raise ValueError(f"uuid must look like cus_<uuid>, not {data['uuid']!r}")
    for key in ("external_ids", "data_source_uuids"):
        values = data.get(key)
        if values is not None and (
            not isinstance(values, list) or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError(f"{key} must be a list of strings")
    for ds in [data.get("data_source_uuid"), *(data.get("data_source_uuids") or [])]:
        if ds is not None and not DATA_SOURCE_UUID_RE.fullmatch(str(ds)):
            raise ValueError(f"data source uuids must look like ds_<uuid>, not {ds!r}")


def _check_seed(data: Mapping[str, Any]) -> None:
    """Refuse a record the API could never have returned, naming the field."""
    refuse_unknown(data, FIELDS, "ChartMogul customer")
    _check_ids(data)
    for key in ("mrr", "arr"):
        value = data.get(key)
        if value is not None and not (is_int(value) or isinstance(value, float)):
            raise ValueError(f"{key} must be an integer number of cents")
    if errors := string_errors(data, (*STRING_FIELDS, *_READ_ONLY_STRINGS)):
        raise Invalid(errors)
    given_address = data.get("address")
    if given_address is not None:
        if not isinstance(given_address, Mapping):
            raise ValueError("address must be an object or null")
        refuse_unknown(given_address, ADDRESS_FIELDS, "ChartMogul address")
        if errors := string_errors(given_address, ADDRESS_FIELDS):
            raise Invalid({f"address.{key}": message for key, message in errors.items()})
    if isinstance(data.get("attributes"), Mapping):
        refuse_unknown(data["attributes"], ATTRIBUTE_FIELDS, "ChartMogul attributes")


def _with_first(values: Iterable[str], first: str) -> list[str]:
    """``first`` then the other values, without duplicates, order kept."""
    return list(dict.fromkeys([first, *values]))


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A full ChartMogul customer object from a possibly minimal one; given values are kept.

    Raises ``ValueError`` naming the field when a field is unknown, a value has the wrong type
    or an id the wrong shape. The create route builds its customers here too.
    """
    if not isinstance(record, Mapping):
        raise ValueError("a ChartMogul customer must be a JSON object")
    data = copy.deepcopy(dict(record))
    _check_seed(data)
    customer_id = data["id"] if "id" in data else next(_IDS)
    ds_list = data.get("data_source_uuids") or []
    data_source = data.get("data_source_uuid") or (ds_list[0] if ds_list else None)
    data_source = data_source or DEFAULT_DATA_SOURCE_UUID
    ext_list = data.get("external_ids") or []
    external_id = data.get("external_id") or (ext_list[0] if ext_list else str(customer_id))
    mrr = round(data.get("mrr") or 0)
    arr = round(data["arr"]) if data.get("arr") is not None else mrr * 12
    currency = (data.get("currency") or "USD").upper()
    system = data.get("billing-system-type") or IMPORT_API
    name = data.get("name") or ""
    out: dict[str, Any] = {
        "id": customer_id,
        "uuid": data.get("uuid") or new_customer_uuid(),
        "external_id": external_id,
        "external_ids": _with_first(ext_list, external_id),
        "data_source_uuid": data_source,
        "data_source_uuids": _with_first(ds_list, data_source),
        "name": name,
        "email": data.get("email") or "",
        "company": data.get("company") or "",
        "status": data.get("status") or ("Active" if mrr > 0 else "New Lead"),
        "lead_created_at": data.get("lead_created_at"),
        "free_trial_started_at": data.get("free_trial_started_at"),
        "customer-since": data.get("customer-since"),
        "zip": data.get("zip"),
        "city": data.get("city"),
        "state": data.get("state"),
        "country": data.get("country"),
        "address": None,
        "attributes": attributes(data.get("attributes")),
        "mrr": mrr,
        "arr": arr,
        "billing-system-type": system,
        "billing-system-url": data.get("billing-system-url")
        or _billing_system_url(system, external_id),
        "chartmogul-url": data.get("chartmogul-url") or chartmogul_url(customer_id, name),
        "currency": currency,
        "currency-sign": data.get("currency-sign") or _CURRENCY_SIGNS.get(currency, currency),
        "owner": data.get("owner"),
        "website_url": data.get("website_url"),
    }
    given_address = data.get("address")
    out["address"] = dict(given_address) if given_address is not None else address(out)
    return out
