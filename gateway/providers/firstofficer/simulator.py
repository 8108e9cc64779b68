"""FirstOfficer API v2 simulator: the customer endpoints under ``/v2``.

Follows apidocs.firstofficer.io (see /work/shared/seeds/000 and providers.md §4):

- Auth: ``Authorization: Token token="KEY"`` or HTTP Basic with the key as the username.
- Requests are form-encoded, responses JSON; errors are
  ``{"error":{"type":"invalid_request_error","message":…,"param"?:…}}``.
- ``GET /v2/customers/<id>`` resolves ``<id>`` by its shape: digits -> FirstOfficer id,
  ``cus_…`` -> Stripe id, contains ``@`` -> email (trimmed, case-insensitive), else extra_id.
- ``PUT /v2/customers/<id>`` changes ``extra_id``/``email``/``name``; omitted params stay, an
  empty ``extra_id`` (or ``name``) clears it.
- ``POST /v2/customers`` needs a unique ``email``. It also takes ``stripe_id``: the real API
  learns that link from Stripe, the sandbox accepts it so tests can link records.
- ``GET /v2/customers`` pages by ``limit`` (clamped to 1-100, default 10) and
  ``starting_after``; the docs say it never errors, so bad values are clamped, not rejected.
- There is no DELETE: the router answers 405 in the error shape above.
"""

from __future__ import annotations

import base64
import bisect
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.sandbox.base import SimulatorState, build_app

SANDBOX_KEY: Final = "sandbox"
"""The API key the simulator accepts unless told otherwise."""

NAME: Final = "firstofficer"
FIRST_ID: Final = 1340573
"""Where generated ids start: the docs' example id, so generated ids look like real ones."""
DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 100

_STRING_FIELDS: Final = ("stripe_id", "extra_id", "email", "name", "currency", "country", "state")
_INT_FIELDS: Final = ("total_contract_value", "current_mrr", "current_subscription_count")
_FIELDS: Final = frozenset({"object", "id", *_STRING_FIELDS, *_INT_FIELDS})
_TOKEN_RE: Final = re.compile(r'^\s*token\s+token\s*=\s*"?([^",\s]*)"?', re.IGNORECASE)


def error_response(status: int, message: str, param: str | None = None) -> Response:
    """FirstOfficer's error body (Stripe-like); 5xx use ``api_error`` (inferred)."""
    error: dict[str, Any] = {
        "type": "api_error" if status >= 500 else "invalid_request_error",
        "message": message,
    }
    if param is not None:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


def request_key(request: Request) -> str | None:
    """The key from ``Token token="KEY"`` or Basic ``KEY:`` (password ignored)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "token":
        match = _TOKEN_RE.match(header)
        return (match.group(1) or None) if match else None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def is_authorized(request: Request, api_key: str) -> bool:
    key = request_key(request)
    return key is not None and hmac.compare_digest(key.encode(), api_key.encode())


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A full customer object from a possibly minimal one; raises ValueError on bad input.

    Unknown keys are rejected so a typo in a dataset file is not silently dropped. ``id`` is
    kept when given; without one it stays ``None`` until a store assigns the next free id.
    """
    unknown = set(record) - _FIELDS
    if unknown:
        raise ValueError(f"unknown FirstOfficer customer fields: {', '.join(sorted(unknown))}")
    if record.get("object", "customer") != "customer":
        raise ValueError("object must be 'customer'")
    raw_id = record.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, int)):
        raise ValueError(f"id must be an integer, not {raw_id!r}")
    out: dict[str, Any] = {"object": "customer", "id": raw_id}
    for key in ("stripe_id", "extra_id", "email", "name"):
        out[key] = _optional_str(record, key)
    for key in _INT_FIELDS:
        value = record.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer (cents or a count), not {value!r}")
        out[key] = value
    currency = _optional_str(record, "currency")
    out["currency"] = (currency or "usd").lower()
    out["country"] = _optional_str(record, "country")
    out["state"] = _optional_str(record, "state")
    if out["stripe_id"] is not None and not out["stripe_id"].startswith("cus_"):
        raise ValueError(f"stripe_id must start with 'cus_', not {out['stripe_id']!r}")
    if out["email"] is not None and "@" not in out["email"]:
        raise ValueError(f"email must contain '@', not {out['email']!r}")
    return out


