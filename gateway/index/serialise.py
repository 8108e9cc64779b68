"""Records and guardrail conflicts as JSON text, for the index's snapshot columns.

A snapshot keeps every :class:`CustomerRecord` field the resolver and the filters read, and the
raw object (link keys are read from it). ``details`` (the adapters' typed extras) is dropped:
reads fetch member records fresh, so the index never serves it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gateway.identity.survivorship import Conflict, ConflictKind
from gateway.model import Address, CustomerRecord, Metric, Money, RecordRef

__all__ = ["dump_conflict", "dump_record", "load_conflict", "load_record"]


def dump_record(record: CustomerRecord) -> str:
    """The record as compact, key-sorted JSON (equal records give equal text)."""
    address = record.address
    data: dict[str, Any] = {
        "provider": record.provider,
        "id": record.id,
        "raw": record.raw,
        "email": record.email,
        "name": record.name,
        "phone": record.phone,
        "company": record.company,
        "address": None
        if address is None
        else {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
            "country": address.country,
        },
        "currency": record.currency,
        "created_at": None if record.created_at is None else record.created_at.isoformat(),
        "status": record.status,
        "metrics": {
            metric.value: {"amount": value.amount, "currency": value.currency}
            if isinstance(value, Money)
            else value
            for metric, value in record.metrics.items()
        },
        "deleted": record.deleted,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_record(text: str) -> CustomerRecord:
    """The record :func:`dump_record` wrote (without ``details``)."""
    data = json.loads(text)
    address = data["address"]
    created = data["created_at"]
    return CustomerRecord(
        provider=data["provider"],
        id=data["id"],
        raw=data["raw"],
        email=data["email"],
        name=data["name"],
        phone=data["phone"],
        company=data["company"],
        address=None if address is None else Address(**address),
        currency=data["currency"],
        created_at=None if created is None else datetime.fromisoformat(created),
        status=data["status"],
        metrics={
            Metric(name): Money(value["amount"], value["currency"])
            if isinstance(value, dict)
            else value
            for name, value in data["metrics"].items()
        },
        deleted=data["deleted"],
    )


def dump_conflict(conflict: Conflict) -> str:
    """A guardrail conflict (field conflicts, whose values may be addresses, are not stored)."""
    if conflict.kind is not ConflictKind.GUARDRAIL:
        raise ValueError(f"only guardrail conflicts are stored, not {conflict.kind}")
    return json.dumps(
        {
            "kind": conflict.kind.value,
            "message": conflict.message,
            "field": conflict.field,
            "email": conflict.email,
            "provider": conflict.provider,
            "records": [[ref.provider, ref.id] for ref in conflict.records],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def load_conflict(text: str) -> Conflict:
    data = json.loads(text)
    return Conflict(
        kind=ConflictKind(data["kind"]),
        message=data["message"],
        field=data["field"],
        email=data["email"],
        provider=data["provider"],
        records=tuple(RecordRef(provider, id) for provider, id in data["records"]),
    )
