"""Stripe customers simulator: the v1 customers API including search, over Stripe's wire format.

Shared conventions (form bodies, errors, idempotency, list cursors) live in
:mod:`gateway.providers.stripe_like.simulator`; this module adds Stripe's customer object,
its parameters, the ``created`` list filter and ``GET /v1/customers/search`` with Stripe's query
language and an index that lags writes by ``search_lag_seconds`` (Stripe: normally under a minute).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.providers.stripe_like.simulator import (
    JSON,
    ApiError,
    CustomerApi,
    CustomerStore,
    ErrorStyle,
    StoredCustomer,
    check_known,
    email_param,
    int_param,
    key_matches,
    merge_metadata,
    parse_limit,
    query_params,
    seed_customer,
    seed_store,
    string_param,
    unknown_parameter,
)
from gateway.sandbox.base import SimulatorState, build_app

SANDBOX_KEY: Final = "sk_test_sandbox"
"""The API key the simulator accepts unless told otherwise."""

STRIPE_ERRORS = ErrorStyle(
    doc_url=lambda code: (
        f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}" if code else None
    )
)

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
TAX_EXEMPT = ("none", "exempt", "reverse")
_MODELLED = frozenset(
    {
        "address",
        "balance",
        "description",
        "email",
        "invoice_prefix",
        "invoice_settings",
        "metadata",
        "name",
        "next_invoice_sequence",
        "phone",
        "preferred_locales",
        "shipping",
        "tax_exempt",
    }
)
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


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A seed customer completed with defaults; raises ``ValueError`` naming a bad field.

    ``{"id": ..., "deleted": true}`` seeds a deleted customer.
    """
    obj = seed_customer(
        record,
        provider="Stripe",
        defaults=default_customer,
        string_fields=("email", "name", "phone", "description", "currency"),
        balance_field="balance",
    )
    if obj.get("deleted"):
        return obj
    customer_id, created = obj["id"], obj["created"]
    if obj["address"] is not None:
        if not isinstance(obj["address"], dict):
            raise ValueError(f"{customer_id}: address must be an object or null")
        obj["address"] = {f: obj["address"].get(f) for f in ADDRESS_FIELDS}
    obj["invoice_settings"] = {
        **default_customer(customer_id, created)["invoice_settings"],
        **(obj["invoice_settings"] or {}),
    }
    return obj


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
        key: string_param(value, key, max_length=5000) if key in value else None
        for key in ADDRESS_FIELDS
    }


class StripeCustomers(CustomerApi):
    """Stripe's customer object and parameters on top of the shared customers resource."""

    create_params: ClassVar[frozenset[str]] = (
        _MODELLED | _ACCEPTED | {"payment_method", "tax_id_data", "test_clock"}
    )
    update_params: ClassVar[frozenset[str]] = _MODELLED | _ACCEPTED | {"default_source"}
    list_params: ClassVar[frozenset[str]] = CustomerApi.list_params | {"created", "test_clock"}

    def __init__(self, state: SimulatorState, store: CustomerStore, style: ErrorStyle) -> None:
        super().__init__(state, store, style)
        store.add_index(SEARCH_INDEX, search_keys, versions=True)

    def new_customer(self, customer_id: str, created: int, params: Mapping[str, Any]) -> JSON:
        obj = default_customer(customer_id, created)
        self.apply_params(obj, params)
        return obj

    def apply_params(self, obj: JSON, params: Mapping[str, Any]) -> None:
        for name in ("description", "name", "phone"):
            if name in params:
                obj[name] = string_param(params, name, max_length=5000 if name != "name" else 256)
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
        bounds = _created_bounds(params["created"])
        return lambda obj: all(test(int(obj.get("created") or 0)) for test in bounds)

    def routes(self) -> list[BaseRoute]:
        search = Route("/v1/customers/search", self._guard(self.search_customers), methods=["GET"])
        return [search, *super().routes()]

    async def search_customers(self, request: Request) -> Response:
        params = query_params(request)
        check_known(params, {"query", "limit", "page", "expand"})
        if not params.get("query"):
            raise ApiError(400, "Missing required param: query.", param="query")
        text = string_param(params, "query") or ""
        query = parse_query(text)
        limit = parse_limit(params)
        after = decode_page(params["page"], text) if params.get("page") else None
        # An indexable query narrows the records to check; the check itself is the same.
        keys = query.index_keys()
        candidates = None if keys is None else self.store.lookup(SEARCH_INDEX, keys)
        matching = [(r, obj) for r, obj in self.store.searchable(candidates) if query.matches(obj)]
        hits = [(r, obj) for r, obj in matching if after is None or r.sort_key() > after]
        page = hits[:limit]
        has_more = len(hits) > limit
        body: JSON = {
            "object": "search_result",
            "url": "/v1/customers/search",
            "has_more": has_more,
            "data": [obj for _, obj in page],
            "next_page": encode_page(page[-1][0], text) if has_more else None,
        }
        expand = params.get("expand", [])
        if isinstance(expand, list) and "total_count" in expand:
            body["total_count"] = len(matching)
        return self.json(body)