def _optional_str(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, not {value!r}")
    return value


def _email_key(email: str) -> str:
    return email.strip().casefold()


_INDEXED: Final = ("email", "stripe_id", "extra_id")
"""Fields :class:`CustomerStore` looks customers up by (email by :func:`_email_key`)."""


def _index_key(field: str, value: str) -> str:
    return _email_key(value) if field == "email" else value


class CustomerStore:
    """The simulator's customers by id, with the uniqueness rules FirstOfficer enforces.

    Lookups by email, Stripe id and extra id use indexes and lists a cached id order; change
    customers through :meth:`add` and :meth:`update` only, which keep them current.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self._index: dict[str, dict[str, set[int]]] = {field: {} for field in _INDEXED}
        self._ids: list[int] | None = None
        """``by_id``'s keys sorted, cached until the next add."""

    def next_id(self) -> int:
        ids = self.sorted_ids()
        return ids[-1] + 1 if ids else FIRST_ID

    def add(self, customer: dict[str, Any]) -> dict[str, Any]:
        """Store a full customer object; ValueError names the clashing field."""
        if customer["id"] is None:
            customer["id"] = self.next_id()
        if customer["id"] in self.by_id:
            raise ValueError(f"duplicate id {customer['id']}")
        if customer["email"] is not None and self.email_owner(customer["email"]) is not None:
            raise ValueError(f"duplicate email {customer['email']!r}")
        if customer["stripe_id"] is not None and self.find("stripe_id", customer["stripe_id"]):
            raise ValueError(f"duplicate stripe_id {customer['stripe_id']!r}")
        self.by_id[customer["id"]] = customer
        self._index_customer(customer, {})
        if self._ids is not None:
            if self._ids and customer["id"] < self._ids[-1]:
                bisect.insort(self._ids, customer["id"])
            else:
                self._ids.append(customer["id"])
        return customer

    def update(self, customer: dict[str, Any], changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` to a stored customer, keeping the indexes current."""
        before = {field: customer[field] for field in _INDEXED}
        customer.update(changes)
        self._index_customer(customer, before)

    def _index_customer(self, customer: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        """Move ``customer``'s index entries from the values in ``before`` to its current ones."""
        for field in _INDEXED:
            old, new = before.get(field), customer[field]
            if old == new:
                continue
            index = self._index[field]
            if old is not None:
                ids = index[_index_key(field, old)]
                ids.discard(customer["id"])
                if not ids:
                    del index[_index_key(field, old)]
            if new is not None:
                index.setdefault(_index_key(field, new), set()).add(customer["id"])

    def _first(self, field: str, value: str) -> dict[str, Any] | None:
        """The lowest-id customer whose ``field`` has ``value``'s index key, as a scan finds it."""
        ids = self._index[field].get(_index_key(field, value))
        return self.by_id[min(ids)] if ids else None

    def email_owner(self, email: str) -> dict[str, Any] | None:
        return self._first("email", email)

    def find(self, field: str, value: str) -> dict[str, Any] | None:
        if field in ("stripe_id", "extra_id"):
            return self._first(field, value)
        return next((c for c in self.ordered() if c[field] == value), None)

    def resolve(self, identifier: str) -> dict[str, Any] | None:
        """The documented resolution order: integer id, Stripe id, email, then extra_id."""
        if identifier.isascii() and identifier.isdigit():
            return self.by_id.get(int(identifier))
        if identifier.startswith("cus_"):
            return self.find("stripe_id", identifier)
        if "@" in identifier:
            return self.email_owner(identifier)
        return self.find("extra_id", identifier)

    def sorted_ids(self) -> Sequence[int]:
        """Every id, ascending (the cached list itself: read only)."""
        if self._ids is None:
            self._ids = sorted(self.by_id)
        return self._ids

    def ordered(self) -> list[dict[str, Any]]:
        return [self.by_id[key] for key in self.sorted_ids()]

    def page_after(self, after: int | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` customers with ids above ``after`` (all when None) and whether more
        follow."""
        ids = self.sorted_ids()
        start = 0 if after is None else bisect.bisect_right(ids, after)
        return [self.by_id[key] for key in ids[start : start + limit]], len(ids) - start > limit


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded body (last value wins); empty values kept, as they clear fields.

    Parsed here rather than with ``Request.form()``, which needs python-multipart.
    """
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _not_found(identifier: str) -> Response:
    return error_response(404, f"No such customer: '{identifier}'", "id")


def _clamped_limit(raw: str | None) -> int:
    try:
        value = int(raw) if raw is not None else DEFAULT_LIMIT
    except ValueError:
        value = DEFAULT_LIMIT
    return min(max(value, 1), MAX_LIMIT)


def _routes(store: CustomerStore) -> list[Route]:
    async def list_customers(request: Request) -> Response:
        limit = _clamped_limit(request.query_params.get("limit"))
        after_raw = request.query_params.get("starting_after")
        if after_raw is None:
            page, has_more = store.page_after(None, limit)
        elif after_raw.isascii() and after_raw.isdigit():
            page, has_more = store.page_after(int(after_raw), limit)
        else:
            page, has_more = (
                [],
                False,
            )  # never an error: a non-integer id matches nothing (inferred)
        return JSONResponse({"object": "list", "has_more": has_more, "data": page})

    async def create_customer(request: Request) -> Response:
        form = await _form(request)
        email = form.get("email", "").strip()
        if not email:
            return error_response(400, "Missing required param: email.", "email")
        stripe_id = form.get("stripe_id") or None
        problem = _email_problem(store, email, None) or _stripe_id_problem(store, stripe_id)
        if problem is not None:
            return problem
        customer = seed_record(
            {
                "email": email,
                "name": form.get("name") or None,
                "extra_id": form.get("extra_id") or None,
                "stripe_id": stripe_id,
            }
        )
        return JSONResponse(store.add(customer))

    async def get_customer(request: Request) -> Response:
        identifier = request.path_params["customer_id"]
        customer = store.resolve(identifier)
        return JSONResponse(customer) if customer else _not_found(identifier)

    async def update_customer(request: Request) -> Response:
        identifier = request.path_params["customer_id"]
        customer = store.resolve(identifier)
        if customer is None:
            return _not_found(identifier)
        form = await _form(request)
        changes: dict[str, Any] = {}
        if "email" in form:
            email = form["email"].strip()
            problem = _email_problem(store, email, customer["id"])
            if problem is not None:
                return problem
            changes["email"] = email
        for key in ("extra_id", "name"):
            if key in form:
                changes[key] = form[key] or None
        store.update(customer, changes)
        return JSONResponse(customer)

    return [
        Route("/v2/customers", list_customers, methods=["GET"]),
        Route("/v2/customers", create_customer, methods=["POST"]),
        Route("/v2/customers/{customer_id:path}", get_customer, methods=["GET"]),
        Route("/v2/customers/{customer_id:path}", update_customer, methods=["PUT"]),
    ]


def _email_problem(store: CustomerStore, email: str, own_id: int | None) -> Response | None:
    if not email or "@" not in email:
        return error_response(400, f"Invalid email address: '{email}'.", "email")
    owner = store.email_owner(email)
    if owner is not None and owner["id"] != own_id:
        return error_response(400, "A customer with this email already exists.", "email")
    return None


def _stripe_id_problem(store: CustomerStore, stripe_id: str | None) -> Response | None:
    if stripe_id is None:
        return None
    if not stripe_id.startswith("cus_"):
        return error_response(400, f"Invalid Stripe customer id: '{stripe_id}'.", "stripe_id")
    if store.find("stripe_id", stripe_id) is not None:
        return error_response(400, "A customer with this Stripe id already exists.", "stripe_id")
    return None


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    """A FirstOfficer simulator seeded with ``records`` (FirstOfficer customer objects)."""
    store = CustomerStore()
    for record in records:
        store.add(seed_record(record))
    state = SimulatorState(NAME, api_key)
    return build_app(
        state,
        _routes(store),
        error_response=lambda status, message: error_response(status, message),
        is_authorized=is_authorized,
    )
