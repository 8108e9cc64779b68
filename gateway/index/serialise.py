"""Records and guardrail conflicts as JSON text, for the index's snapshot columns.

A snapshot keeps every :class:`CustomerRecord` field the resolver and the filters read, and the
raw object (link keys are read from it). ``details`` (the adapters' typed extras) is dropped:
reads fetch member records fresh, so the index never serves it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Final

from gateway.identity.survivorship import Conflict, ConflictKind
from gateway.model import CustomerRecord, RecordRef
from gateway.record_json import record_from_json, record_to_json

__all__ = ["dump_conflict", "dump_record", "load_conflict", "load_record", "load_snapshot"]

SNAPSHOTS_KEPT: Final = 2048
"""Parsed snapshots :func:`load_snapshot` keeps (snapshots are ~1-1.5 KB of JSON each)."""


def dump_record(record: CustomerRecord) -> str:
    """The record as compact, key-sorted JSON (equal records give equal text)."""
    data = record_to_json(record, details=False)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_record(text: str) -> CustomerRecord:
    """The record :func:`dump_record` wrote (without ``details``)."""
    return record_from_json(json.loads(text))


@lru_cache(maxsize=SNAPSHOTS_KEPT)
def load_snapshot(text: str) -> CustomerRecord:
    """:func:`load_record`, remembered by text. Every read of a customer parses its members'
    snapshots (read-repair compares the fresh records with them): a page's ~130 on every
    request, ~14 µs each, where a hit costs one hash of the text. Equal text is an equal
    record, and records are immutable, so one parse serves every request (as the record
    cache's records do)."""
    return load_record(text)


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
