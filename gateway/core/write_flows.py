"""The three write flows (create, update, delete) across providers, after validation.

After the writes, the request's loaders forget the written providers so the customer read
back is fresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import replace

from gateway.core.by_id import customer_by_id
from gateway.core.context import RequestContext
from gateway.core.found import FoundCustomer
from gateway.core.provider_writes import Written, create_in, delete_in, update_in
from gateway.errors import ErrorCode, FieldError, GatewayError, provider_code
from gateway.index import ChangeSource
from gateway.model import CustomerWrite, Lookup, RecordRef
from gateway.providers.registry import label
from gateway.writes.fields import input_name
from gateway.writes.outcomes import MutationResult, Outcome, Status
from gateway.writes.plan import LINK_PROVIDER, create_order, report_order
from gateway.writes.validation import validate_write

logger = logging.getLogger("customer_gateway.identity")


async def run_create(
    ctx: RequestContext, write: CustomerWrite, targets: Sequence[str], client_key: str | None
) -> MutationResult:
    stripe_id = write.stripe_id if isinstance(write.stripe_id, str) else None
    if stripe_id is not None and (problem := await _check_stripe_id(ctx, stripe_id)):
        return MutationResult.invalid([problem])
    outcomes = [
        Outcome(p, Status.SKIPPED, reason=f"{label(p)} is not configured on this gateway")
        for p in targets
        if p not in ctx.adapters
    ]
    order = create_order([p for p in targets if p in ctx.adapters])
    first = await asyncio.gather(*(create_in(ctx, p, write, None, client_key) for p in order.first))
    written: list[Written] = list(first)
    link = next((o for o, _ in first if o.provider == LINK_PROVIDER), None)
    if link is not None and link.status is not Status.APPLIED:
        name = label(LINK_PROVIDER)
        reason = (
            f"not attempted: the {name} create failed, and this record would be linked to the "
            f"new {name} customer. Create it in {name} first, then call createCustomer with "
            "stripeId and these providers"
        )
        written += [(Outcome(p, Status.SKIPPED, reason=reason), None) for p in order.then]
    else:
        link_id = link.record_id if link is not None else stripe_id
        written += await asyncio.gather(
            *(create_in(ctx, p, write, link_id, client_key) for p in order.then)
        )
    await _after_writes(ctx, written)
    created = [r for _, r in sorted(written, key=lambda w: report_order(w[0].provider)) if r]
    return MutationResult(
        outcomes=_ordered([*outcomes, *(o for o, _ in written)]),
        anchor=created[0].ref if created else None,
    )


async def run_update(
    ctx: RequestContext,
    customer_id: str,
    anchor: RecordRef,
    write: CustomerWrite,
    targets: Sequence[str],
    client_key: str | None,
) -> MutationResult:
    customer = await _read(ctx, customer_id)
    if not isinstance(customer, FoundCustomer):
        return customer
    records = [r for r in customer.merged.records if r.provider in targets]
    record_ids: dict[str, list[str]] = {}
    for record in records:
        record_ids.setdefault(record.provider, []).append(record.id)
    errors = validate_write(
        write,
        creating=False,
        external_id_key=ctx.settings.identity.external_id_metadata_key,
        targets=record_ids,
        record_ids=record_ids,
    )
    stripe_id = write.stripe_id
    if not errors and isinstance(stripe_id, str):
        problem = await _check_stripe_id(ctx, stripe_id)
        errors = [problem] if problem else []
    if errors:
        return MutationResult.invalid(errors)
    written = list(
        await asyncio.gather(*(update_in(ctx, record, write, client_key) for record in records))
    )
    await _after_writes(ctx, written)
    outcomes = [o for o, _ in written] + _missing(customer, targets, set(record_ids))
    return MutationResult(outcomes=_ordered(outcomes), anchor=anchor)


async def run_delete(
    ctx: RequestContext,
    customer_id: str,
    anchor: RecordRef,
    targets: Sequence[str],
    client_key: str | None,
) -> MutationResult:
    customer = await _read(ctx, customer_id)
    if not isinstance(customer, FoundCustomer):
        return customer
    records = [r for r in customer.merged.records if r.provider in targets]
    written = list(
        await asyncio.gather(*(delete_in(ctx, record, client_key) for record in records))
    )
    await _after_writes(ctx, written, deleting=True)
    held = {r.provider for r in records}
    outcomes = [o for o, _ in written] + _missing(customer, targets, held)
    gone = {(o.provider, o.record_id) for o, _ in written if o.status is Status.APPLIED}
    remaining = [r.ref for r in customer.merged.records if (r.provider, r.id) not in gone]
    survivor = anchor if anchor in remaining else (remaining[0] if remaining else None)
    return MutationResult(outcomes=_ordered(outcomes), anchor=survivor)


async def _read(ctx: RequestContext, customer_id: str) -> FoundCustomer | MutationResult:
    """The merged customer as it reads now, or the user error saying why it cannot be."""
    try:
        customer = await customer_by_id(ctx, customer_id)
    except GatewayError as exc:
        message = f"could not read the customer: {exc.message}"
        return MutationResult.invalid([FieldError(("id",), message, exc.code)])
    if customer is None:
        return MutationResult.invalid(
            [FieldError(("id",), "no such customer", ErrorCode.NOT_FOUND)]
        )
    return customer


async def _check_stripe_id(ctx: RequestContext, stripe_id: str) -> FieldError | None:
    """A ``stripeId`` to link to must name a live Stripe customer (when Stripe is configured)."""
    if LINK_PROVIDER not in ctx.adapters:
        return None
    path = ("input", input_name("stripe_id"))
    found = await ctx.loaders.load(LINK_PROVIDER, Lookup.ID, stripe_id)
    if found.error is not None:
        message = f"could not check the Stripe customer: {found.error.message}"
        return FieldError(path, message, provider_code(found.error))
    if not found.records:
        return FieldError(path, f"no Stripe customer {stripe_id!r}", ErrorCode.NOT_FOUND)
    return None


def _missing(
    customer: FoundCustomer, targets: Sequence[str], held: Collection[str]
) -> list[Outcome]:
    """Outcomes for targeted providers without a record: unknown (read failed) or none."""
    outcomes: list[Outcome] = []
    for provider in targets:
        if provider in held:
            continue
        error = customer.errors.get(provider)
        if error is not None:
            outcomes.append(
                Outcome(
                    provider,
                    Status.FAILED,
                    code=provider_code(error),
                    message=f"could not read this customer's {label(provider)} records: "
                    f"{error.message}",
                )
            )
        else:
            reason = f"the customer has no {label(provider)} record"
            outcomes.append(Outcome(provider, Status.SKIPPED, reason=reason))
    return outcomes


async def _after_writes(
    ctx: RequestContext, written: Sequence[Written], *, deleting: bool = False
) -> None:
    """Forget cached reads of the written providers, then tell the identity index what was
    written (write-through), so the customer read back, here or on another replica sharing
    the index, is already who it now is."""
    await _forget(ctx, written)
    if ctx.graph is None:
        return
    records = [
        replace(record, deleted=True) if deleting else record
        for outcome, record in written
        if outcome.status is Status.APPLIED and record is not None
    ]
    try:
        await ctx.graph.feed(records, ChangeSource.WRITE)
    except Exception:
        # The providers hold the write; the index learns it on the next read or sync.
        logger.exception("could not record a write in the identity index")


async def _forget(ctx: RequestContext, written: Sequence[Written]) -> None:
    """Clear the request's cached lookups for every provider a write was attempted in (a failed
    one may still have happened upstream), so the customer read back is fresh."""
    attempted = {o.provider for o, _ in written if o.status is not Status.SKIPPED}
    ctx.loaders.clear_providers(attempted)
    if (cache := ctx.loaders.cache) is not None:
        # The app's record cache too, every entry of each provider, for the reasons
        # Loaders.clear gives: a write can change answers that never held the record. With
        # Redis, every replica's (before the mutation answers, so no later read sees them).
        for provider in attempted:
            await cache.invalidate_everywhere(provider)


def _ordered(outcomes: Sequence[Outcome]) -> tuple[Outcome, ...]:
    return tuple(sorted(outcomes, key=lambda o: (*report_order(o.provider), o.record_id or "")))
