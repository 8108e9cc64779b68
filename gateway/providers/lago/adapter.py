"""Lago API v1 adapter: customers by external id, email search, and writes through the upsert.

Every Lago customer path names the customer by its ``external_id`` (the company's own id), so
that is the record id here too; Lago's ``lago_id`` stays in ``raw``. Email lookups go through
the list's ``search_term`` (a substring match over several fields) and keep only exact matches.
Writes use ``POST /customers``, an upsert by ``external_id``, which is idempotent; like every
write it is retried only when the caller gave an idempotency key (Lago takes none, so the key
itself is never sent).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Final
from urllib.parse import quote, urlsplit

from gateway.errors import ErrorKind, ProviderError
from gateway.model import (
    Address,
    CustomerRecord,
    CustomerWrite,
    Lookup,
    Page,
    RecordDetails,
    WritableField,
)
from gateway.providers import coerce
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.coerce import email_key
from gateway.providers.contract import Capabilities
from gateway.providers.http import Answer, ErrorParser, UpstreamError

NAME: Final = "lago"
MAX_PAGE_SIZE: Final = 100
MAX_EMAIL_PAGES: Final = 10
"""Bound on the search pages read for one email (1,000 substring hits)."""
_TEXT_PARAMS: Final[Mapping[WritableField, str]] = {
    WritableField.EMAIL: "email",
    WritableField.NAME: "name",
    WritableField.PHONE: "phone",
    WritableField.COMPANY: "legal_name",
}
"""CustomerWrite text field -> Lago customer param."""

logger = logging.getLogger("customer_gateway.providers.lago")


def parse_error(response: Answer) -> UpstreamError:
    """Lago's ``{"status","error","code"?,"error_details"?}``; validation details go into the
    message (``external_id: value_is_mandatory``) so the caller sees what was refused."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return UpstreamError(None, None)
    if not isinstance(body, dict):
        return UpstreamError(None, None)
    code = body.get("code")
    message = body.get("error")
    details = body.get("error_details")
    if isinstance(details, dict) and details:
        parts = []
        for field_name, problems in details.items():
            listed = problems if isinstance(problems, list) else [problems]
            parts.append(f"{field_name}: {', '.join(str(p) for p in listed)}")
        message = f"{message or 'Unprocessable Entity'}: {'; '.join(parts)}"
    elif code and message:
        message = f"{message} ({code})"
    return UpstreamError(
        str(code) if code is not None else None, str(message) if message is not None else None
    )


def email_addresses(raw: Mapping[str, Any]) -> list[str]:
    """The addresses in a Lago ``email`` field, which may hold a comma-separated list."""
    value = raw.get("email")
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class LagoDetails(RecordDetails):
    """Lago's own uuid and the Stripe customer its billing configuration links to."""

    lago_id: str | None = None
    provider_customer_id: str | None = None


def to_record(raw: Any) -> CustomerRecord:
    """Map a Lago customer object; one without an ``external_id`` is a bad response."""
    if not isinstance(raw, dict) or not isinstance(raw.get("external_id"), str):
        raise ProviderError(NAME, ErrorKind.BAD_RESPONSE, "expected a customer with external_id")
    name = coerce.trimmed(raw.get("name"))
    if name is None:
        parts = [coerce.trimmed(raw.get("firstname")), coerce.trimmed(raw.get("lastname"))]
        name = " ".join(p for p in parts if p) or None
    address = Address(
        line1=coerce.trimmed(raw.get("address_line1")),
        line2=coerce.trimmed(raw.get("address_line2")),
        city=coerce.trimmed(raw.get("city")),
        state=coerce.trimmed(raw.get("state")),
        postal_code=coerce.trimmed(raw.get("zipcode")),
        country=coerce.trimmed(raw.get("country")),
    )
    currency = coerce.trimmed(raw.get("currency"))
    emails = email_addresses(raw)
    return CustomerRecord(
        provider=NAME,
        id=raw["external_id"],
        raw=raw,
        email=emails[0] if emails else None,
        name=name,
        phone=coerce.trimmed(raw.get("phone")),
        company=coerce.trimmed(raw.get("legal_name")),
        address=None if address.is_empty() else address,
        currency=currency.lower() if currency else None,
        created_at=coerce.iso_datetime(raw.get("created_at")),
        details=LagoDetails(
            lago_id=coerce.display(raw.get("lago_id")),
            provider_customer_id=coerce.display(
                coerce.nested(raw, "billing_configuration", "provider_customer_id")
            ),
        ),
    )


def _unwrap(body: Any) -> CustomerRecord:
    if not isinstance(body, dict):
        raise ProviderError(NAME, ErrorKind.BAD_RESPONSE, "expected a JSON object")
    return to_record(body.get("customer"))