def _shipping(value: Any) -> JSON | None:
    if value == "":
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: shipping must be a hash.", param="shipping")
    for key in value:
        if key not in ("address", "name", "phone"):
            raise unknown_parameter(f"shipping[{key}]")
    if not value.get("name"):
        raise ApiError(400, "Missing required param: shipping[name].", param="shipping[name]")
    return {
        "address": address_param(value.get("address", ""), "shipping[address]"),
        "name": string_param(value, "name"),
        "phone": string_param(value, "phone") if "phone" in value else None,
    }


def _invoice_settings(current: Mapping[str, Any], value: Any) -> JSON:
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: invoice_settings must be a hash.")
    merged = dict(current)
    for key, item in value.items():
        if key not in merged:
            raise unknown_parameter(f"invoice_settings[{key}]")
        merged[key] = None if item == "" else item
    return merged


_COMPARATORS: Mapping[str, Callable[[int, int], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _compare_to(compare: Callable[[int, int], bool], bound: int, value: int) -> bool:
    return compare(value, bound)


def _created_bounds(value: Any) -> list[Callable[[int], bool]]:
    """``created=N`` or ``created[gt|gte|lt|lte]=N`` as predicates on a timestamp."""
    if isinstance(value, str):
        exact = int_param({"created": value}, "created")
        return [lambda c: c == exact]
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid created: must be an integer or a hash.", param="created")
    tests: list[Callable[[int], bool]] = []
    for op, raw in value.items():
        if op not in _COMPARATORS:
            raise unknown_parameter(f"created[{op}]")
        bound = int_param({op: raw}, op)
        compare = _COMPARATORS[op]
        tests.append(functools.partial(_compare_to, compare, bound))
    return tests


# -- search query language -----------------------------------------------------------------

SEARCH_FIELDS = ("created", "email", "metadata", "name", "phone")
SEARCH_INDEX = "search"
SearchKey = tuple[str, ...]
"""``("email", casefolded email)`` or ``("metadata", key, value)``."""


def search_keys(obj: Mapping[str, Any]) -> list[SearchKey]:
    """The index keys of one searchable version: its email (casefolded) and metadata pairs."""
    keys: list[SearchKey] = []
    email = obj.get("email")
    if email is not None:
        keys.append(("email", str(email).casefold()))
    metadata = obj.get("metadata") or {}
    if isinstance(metadata, Mapping):
        keys.extend(("metadata", k, v) for k, v in metadata.items() if isinstance(v, str))
    return keys


MAX_CLAUSES = 10
_NUMERIC_OPS = (">=", "<=", ">", "<", ":")


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``[-]field<op>value`` term; ``value`` None is the ``null`` keyword."""

    field: str
    key: str | None
    op: str
    value: str | int | None
    negated: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return self._test(obj) != self.negated

    def index_key(self) -> SearchKey | None:
        """The :func:`search_keys` key of every object this clause matches, if there is one.

        Only plain exact matches have one: ``email:'x'`` (case-insensitive, like :meth:`_test`)
        and ``metadata['k']:'v'``; negations, ``null``, ``~`` and numbers do not.
        """
        if self.negated or self.op != ":" or not isinstance(self.value, str):
            return None
        if self.field == "email":
            return ("email", self.value.casefold())
        if self.field == "metadata" and self.key is not None:
            return ("metadata", self.key, self.value)
        return None

    def _test(self, obj: Mapping[str, Any]) -> bool:
        if self.field == "metadata":
            actual = (obj.get("metadata") or {}).get(self.key)
        else:
            actual = obj.get(self.field)
        if self.value is None:
            return actual is None
        if actual is None:
            return False
        if isinstance(self.value, int):
            number = int(actual)
            return {
                ":": number == self.value,
                ">": number > self.value,
                "<": number < self.value,
                ">=": number >= self.value,
                "<=": number <= self.value,
            }[self.op]
        if self.op == "~":
            return self.value.casefold() in str(actual).casefold()
        if self.field in ("email", "name"):
            # Exact matches on email and name ignore case (emails are compared case-insensitively).
            return str(actual).casefold() == self.value.casefold()
        return bool(actual == self.value)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    clauses: tuple[Clause, ...]
    any_of: bool
    """True when clauses are joined by OR, False for AND (explicit or a space)."""

    def matches(self, obj: Mapping[str, Any]) -> bool:
        results = (clause.matches(obj) for clause in self.clauses)
        return any(results) if self.any_of else all(results)

    def index_keys(self) -> list[SearchKey] | None:
        """Keys whose indexed records include every match, or None when only a scan will do.

        OR needs a key for every clause (the union covers each clause's matches); AND needs one
        clause's key. Candidates are still checked with :meth:`matches`, so results, their
        order and the search lag are the scan's.
        """
        keys = [clause.index_key() for clause in self.clauses]
        known = [key for key in keys if key is not None]
        if self.any_of and len(known) < len(keys):
            return None
        return (known if self.any_of else known[:1]) or None


def _query_error(message: str) -> ApiError:
    return ApiError(400, message, param="query")


class _Parser:
    """Recursive descent over Stripe's search grammar (no parentheses, one kind of join)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ApiError:
        return _query_error(
            f"We were unable to parse your search query: {what} at position {self.pos}. Try "
            "the format `field:'value'`, or `metadata['key']:'value'` for metadata."
        )

    def skip_space(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.pos > start

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def parse(self) -> SearchQuery:
        self.skip_space()
        if self.at_end():
            raise _query_error("The search query is empty.")
        clauses = [self.clause()]
        joins: set[str] = set()
        while True:
            spaced = self.skip_space()
            if self.at_end():
                break
            if not spaced:
                raise self.fail("expected a space, AND or OR between clauses")
            keyword = re.match(r"(and|or)\s+", self.text[self.pos :], re.IGNORECASE)
            if keyword:
                joins.add(keyword.group(1).lower())
                self.pos += keyword.end()
            else:
                joins.add("and")
            clauses.append(self.clause())
        if len(joins) > 1:
            raise _query_error(
                "AND and OR cannot be combined in one search query (and parentheses are not "
                "supported)."
            )
        if len(clauses) > MAX_CLAUSES:
            raise _query_error(
                f"A search query can have at most {MAX_CLAUSES} clauses; this one has "
                f"{len(clauses)}."
            )
        return SearchQuery(tuple(clauses), any_of=joins == {"or"})

    def clause(self) -> Clause:
        negated = self.text.startswith("-", self.pos)
        if negated:
            self.pos += 1
        if self.text.startswith("(", self.pos):
            raise _query_error("Parentheses are not supported in search queries.")
        name = re.match(r"[A-Za-z_][A-Za-z0-9_.]*", self.text[self.pos :])
        if not name:
            raise self.fail("expected a field name")
        self.pos += name.end()
        field = name.group(0)
        key = None
        if field == "metadata":
            if not self.text.startswith("[", self.pos):
                raise self.fail("expected ['key'] after metadata")
            self.pos += 1
            key = self.quoted()
            if not self.text.startswith("]", self.pos):
                raise self.fail("expected ]")
            self.pos += 1
        op = re.match(r">=|<=|:|~|>|<", self.text[self.pos :])
        if not op:
            raise self.fail("expected an operator (:, ~, >, <, >=, <=)")
        self.pos += op.end()
        value, quoted = self.value()
        return _validated(field, key, op.group(0), value, quoted, negated)

    def value(self) -> tuple[str, bool]:
        if self.text[self.pos : self.pos + 1] in ("'", '"'):
            return self.quoted(), True
        bare = re.match(r"[^\s()]+", self.text[self.pos :])
        if not bare:
            raise self.fail("expected a value")
        self.pos += bare.end()
        return bare.group(0), False

    def quoted(self) -> str:
        quote = self.text[self.pos : self.pos + 1]
        if quote not in ("'", '"'):
            raise self.fail("expected a quoted string")
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")


def _validated(
    field: str, key: str | None, op: str, raw: str, quoted: bool, negated: bool
) -> Clause:
    if field not in SEARCH_FIELDS:
        raise _query_error(
            f"Field `{field}` is not supported for customer search; use one of "
            f"{', '.join(SEARCH_FIELDS)}."
        )
    value: str | int | None
    if not quoted and raw == "null":
        if op != ":":
            raise _query_error(f"`null` can only be used with `:` (field `{field}`).")
        value = None
    elif field == "created":
        if op not in _NUMERIC_OPS or not re.fullmatch(r"-?\d+", raw):
            raise _query_error("`created` takes an integer timestamp with :, >, <, >= or <=.")
        value = int(raw)
    else:
        if not quoted:
            raise _query_error(f"String values must be quoted (field `{field}`).")
        if op == "~":
            if field not in ("email", "name"):
                raise _query_error(f"Substring matching (~) is not supported for `{field}`.")
            if len(raw) < 3:
                raise _query_error("Substring (~) values must be at least 3 characters long.")
        elif op != ":":
            raise _query_error(f"Numeric comparators cannot be used with `{field}`.")
        value = raw
    return Clause(field, key, op, value, negated)


def parse_query(text: str) -> SearchQuery:
    """Parse a customer search query or raise a 400 :class:`ApiError` explaining why not."""
    return _Parser(text).parse()


def _query_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page(last: StoredCustomer, text: str) -> str:
    """An opaque ``next_page`` token: the query's digest and the last result's sort position."""
    payload = json.dumps({"q": _query_digest(text), "k": list(last.sort_key())})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page(token: Any, text: str) -> tuple[int, int]:
    def invalid() -> ApiError:
        return ApiError(400, "Invalid page: the token does not belong to this query.", param="page")

    if not isinstance(token, str):
        raise invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key = payload["k"]
        if payload["q"] != _query_digest(text) or len(key) != 2:
            raise invalid()
        return int(key[0]), int(key[1])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid() from None


def create_app(
    records: Sequence[Mapping[str, Any]] = (),
    *,
    api_key: str = SANDBOX_KEY,
    search_lag_seconds: float = 0.0,
) -> Starlette:
    """A Stripe simulator seeded with ``records`` (Stripe customer objects, possibly partial).

    ``search_lag_seconds`` delays search visibility of writes, like Stripe's index; it can be
    changed later through ``customer_api(app).store.search_lag_seconds``.
    """
    state = SimulatorState("stripe", api_key)
    store = CustomerStore()
    store.search_lag_seconds = search_lag_seconds
    seed_store(store, records, seed_record)
    api = StripeCustomers(state, store, STRIPE_ERRORS)
    app = build_app(
        state, api.routes(), error_response=STRIPE_ERRORS.responder(), is_authorized=key_matches
    )
    app.state.customers = api
    return app
