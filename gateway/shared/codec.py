"""JSON forms of what the gateway keeps in Redis: customer records and mutation results.

Never pickle: a value read back from Redis is data, not code, so a shared Redis someone else
can write to cannot make the gateway run anything (records: :mod:`gateway.record_json`).
Anything unexpected raises :class:`ValueError`, and callers treat the value as missing.
"""

from __future__ import annotations

import json

from gateway.errors import ErrorCode, FieldError
from gateway.model import CustomerRecord, RecordRef
from gateway.record_json import record_from_json, record_to_json
from gateway.writes.outcomes import MutationResult, Outcome, Status

__all__ = [
    "dump_records",
    "dump_result",
    "load_records",
    "load_result",
]


def dump_records(records: tuple[CustomerRecord, ...]) -> str:
    return json.dumps(
        [record_to_json(r) for r in records], separators=(",", ":"), ensure_ascii=False
    )


def load_records(text: str | bytes) -> tuple[CustomerRecord, ...]:
    try:
        return tuple(record_from_json(item) for item in json.loads(text))
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
