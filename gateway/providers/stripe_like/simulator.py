"""What the Stripe and Tofupay simulators share: Stripe's wire conventions for a customers resource.

Both APIs speak form-encoded bodies with bracket keys, the ``{"error": {...}}`` error shape,
``Idempotency-Key`` replay on POSTs, cursor lists (``limit``, ``starting_after``,
``ending_before``) and the same customer routes. A provider module subclasses
:class:`CustomerApi` with its object shape and parameters; everything here is provider-neutral.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import itertools
import json
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from gateway.sandbox.base import SimulatorState, basic_or_bearer_key, nest_form

JSON = dict[str, Any]
T = TypeVar("T")

MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_TTL = 24 * 3600.0
"""Stripe may prune keys after 24 hours; the simulator does exactly that."""
_ALNUM = string.ascii_letters + string.digits


class ApiError(Exception):
    """A Stripe-shaped error; routes raise it and :class:`CustomerApi` renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param


def missing_customer(customer_id: str, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(
        status,
        f"No such customer: '{customer_id}'",
        code="resource_missing",
        param=param,
    )


def unknown_parameter(name: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def generate_id(prefix: str, length: int = 14) -> str:
    """An id shaped like Stripe's: prefix plus random letters and digits."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


# -- error shape ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorStyle:
    """How one provider renders errors: the doc links differ, the shape does not."""

    doc_url: Callable[[str | None], str | None]

    def body(
        self, message: str, *, type: str, code: str | None = None, param: str | None = None
    ) -> JSON:
        return {
            "error": {
                "type": type,
                "code": code,
                "message": message,
                "param": param,
                "doc_url": self.doc_url(code),
            }
        }

    def render(self, error: ApiError) -> Response:
        body = self.body(error.message, type=error.type, code=error.code, param=error.param)
        return JSONResponse(body, status_code=error.status)

    def responder(self) -> Callable[[int, str], Response]:
        """The ``error_response`` for :func:`gateway.sandbox.base.build_app`."""

        def respond(status: int, message: str) -> Response:
            if status == 401:
                return _UnauthorizedResponse(self)
            error_type = "api_error" if status >= 500 else "invalid_request_error"
            return JSONResponse(self.body(message, type=error_type), status_code=status)

        return respond


def mask_key(key: str) -> str:
    """Stripe's way of naming a bad key: the ``sk_test_`` prefix and last four characters only."""
    match = re.match(r"^((?:sk|rk|pk)_(?:test|live)_)(.*)$", key)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", key)
    if len(rest) <= 8:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


class _UnauthorizedResponse(JSONResponse):
    """A 401 whose message names the presented key masked, like Stripe's.

    The shared middleware only passes a status and a message to the error responder, so the
    presented key is read from the request scope when the response is sent.
    """

    def __init__(self, style: ErrorStyle) -> None:
        self._style = style
        super().__init__({}, status_code=401)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = basic_or_bearer_key(Request(scope))
        if key is None:
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
        else:
            message = f"Invalid API Key provided: {mask_key(key)}"
        self.body = self.render(self._style.body(message, type="invalid_request_error"))
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def key_matches(request: Request, api_key: str) -> bool:
    """The simulators' auth check: Bearer or Basic ``key:``, compared in constant time."""
    presented = basic_or_bearer_key(request)
    return presented is not None and secrets.compare_digest(presented.encode(), api_key.encode())


# -- parameters ----------------------------------------------------------------------------


def form_params(body: bytes) -> JSON:
    """A form-encoded body decoded with bracket keys; blank values kept (they mean "unset")."""
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return _nest(pairs)


def query_params(request: Request) -> JSON:
    return _nest(list(request.query_params.multi_items()))


def _nest(pairs: Sequence[tuple[str, str]]) -> JSON:
    try:
        return nest_form(pairs)
    except (AttributeError, TypeError, ValueError, IndexError):
        # e.g. ``metadata=`` followed by ``metadata[k]=v``: one name used as scalar and hash.
        raise ApiError(
            400, "Invalid parameters: a key is used both as a value and a hash."
        ) from None


def check_known(params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    for name in params:
        if name not in allowed_set:
            raise unknown_parameter(name)


def string_param(params: Mapping[str, Any], name: str, *, max_length: int = 5000) -> str | None:
    """A string parameter; ``""`` unsets the field (``None``)."""
    value = params[name]
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid string: {name} must be a string.", param=name)
    if len(value) > max_length:
        raise ApiError(400, f"Invalid {name}: must be at most {max_length} characters.", param=name)
    return value or None


def int_param(params: Mapping[str, Any], name: str) -> int:
    value = params[name]
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise ApiError(400, f"Invalid integer: {value!r}", param=name)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def email_param(params: Mapping[str, Any]) -> str | None:
    value = string_param(params, "email", max_length=512)
    if value is not None and not _EMAIL.match(value):
        raise ApiError(400, f"Invalid email address: {value}", code="email_invalid", param="email")
    return value


def merge_metadata(current: Mapping[str, str], value: Any) -> dict[str, str]:
    """Stripe metadata semantics: keys merge, ``""`` unsets a key, ``metadata=`` unsets all."""
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: metadata must be a hash.", param="metadata")
    merged = dict(current)
    for key, item in value.items():
        param = f"metadata[{key}]"
        if not isinstance(item, str):
            raise ApiError(400, f"Invalid string: {param} must be a string.", param=param)
        if len(key) > 40:
            raise ApiError(400, "Metadata keys can be at most 40 characters long.", param=param)
        if len(item) > 500:
            raise ApiError(400, "Metadata values can be at most 500 characters long.", param=param)
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    if len(merged) > 50:
        raise ApiError(400, "Metadata can have at most 50 keys.", param="metadata")
    return merged


def parse_limit(params: Mapping[str, Any], default: int = 10, maximum: int = 100) -> int:
    if "limit" not in params:
        return default
    raw = params["limit"]
    if not (isinstance(raw, str) and re.fullmatch(r"-?\d+", raw)):
        raise ApiError(400, f"Invalid integer: {raw!r}", param="limit")
    limit = int(raw)
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"Invalid limit: must be between 1 and {maximum}", param="limit")
    return limit


# -- storage -------------------------------------------------------------------------------


@dataclass(slots=True)
class StoredCustomer:
    """One customer with its list position and the versions the search index has seen."""

    obj: JSON
    seq: int
    deleted: bool = False
    versions: list[tuple[float, JSON]] = field(default_factory=list)
    """(time written, object) pairs; search sees the newest one older than the lag."""

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    def sort_key(self) -> tuple[int, int]:
        """Newest first: created descending, then the later insert first."""
        return (-int(self.obj.get("created") or 0), -self.seq)


class RecordIndex:
    """Record ids by the keys an object yields: a candidate filter callers still verify.

    ``versions`` indexes every object search can still see (each stored version), otherwise
    only the current object of a live record. Candidates are a superset of the records whose
    object gives the key, so a caller that re-checks them with its own predicate answers
    exactly as a scan would.
    """

    __slots__ = ("ids", "keys", "keys_of", "versions")

    def __init__(self, keys_of: Callable[[JSON], Iterable[Hashable]], *, versions: bool) -> None:
        self.keys_of = keys_of
        self.versions = versions
        self.ids: dict[Hashable, set[str]] = {}
        self.keys: dict[str, frozenset[Hashable]] = {}

    def update(self, record: StoredCustomer) -> None:
        """Replace ``record``'s entries with the keys of what it holds now."""
        if self.versions:
            keys = frozenset(k for _, obj in record.versions for k in self.keys_of(obj))
        else:
            keys = frozenset(() if record.deleted else self.keys_of(record.obj))
        old = self.keys.get(record.id, frozenset())
        if keys == old:
            return
        for key in old - keys:
            ids = self.ids[key]
            ids.discard(record.id)
            if not ids:
                del self.ids[key]
        for key in keys - old:
            self.ids.setdefault(key, set()).add(record.id)
        if keys:
            self.keys[record.id] = keys
        else:
            self.keys.pop(record.id, None)


class CustomerStore:
    """In-memory customers, deleted ones kept (Stripe still retrieves them as deleted).

    The newest-first order is cached (rebuilt after a write that changes it) and named
    :class:`RecordIndex` es are kept current on every write, so lookups cost what they find,
    not what the store holds. Objects are replaced, never edited in place: call :meth:`save`
    after changing ``record.obj``.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.search_lag_seconds = 0.0
        """Writes younger than this are not yet visible to search (Stripe's index lags)."""
        self._records: dict[str, StoredCustomer] = {}
        self._seq = itertools.count()
        self._order: list[StoredCustomer] | None = None
        self._positions: dict[str, int] = {}
        self._sorted_by: dict[str, tuple[int, int]] = {}
        self._indexes: dict[str, RecordIndex] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, obj: JSON, *, deleted: bool = False, indexed: bool = False) -> StoredCustomer:
        """Store a new customer; seeds are ``indexed`` (searchable at once, whatever the lag)."""
        record = StoredCustomer(obj=obj, seq=next(self._seq), deleted=deleted)
        record.versions.append((float("-inf") if indexed else self.clock(), dict(obj)))
        self._records[record.id] = record
        self._order = None
        self._reindex(record)  # indexes are by id: a replaced record's entries go with it
        return record

    def get(self, customer_id: str) -> StoredCustomer | None:
        return self._records.get(customer_id)

    def live(self, customer_id: str, param: str = "id") -> StoredCustomer:
        """The customer, or Stripe's 404 if it never existed or was deleted."""
        record = self._records.get(customer_id)
        if record is None or record.deleted:
            raise missing_customer(customer_id, param)
        return record

    def save(self, record: StoredCustomer) -> None:
        """Record a new version of ``record.obj`` for the search index."""
        now = self.clock()
        record.versions.append((now, dict(record.obj)))
        # Keep only what search can still see: the newest version past the lag, and younger ones.
        horizon = now - self.search_lag_seconds
        settled = [i for i, (at, _) in enumerate(record.versions) if at <= horizon]
        if settled:
            del record.versions[: settled[-1]]
        if self._order is not None and self._sorted_by.get(record.id) != record.sort_key():
            self._order = None
        self._reindex(record)

    def delete(self, record: StoredCustomer) -> None:
        record.deleted = True
        record.versions.clear()
        self._reindex(record)

    def _reindex(self, record: StoredCustomer) -> None:
        for index in self._indexes.values():
            index.update(record)

    def ordered(self) -> list[StoredCustomer]:
        """Every customer, deleted ones included, newest first (a copy of the cached order)."""
        return list(self.in_order())

    def in_order(self) -> Sequence[StoredCustomer]:
        """The cached newest-first order itself (read only; rebuilt after writes change it)."""
        if self._order is None:
            order = sorted(self._records.values(), key=StoredCustomer.sort_key)
            self._positions = {record.id: i for i, record in enumerate(order)}
            self._sorted_by = {record.id: record.sort_key() for record in order}
            self._order = order
        return self._order

    def positions(self) -> Mapping[str, int]:
        """Each customer's place in :meth:`ordered` (cursors are placed by it)."""
        self.in_order()
        return self._positions

    def add_index(
        self, name: str, keys_of: Callable[[JSON], Iterable[Hashable]], *, versions: bool = False
    ) -> None:
        """Index the customers by ``keys_of`` (see :class:`RecordIndex`), built once here."""
        index = RecordIndex(keys_of, versions=versions)
        for record in self._records.values():
            index.update(record)
        self._indexes[name] = index

    def lookup(self, name: str, keys: Iterable[Hashable]) -> list[StoredCustomer]:
        """Candidates for any of ``keys`` in index ``name``, in list order; callers verify them."""
        index = self._indexes[name]
        found: set[str] = set()
        for key in keys:
            found.update(index.ids.get(key, ()))
        positions = self.positions()
        return [self._records[i] for i in sorted(found, key=positions.__getitem__)]

    def id_exists(self, customer_id: str) -> bool:
        return customer_id in self._records

    def searchable(
        self, candidates: Iterable[StoredCustomer] | None = None
    ) -> list[tuple[StoredCustomer, JSON]]:
        """(record, the version search sees) in list order; unindexed and deleted ones left out.

        ``candidates`` (in list order) narrows the records considered; default: all of them.
        """
        horizon = self.clock() - self.search_lag_seconds
        out = []
        for record in self.in_order() if candidates is None else candidates:
            if record.deleted:
                continue
            visible = [obj for at, obj in record.versions if at <= horizon]
            if visible:
                out.append((record, visible[-1]))
        return out

    def new_id(self, prefix: str = "cus_") -> str:
        while True:
            candidate = generate_id(prefix)
            if candidate not in self._records:
                return candidate


# -- pagination ----------------------------------------------------------------------------


def paginate(
    items: Sequence[T],
    id_of: Callable[[T], str],
    include: Callable[[T], bool],
    *,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
    positions: Mapping[str, int] | None = None,
) -> tuple[list[T], bool]:
    """One page of a newest-first list and whether more lie beyond it.

    Cursors are placed by position in the full list (so a cursor naming a record that the filter
    hides, or one deleted since, still works); ``include`` filters what is returned. With
    ``positions`` (every id's place in the full list) ``items`` may be any in-order part of that
    list that holds every record ``include`` accepts, e.g. an index's candidates.
    """
    if starting_after is not None and ending_before is not None:
        raise ApiError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    if positions is None:
        positions = {}
        for i, item in enumerate(items):
            positions.setdefault(id_of(item), i)
    places = positions

    def position(cursor: str, param: str) -> int:
        place = places.get(cursor)
        if place is None:
            raise missing_customer(cursor, param, status=400)
        return place

    def place_of(item: T) -> int:
        return places[id_of(item)]

    if ending_before is not None:
        cut = bisect.bisect_left(items, position(ending_before, "ending_before"), key=place_of)
        before: list[T] = []
        for i in range(cut - 1, -1, -1):
            item = items[i]
            if include(item):
                before.append(item)
                if len(before) > limit:
                    break
        has_more = len(before) > limit
        return before[:limit][::-1], has_more
    start = 0
    if starting_after is not None:
        start = bisect.bisect_right(items, position(starting_after, "starting_after"), key=place_of)
    page: list[T] = []
    for i in range(start, len(items)):
        item = items[i]
        if include(item):
            if len(page) == limit:
                return page, True
            page.append(item)
    return page, False


# -- idempotency ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavedResponse:
    endpoint: str
    fingerprint: str
    status: int
    body: JSON
    at: float


class IdempotencyStore:
    """First responses to POSTs by ``Idempotency-Key``, replayed for 24 hours."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._saved: dict[str, SavedResponse] = {}

    def get(self, key: str) -> SavedResponse | None:
        self._prune()
        return self._saved.get(key)

    def save(self, key: str, endpoint: str, fingerprint: str, status: int, body: JSON) -> None:
        self._saved[key] = SavedResponse(endpoint, fingerprint, status, body, self.clock())

    def _prune(self) -> None:
        cutoff = self.clock() - IDEMPOTENCY_TTL
        for key in [k for k, v in self._saved.items() if v.at < cutoff]:
            del self._saved[key]


def fingerprint(params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# -- the customers resource ----------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]
LIST_EMAIL_INDEX = "list-email"


class CustomerApi:
    """Routes for ``/v1/customers`` in Stripe's conventions; subclasses supply the object shape.

    Subclasses set the parameter sets and implement :meth:`new_customer`, :meth:`apply_params`,
    :meth:`deleted_body` and :meth:`email_key`. The ``email`` list filter is answered from an
    index of live customers by :meth:`email_key` of their email.
    """

    create_params: ClassVar[frozenset[str]] = frozenset()
    update_params: ClassVar[frozenset[str]] = frozenset()
    list_params: ClassVar[frozenset[str]] = frozenset(
        {"email", "limit", "starting_after", "ending_before", "expand"}
    )

    def __init__(self, state: SimulatorState, store: CustomerStore, style: ErrorStyle) -> None:
        self.state = state
        self.store = store
        self.style = style
        self.idempotency = IdempotencyStore(store.clock)
        store.add_index(LIST_EMAIL_INDEX, self._list_email_keys)

    # hooks ----------------------------------------------------------------------------------

    def new_customer(self, customer_id: str, created: int, params: Mapping[str, Any]) -> JSON:
        """A complete customer object built from create parameters (validated)."""
        raise NotImplementedError

    def apply_params(self, obj: JSON, params: Mapping[str, Any]) -> None:
        """Apply validated update parameters to ``obj`` in place; absent ones stay unchanged."""
        raise NotImplementedError

    def deleted_body(self, customer_id: str) -> JSON:
        """The body of a successful DELETE."""
        raise NotImplementedError

    def email_key(self, email: str) -> str:
        """What the list endpoint's ``email`` filter compares: equal keys match."""
        raise NotImplementedError

    def email_matches(self, stored: str | None, wanted: str) -> bool:
        """The list endpoint's ``email`` filter."""
        return stored is not None and self.email_key(stored) == self.email_key(wanted)

    def _list_email_keys(self, obj: JSON) -> list[str]:
        email = obj.get("email")
        return [self.email_key(email)] if isinstance(email, str) else []

    def list_filter(self, params: Mapping[str, Any]) -> Callable[[JSON], bool]:
        """Extra list filters beyond ``email``; none by default."""
        return lambda obj: True

    # plumbing -------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/customers", self._guard(self.create_customer), methods=["POST"]),
            Route("/v1/customers", self._guard(self.list_customers), methods=["GET"]),
            Route("/v1/customers/{id}", self._guard(self.retrieve_customer), methods=["GET"]),
            Route("/v1/customers/{id}", self._guard(self.update_customer), methods=["POST"]),
            Route("/v1/customers/{id}", self._guard(self.delete_customer), methods=["DELETE"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return self.style.render(error)

        return guarded

    def json(self, body: JSON, status: int = 200) -> Response:
        return JSONResponse(body, status_code=status, headers={"Request-Id": generate_id("req_")})

    async def idempotent(
        self, request: Request, params: JSON, action: Callable[[], JSON]
    ) -> Response:
        """Run a POST once per ``Idempotency-Key``; replay its first response afterwards.

        Validation failures (400) are not saved, as Stripe does; any other outcome is.
        """
        key = request.headers.get("idempotency-key")
        if key is None:
            return self.json(action())
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ApiError(
                400,
                f"Idempotency keys can be at most {MAX_IDEMPOTENCY_KEY} characters long.",
                param="Idempotency-Key",
            )
        endpoint = f"{request.method} {request.url.path}"
        digest = fingerprint(params)
        saved = self.idempotency.get(key)
        if saved is not None:
            if saved.endpoint != endpoint:
                raise ApiError(
                    400,
                    "Keys for idempotent requests can only be used for the same endpoint they "
                    f"were first used for ('{saved.endpoint}' vs '{endpoint}'). Try using a key "
                    "other than the one used before if you meant to execute a different request.",
                    type="idempotency_error",
                )
            if saved.fingerprint != digest:
                raise ApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type="idempotency_error",
                )
            response: Response = JSONResponse(saved.body, status_code=saved.status)
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Idempotency-Key"] = key
            return response
        try:
            body, status = action(), 200
        except ApiError as error:
            if error.status == 400:
                raise
            body = self.style.body(
                error.message, type=error.type, code=error.code, param=error.param
            )
            status = error.status
        self.idempotency.save(key, endpoint, digest, status, body)
        response = self.json(body, status)
        response.headers["Idempotency-Key"] = key
        return response

    # endpoints ------------------------------------------------------------------------------

    async def create_customer(self, request: Request) -> Response:
        params = form_params(await request.body())

        def action() -> JSON:
            check_known(params, self.create_params)
            customer_id = self.store.new_id()
            obj = self.new_customer(customer_id, int(self.store.clock()), params)
            self.store.add(obj)
            return obj

        return await self.idempotent(request, params, action)

    async def retrieve_customer(self, request: Request) -> Response:
        customer_id = request.path_params["id"]
        record = self.store.get(customer_id)
        if record is None:
            raise missing_customer(customer_id)
        if record.deleted:
            return self.json({"id": customer_id, "object": "customer", "deleted": True})
        return self.json(record.obj)

    async def update_customer(self, request: Request) -> Response:
        params = form_params(await request.body())
        customer_id = request.path_params["id"]

        def action() -> JSON:
            record = self.store.live(customer_id)
            check_known(params, self.update_params)
            updated = copy.deepcopy(record.obj)
            self.apply_params(updated, params)
            record.obj = updated
            self.store.save(record)
            return updated

        return await self.idempotent(request, params, action)

    async def delete_customer(self, request: Request) -> Response:
        customer_id = request.path_params["id"]
        self.store.delete(self.store.live(customer_id))
        return self.json(self.deleted_body(customer_id))

    async def list_customers(self, request: Request) -> Response:
        params = query_params(request)
        check_known(params, self.list_params)
        limit = parse_limit(params)
        email = string_param(params, "email", max_length=512) if "email" in params else None
        extra = self.list_filter(params)

        def include(record: StoredCustomer) -> bool:
            if record.deleted:
                return False
            if email is not None and not self.email_matches(record.obj.get("email"), email):
                return False
            return extra(record.obj)

        candidates: Sequence[StoredCustomer] = (
            self.store.in_order()
            if email is None
            else self.store.lookup(LIST_EMAIL_INDEX, [self.email_key(email)])
        )
        page, has_more = paginate(
            candidates,
            lambda r: r.id,
            include,
            limit=limit,
            starting_after=_cursor(params, "starting_after"),
            ending_before=_cursor(params, "ending_before"),
            positions=self.store.positions(),
        )
        return self.json(
            {
                "object": "list",
                "url": "/v1/customers",
                "has_more": has_more,
                "data": [record.obj for record in page],
            }
        )


def _cursor(params: Mapping[str, Any], name: str) -> str | None:
    if name not in params:
        return None
    return string_param(params, name)


def seed_customer(
    record: Any,
    *,
    provider: str,
    defaults: Callable[[str, int], dict[str, Any]],
    string_fields: Iterable[str],
    balance_field: str,
) -> dict[str, Any]:
    """A Stripe-style seed customer completed with ``defaults``: the checks both providers share.

    Raises ``ValueError`` naming a bad field. ``{"id": ..., "deleted": true}`` gives the
    deleted stub (``deleted`` is then set; callers add no more). Provider-specific fields are
    the caller's to check.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"a {provider} customer must be an object, not {type(record).__name__}")
    customer_id = record.get("id")
    if customer_id is None:
        customer_id = generate_id("cus_")
    if not isinstance(customer_id, str) or not customer_id:
        raise ValueError(f"customer id must be a non-empty string, not {customer_id!r}")
    if record.get("object", "customer") != "customer":
        raise ValueError(f"{customer_id}: object must be 'customer'")
    if record.get("deleted"):
        return {"id": customer_id, "object": "customer", "deleted": True}
    created = record.get("created", 0)
    if not isinstance(created, int) or isinstance(created, bool):
        raise ValueError(f"{customer_id}: created must be a unix timestamp (integer)")
    obj = defaults(customer_id, created)
    for key, value in record.items():
        obj[key] = copy.deepcopy(value)
    for key in string_fields:
        if obj[key] is not None and not isinstance(obj[key], str):
            raise ValueError(f"{customer_id}: {key} must be a string or null")
    balance = obj[balance_field]
    if not isinstance(balance, int) or isinstance(balance, bool):
        raise ValueError(f"{customer_id}: {balance_field} must be an integer")
    metadata = obj["metadata"]
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError(f"{customer_id}: metadata must map strings to strings")
    return obj


def seed_store(
    store: CustomerStore,
    records: Iterable[Mapping[str, Any]],
    seed: Callable[[Mapping[str, Any]], JSON],
) -> None:
    """Load seed records (each completed by ``seed``); duplicate ids are an error."""
    for raw in records:
        obj = seed(raw)
        if store.id_exists(str(obj["id"])):
            raise ValueError(f"duplicate customer id in seed records: {obj['id']!r}")
        store.add(obj, deleted=bool(obj.get("deleted")), indexed=True)


def customer_api(app: Starlette) -> CustomerApi:
    """The :class:`CustomerApi` behind a simulator app (tests reach its store through it)."""
    api: CustomerApi = app.state.customers
    return api
