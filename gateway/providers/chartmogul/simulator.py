"""ChartMogul API v1 customers simulator: the wire protocol the official SDKs speak.

Facts come from /work/shared/reference/providers.md §2, the seed document and the recorded real
responses in chartmogul-ruby's VCR cassettes. Where no source shows the real answer the choice is
marked "inferred" in the handler's docstring.

- Auth: HTTP Basic, the API key as username, password empty or the key. Anything else is a 401
  ``{"code":401,"message":"No valid API key provided"}``.
- Errors: ``{"code","message","param"?}`` for request and lookup errors (as recorded for a
  search without matches), ``{"errors":{field: message}}`` with 422 for validation (the shape
  chartmogul-go decodes into ``Customer.Errors``).
- Lists: ``{"entries","has_more","cursor"}`` plus the deprecated ``per_page``, ``page``,
  ``current_page`` and ``total_pages``; the cursor is opaque (base64 of the last id), entries are
  ordered by id.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import functools
import hmac
import itertools
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pycountry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.sandbox.base import SimulatorState, build_app

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

DEFAULT_DATA_SOURCE_UUID: Final = "ds_00000000-0000-4000-8000-000000000001"
"""The Import API data source every simulator has, so creates work without seeding one."""
IMPORT_API: Final = "Import API"
MAX_PER_PAGE: Final = 200

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CUSTOMER_UUID_RE: Final = re.compile(rf"cus_{_UUID}")
DATA_SOURCE_UUID_RE: Final = re.compile(rf"ds_{_UUID}")

_CURRENCY_SIGNS: Final = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_STRING_FIELDS: Final = (
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
_NOT_BLANK: Final = ("data_source_uuid", "external_id", "name")

# Generated ids continue ChartMogul's integer sequence; a process-wide counter keeps them unique
# across simulators and the dataset checker.
_IDS = itertools.count(133_000_001)


class ApiError(Exception):
    """A ChartMogul error answer: raised inside handlers, rendered by :func:`_answers_errors`."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body


def api_error(status: int, message: str, param: str | None = None) -> ApiError:
    body: dict[str, Any] = {"code": status, "message": message}
    if param is not None:
        body["param"] = param
    return ApiError(status, body)


def validation_error(errors: Mapping[str, str]) -> ApiError:
    return ApiError(422, {"errors": dict(errors)})


def not_found() -> ApiError:
    """Unknown customer uuid (the exact real text is unconfirmed; inferred)."""
    return api_error(404, "Customer not found")


def new_customer_uuid() -> str:
    return f"cus_{uuid.uuid4()}"


# --------------------------------------------------------------------------- record shape


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


def _address(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "address_zip": record.get("zip"),
        "city": record.get("city"),
        "state": _state_name(record.get("country"), record.get("state")),
        "country": _country_name(record.get("country")),
    }


def _chartmogul_url(customer_id: int, name: str) -> str:
    slug = re.sub(r"\W+", "_", name).strip("_") or "Customer"
    return f"https://app.chartmogul.com/#/customers/{customer_id}-{slug}"


def _billing_system_url(system: str, external_id: str) -> str | None:
    if system == "Stripe" and external_id.startswith("cus_"):
        return f"https://dashboard.stripe.com/customers/{external_id}"
    return None


