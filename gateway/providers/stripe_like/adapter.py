"""What the Stripe and Tofupay adapters share: Stripe's wire conventions on the client side.

Both APIs take form bodies with bracket keys, answer errors as ``{"error": {...}}``, honour
``Idempotency-Key`` on POSTs, page lists with ``starting_after`` and expose the same
``/v1/customers`` routes and customer object (less some fields in Tofupay's legacy shape).
:class:`StripeLikeAdapter` implements all of it; the provider modules supply their capabilities,
what their customer object carries and the lookups beyond ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final
from urllib.parse import quote

from gateway.errors import ErrorKind, ProviderError
from gateway.model import (
    Address,
    CustomerRecord,
    CustomerWrite,
    EventPage,
    Lookup,
    Metric,
    Money,
    Page,
    RecordDetails,
)
from gateway.providers import coerce
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.coerce import email_key
from gateway.providers.stripe_like.feed import read_events

CUSTOMERS: Final = "/v1/customers"
MAX_PAGE_SIZE: Final = 100
MAX_PAGES: Final = 50
"""Pages one lookup follows before giving up on an answer that never ends (5,000 records)."""
_ID_SHAPE: Final = re.compile(r"^[A-Za-z0-9_]+$")
_PLAIN_FIELDS: Final = ("email", "name", "phone", "description")
_ADDRESS_FIELDS: Final = ("line1", "line2", "city", "state", "postal_code", "country")

JSONObject = dict[str, Any]


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


@dataclass(frozen=True, slots=True)
class StripeLikeDetails(RecordDetails):
    """Customer fields of a Stripe-style object beyond the unified ones."""

    description: str | None = None
    delinquent: bool | None = None
    livemode: bool | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def details_of(obj: Mapping[str, Any]) -> StripeLikeDetails:
    metadata = obj.get("metadata")
    return StripeLikeDetails(
        description=coerce.display(obj.get("description")),
        delinquent=coerce.flag(obj.get("delinquent")),
        livemode=coerce.flag(obj.get("livemode")),
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
    )


def currency_code(value: Any) -> str | None:
    text = coerce.text(value)
    return text.lower() if text else None


def address_of(value: Any) -> Address | None:
    """A Stripe address hash as an :class:`Address`; ``None`` when absent or blank."""
    if not isinstance(value, Mapping):
        return None
    address = Address(
        line1=coerce.text(value.get("line1")),
        line2=coerce.text(value.get("line2")),
        city=coerce.text(value.get("city")),
        state=coerce.text(value.get("state")),
        postal_code=coerce.text(value.get("postal_code")),
        country=coerce.text(value.get("country")),
    )
    return None if address.is_empty() else address


def status_of(obj: Mapping[str, Any]) -> str | None:
    """``delinquent`` when the provider flags the customer so; otherwise nothing is claimed."""
    return "delinquent" if obj.get("delinquent") is True else None


class StripeLikeAdapter(HTTPAdapter):
    """A ``ProviderAdapter`` for a Stripe-style customers API; subclasses add the provider.

    What differs between providers is data, not code: :attr:`balance_field`,
    :attr:`customer_fields`, :attr:`external_id_key` and ``capabilities.writable_fields``
    shape :meth:`to_record` and :meth:`write_params`. Lookups by id are concurrent retrieves;
    other kinds come from :meth:`find` (one value per call) or a batching ``resolve_many``.
    """

    balance_field: ClassVar[str] = "balance"
    """The customer's balance in minor units, reported as the ``balance`` metric."""
    customer_fields: ClassVar[frozenset[str]] = frozenset({"email", "name", "phone", "address"})
    """The :class:`CustomerRecord` profile fields this provider's customer object carries."""

    # provider hooks -------------------------------------------------------------------------

    @property
    def external_id_key(self) -> str | None:
        """The metadata key ``CustomerWrite.external_id`` is stored under; ``None``: not stored."""
        return None

    async def find(self, by: Lookup, value: str) -> list[JSONObject]:
        """Customers one value names, for lookup kinds beyond ids."""
        raise NotImplementedError(f"{self.name} cannot look customers up by {by}")

    def remember(self, obj: Mapping[str, Any]) -> None:
        """Called with every customer this adapter wrote (Stripe covers search lag with it)."""

    # records and writes ---------------------------------------------------------------------

    @classmethod
    def to_record(cls, obj: Mapping[str, Any]) -> CustomerRecord:
        """A customer object as a :class:`CustomerRecord`; a deleted one carries only its id.

        A class method: it reads only class data, so webhook verification parses records
        without an adapter (and its HTTP client)."""
        customer_id = str(obj["id"])
        if obj.get("deleted"):
            return CustomerRecord(provider=cls.name, id=customer_id, raw=obj, deleted=True)
        currency = currency_code(obj.get("currency"))
        metrics: dict[Metric, Money | int] = {}
        balance = coerce.whole_number(obj.get(cls.balance_field))
        if balance is not None:
            metrics[Metric.BALANCE] = Money(balance, currency or "usd")
        profile = cls.customer_fields
        return CustomerRecord(
            provider=cls.name,
            id=customer_id,
            raw=obj,
            email=coerce.text(obj.get("email")) if "email" in profile else None,
            name=coerce.text(obj.get("name")) if "name" in profile else None,
            phone=coerce.text(obj.get("phone")) if "phone" in profile else None,
            address=address_of(obj.get("address")) if "address" in profile else None,
            currency=currency,
            created_at=coerce.unix_datetime(obj.get("created")),
            status=status_of(obj),
            metrics=metrics,
            details=details_of(obj),
        )

    def records(self, objs: Iterable[Mapping[str, Any]]) -> list[CustomerRecord]:
        """The live customers among ``objs`` as records (deleted ones are never returned)."""
        return [self.to_record(obj) for obj in objs if not obj.get("deleted")]

    def write_params(self, write: CustomerWrite, *, creating: bool) -> dict[str, Any]:
        """Params for the writable fields given; ``None`` clears (an empty value), except on
        create where it is moot. Fields outside ``capabilities.writable_fields`` are not sent.

        ``metadata`` merges key by key as in Stripe; ``external_id`` is written as
        ``metadata[<external_id_key>]`` where the provider has one.
        """
        given = write.given()
        writable = self.capabilities.writable_fields
        params: dict[str, Any] = {}
        for name in _PLAIN_FIELDS:
            if name in writable and name in given and not (creating and given[name] is None):
                params[name] = given[name]
        if "address" in writable and "address" in given:
            address = given["address"]
            if address is not None and not address.is_empty():
                params["address"] = {f: getattr(address, f) for f in _ADDRESS_FIELDS}
            elif not creating:
                params["address"] = None
        params.update(self.metadata_params(write, self.external_id_key, creating=creating))
        return params

    # lookups --------------------------------------------------------------------------------

    def lookup_key(self, by: Lookup, value: str) -> str | None:
        """Ids must look like object ids (anything else is never put in a URL)."""
        if by in (Lookup.ID, Lookup.STRIPE_ID):
            return value if is_object_id(value) else None
        return super().lookup_key(by, value)

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        """A retrieve for ids (missing or deleted gives ``[]``), else :meth:`find`."""
        if by in (Lookup.ID, Lookup.STRIPE_ID):
            obj = await self.retrieve(value)
            return self.records([obj] if obj is not None else [])
        return self.records(await self.find(by, value))

    async def retrieve(self, customer_id: str) -> JSONObject | None:
        """The customer as the provider returns it (deleted ones included), ``None`` on 404."""
        try:
            body = await self.http.request("GET", customer_path(customer_id))
        except ProviderError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                return None
            raise
        return self.expect_customer(body)

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

    async def list_by_email(self, email: str) -> list[JSONObject]:
        """Customers with ``email``, from the list endpoint's ``email`` filter (all pages).

        The filter's own matching differs by provider (exact and case-sensitive at Stripe), so
        answers are re-checked by trimmed, casefolded email, as every lookup compares emails.
        """
        wanted = email_key(email)
        found = await self.list_customers([("email", email)])
        return [obj for obj in found if _email_key_of(obj) == wanted]

    # paging and writes ----------------------------------------------------------------------

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        """One page, newest first; the cursor is the last id (``starting_after``)."""
        params = [("limit", str(min(max(limit, 1), MAX_PAGE_SIZE)))]
        if cursor is not None:
            params.append(("starting_after", cursor))
        data, has_more = self.expect_list(await self.http.request("GET", CUSTOMERS, params=params))
        next_cursor = str(data[-1]["id"]) if has_more and data else None
        return Page(records=self.records(data), next_cursor=next_cursor)

    async def events(self, cursor: str | None, limit: int) -> EventPage:
        """Customer events after ``cursor``, oldest first (``ChangeFeed``; see
        :mod:`~gateway.providers.stripe_like.feed`)."""
        return await read_events(self, cursor, limit)

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


def _email_key_of(obj: Mapping[str, Any]) -> str | None:
    email = obj.get("email")
    return email_key(email) if isinstance(email, str) else None
