"""Lago API v1 simulator: the customer endpoints, with Lago's upsert, paging and error shapes.

``POST /api/v1/customers`` creates or updates by ``external_id`` (Lago's upsert), every path
names a customer by its ``external_id``, lists page by number with a ``meta`` block, and errors
come as ``{"status", "error", "code"?, "error_details"?}``. Every answer carries Lago's
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` headers; the limit is reported, not enforced (an
injected 429 from the fault settings stands in for it, with ``X-RateLimit-Reset`` taken from
``Faults.retry_after`` and without ``Retry-After``, which Lago does not send).

Objects follow the ``CustomerObjectExtended`` schema of Lago's OpenAPI document: required
fields always present, nullable ones as ``null``, non-nullable optional ones (e.g. an unset
``billing_configuration.payment_provider``) left out.
"""

from __future__ import annotations

import bisect
import copy
import hmac
import itertools
import json
import math
import re
import time
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any, Final

import pycountry
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.sandbox.base import ADMIN_PREFIX, SimulatorState, build_app

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

NAME: Final = "lago"
CUSTOMERS: Final = "/api/v1/customers"
RATE_LIMIT: Final = 50
"""Documented requests per second per organisation for most endpoints."""
DEFAULT_PER_PAGE: Final = 100
SLUG_PREFIX: Final = "LAG-5A1D"
"""The sandbox organisation's document number prefix (slugs are ``<prefix>-<seq:03d>``)."""
BILLING_ENTITY_CODE: Final = "sandbox"
"""The sandbox organisation's only (default) billing entity."""
PAYMENT_PROVIDERS: Final = ("stripe", "adyen", "gocardless")
"""Payment providers the OpenAPI document accepts in ``billing_configuration``."""
METADATA_MAX: Final = 5
METADATA_KEY_MAX: Final = 20
METADATA_VALUE_MAX: Final = 100