def custom_attributes(value: Any, *, field: str = "attributes.custom") -> dict[str, Any]:
    """Requests send ``custom`` as ``[{type,key,value,source}]``; responses hold a key map."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list) and all(
        isinstance(item, Mapping) and isinstance(item.get("key"), str) for item in value
    ):
        return {item["key"]: item.get("value") for item in value}
    raise ValueError(f"{field} must be a list of {{type, key, value, source}} objects")


def _attributes(value: Any) -> dict[str, Any]:
    given = dict(value) if isinstance(value, Mapping) else {}
    tags = given.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("attributes.tags must be a list of strings")
    return {
        "tags": list(tags),
        "custom": custom_attributes(given.get("custom")),
        "stripe": dict(given.get("stripe") or {}),
        "clearbit": dict(given.get("clearbit") or {}),
    }


def _check_seed(data: Mapping[str, Any]) -> None:
    """Reject seed values the API could never have returned, naming the field."""
    if "id" in data and (not isinstance(data["id"], int) or isinstance(data["id"], bool)):
        raise ValueError("id must be an integer")
    if data.get("uuid") is not None and not CUSTOMER_UUID_RE.fullmatch(str(data["uuid"])):
        raise ValueError(f"uuid must look like cus_<uuid>, not {data['uuid']!r}")
    for ds in [data.get("data_source_uuid"), *(data.get("data_source_uuids") or [])]:
        if ds is not None and not DATA_SOURCE_UUID_RE.fullmatch(str(ds)):
            raise ValueError(f"data source uuids must look like ds_<uuid>, not {ds!r}")
    for key in ("mrr", "arr"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ValueError(f"{key} must be an integer number of cents")
    for key in (*_STRING_FIELDS, "external_id", "status", "customer-since", "currency"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{key} must be a string or null")
    for key in ("external_ids", "data_source_uuids"):
        values = data.get(key)
        if values is not None and (
            not isinstance(values, list) or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError(f"{key} must be a list of strings")


def _with_first(values: Iterable[str], first: str) -> list[str]:
    """``first`` then the other values, without duplicates, order kept."""
    return list(dict.fromkeys([first, *values]))


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A full ChartMogul customer object from a possibly minimal one; given values are kept.

    Raises ``ValueError`` naming the field when a value has the wrong type or id shape.
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
        "attributes": _attributes(data.get("attributes")),
        "mrr": mrr,
        "arr": arr,
        "billing-system-type": system,
        "billing-system-url": data.get("billing-system-url")
        or _billing_system_url(system, external_id),
        "chartmogul-url": data.get("chartmogul-url") or _chartmogul_url(customer_id, name),
        "currency": currency,
        "currency-sign": data.get("currency-sign") or _CURRENCY_SIGNS.get(currency, currency),
        "owner": data.get("owner"),
        "website_url": data.get("website_url"),
    }
    given_address = data.get("address")
    out["address"] = dict(given_address) if isinstance(given_address, Mapping) else _address(out)
    return out


# --------------------------------------------------------------------------- store


@dataclass(frozen=True, slots=True)
class DataSource:
    uuid: str
    name: str
    system: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "created_at": self.created_at,
            "status": "idle",
            "system": self.system,
        }


class _KeyIndex:
    """Customer uuids by the keys a record yields, kept current by the store on every write."""

    __slots__ = ("keys", "keys_of", "uuids")

    def __init__(self, keys_of: Callable[[Mapping[str, Any]], Iterable[str]]) -> None:
        self.keys_of = keys_of
        self.uuids: dict[str, set[str]] = {}
        self.keys: dict[str, frozenset[str]] = {}

    def put(self, customer_uuid: str, record: Mapping[str, Any] | None) -> None:
        """Index ``record`` under ``customer_uuid`` (``None``: the uuid is gone)."""
        keys = frozenset(self.keys_of(record)) if record is not None else frozenset()
        old = self.keys.pop(customer_uuid, frozenset())
        for key in old - keys:
            uuids = self.uuids[key]
            uuids.discard(customer_uuid)
            if not uuids:
                del self.uuids[key]
        for key in keys - old:
            self.uuids.setdefault(key, set()).add(customer_uuid)
        if keys:
            self.keys[customer_uuid] = keys

    def get(self, key: str) -> set[str]:
        return self.uuids.get(key, set())


def email_key(email: str) -> str:
    """How search compares emails: trimmed and case-insensitive."""
    return email.strip().casefold()


class CustomerStore:
    """Customers by uuid plus the data sources they belong to.

    Lookups by email and external id use indexes, and lists a cached id order; the store keeps
    them current on every write, so change customers through its methods only.
    """

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.customers: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, DataSource] = {}
        self._by_email = _KeyIndex(lambda r: [email_key(r["email"])])
        self._by_external_id = _KeyIndex(lambda r: r["external_ids"])
        self._order: list[dict[str, Any]] | None = None
        self._positions: dict[str, int] = {}
        self._rank: dict[str, int] = {}
        """Insertion order of ``customers``' keys (a replaced record keeps its place)."""
        self._ranks = itertools.count()
        self._register(DEFAULT_DATA_SOURCE_UUID, IMPORT_API)
        for raw in records:
            record = seed_record(raw)
            for ds in record["data_source_uuids"]:
                self._register(ds, record["billing-system-type"])
            self._put(record)

    def _put(self, record: dict[str, Any]) -> None:
        """Store (or replace) ``record`` under its uuid and index it."""
        self._rank.setdefault(record["uuid"], next(self._ranks))
        self.customers[record["uuid"]] = record
        self._reindex(record)
        self._order = None

    def _reindex(self, record: dict[str, Any]) -> None:
        """After a change to ``record``'s email or external ids."""
        self._by_email.put(record["uuid"], record)
        self._by_external_id.put(record["uuid"], record)

    def _remove(self, customer_uuid: str) -> None:
        del self.customers[customer_uuid]
        del self._rank[customer_uuid]
        self._by_email.put(customer_uuid, None)
        self._by_external_id.put(customer_uuid, None)
        self._order = None

    def _register(self, ds_uuid: str, system: str) -> None:
        if ds_uuid not in self.data_sources:
            name = IMPORT_API if system == IMPORT_API else f"{system} data source"
            self.data_sources[ds_uuid] = DataSource(ds_uuid, name, system, self.created_at)

    def get(self, customer_uuid: str) -> dict[str, Any]:
        record = self.customers.get(customer_uuid)
        if record is None:
            raise not_found()
        return record

    def ordered(self) -> list[dict[str, Any]]:
        """Every customer by id (a copy of the cached order)."""
        return list(self.in_order())

    def in_order(self) -> Sequence[dict[str, Any]]:
        """The cached order by id itself (read only; rebuilt after a create, delete or merge)."""
        if self._order is None:
            self._order = sorted(self.customers.values(), key=lambda r: r["id"])
            self._positions = {r["uuid"]: i for i, r in enumerate(self._order)}
        return self._order

    def _in_order(self, uuids: Iterable[str]) -> list[dict[str, Any]]:
        """The customers ``uuids`` name, in :meth:`in_order`'s order."""
        self.in_order()
        return [self.customers[u] for u in sorted(uuids, key=self._positions.__getitem__)]

    def with_email(self, email: str) -> list[dict[str, Any]]:
        """Customers whose email matches ``email`` as search compares them, by id."""
        return self._in_order(self._by_email.get(email_key(email)))

    def with_external_id(self, external_id: str) -> list[dict[str, Any]]:
        """Customers holding ``external_id`` (merged ones included), by id."""
        return self._in_order(self._by_external_id.get(external_id))

    def find(self, data_source_uuid: str, external_id: str) -> dict[str, Any] | None:
        found = [
            u
            for u in self._by_external_id.get(external_id)
            if data_source_uuid in self.customers[u]["data_source_uuids"]
        ]
        # The first in insertion order, as a scan of ``customers`` finds it.
        return self.customers[min(found, key=self._rank.__getitem__)] if found else None

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /customers``; blank required fields and duplicates answer 422."""
        errors = {key: "can't be blank" for key in _NOT_BLANK if not body.get(key)}
        errors.update(_type_errors(body, ("data_source_uuid", "external_id", *_STRING_FIELDS)))
        if errors:
            raise validation_error(errors)
        source = self.data_sources.get(body["data_source_uuid"])
        if source is None:
            raise validation_error({"data_source_uuid": "Data source not found"})
        if self.find(source.uuid, body["external_id"]) is not None:
            raise validation_error(
                {"external_id": "The external ID for this customer already exists in our system."}
            )
        try:
            attributes = _attributes(body.get("attributes"))
        except ValueError as exc:
            raise validation_error({"attributes": str(exc)}) from None
        fields = {key: body.get(key) for key in _STRING_FIELDS if key in body}
        record = seed_record(
            {
                **fields,
                "data_source_uuid": source.uuid,
                "external_id": body["external_id"],
                "status": "New Lead",
                "attributes": attributes,
                "billing-system-type": source.system,
            }
        )
        self._put(record)
        return record

    def update(self, customer_uuid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH``/``PUT``: given fields change, tags are replaced, custom keys merged."""
        record = self.get(customer_uuid)
        errors = _type_errors(body, _STRING_FIELDS)
        if "name" in body and not body["name"]:
            errors["name"] = "can't be blank"
        attributes = body.get("attributes")
        if attributes is not None and not isinstance(attributes, Mapping):
            errors["attributes"] = "must be an object"
        if errors:
            raise validation_error(errors)
        changes = {key: body[key] for key in _STRING_FIELDS if key in body}
        for key in ("name", "email", "company"):  # these are never null in responses
            if key in changes and changes[key] is None:
                changes[key] = ""
        given = dict(attributes or {})
        try:
            custom = custom_attributes(given.get("custom"))
            tags = _attributes({"tags": given["tags"]})["tags"] if "tags" in given else None
        except ValueError as exc:
            raise validation_error({"attributes": str(exc)}) from None
        record["attributes"]["custom"].update(custom)
        if tags is not None:
            record["attributes"]["tags"] = tags
        record.update(changes)
        self._reindex(record)
        record["address"] = _address(record)
        record["chartmogul-url"] = _chartmogul_url(record["id"], record["name"])
        return record

    def delete(self, customer_uuid: str) -> None:
        """Only Import API customers can be deleted (docs); the 422 status is inferred."""
        record = self.get(customer_uuid)
        if record["billing-system-type"] != IMPORT_API:
            raise api_error(
                422,
                f"Customer {customer_uuid} comes from a {record['billing-system-type']} data "
                "source; only customers imported through the Import API can be deleted.",
                "customer_uuid",
            )
        self._remove(customer_uuid)

    def resolve(self, ref: Any, param: str) -> dict[str, Any]:
        """A merge side: ``{customer_uuid}`` or ``{data_source_uuid, external_id}``."""
        if not isinstance(ref, Mapping):
            raise api_error(400, f'Parameter "{param}" must be an object', param)
        if isinstance(ref.get("customer_uuid"), str):
            record = self.customers.get(ref["customer_uuid"])
        elif isinstance(ref.get("data_source_uuid"), str) and isinstance(
            ref.get("external_id"), str
        ):
            record = self.find(ref["data_source_uuid"], ref["external_id"])
        else:
            raise api_error(
                400,
                f'Parameter "{param}" needs customer_uuid or data_source_uuid and external_id',
                param,
            )
        if record is None:
            raise api_error(404, "Customer not found", param)
        return record

    def merge(self, body: Mapping[str, Any]) -> None:
        """Folds ``from`` into ``into``: ids and sources unioned, MRR summed, ``from`` removed."""
        source = self.resolve(body.get("from"), "from")
        target = self.resolve(body.get("into"), "into")
        if source is target:
            raise api_error(422, "A customer cannot be merged into itself", "into")
        for key in ("external_ids", "data_source_uuids"):
            target[key] = list(dict.fromkeys(target[key] + source[key]))
        target["mrr"] += source["mrr"]
        target["arr"] += source["arr"]
        attributes = target["attributes"]
        attributes["tags"] = list(dict.fromkeys(attributes["tags"] + source["attributes"]["tags"]))
        attributes["custom"] = {**source["attributes"]["custom"], **attributes["custom"]}
        self._remove(source["uuid"])
        self._reindex(target)


