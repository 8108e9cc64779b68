"""ChartMogul adapter: customers over API v1 with HTTP Basic auth.

ChartMogul resolves one value per call (no batch lookups), so a lookup issues its calls
concurrently, one per distinct value. Email search and the ``external_id`` list filter are
cursor-paged; both are followed to the end. A ChartMogul ``uuid`` also starts with ``cus_``,
so a value shaped like one is never sent as a Stripe id.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from gateway.errors import ErrorKind, ProviderError
from gateway.model import (
    Address,
    CustomerRecord,
    CustomerWrite,
    Lookup,
    Metric,
    Money,
    Page,
    RecordDetails,
    WritableField,
)
from gateway.providers import coerce
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.contract import Capabilities
from gateway.providers.http import Answer, ErrorParser, UpstreamError

MAX_PAGE_SIZE: Final = 200
MAX_LOOKUP_PAGES: Final = 50
"""Upper bound on pages followed for one email or Stripe id (10,000 records)."""
CHARTMOGUL_UUID_RE: Final = re.compile(
    r"cus_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def looks_like_chartmogul_uuid(value: str) -> bool:
    return CHARTMOGUL_UUID_RE.fullmatch(value.strip()) is not None


# --------------------------------------------------------------------------- errors


def parse_error(response: Answer) -> UpstreamError:
    """Reads every error body ChartMogul is known to send; never raises.

    ``{"code","message","param"}``, ``{"error","error_details":[{param,code,message}]}``,
    ``{"error"}``, ``{"errors":{field: message}}`` (422 validation) and non-JSON text.
    """
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip() if response.content else ""
        return UpstreamError(None, text[:200] or None)
    if not isinstance(body, dict):
        return UpstreamError(None, None)
    details = body.get("error_details")
    if isinstance(body.get("error"), str):
        code = None
        message = body["error"]
        if isinstance(details, list) and details and isinstance(details[0], dict):
            code = details[0].get("code")
            params = ", ".join(str(d.get("param")) for d in details if isinstance(d, dict))
            message = f"{message} (param: {params})" if params else message
        return UpstreamError(str(code) if code is not None else None, message)
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        text = "; ".join(f"{field}: {problem}" for field, problem in errors.items())
        return UpstreamError("validation_errors", text)
    if isinstance(body.get("message"), str):
        param = body.get("param")
        message = body["message"]
        return UpstreamError(None, f"{message} (param: {param})" if param else message)
    return UpstreamError(None, None)


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class ChartMogulDetails(RecordDetails):
    """ChartMogul's own ids and where the customer's data comes from."""

    internal_id: int | None = None
    external_id: str | None = None
    external_ids: tuple[str, ...] = ()
    data_source_uuid: str | None = None
    billing_system_type: str | None = None
    chartmogul_url: str | None = None


def details_of(obj: Mapping[str, Any]) -> ChartMogulDetails:
    external_ids = obj.get("external_ids")
    return ChartMogulDetails(
        internal_id=coerce.whole_number(obj.get("id")),
        external_id=coerce.display(obj.get("external_id")),
        external_ids=tuple(str(v) for v in external_ids) if isinstance(external_ids, list) else (),
        data_source_uuid=coerce.display(obj.get("data_source_uuid")),
        billing_system_type=coerce.display(obj.get("billing-system-type")),
        chartmogul_url=coerce.display(obj.get("chartmogul-url")),
    )


def to_record(obj: Mapping[str, Any]) -> CustomerRecord:
    """A ChartMogul customer object as a :class:`CustomerRecord` (raw kept as received)."""
    currency = coerce.text(obj.get("currency"))
    currency = currency.lower() if currency else None
    metrics: dict[Metric, Money | int] = {}
    if currency:
        for key in (Metric.MRR, Metric.ARR):
            value = obj.get(key.value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[key] = Money(round(value), currency)
    country = coerce.text(obj.get("country"))
    address = Address(
        city=coerce.text(obj.get("city")),
        state=coerce.text(obj.get("state")),
        postal_code=coerce.text(obj.get("zip")),
        country=country.upper() if country else None,
    )
    return CustomerRecord(
        provider="chartmogul",
        id=str(obj["uuid"]),
        raw=obj,
        email=coerce.text(obj.get("email")),
        name=coerce.text(obj.get("name")),
        company=coerce.text(obj.get("company")),
        address=None if address.is_empty() else address,
        # ChartMogul's `currency` is the account's reporting currency (what MRR/ARR are
        # expressed in), not the customer's billing currency: it only labels the metrics.
        currency=None,
        created_at=coerce.iso_datetime(obj.get("customer-since")),
        status=coerce.text(obj.get("status")),
        metrics=metrics,
        details=details_of(obj),
    )


def _address_params(address: Address | None) -> dict[str, str | None]:
    """ChartMogul stores city, state, country and zip only; ``None`` clears all four."""
    if address is None:
        return {"city": None, "state": None, "country": None, "zip": None}
    return {
        "city": address.city,
        "state": address.state,
        "country": address.country.upper() if address.country else None,
        "zip": address.postal_code,
    }


def _profile_params(given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields create and update share: name, email, company and the address parts."""
    params: dict[str, Any] = {}
    for key in ("name", "email", "company"):
        if key in given:
            params[key] = given[key] if given[key] is not None else ""
    if "address" in given:
        params.update(_address_params(given["address"]))
    return params


