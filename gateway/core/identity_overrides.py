"""Operators' identity decisions: link two records into one customer, or stand one alone.

Both records are read by id first (a decision about a record that does not exist is refused),
fed into the index, and the decision is stored with who/when/why; the index recomputes the
customers it touches. The answer is the customers as they read afterwards.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from gateway.core.context import RequestContext
from gateway.core.found import FoundCustomer
from gateway.core.graph import IdentityGraph
from gateway.core.graph_reads import from_index
from gateway.core.lookups import checked_value
from gateway.errors import ErrorCode, FieldError, provider_code
from gateway.identity import Override, OverrideKind
from gateway.index import ChangeSource, IndexedCustomer
from gateway.model import CustomerRecord, Lookup, RecordRef

__all__ = ["MAX_REASON_LENGTH", "OverrideResult", "link_records", "unlink_record"]

MAX_REASON_LENGTH: Final = 500


@dataclass(frozen=True, slots=True)
class OverrideResult:
    override: Override | None = None
    customers: tuple[FoundCustomer, ...] = ()
    """The customers the decision touched, as they read now."""
    user_errors: tuple[FieldError, ...] = field(default_factory=tuple)


async def link_records(
    ctx: RequestContext, a: RecordRef, b: RecordRef, reason: str
) -> OverrideResult:
    """``a`` and ``b`` are one customer from now on, whatever their data says."""
    errors = _check(ctx, {"a": a, "b": b}, reason)
    if not errors and a == b:
        message = "a record is always linked to itself"
        errors.append(FieldError(("b",), message, ErrorCode.BAD_USER_INPUT))
    return await _decide(ctx, OverrideKind.LINK, {"a": a, "b": b}, reason, errors)


async def unlink_record(ctx: RequestContext, record: RecordRef, reason: str) -> OverrideResult:
    """``record`` stands alone from now on: no email or shared id joins it to others."""
    errors = _check(ctx, {"record": record}, reason)
    return await _decide(ctx, OverrideKind.UNLINK, {"record": record}, reason, errors)


def _check(ctx: RequestContext, refs: dict[str, RecordRef], reason: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if ctx.graph is None:
        message = "identity overrides need the identity index, which this gateway runs without"
        return [FieldError((), message, ErrorCode.NOT_SYNCED)]
    for argument, ref in refs.items():
        if ref.provider not in ctx.adapters:
            message = f"provider {ref.provider!r} is not configured on this gateway"
            errors.append(
                FieldError((argument, "provider"), message, ErrorCode.PROVIDER_NOT_CONFIGURED)
            )
        elif not ref.id.strip() or len(ref.id) > 255:
            message = "id must be 1-255 characters, not blank"
            errors.append(FieldError((argument, "id"), message, ErrorCode.BAD_USER_INPUT))
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        message = f"reason must be 1-{MAX_REASON_LENGTH} characters, not blank"
        errors.append(FieldError(("reason",), message, ErrorCode.BAD_USER_INPUT))
    return errors


async def _decide(
    ctx: RequestContext,
    kind: OverrideKind,
    refs: dict[str, RecordRef],
    reason: str,
    errors: list[FieldError],
) -> OverrideResult:
    if errors:
        return OverrideResult(user_errors=tuple(errors))
    graph = ctx.graph
    assert graph is not None  # _check refused otherwise
    records: list[CustomerRecord] = []
    cleaned = {
        arg: RecordRef(ref.provider, checked_value(ref.id, "id")) for arg, ref in refs.items()
    }
    loads = (ctx.loaders.load(r.provider, Lookup.ID, r.id) for r in cleaned.values())
    for (argument, clean), found in zip(cleaned.items(), await asyncio.gather(*loads), strict=True):
        if found.error is not None:
            message = f"could not read the record: {found.error.message}"
            errors.append(FieldError((argument,), message, provider_code(found.error)))
        elif not (live := [r for r in found.records if r.ref == clean and not r.deleted]):
            errors.append(FieldError((argument,), f"no record {clean}", ErrorCode.NOT_FOUND))
        else:
            records.append(live[0])
    if errors:
        return OverrideResult(user_errors=tuple(errors))
    await graph.feed(records, ChangeSource.READ)
    before = [await graph.index.customer_of(r.ref) for r in records]
    actor = ctx.principal.key_id or "anonymous"
    override = Override(
        kind, tuple(r.ref for r in records), reason.strip(), actor, datetime.now(UTC)
    )
    await graph.index.add_override(override)
    return OverrideResult(override, await _touched(ctx, graph, records, before))


async def _touched(
    ctx: RequestContext,
    graph: IdentityGraph,
    records: list[CustomerRecord],
    before: list[IndexedCustomer | None],
) -> tuple[FoundCustomer, ...]:
    """The named records' customers now, then the ones they left (each once)."""
    now = [await graph.index.customer_of(r.ref) for r in records]
    left = [await graph.index.customer(c.id) for c in before if c is not None]
    unique: dict[str, IndexedCustomer] = {}
    for customer in [*now, *left]:
        if customer is not None:
            unique.setdefault(customer.id, customer)
    found = await from_index(ctx, graph, list(unique.values()), strict=False)
    return tuple(f for f in found if f is not None)