_TEXT_FIELDS: Final = (
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
_ADDRESS_FIELDS: Final = ("address_line1", "address_line2", "city", "zipcode", "state", "country")
_SEARCHED_FIELDS: Final = ("name", "firstname", "lastname", "legal_name", "external_id", "email")
_CUSTOMER_TYPES: Final = ("company", "individual")
_ZERO_AMOUNT_OPTIONS: Final = ("inherit", "skip", "finalize")
_ISSUING_ANCHORS: Final = ("current_period_end", "next_period_start")
_ISSUING_ADJUSTMENTS: Final = ("align_with_finalization_date", "keep_anchor")
_BILLING_NULLABLE: Final = frozenset(
    {
        "subscription_invoice_issuing_date_anchor",
        "subscription_invoice_issuing_date_adjustment",
        "provider_payment_methods",
    }
)
_BILLING_KEYS: Final = (
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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Errors = dict[str, list[str]]


class LagoNotFound(Exception):
    """A referenced object does not exist: Lago's 404 with ``<resource>_not_found``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class LagoInvalid(ValueError):
    """Validation failed: Lago's 422 ``validation_errors`` with per-field error codes."""

    def __init__(self, details: Errors) -> None:
        super().__init__(", ".join(f"{k}: {'/'.join(v)}" for k, v in details.items()))
        self.details = details


# --- the stored customer -------------------------------------------------------------------


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
        attrs: dict[str, Any] = dict.fromkeys(_TEXT_FIELDS)
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
            shipping=dict.fromkeys(_ADDRESS_FIELDS),
            billing=dict.fromkeys(_BILLING_KEYS),
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
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "finalize_zero_amount_invoice": a["finalize_zero_amount_invoice"],
            "skip_invoice_custom_sections": a["skip_invoice_custom_sections"],
            "billing_configuration": {
                key: value
                for key, value in self.billing.items()
                if value is not None or key in _BILLING_NULLABLE
            },
            "shipping_address": dict(self.shipping),
            "metadata": [
                {**item, "created_at": _iso(item["created_at"])} for item in self.metadata
            ],
            "integration_customers": [],
            "taxes": [],
            "applicable_invoice_custom_sections": [],
            "error_details": [],
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, fallback: datetime) -> datetime:
    if value is None:
        return fallback
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- input rules ---------------------------------------------------------------------------


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _valid_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def _valid_currency(code: str) -> bool:
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def _valid_email(value: str) -> bool:
    """Lago accepts one address or a comma-separated list of them."""
    return all(_EMAIL.match(part.strip()) for part in value.split(","))


def _scalar_text(value: Any) -> str | None:
    """Rails casts permitted scalars to a string column; ``None`` stays ``None``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _presence(value: str | None) -> str | None:
    """Lago normalises address fields: null bytes dropped, blank becomes ``None``."""
    return (value.replace("\x00", "") or None) if value is not None else None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _non_negative_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


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
        for name in _TEXT_FIELDS:
            if name not in self.params or not _is_scalar(self.params[name]):
                continue
            value = _scalar_text(self.params[name])
            if name in _ADDRESS_FIELDS:
                value = _presence(value)
            if name == "country" and value is not None:
                value = value.upper()
                if not _valid_country(value):
                    self.fail("country", "country_code_invalid")
            elif name == "currency" and value is not None and not _valid_currency(value):
                self.fail("currency", "value_is_invalid")
            elif name == "email" and value and not _valid_email(value):
                self.fail("email", "invalid_email_format")
            elif name == "timezone" and value is not None and value not in _timezones():
                self.fail("timezone", "invalid_timezone")
            elif name == "customer_type" and value is not None and value not in _CUSTOMER_TYPES:
                self.fail("customer_type", "value_is_invalid")
            attrs[name] = value

    def _apply_address(
        self, target: dict[str, str | None], source: Mapping[str, Any], country_field: str
    ) -> None:
        for name in _ADDRESS_FIELDS:
            if name not in source or not _is_scalar(source[name]):
                continue
            value = _presence(_scalar_text(source[name]))
            if name == "country" and value is not None:
                value = value.upper()
                if not _valid_country(value):
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
        if "document_locale" in source and _is_scalar(source["document_locale"]):
            billing["document_locale"] = _scalar_text(source["document_locale"])
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
        if "provider_customer_id" in source and _is_scalar(source["provider_customer_id"]):
            billing["provider_customer_id"] = _scalar_text(source["provider_customer_id"]) or None

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
            key = _scalar_text(raw.get("key")) if _is_scalar(raw.get("key")) else None
            value = _scalar_text(raw.get("value")) if _is_scalar(raw.get("value")) else None
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


# --- the store -----------------------------------------------------------------------------


@dataclass
class ListQuery:
    """``GET /customers`` filters and paging."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    search_term: str | None = None
    filters: list[Callable[[Customer], bool]] = field(default_factory=list)

    @classmethod
    def from_request(cls, request: Request) -> ListQuery:
        query = request.query_params
        out = cls(
            page=_positive_int(query.get("page"), 1),
            per_page=_positive_int(query.get("per_page"), DEFAULT_PER_PAGE),
            search_term=query.get("search_term") or None,
        )
        for param, attr in (
            ("countries[]", "country"),
            ("currencies[]", "currency"),
            ("states[]", "state"),
            ("zipcodes[]", "zipcode"),
        ):
            if wanted := query.getlist(param):
                out.filters.append(_one_of(attr, frozenset(wanted)))
        if customer_type := query.get("customer_type"):
            out.filters.append(_one_of("customer_type", frozenset({customer_type})))
        for param, attr in (
            ("has_customer_type", "customer_type"),
            ("has_tax_identification_number", "tax_identification_number"),
        ):
            if (flag := query.get(param)) in ("true", "false"):
                out.filters.append(_present(attr, flag == "true"))
        for key, value in query.multi_items():
            if match := re.fullmatch(r"metadata\[(.+)\]", key):
                out.filters.append(_metadata_filter(match.group(1), value))
        return out

    def matches(self, customer: Customer) -> bool:
        if self.search_term is not None:
            term = self.search_term.casefold()
            values = [
                customer.external_id if f == "external_id" else customer.attrs[f]
                for f in _SEARCHED_FIELDS
            ]
            if not any(isinstance(v, str) and term in v.casefold() for v in values):
                return False
        return all(check(customer) for check in self.filters)


def _one_of(attr: str, wanted: frozenset[str]) -> Callable[[Customer], bool]:
    return lambda c: c.attrs[attr] in wanted


def _present(attr: str, expected: bool) -> Callable[[Customer], bool]:
    return lambda c: bool(c.attrs[attr]) == expected


def _metadata_filter(key: str, value: str) -> Callable[[Customer], bool]:
    """``metadata[k]=v`` matches that pair; an empty value matches customers without ``k``."""
    if value == "":
        return lambda c: all(m["key"] != key for m in c.metadata)
    return lambda c: any(m["key"] == key and m["value"] == value for m in c.metadata)


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


def _sort_key(customer: Customer) -> tuple[datetime, str]:
    """What fixes a customer's list place (its external id is its key, also fixed)."""
    return customer.created_at, customer.lago_id


def _search_text(customer: Customer) -> str:
    """The fields ``search_term`` looks in, casefolded, joined by a NUL."""
    values = (
        customer.external_id if f == "external_id" else customer.attrs[f] for f in _SEARCHED_FIELDS
    )
    return _SEP.join(v.casefold() for v in values if isinstance(v, str))


_SEP: Final = "\x00"


class CustomerStore:
    """Customers by external id. Deleted customers are gone from the API (Lago discards them).

    The list order (newest first, then by ``lago_id``) is cached, and so is one casefolded text
    of every customer's searched fields in that order: a ``search_term`` is found in it with
    ``str.find`` and only the customers it lands in are checked. Writes go through
    :meth:`add`, :meth:`upsert` and :meth:`delete`, which keep both current.
    """

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.next_sequence = 1
        self._order: list[Customer] | None = None
        self._positions: dict[str, int] = {}
        self._texts: dict[str, str] = {}
        """Each customer's :func:`_search_text`, computed when first searched."""
        self._haystack: tuple[str, list[int]] | None = None
        """All texts in list order joined by NUL, and where each one starts."""

    def add(self, customer: Customer) -> None:
        if customer.external_id in self.customers:
            raise ValueError(f"duplicate Lago external_id {customer.external_id!r}")
        self.customers[customer.external_id] = customer
        self.next_sequence = max(self.next_sequence, customer.sequential_id + 1)
        self._changed(customer.external_id, moved=True)

    def _changed(self, external_id: str, *, moved: bool) -> None:
        """Drop what caches ``external_id``'s customer; ``moved``: its list place may differ."""
        self._texts.pop(external_id, None)
        self._haystack = None
        if moved:
            self._order = None
        elif self._order is not None:
            self._order[self._positions[external_id]] = self.customers[external_id]

    def ordered(self) -> Sequence[Customer]:
        """Every customer in list order (the cached list itself: read only)."""
        if self._order is None:
            order = sorted(self.customers.values(), key=lambda c: c.lago_id)
            order.sort(key=lambda c: c.created_at, reverse=True)
            self._positions = {c.external_id: i for i, c in enumerate(order)}
            self._order = order
        return self._order

    def containing(self, term: str) -> list[Customer]:
        """Customers (in list order) whose searched fields may hold ``term`` (casefolded).

        Every customer with a field holding it is included; a term spanning two fields can
        add others, so callers check each with :meth:`ListQuery.matches`.
        """
        order = self.ordered()
        if self._haystack is None:
            texts = []
            for customer in order:
                text = self._texts.get(customer.external_id)
                if text is None:
                    text = self._texts[customer.external_id] = _search_text(customer)
                texts.append(text)
            starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
            self._haystack = _SEP.join(texts), starts
        haystack, starts = self._haystack
        found: list[Customer] = []
        at = haystack.find(term)
        while at != -1:
            i = bisect.bisect_right(starts, at) - 1
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(haystack)
            if at + len(term) <= end:
                found.append(order[i])
            # Any later hit starting in this customer's text ends past it too, or is found.
            at = haystack.find(term, end + 1)
        return found

    def upsert(self, params: Mapping[str, Any]) -> Customer:
        """Create or update by ``external_id``; all-or-nothing, like Lago's transaction."""
        now = datetime.now(UTC)
        raw_id = params.get("external_id")
        external_id = _scalar_text(raw_id) if _is_scalar(raw_id) else None
        if external_id is not None and not external_id.strip():
            external_id = None
        current = self.customers.get(external_id) if external_id else None
        new = current is None
        draft = (
            Customer.blank(external_id or "", self.next_sequence, now)
            if current is None
            else copy.deepcopy(current)
        )
        rules = CustomerInput(params, now)
        if not external_id:
            rules.fail("external_id", "value_is_mandatory")
        try:
            rules.apply(draft, new=new)
        except LagoInvalid as exc:
            if not external_id and "external_id" not in exc.details:
                raise LagoInvalid({"external_id": ["value_is_mandatory"], **exc.details}) from exc
            raise
        if new:
            self.next_sequence += 1
        else:
            draft.updated_at = max(now, draft.updated_at)
        self.customers[draft.external_id] = draft
        moved = current is None or _sort_key(current) != _sort_key(draft)
        self._changed(draft.external_id, moved=moved)
        return draft

    def get(self, external_id: str) -> Customer:
        try:
            return self.customers[external_id]
        except KeyError:
            raise LagoNotFound("customer_not_found") from None

    def delete(self, external_id: str) -> Customer:
        customer = self.get(external_id)
        del self.customers[external_id]
        self._changed(external_id, moved=True)
        return customer

    def page(self, query: ListQuery) -> tuple[list[Customer], dict[str, Any]]:
        """One page, newest first then by id, and Lago's ``meta`` block."""
        if query.search_term is not None:
            candidates: Sequence[Customer] = self.containing(query.search_term.casefold())
        else:
            candidates = self.ordered()
        if query.search_term is None and not query.filters:
            matched = list(candidates)
        else:
            matched = [c for c in candidates if query.matches(c)]
        total = len(matched)
        if total == 0:
            return [], {
                "current_page": 0,
                "next_page": None,
                "prev_page": None,
                "total_pages": 0,
                "total_count": 0,
            }
        pages = math.ceil(total / query.per_page)
        page = query.page
        start = (page - 1) * query.per_page
        in_range = page <= pages
        return matched[start : start + query.per_page], {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 and in_range else None,
            "total_pages": pages,
            "total_count": total,
        }


# --- seeding -------------------------------------------------------------------------------


def _build_seed(record: Mapping[str, Any], sequential_id: int) -> Customer:
    """A stored customer from a (possibly minimal) customer object; ids and times are kept."""
    now = datetime.now(UTC)
    external_id = record.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise ValueError("a Lago customer needs a non-empty string external_id")
    seq = record.get("sequential_id", sequential_id)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError(f"sequential_id must be a positive integer, not {seq!r}")
    customer = Customer.blank(external_id, seq, now)
    if record.get("lago_id") is not None:
        customer.lago_id = str(uuid.UUID(str(record["lago_id"])))
    customer.created_at = _parse_time(record.get("created_at"), now)
    customer.updated_at = _parse_time(record.get("updated_at"), customer.created_at)
    # Seeds may come from another organisation: its billing entity is not checked here.
    params = {k: v for k, v in record.items() if k not in ("metadata", "billing_entity_code")}
    rules = CustomerInput(params, customer.created_at)
    rules.apply(customer, new=True)
    metadata = record.get("metadata") or []
    if not isinstance(metadata, list):
        raise ValueError("metadata must be a list of {key, value, display_in_invoice}")
    for item in metadata:
        if not isinstance(item, Mapping) or not item.get("key"):
            raise ValueError(f"bad metadata item {item!r}")
        customer.metadata.append(
            {
                "lago_id": str(item.get("lago_id") or uuid.uuid4()),
                "key": str(item["key"]),
                "value": str(item.get("value", "")),
                "display_in_invoice": item.get("display_in_invoice") is True,
                "created_at": _parse_time(item.get("created_at"), customer.created_at),
            }
        )
    return customer


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The full customer object a seed record stands for; ``ValueError`` if Lago would refuse it."""
    try:
        return _build_seed(record, 1).render()
    except LagoInvalid as exc:
        raise ValueError(f"invalid Lago customer: {exc}") from exc
    except LagoNotFound as exc:
        raise ValueError(f"invalid Lago customer: {exc.code}") from exc


# --- HTTP ----------------------------------------------------------------------------------


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Lago's error shape for a status (see lago-api ``api_errors.rb``)."""
    if status == 400:
        return {"status": 400, "error": f"BadRequest: {message or 'bad request'}"}
    if status == 401:
        return {"status": 401, "error": "Unauthorized"}
    if status == 404:
        return {"status": 404, "error": "Not Found", "code": message or "not_found"}
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"status": status, "error": phrase}