# --------------------------------------------------------------------------- adapter


class ChartMogulAdapter(HTTPAdapter):
    """The gateway's client for ChartMogul customers (it needs no identity settings)."""

    name = "chartmogul"
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EMAIL, Lookup.STRIPE_ID}),
        batch_sizes={Lookup.ID: 1, Lookup.EMAIL: 1, Lookup.STRIPE_ID: 1},
        list_page=True,
        max_page_size=MAX_PAGE_SIZE,
        create=True,
        update=True,
        delete=True,
        writable_fields=frozenset(
            {
                WritableField.NAME,
                WritableField.EMAIL,
                WritableField.COMPANY,
                WritableField.ADDRESS,
                WritableField.EXTERNAL_ID,
                WritableField.STRIPE_ID,
                WritableField.DATA_SOURCE_UUID,
            }
        ),
    )
    """``external_id``, ``stripe_id`` and ``data_source_uuid`` are set at creation only."""

    @classmethod
    def auth_headers(cls, api_key: str) -> Mapping[str, str]:
        """HTTP Basic with the API key as user name and an empty password."""
        token = base64.b64encode(f"{api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def error_parser(self) -> ErrorParser:
        """ChartMogul answers errors in several shapes (see :func:`parse_error`)."""
        return parse_error

    # ----------------------------------------------------------------- reads

    def lookup_key(self, by: Lookup, value: str) -> str | None:
        """A ChartMogul uuid is never sent as a Stripe id (both start with ``cus_``)."""
        if by is Lookup.STRIPE_ID and looks_like_chartmogul_uuid(value):
            return None
        return super().lookup_key(by, value)

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        """One value per call: ChartMogul has no batch lookups."""
        if by is Lookup.ID:
            return await self._by_uuid(value)
        if by is Lookup.EMAIL:
            return await self._all_pages("/v1/customers/search", {"email": value})
        if by is Lookup.STRIPE_ID:
            return await self._all_pages("/v1/customers", {"external_id": value})
        return await super().fetch_one(by, value)

    async def _by_uuid(self, customer_uuid: str) -> list[CustomerRecord]:
        try:
            body = await self.http.request("GET", f"/v1/customers/{quote(customer_uuid, safe='')}")
        except ProviderError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                return []
            raise
        return [to_record(self._customer(body))]

    async def _all_pages(self, path: str, params: Mapping[str, str]) -> list[CustomerRecord]:
        """Every entry of a cursor-paged answer, each uuid once; a 404 (search without
        matches) is none. A cursor that comes back again would page forever: it is refused."""
        records: dict[str, CustomerRecord] = {}
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_LOOKUP_PAGES):
            query = {**params, "per_page": MAX_PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
            try:
                page = await self._page(path, query)
            except ProviderError as exc:
                if exc.kind is ErrorKind.NOT_FOUND:
                    break
                raise
            for record in page.records:
                records.setdefault(record.id, record)
            cursor = page.next_cursor
            if cursor is None:
                break
            if cursor in seen:
                raise self.bad_response(f"GET {path} returned the cursor {cursor!r} again")
            seen.add(cursor)
        return list(records.values())

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        query: dict[str, Any] = {"per_page": max(1, min(limit, MAX_PAGE_SIZE))}
        if cursor:
            query["cursor"] = cursor
        return await self._page("/v1/customers", query)

    async def _page(self, path: str, query: Mapping[str, Any]) -> Page:
        body = self._object(await self.http.request("GET", path, params=query))
        entries = body.get("entries")
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("uuid"), str) for e in entries
        ):
            raise self.bad_response(f"GET {path} answered without a list of customer entries")
        cursor = body.get("cursor")
        has_more = bool(body.get("has_more")) and isinstance(cursor, str) and cursor != ""
        return Page([to_record(e) for e in entries], cursor if has_more else None)

    # ----------------------------------------------------------------- writes

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """``POST /v1/customers``; the Stripe id, when given, is the external id.

        ChartMogul has no idempotency keys and rejects a second create with the same external
        id, so a create is never retried.
        """
        given = write.given()
        external_id = given.get("stripe_id") or given.get("external_id")
        missing = [
            name
            for name, value in (
                ("data_source_uuid", given.get("data_source_uuid")),
                ("external_id or stripe_id", external_id),
                ("name", given.get("name")),
            )
            if not value
        ]
        if missing:
            raise ProviderError(
                self.name,
                ErrorKind.BAD_REQUEST,
                f"creating a ChartMogul customer needs {', '.join(missing)}",
            )
        body = {
            "data_source_uuid": given["data_source_uuid"],
            "external_id": external_id,
            **{k: v for k, v in _profile_params(given).items() if v is not None and v != ""},
        }
        created = await self.http.request("POST", "/v1/customers", json_body=body)
        return to_record(self._customer(created))

    async def update(
        self, record_id: str, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """``PATCH /v1/customers/{uuid}`` with absolute values, so it is safe to retry; it is
        retried only under an idempotency key (ChartMogul has none, so the key is not sent).

        ChartMogul documents a 200 with the customer; an empty answer is re-read with one
        ``GET /v1/customers/{uuid}`` rather than taken for a bad response.
        """
        body = _profile_params(write.given())
        path = f"/v1/customers/{quote(record_id, safe='')}"
        updated = await self.http.request(
            "PATCH", path, json_body=body, retry_writes=idempotency_key is not None
        )
        if updated is None:
            # An empty 2xx body: the update was applied; read back what it made.
            updated = await self.http.request("GET", path)
        return to_record(self._customer(updated))

    async def delete(self, record_id: str, *, idempotency_key: str | None = None) -> None:
        """``DELETE /v1/customers/{uuid}``; ChartMogul refuses customers not from the Import
        API, which surfaces as a ``bad_request`` ProviderError carrying its message. Retried
        only under an idempotency key (the key itself is not sent: ChartMogul has none)."""
        await self.http.request(
            "DELETE",
            f"/v1/customers/{quote(record_id, safe='')}",
            retry_writes=idempotency_key is not None,
        )

    # ----------------------------------------------------------------- helpers

    def _object(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise self.bad_response("expected a JSON object")
        return body

    def _customer(self, body: Any) -> dict[str, Any]:
        obj = self._object(body)
        if not isinstance(obj.get("uuid"), str):
            raise self.bad_response("expected a customer object with a uuid")
        return obj
