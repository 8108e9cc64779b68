"""ChartMogul's customers and data sources, their lookups, and the cursor pages lists return."""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import math
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.providers.chartmogul.simulator.errors import Invalid, api_error, not_found
from gateway.providers.chartmogul.simulator.shape import (
    DEFAULT_DATA_SOURCE_UUID,
    IMPORT_API,
    NOT_BLANK,
    STRING_FIELDS,
    address,
    attribute_changes,
    attributes,
    chartmogul_url,
    seed_record,
    string_errors,
)
from gateway.sandbox.coerce import email_key
from gateway.sandbox.index import KeyIndex


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


def _lookup_keys(record: Mapping[str, Any]) -> Iterator[Hashable]:
    """What search and the list filter find a customer by: its email (as search compares it)
    and every external id it holds (merged ones included)."""
    yield "email", email_key(record["email"])
    for external_id in record["external_ids"]:
        yield "external_id", external_id


class CustomerStore:
    """Customers by uuid plus the data sources they belong to.

    Lookups by email and external id use one :class:`KeyIndex`, and lists a cached id order; the
    store keeps them current on every write, so change customers through its methods only.
    """

    def __init__(self, records: Sequence[Mapping[str, Any]] = ()) -> None:
        self.created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.customers: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, DataSource] = {}
        self._index: KeyIndex[Mapping[str, Any]] = KeyIndex(_lookup_keys)
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
        self._index.put(record["uuid"], record)
        self._order = None

    def _remove(self, customer_uuid: str) -> None:
        del self.customers[customer_uuid]
        del self._rank[customer_uuid]
        self._index.put(customer_uuid, None)
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

    def in_order(self) -> Sequence[dict[str, Any]]:
        """Every customer by id: the cached order itself (read only; rebuilt after a create,
        delete or merge)."""
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
        return self._in_order(self._index.get(("email", email_key(email))))

    def with_external_id(self, external_id: str) -> list[dict[str, Any]]:
        """Customers holding ``external_id`` (merged ones included), by id."""
        return self._in_order(self._index.get(("external_id", external_id)))

    def find(self, data_source_uuid: str, external_id: str) -> dict[str, Any] | None:
        found = [
            u
            for u in self._index.get(("external_id", external_id))
            if data_source_uuid in self.customers[u]["data_source_uuids"]
        ]
        # The first in insertion order, as a scan of ``customers`` finds it.
        return self.customers[min(found, key=self._rank.__getitem__)] if found else None

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /customers``; blank required fields and duplicates answer 422."""
        errors = {key: "can't be blank" for key in NOT_BLANK if not body.get(key)}
        errors.update(string_errors(body, ("data_source_uuid", "external_id", *STRING_FIELDS)))
        if errors:
            raise Invalid(errors)
        source = self.data_sources.get(body["data_source_uuid"])
        if source is None:
            raise Invalid({"data_source_uuid": "Data source not found"})
        if self.find(source.uuid, body["external_id"]) is not None:
            raise Invalid(
                {"external_id": "The external ID for this customer already exists in our system."}
            )
        given = attributes(body.get("attributes"))
        record = seed_record(
            {
                **{key: body.get(key) for key in STRING_FIELDS if key in body},
                "data_source_uuid": source.uuid,
                "external_id": body["external_id"],
                "status": "New Lead",
                "attributes": given,
                "billing-system-type": source.system,
            }
        )
        self._put(record)
        return record

    def update(self, customer_uuid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH``/``PUT``: given fields change, tags are replaced, custom keys merged."""
        record = self.get(customer_uuid)
        errors = string_errors(body, STRING_FIELDS)
        if "name" in body and not body["name"]:
            errors["name"] = "can't be blank"
        given = body.get("attributes")
        if given is not None and not isinstance(given, Mapping):
            errors["attributes"] = "must be an object"
        if errors:
            raise Invalid(errors)
        changes = {key: body[key] for key in STRING_FIELDS if key in body}
        for key in ("name", "email", "company"):  # these are never null in responses
            if key in changes and changes[key] is None:
                changes[key] = ""
        custom, tags = attribute_changes(given or {})
        record["attributes"]["custom"].update(custom)
        if tags is not None:
            record["attributes"]["tags"] = tags
        record.update(changes)
        self._index.put(record["uuid"], record)
        record["address"] = address(record)
        record["chartmogul-url"] = chartmogul_url(record["id"], record["name"])
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
        attrs = target["attributes"]
        attrs["tags"] = list(dict.fromkeys(attrs["tags"] + source["attributes"]["tags"]))
        attrs["custom"] = {**source["attributes"]["custom"], **attrs["custom"]}
        self._remove(source["uuid"])
        self._index.put(target["uuid"], target)


# --- cursor pages ----------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    """Opaque to clients: base64 of the last id of the page."""
    return base64.b64encode(f"id:{last_id}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        if text.startswith("id:"):
            return int(text[3:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise api_error(400, 'Parameter "cursor" is invalid', "cursor")


def page(records: Sequence[dict[str, Any]], per_page: int, cursor: str | None) -> dict[str, Any]:
    """One cursor page of ``records`` (ordered by id) in the list/search envelope, with the
    deprecated ``per_page``, ``page``, ``current_page`` and ``total_pages`` kept."""
    start = 0
    if cursor:
        start = bisect.bisect_right(records, _decode_cursor(cursor), key=lambda r: r["id"])
    entries = list(records[start : start + per_page])
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
