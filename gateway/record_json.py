"""A :class:`~gateway.model.CustomerRecord` as JSON-ready data and back: one form for every
store that keeps records (the identity index's snapshots, the record cache in Redis).

Never pickle: a value read back is data, not code, so a store someone else can write to cannot
make the gateway run anything. Fields are written one by one and read back into the same frozen
dataclasses; a provider's typed ``details`` are rebuilt only as a subclass of
:class:`~gateway.model.RecordDetails` (looked up by name among those the running gateway
defines). Malformed data raises ``KeyError``, ``TypeError`` or ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from gateway.model import Address, CustomerRecord, Metric, Money, RecordDetails

__all__ = ["record_from_json", "record_to_json"]


def record_to_json(record: CustomerRecord, *, details: bool = True) -> dict[str, Any]:
    """The record's fields as JSON-ready data; ``details=False`` leaves the typed extras out
    (stores that never serve them)."""
    data: dict[str, Any] = {
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
        "deleted": record.deleted,
    }
    if details:
        data["details"] = None if record.details is None else _details(record.details)
    return data


def record_from_json(data: Mapping[str, Any]) -> CustomerRecord:
    """The record :func:`record_to_json` wrote."""
    address, created, details = data["address"], data["created_at"], data.get("details")
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
