"""JSON forms of what the gateway keeps in Redis: customer records and mutation results.

Never pickle: a value read back from Redis is data, not code, so a shared Redis someone else
can write to cannot make the gateway run anything. Each type is written field by field and read
back into the same frozen dataclasses; a provider's typed ``details`` are rebuilt only as a
subclass of :class:`~gateway.model.RecordDetails` (looked up by name among those the running
gateway defines). Anything unexpected raises :class:`ValueError`, and callers treat the value
as missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from gateway.errors import ErrorCode, FieldError
from gateway.model import Address, CustomerRecord, Metric, Money, RecordDetails, RecordRef
from gateway.writes.outcomes import MutationResult, Outcome, Status

__all__ = [
    "dump_records",
    "dump_result",
    "load_records",
    "load_result",
]


def dump_records(records: tuple[CustomerRecord, ...]) -> str:
    return json.dumps([_record(r) for r in records], separators=(",", ":"), ensure_ascii=False)


def load_records(text: str | bytes) -> tuple[CustomerRecord, ...]:
    try:
        return tuple(_to_record(item) for item in json.loads(text))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored record list: {exc}") from None


def dump_result(result: MutationResult) -> str:
    return json.dumps(
        {
            "outcomes": [
                {
                    "provider": o.provider,
                    "status": o.status.value,
                    "record_id": o.record_id,
                    "reason": o.reason,
                    "code": None if o.code is None else o.code.value,
                    "message": o.message,
                    "skipped_fields": list(o.skipped_fields),
                }
                for o in result.outcomes
            ],
            "user_errors": [
                {"path": list(e.path), "message": e.message, "code": e.code.value}
                for e in result.user_errors
            ],
            "anchor": None
            if result.anchor is None
            else {"provider": result.anchor.provider, "id": result.anchor.id},
            "replayed": result.replayed,
            "actor": result.actor,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def load_result(text: str | bytes) -> MutationResult:
    try:
        data = json.loads(text)
        anchor = data["anchor"]
        return MutationResult(
            outcomes=tuple(
                Outcome(
                    provider=o["provider"],
                    status=Status(o["status"]),
                    record_id=o["record_id"],
                    reason=o["reason"],
                    code=None if o["code"] is None else ErrorCode(o["code"]),
                    message=o["message"],
                    skipped_fields=tuple(o["skipped_fields"]),
                )
                for o in data["outcomes"]
            ),
            user_errors=tuple(
                FieldError(tuple(e["path"]), e["message"], ErrorCode(e["code"]))
                for e in data["user_errors"]
            ),
            anchor=None if anchor is None else RecordRef(anchor["provider"], anchor["id"]),
            replayed=bool(data["replayed"]),
            actor=data["actor"],
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored mutation result: {exc}") from None


def _record(record: CustomerRecord) -> dict[str, Any]:
    return {
        "provider": record.provider,
        "id": record.id,
        "raw": record.raw,
        "email": record.email,
        "name": record.name,
        "phone": record.phone,
        "company": record.company,
        "address": None if record.address is None else _fields(record.address),
        "currency": record.currency,
        "created_at": None if record.created_at is None else record.created_at.isoformat(),
        "status": record.status,
        "metrics": {
            metric.value: value
            if isinstance(value, int)
            else {"amount": value.amount, "currency": value.currency}
            for metric, value in record.metrics.items()
        },
        "details": None if record.details is None else _details(record.details),
        "deleted": record.deleted,
    }


def _to_record(data: Mapping[str, Any]) -> CustomerRecord:
    address, created, details = data["address"], data["created_at"], data["details"]
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
            Metric(name): value if isinstance(value, int) else Money(**value)
            for name, value in data["metrics"].items()
        },
        details=None if details is None else _to_details(details),
        deleted=data["deleted"],
    )


def _fields(value: object) -> dict[str, Any]:
    """A flat dataclass's fields (not ``asdict``: nested mappings stay as they are)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}  # type: ignore[arg-type]


def _details(details: RecordDetails) -> dict[str, Any]:
    if not is_dataclass(details):
        raise TypeError(f"{type(details).__name__} is not a dataclass")
    kind = type(details)
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in _fields(details).items()}
    return {"type": f"{kind.__module__}.{kind.__qualname__}", "fields": values}


def _to_details(data: Mapping[str, Any]) -> RecordDetails:
    kind = _DETAILS.get(data["type"]) or _refresh_details().get(data["type"])
    if kind is None:
        raise ValueError(f"unknown record details type {data['type']!r}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data["fields"].items()}
    return kind(**values)


def _subclasses(kind: type[RecordDetails]) -> Iterator[type[RecordDetails]]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_DETAILS: dict[str, type[RecordDetails]] = {}


def _refresh_details() -> dict[str, type[RecordDetails]]:
    """The details types defined so far, by ``module.QualName`` (the adapters define theirs
    when imported; only these can be built from stored data)."""
    for kind in _subclasses(RecordDetails):
        _DETAILS[f"{kind.__module__}.{kind.__qualname__}"] = kind
    return _DETAILS