def error_response(status: int, message: str) -> Response:
    """For :func:`build_app`: injected faults, bad keys and unknown routes."""
    if status == 404:
        return JSONResponse(error_body(404, "not_found"), status_code=404)
    return JSONResponse(error_body(status, message), status_code=status)


def _invalid(details: Errors) -> Response:
    body = {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": details,
        "error_extra": {},
    }
    return JSONResponse(body, status_code=422)


def _not_found(code: str) -> Response:
    return JSONResponse(error_body(404, code), status_code=404)


def _bearer_authorized(request: Request, api_key: str) -> bool:
    """Lago takes ``Authorization: Bearer <key>`` only."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return False
    return hmac.compare_digest(value.strip().encode(), api_key.encode())


def _routes(store: CustomerStore) -> list[Route]:
    async def upsert(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse(error_body(400, "invalid JSON body"), status_code=400)
        params = body.get("customer") if isinstance(body, dict) else None
        if not isinstance(params, dict) or not params:
            message = "param is missing or the value is empty: customer"
            return JSONResponse(error_body(400, message), status_code=400)
        try:
            customer = store.upsert(params)
        except LagoInvalid as exc:
            return _invalid(exc.details)
        except LagoNotFound as exc:
            return _not_found(exc.code)
        return JSONResponse({"customer": customer.render()})

    async def index(request: Request) -> Response:
        customers, meta = store.page(ListQuery.from_request(request))
        return JSONResponse({"customers": [c.render() for c in customers], "meta": meta})

    async def one(request: Request) -> Response:
        external_id = request.path_params["external_customer_id"]
        try:
            if request.method == "DELETE":
                customer = store.delete(external_id)
            else:
                customer = store.get(external_id)
        except LagoNotFound as exc:
            return _not_found(exc.code)
        return JSONResponse({"customer": customer.render()})

    return [
        Route(CUSTOMERS, upsert, methods=["POST"]),
        Route(CUSTOMERS, index, methods=["GET"]),
        Route(f"{CUSTOMERS}/{{external_customer_id:path}}", one, methods=["GET", "DELETE"]),
    ]


class RateLimitHeaders:
    """Adds Lago's ``X-RateLimit-*`` headers to every API answer, injected 429s included.

    Counts requests in one-second windows against :data:`RATE_LIMIT` (reported, not enforced).
    On a 429 ``Remaining`` is 0 and ``Reset`` is ``Faults.retry_after`` rounded up; the shared
    fault layer's ``Retry-After`` is dropped because Lago signals the wait only this way.
    """

    def __init__(self, app: ASGIApp, state: SimulatorState, limit: int = RATE_LIMIT) -> None:
        self.app = app
        self.state = state
        self.limit = limit
        self._window = 0
        self._count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        now = time.time()
        window = math.floor(now)
        if window != self._window:
            self._window, self._count = window, 0
        self._count += 1
        remaining = max(0, self.limit - self._count)
        reset = max(0, math.ceil(window + 1 - now))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                limited = message["status"] == 429
                if limited and "retry-after" in headers:
                    del headers["retry-after"]
                wait = math.ceil(max(0.0, self.state.faults.retry_after))
                headers["X-RateLimit-Limit"] = str(self.limit)
                headers["X-RateLimit-Remaining"] = "0" if limited else str(remaining)
                headers["X-RateLimit-Reset"] = str(wait if limited else reset)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A Lago simulator holding ``records`` (customer objects, possibly minimal)."""
    state = SimulatorState(NAME, api_key)
    store = CustomerStore()
    for index, record in enumerate(records, start=1):
        try:
            customer = _build_seed(record, max(index, store.next_sequence))
        except (LagoInvalid, LagoNotFound) as exc:
            raise ValueError(f"invalid Lago seed record {index}: {exc}") from exc
        store.add(customer)
    app = build_app(
        state,
        _routes(store),
        error_response=error_response,
        is_authorized=_bearer_authorized,
    )
    app.state.lago_store = store
    app.add_middleware(RateLimitHeaders, state=state)
    return app
