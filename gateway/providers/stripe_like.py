"""What the Stripe and Tofupay adapters share: Stripe's wire conventions on the client side.

Both APIs take form bodies with bracket keys, answer errors as ``{"error": {...}}``, honour
``Idempotency-Key`` on POSTs, page lists with ``starting_after`` and expose the same
``/v1/customers`` routes. :class:`StripeLikeAdapter` implements everything but the customer shape
(``to_record``), the write parameters (``write_params``) and the lookups beyond ids
(``resolve``), which the provider modules supply.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, TypeVar
from urllib.parse import quote

import httpx

from gateway.config import IdentitySettings, ProviderSettings
from gateway.providers.base import (
    Address,
    Capabilities,
    CustomerRecord,
    CustomerWrite,
    ErrorKind,
    Lookup,
    Page,
    ProviderError,
)
from gateway.providers.http import ProviderHTTP, json_error_parser

CUSTOMERS: Final = "/v1/customers"
MAX_PAGE_SIZE: Final = 100
MAX_PAGES: Final = 50
"""Pages one lookup follows before giving up on an answer that never ends (5,000 records)."""
_ID_SHAPE: Final = re.compile(r"^[A-Za-z0-9_]+$")
_T = TypeVar("_T")

JSONObject = dict[str, Any]


def email_key(email: str) -> str:
    """How emails are compared: trimmed and casefolded."""
    return email.strip().casefold()


def is_object_id(value: str) -> bool:
    """Whether ``value`` could be a Stripe-style object id (``cus_…``: letters, digits, ``_``).

    Anything else (a ChartMogul ``cus_<uuid>``, a path fragment) cannot exist upstream and is
    never put in a URL.
    """
    return bool(_ID_SHAPE.match(value))


def customer_path(customer_id: str) -> str:
    return f"{CUSTOMERS}/{quote(customer_id, safe='')}"


def form_text(value: Any) -> str:
    if value is None:
        return ""  # Stripe: an empty value unsets the field
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_form(params: Mapping[str, Any], prefix: str | None = None) -> list[tuple[str, str]]:
    """Stripe's form encoding: ``{"metadata": {"k": "v"}}`` -> ``[("metadata[k]", "v")]``.

    ``None`` becomes an empty value, which Stripe reads as "unset"; lists are indexed.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs.extend(encode_form(value, name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    pairs.extend(encode_form(item, f"{name}[{index}]"))
                else:
                    pairs.append((f"{name}[{index}]", form_text(item)))
        else:
            pairs.append((name, form_text(value)))
    return pairs


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unix_datetime(value: Any) -> datetime | None:
    seconds = int_or_none(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def currency_code(value: Any) -> str | None:
    text = text_or_none(value)
    return text.lower() if text else None


def address_of(value: Any) -> Address | None:
    """A Stripe address hash as an :class:`Address`; ``None`` when absent or blank."""
    if not isinstance(value, Mapping):
        return None
    address = Address(
        line1=text_or_none(value.get("line1")),
        line2=text_or_none(value.get("line2")),
        city=text_or_none(value.get("city")),
        state=text_or_none(value.get("state")),
        postal_code=text_or_none(value.get("postal_code")),
        country=text_or_none(value.get("country")),
    )
    return None if address.is_empty() else address


def status_of(obj: Mapping[str, Any]) -> str | None:
    """``delinquent`` when the provider flags the customer so; otherwise nothing is claimed."""
    return "delinquent" if obj.get("delinquent") is True else None


async def gather_all(calls: Iterable[Awaitable[_T]]) -> list[_T]:
    """Run ``calls`` concurrently; every one finishes before the first failure is raised."""
    results: list[_T] = []
    for outcome in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
        results.append(outcome)
    return results


class StripeLikeAdapter:
    """A ``ProviderAdapter`` for a Stripe-style customers API; subclasses add the provider."""

    name: str
    capabilities: Capabilities
    extra_headers: ClassVar[Mapping[str, str]] = {}
    """Sent with every request (Stripe pins its API version here)."""

    def __init__(
        self,
        settings: ProviderSettings,
        identity: IdentitySettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.identity = identity or IdentitySettings()
        self.http = ProviderHTTP(
            settings,
            auth_headers={"Authorization": f"Bearer {settings.api_key}"},
            error_parser=json_error_parser(("error", "message")),
            default_headers={"Accept": "application/json", **self.extra_headers},
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.http.settings.base_url!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    # provider hooks -------------------------------------------------------------------------

    def to_record(self, obj: Mapping[str, Any]) -> CustomerRecord:
        raise NotImplementedError

    def write_params(self, write: CustomerWrite, *, creating: bool) -> dict[str, Any]:
        """Nested params for the writable fields given (``None`` = clear, sent empty)."""
        raise NotImplementedError

    async def resolve(self, by: Lookup, values: Mapping[str, str]) -> dict[str, list[JSONObject]]:
        """Customers per lookup key for kinds beyond ids; ``values`` maps key -> value to send."""
        raise NotImplementedError(f"{self.name} cannot look customers up by {by}")

    def remember(self, obj: Mapping[str, Any]) -> None:
        """Called with every customer this adapter wrote (Stripe covers search lag with it)."""

    # lookups --------------------------------------------------------------------------------

    def lookup_key(self, by: Lookup, value: str) -> str | None:
        """The key values are deduplicated and matched by; ``None`` for one never sent."""
        if by in (Lookup.ID, Lookup.STRIPE_ID):
            return value if is_object_id(value) else None
        if by is Lookup.EMAIL:
            return email_key(value) or None
        return value if value.strip() else None

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        """Resolve each distinct value once; unsendable, missing and deleted ones give ``[]``."""
        if by not in self.capabilities.lookups:
            raise NotImplementedError(f"{self.name} cannot look customers up by {by}")
        keys = [self.lookup_key(by, value) for value in values]
        distinct: dict[str, str] = {}
        for key, value in zip(keys, values, strict=True):
            if key is not None:
                distinct.setdefault(key, value.strip())
        if not distinct:
            return [[] for _ in values]
        if by in (Lookup.ID, Lookup.STRIPE_ID):
            found = await self.retrieve_many(distinct)
        else:
            found = await self.resolve(by, distinct)
        records = {
            key: [self.to_record(obj) for obj in objs if not obj.get("deleted")]
            for key, objs in found.items()
        }
        return [list(records.get(key, [])) if key is not None else [] for key in keys]

    async def retrieve(self, customer_id: str) -> JSONObject | None:
        """The customer as the provider returns it (deleted ones included), ``None`` on 404."""
        try:
            body = await self.http.request("GET", customer_path(customer_id))
        except ProviderError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                return None
            raise
        return self.expect_customer(body)

    async def retrieve_many(self, ids: Mapping[str, str]) -> dict[str, list[JSONObject]]:
        """Concurrent retrieves; a missing or deleted customer gives an empty list."""
        keys = list(ids)
        objs = await gather_all(self.retrieve(ids[key]) for key in keys)
        return {
            key: [obj] if obj is not None and not obj.get("deleted") else []
            for key, obj in zip(keys, objs, strict=True)
        }

    async def list_customers(self, params: Sequence[tuple[str, str]]) -> list[JSONObject]:
        """Every customer of a filtered list, following ``starting_after`` (bounded)."""
        found: list[JSONObject] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page_params = [*params, ("limit", str(MAX_PAGE_SIZE))]
            if cursor is not None:
                page_params.append(("starting_after", cursor))
            data, has_more = self.expect_list(
                await self.http.request("GET", CUSTOMERS, params=page_params)
            )
            found.extend(data)
            if not (has_more and data):
                return found
            cursor = str(data[-1]["id"])
        raise self.bad_response(f"the customer list did not end within {MAX_PAGES} pages")

    # paging and writes ----------------------------------------------------------------------

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        """One page, newest first; the cursor is the last id (``starting_after``)."""
        params = [("limit", str(min(max(limit, 1), MAX_PAGE_SIZE)))]
        if cursor is not None:
            params.append(("starting_after", cursor))
        data, has_more = self.expect_list(await self.http.request("GET", CUSTOMERS, params=params))
        records = [self.to_record(obj) for obj in data if not obj.get("deleted")]
        next_cursor = str(data[-1]["id"]) if has_more and data else None
        return Page(records=records, next_cursor=next_cursor)

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """POST a customer; with ``idempotency_key`` the provider dedupes, so retries are safe."""
        pairs = encode_form(self.write_params(write, creating=True))
        body = await self.http.request(
            "POST", CUSTOMERS, data=pairs, idempotency_key=idempotency_key
        )
        obj = self.expect_customer(body)
        self.remember(obj)
        return self.to_record(obj)

    async def update(
        self, record_id: str, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """POST the given fields only; the rest stay unchanged upstream."""
        self._check_id(record_id)
        pairs = encode_form(self.write_params(write, creating=False))
        body = await self.http.request(
            "POST", customer_path(record_id), data=pairs, idempotency_key=idempotency_key
        )
        obj = self.expect_customer(body)
        self.remember(obj)
        return self.to_record(obj)

    async def delete(self, record_id: str, *, idempotency_key: str | None = None) -> None:
        """DELETE the customer (permanent upstream).

        Idempotency keys have no effect on DELETE in Stripe's API, so none is sent; the DELETE is
        retried (it is naturally idempotent) only when the caller gave a key, since the gateway
        retries writes only under a client's idempotency key. A customer already gone answers
        404, raised as ``not_found``.
        """
        self._check_id(record_id)
        body = await self.http.request(
            "DELETE", customer_path(record_id), retry_writes=idempotency_key is not None
        )
        if not (isinstance(body, dict) and body.get("deleted") is True):
            raise self.bad_response("the delete was not confirmed with deleted: true")
        self.remember({"id": record_id, "deleted": True})

    def metadata_params(
        self, write: CustomerWrite, external_id_key: str | None, *, creating: bool
    ) -> dict[str, Any]:
        """``metadata`` params from ``write.metadata`` (merged key by key, Stripe's semantics) and
        ``write.external_id`` (stored under ``external_id_key``); ``None`` values unset keys.

        ``metadata=None`` unsets every key, which one request cannot combine with setting the
        external id: that combination is refused as a bad request.
        """
        given = write.given()
        entries: dict[str, str | None] = {}
        clear_all = "metadata" in given and given["metadata"] is None
        if "metadata" in given and given["metadata"] is not None:
            entries.update(
                {str(k): (None if v is None else str(v)) for k, v in given["metadata"].items()}
            )
        if external_id_key is not None and "external_id" in given:
            entries[external_id_key] = given["external_id"]
        for key in entries:
            if "[" in key or "]" in key:
                raise ProviderError(
                    self.name,
                    ErrorKind.BAD_REQUEST,
                    f"metadata keys cannot contain brackets: {key!r}",
                )
        if clear_all:
            if any(value is not None for value in entries.values()):
                raise ProviderError(
                    self.name,
                    ErrorKind.BAD_REQUEST,
                    "cannot clear all metadata and set the external id in one request",
                )
            return {} if creating else {"metadata": ""}
        if creating:
            entries = {k: v for k, v in entries.items() if v is not None}
        return {"metadata": entries} if entries else {}

    # response checks ------------------------------------------------------------------------

    def bad_response(self, message: str) -> ProviderError:
        return ProviderError(self.name, ErrorKind.BAD_RESPONSE, message)

    def expect_customer(self, body: Any) -> JSONObject:
        if not (isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]):
            raise self.bad_response("expected a customer object with an id")
        return body

    def expect_list(self, body: Any) -> tuple[list[JSONObject], bool]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise self.bad_response("expected a list object with data")
        return [self.expect_customer(item) for item in data], bool(body.get("has_more"))

    def _check_id(self, record_id: str) -> None:
        if not is_object_id(record_id):
            raise ProviderError(
                self.name, ErrorKind.BAD_REQUEST, f"not a {self.name} customer id: {record_id!r}"
            )