def _type_errors(body: Mapping[str, Any], keys: Iterable[str]) -> dict[str, str]:
    return {
        key: "must be a string"
        for key in keys
        if body.get(key) is not None and not isinstance(body[key], str)
    }


# --------------------------------------------------------------------------- paging


def encode_cursor(last_id: int) -> str:
    return base64.b64encode(f"id:{last_id}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        if text.startswith("id:"):
            return int(text[3:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise api_error(400, 'Parameter "cursor" is invalid', "cursor")


def _per_page(request: Request) -> int:
    raw = request.query_params.get("per_page")
    if raw is None:
        return MAX_PER_PAGE
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PER_PAGE:
        raise api_error(
            400, f'Parameter "per_page" must be between 1 and {MAX_PER_PAGE}', "per_page"
        )
    return value


def page_body(request: Request, records: list[dict[str, Any]]) -> dict[str, Any]:
    """One cursor page of ``records`` (ordered by id) in the list/search envelope."""
    if "page" in request.query_params:
        raise api_error(400, 'Parameter "page" is deprecated', "page")
    per_page = _per_page(request)
    cursor = request.query_params.get("cursor")
    start = 0
    if cursor:
        last_id = _decode_cursor(cursor)
        start = bisect.bisect_right(records, last_id, key=lambda r: r["id"])
    entries = records[start : start + per_page]
    has_more = start + per_page < len(records)
    current_page = start // per_page + 1
    return {
        "entries": entries,
        "has_more": has_more,
        "cursor": encode_cursor(entries[-1]["id"]) if has_more and entries else None,
        "per_page": per_page,
        "page": current_page,
        "current_page": current_page,
        "total_pages": max(1, math.ceil(len(records) / per_page)),
    }


# --------------------------------------------------------------------------- HTTP


_MESSAGES: Final = {
    401: "No valid API key provided",
    429: "Your request rate has exceeded our rate limit.",
}


def error_response(status: int, message: str) -> Response:
    """ChartMogul's ``{"code","message"}`` error body (used for auth, faults and routing)."""
    return JSONResponse({"code": status, "message": _MESSAGES.get(status, message)}, status)


def is_authorized(request: Request, api_key: str) -> bool:
    """Basic auth with the key as username and an empty (or the same) password; no Bearer."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, _, password = decoded.partition(":")
    return hmac.compare_digest(username, api_key) and password in ("", username)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise api_error(400, "The request body must be a JSON object")
    return body


Handler = Callable[[Request], Awaitable[Response]]


def _answers_errors(handler: Handler) -> Handler:
    """Renders an :class:`ApiError` raised by ``handler`` as ChartMogul's error answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return JSONResponse(exc.body, exc.status)

    return wrapped


_FILTERS: Final = ("data_source_uuid", "external_id", "status", "system")


def _matches(record: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """The list filters; ``external_id`` and ``data_source_uuid`` also match merged records."""
    checks = (
        ("data_source_uuid", record["data_source_uuids"]),
        ("external_id", record["external_ids"]),
        ("status", [record["status"]]),
        ("system", [record["billing-system-type"]]),
    )
    return all(query[param] in values for param, values in checks if param in query)


def _routes(store: CustomerStore) -> list[Route]:
    @_answers_errors
    async def list_customers(request: Request) -> Response:
        query = {k: request.query_params[k] for k in _FILTERS if k in request.query_params}
        if "external_id" in query:
            candidates: Sequence[dict[str, Any]] = store.with_external_id(query["external_id"])
        else:
            candidates = store.in_order()
        records = [r for r in candidates if _matches(r, query)] if query else list(candidates)
        return JSONResponse(page_body(request, records))

    @_answers_errors
    async def search(request: Request) -> Response:
        """Case-insensitive email match ignoring surrounding whitespace (an assumption: emails
        imported with stray spaces are common and the real search is not documented either
        way); no match is a 404, as recorded from the API."""
        email = request.query_params.get("email")
        if not email:
            raise api_error(400, 'Parameter "email" is missing', "email")
        records = store.with_email(email)
        if not records:
            raise api_error(404, f'Can\'t find any customers with email: "{email}"', "email")
        return JSONResponse(page_body(request, records))

    @_answers_errors
    async def create(request: Request) -> Response:
        return JSONResponse(store.create(await _json_body(request)), 201)

    @_answers_errors
    async def customer(request: Request) -> Response:
        customer_uuid = request.path_params["uuid"]
        if request.method == "GET":
            return JSONResponse(store.get(customer_uuid))
        if request.method == "DELETE":
            store.delete(customer_uuid)
            return Response(status_code=204)
        return JSONResponse(store.update(customer_uuid, await _json_body(request)))

    @_answers_errors
    async def merge(request: Request) -> Response:
        """202 with ``{}``: the real API's recorded answer (providers.md says an empty body)."""
        store.merge(await _json_body(request))
        return JSONResponse({}, 202)

    async def data_sources(request: Request) -> Response:
        return JSONResponse({"data_sources": [d.to_json() for d in store.data_sources.values()]})

    return [
        Route("/v1/customers", list_customers, methods=["GET"]),
        Route("/v1/customers", create, methods=["POST"]),
        Route("/v1/customers/search", search, methods=["GET"]),
        Route("/v1/customers/merges", merge, methods=["POST"]),
        Route("/v1/customers/{uuid}", customer, methods=["GET", "PATCH", "PUT", "DELETE"]),
        Route("/v1/data_sources", data_sources, methods=["GET"]),
    ]


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A ChartMogul simulator seeded with ``records`` (customer objects, possibly minimal)."""
    state = SimulatorState("chartmogul", api_key)
    store = CustomerStore(records)
    app = build_app(
        state, _routes(store), error_response=error_response, is_authorized=is_authorized
    )
    app.state.chartmogul = store
    return app