def _customer_path(prefix: str, external_id: str) -> str:
    """The customer's URL; ``.``/``..`` are escaped so URL normalisation cannot drop them."""
    segment = quote(external_id, safe="")
    if segment in (".", ".."):
        segment = segment.replace(".", "%2E")
    return f"{prefix}/customers/{segment}"


class LagoAdapter(HTTPAdapter):
    """Reads and writes Lago customers, all keyed by the external id."""

    name = NAME
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EXTERNAL_ID, Lookup.EMAIL}),
        # Lago's id is the external id: both name exactly one customer.
        unique_lookups=frozenset({Lookup.ID, Lookup.EXTERNAL_ID}),
        list_page=True,
        max_page_size=MAX_PAGE_SIZE,
        create=True,
        update=True,
        delete=True,
        writable_fields=frozenset(
            {
                *_TEXT_PARAMS,
                WritableField.ADDRESS,
                WritableField.CURRENCY,
                WritableField.EXTERNAL_ID,
                WritableField.STRIPE_ID,
                WritableField.METADATA,
            }
        ),
    )

    trim_lookup_values: ClassVar[bool] = False
    """An external id is exact text: ``" acme-1"`` is not ``"acme-1"``."""

    @cached_property
    def prefix(self) -> str:
        """``/api/v1``, unless the base URL (like Lago's OpenAPI server URL) already ends in it."""
        path = urlsplit(self.http.settings.base_url).path.rstrip("/")
        return "" if path.endswith("/api/v1") else "/api/v1"

    def error_parser(self) -> ErrorParser:
        """Lago's error shape, validation details included (see :func:`parse_error`)."""
        return parse_error

    # --- reads -----------------------------------------------------------------------------

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        """A GET by external id, or an email search."""
        if by is Lookup.EMAIL:
            return await self._by_email(value)
        return await self._by_external_id(value)

    async def _by_external_id(self, external_id: str) -> list[CustomerRecord]:
        try:
            body = await self.http.request("GET", _customer_path(self.prefix, external_id))
        except ProviderError as exc:
            # Only Lago's own verdict means "no such customer": a 404 from a wrong base URL
            # or a proxy must not pass for an empty result.
            if exc.kind is ErrorKind.NOT_FOUND and exc.code == "customer_not_found":
                return []
            raise
        record = _unwrap(body)
        return [record] if record.id == external_id else []

    async def _by_email(self, email: str) -> list[CustomerRecord]:
        """Search pages for the address and keep customers holding exactly it.

        ``search_term`` also matches names, ids and longer addresses (``bob@x.com`` hits
        ``bob@x.com.au``), so each hit's addresses are compared trimmed and case-folded.
        """
        wanted = email_key(email)
        matches: list[CustomerRecord] = []
        page: int | None = 1
        for _ in range(MAX_EMAIL_PAGES):
            if page is None:
                break
            params = {"search_term": email.strip(), "per_page": MAX_PAGE_SIZE, "page": page}
            records, page = await self._list(params)
            matches.extend(
                r for r in records if any(email_key(e) == wanted for e in email_addresses(r.raw))
            )
        else:
            if page is not None:
                logger.warning(
                    "lago email search stopped after %d pages of substring hits", MAX_EMAIL_PAGES
                )
        return matches

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        """One page, newest first; the cursor is Lago's page number.

        Page numbers shift when customers are created during a walk (the list is newest
        first), so a long walk may see a record twice; the gateway merges by id.
        """
        try:
            page = int(cursor) if cursor is not None else 1
        except ValueError:
            page = 0
        if page < 1:
            raise ProviderError(NAME, ErrorKind.BAD_REQUEST, f"not a Lago page cursor: {cursor!r}")
        per_page = min(max(limit, 1), MAX_PAGE_SIZE)
        records, next_page = await self._list({"page": page, "per_page": per_page})
        return Page(records=records, next_cursor=str(next_page) if next_page else None)

    async def _list(self, params: Mapping[str, Any]) -> tuple[list[CustomerRecord], int | None]:
        body = await self.http.request("GET", f"{self.prefix}/customers", params=params)
        customers = body.get("customers") if isinstance(body, dict) else None
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(customers, list) or not isinstance(meta, dict):
            raise ProviderError(NAME, ErrorKind.BAD_RESPONSE, "expected customers and meta")
        next_page = meta.get("next_page")
        valid = isinstance(next_page, int) and not isinstance(next_page, bool) and next_page > 0
        return [to_record(item) for item in customers], next_page if valid else None

    # --- writes ----------------------------------------------------------------------------

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """Upsert a customer; Lago needs ``external_id``, and this gateway also a ``name``.

        Lago's create is an upsert: an existing customer with that external id is updated in
        place. Retrying is safe for the same reason; it happens only under an idempotency key.
        """
        given = write.given()
        external_id = given.get("external_id")
        if not isinstance(external_id, str) or not external_id.strip():
            raise ProviderError(
                NAME, ErrorKind.BAD_REQUEST, "external_id is required to create a Lago customer"
            )
        if not isinstance(given.get("name"), str) or not given["name"].strip():
            raise ProviderError(
                NAME, ErrorKind.BAD_REQUEST, "name is required to create a Lago customer"
            )
        params = {"external_id": external_id, **self._params(given, existing=None)}
        return await self._upsert(params, retry=idempotency_key is not None)

    async def update(
        self, record_id: str, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """Change only the given fields; ``None`` clears (sent as ``null``, metadata as ``[]``).

        The record is read first: the upsert would otherwise create a customer for an unknown
        id, and metadata updates must name the existing entries by their Lago ids. Lago cannot
        change an external id, so a different ``external_id`` is refused.
        """
        given = write.given()
        if "external_id" in given and given["external_id"] != record_id:
            raise ProviderError(
                NAME, ErrorKind.BAD_REQUEST, "Lago cannot change a customer's external_id"
            )
        current = await self._by_external_id(record_id) if record_id.strip() else []
        if not current:
            raise ProviderError(
                NAME, ErrorKind.NOT_FOUND, f"no Lago customer {record_id!r}", status=404
            )
        params = self._params(given, existing=current[0].raw)
        if not params:
            return current[0]
        return await self._upsert(
            {"external_id": record_id, **params}, retry=idempotency_key is not None
        )

    async def delete(self, record_id: str, *, idempotency_key: str | None = None) -> None:
        """``DELETE /customers/{external_id}``; repeating a delete is harmless, so it is
        retried, but only under an idempotency key."""
        if not record_id.strip():
            raise ProviderError(NAME, ErrorKind.NOT_FOUND, "no Lago customer ''", status=404)
        await self.http.request(
            "DELETE",
            _customer_path(self.prefix, record_id),
            retry_writes=idempotency_key is not None,
        )

    async def _upsert(self, params: Mapping[str, Any], *, retry: bool) -> CustomerRecord:
        body = await self.http.request(
            "POST", f"{self.prefix}/customers", json_body={"customer": params}, retry_writes=retry
        )
        return _unwrap(body)

    @staticmethod
    def _params(given: Mapping[str, Any], *, existing: Mapping[str, Any] | None) -> dict[str, Any]:
        """Lago customer params for the writable fields given; others are left out."""
        params: dict[str, Any] = {}
        for field_name, param in _TEXT_PARAMS.items():
            if field_name in given:
                params[param] = given[field_name]
        if "currency" in given:
            currency = given["currency"]
            params["currency"] = currency.upper() if currency is not None else None
        if "address" in given:
            params.update(_address_params(given["address"]))
        if "stripe_id" in given:
            stripe_id = given["stripe_id"]
            params["billing_configuration"] = (
                {"payment_provider": "stripe", "provider_customer_id": stripe_id}
                if stripe_id is not None
                else {"payment_provider": None}
            )
        if "metadata" in given:
            params["metadata"] = _metadata_params(given["metadata"], existing)
        return params


def _address_params(address: Address | None) -> dict[str, Any]:
    """An address replaces all six Lago address fields; ``None`` clears them."""
    address = address or Address()
    return {
        "address_line1": address.line1,
        "address_line2": address.line2,
        "city": address.city,
        "state": address.state,
        "zipcode": address.postal_code,
        "country": address.country.upper() if address.country else None,
    }


def _metadata_params(
    metadata: Mapping[str, str] | None, existing: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Lago's metadata list becomes exactly ``metadata`` (``[]`` removes every entry).

    Entries already on the customer are named by their Lago id (and keep their invoice
    display flag): Lago refuses a new entry whose key is taken.
    """
    current: dict[str, Mapping[str, Any]] = {}
    for item in (existing or {}).get("metadata") or []:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            current[item["key"]] = item
    out: list[dict[str, Any]] = []
    for key, value in (metadata or {}).items():
        entry: dict[str, Any] = {"key": key, "value": value, "display_in_invoice": False}
        if (known := current.get(key)) is not None and known.get("lago_id"):
            entry["id"] = known["lago_id"]
            entry["display_in_invoice"] = known.get("display_in_invoice") is True
        out.append(entry)
    return out
