"""Acme contacts over a small JSON API: by id, by email, a paged list, and create."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gateway.errors import ErrorKind, ProviderError
from gateway.model import (
    CustomerRecord,
    CustomerWrite,
    Lookup,
    Page,
    RecordDetails,
    WritableField,
)
from gateway.providers import coerce
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.contract import Capabilities


@dataclass(frozen=True, slots=True)
class AcmeDetails(RecordDetails):
    plan: str | None = None


def to_record(obj: Any) -> CustomerRecord:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise ProviderError("acme", ErrorKind.BAD_RESPONSE, "expected a contact with an id")
    return CustomerRecord(
        provider="acme",
        id=obj["id"],
        raw=obj,
        email=coerce.text(obj.get("email")),
        name=coerce.text(obj.get("name")),
        created_at=coerce.unix_datetime(obj.get("created")),
        details=AcmeDetails(plan=coerce.text(obj.get("plan"))),
    )


class AcmeAdapter(HTTPAdapter):
    name = "acme"
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EMAIL}),
        list_page=True,
        max_page_size=50,
        create=True,
        writable_fields=frozenset({WritableField.EMAIL, WritableField.NAME}),
    )

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        if by is Lookup.ID:
            try:
                body = await self.http.request("GET", f"/v1/contacts/{quote(value, safe='')}")
            except ProviderError as exc:
                if exc.kind is ErrorKind.NOT_FOUND:
                    return []
                raise
            return [to_record(body)]
        page = await self.http.request("GET", "/v1/contacts", params={"email": value})
        return [to_record(item) for item in (page or {}).get("data", [])]

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        params = {"limit": limit, **({"after": cursor} if cursor else {})}
        body = await self.http.request("GET", "/v1/contacts", params=params)
        records = [to_record(item) for item in body.get("data", [])]
        more = bool(body.get("has_more")) and records
        return Page(records, records[-1].id if more else None)

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        given = write.given()
        payload = {key: given[key] for key in ("email", "name") if given.get(key) is not None}
        return to_record(await self.http.request("POST", "/v1/contacts", json_body=payload))
