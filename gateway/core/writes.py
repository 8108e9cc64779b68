"""Customer writes: validate, plan, write to each provider, and report every provider's outcome.

Data flows mutation -> this service -> adapters. Nothing is written until the whole input is
valid; each provider's write is isolated (its failure never hides another's success); after the
writes the request's loaders forget the written providers so the customer read back is fresh.

Order of writes (see docs/writes.md):

- create: Stripe and Tofupay first, concurrently (Stripe's new id is the link; Tofupay joins by
  email). Then Lago, ChartMogul and FirstOfficer concurrently, linked to the Stripe id. If the
  Stripe create was asked for and failed, those are skipped rather than created unlinked.
- update / delete: every targeted record of the merged customer, concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import replace
from typing import Any, Final

from graphql import GraphQLError

from gateway.core.lookups import customer_by_id
from gateway.errors import ErrorCode, ErrorKind, FieldError, ProviderError, provider_code
from gateway.identity import InvalidCustomerId, decode_customer_id
from gateway.model import CustomerRecord, CustomerWrite, Lookup, RecordRef
from gateway.providers.registry import label
from gateway.writes.fields import input_name
from gateway.writes.idempotency import derive_key, fingerprint
from gateway.writes.outcomes import MutationResult, Outcome, Status
from gateway.writes.plan import create_order, plan_write, report_order
from gateway.writes.validation import (
    normalise_write,
    validate_idempotency_key,
    validate_providers,
    validate_write,
)
from resolvers.context import GatewayContext
from resolvers.customer import Customer

CREATE: Final = "createCustomer"
UPDATE: Final = "updateCustomer"
DELETE: Final = "deleteCustomer"

logger = logging.getLogger("customer_gateway.writes")

Written = tuple[Outcome, CustomerRecord | None]


# --- entry points -------------------------------------------------------------------------


async def create_customer(
    ctx: GatewayContext,
    write: CustomerWrite,
    providers: Sequence[str] | None,
    idempotency_key: str | None,
) -> MutationResult:
    """Create the customer in ``providers`` (default: the configured write set), linked."""
    write = normalise_write(write)
    targets = _distinct(providers if providers is not None else _write_set(ctx))
    configured = [p for p in targets if p in ctx.adapters]
    errors = [
        *validate_providers(providers, ctx.adapters),
        *validate_idempotency_key(idempotency_key),
        *validate_write(
            write,
            creating=True,
            external_id_key=ctx.settings.identity.external_id_metadata_key,
            targets=configured,
            creates_stripe="stripe" in configured,
        ),
    ]
    if errors:
        return MutationResult.invalid(errors)
    arguments = {"input": write.given(), "providers": _sorted_or_none(providers)}
    return await _once(
        ctx,
        CREATE,
        idempotency_key,
        arguments,
        lambda: _create(ctx, write, targets, idempotency_key),
    )


async def update_customer(
    ctx: GatewayContext,
    customer_id: str,
    write: CustomerWrite,
    providers: Sequence[str] | None,
    idempotency_key: str | None,
) -> MutationResult:
    """Apply a partial change to every targeted record of the merged customer."""
    write = normalise_write(write)
    anchor, id_errors = _anchor(ctx, customer_id)
    errors = [
        *id_errors,
        *validate_providers(providers, ctx.adapters),
        *validate_idempotency_key(idempotency_key),
        *validate_write(
            write,
            creating=False,
            external_id_key=ctx.settings.identity.external_id_metadata_key,
        ),
    ]
    if errors or anchor is None:
        return MutationResult.invalid(errors)
    arguments = {
        "id": customer_id,
        "input": write.given(),
        "providers": _sorted_or_none(providers),
    }
    targets = _distinct(providers) if providers is not None else list(ctx.adapters)
    return await _once(
        ctx,
        UPDATE,
        idempotency_key,
        arguments,
        lambda: _update(ctx, customer_id, anchor, write, targets, idempotency_key),
    )


async def delete_customer(
    ctx: GatewayContext,
    customer_id: str,
    providers: Sequence[str] | None,
    idempotency_key: str | None,
) -> MutationResult:
    """Delete the merged customer's records in ``providers`` (default: every provider)."""
    anchor, id_errors = _anchor(ctx, customer_id)
    errors = [
        *id_errors,
        *validate_providers(providers, ctx.adapters),
        *validate_idempotency_key(idempotency_key),
    ]
    if errors or anchor is None:
        return MutationResult.invalid(errors)
    arguments = {"id": customer_id, "providers": _sorted_or_none(providers)}
    targets = _distinct(providers) if providers is not None else list(ctx.adapters)
    return await _once(
        ctx,
        DELETE,
        idempotency_key,
        arguments,
        lambda: _delete(ctx, customer_id, anchor, targets, idempotency_key),
    )


# --- idempotency ----------------------------------------------------------------------------


async def _once(
    ctx: GatewayContext,
    operation: str,
    key: str | None,
    arguments: dict[str, Any],
    run: Callable[[], Awaitable[MutationResult]],
) -> MutationResult:
    """Run the mutation, or replay it under a key already used with the same arguments."""
    if key is None:
        return await run()
    async with ctx.idempotency.reserve(operation, key, fingerprint(arguments)) as reservation:
        if reservation.replay is not None:
            return replace(reservation.replay, replayed=True)
        if reservation.reused:
            message = (
                f"this idempotencyKey was already used for a {operation} with different "
                "arguments; use a new key for a new request"
            )
            return MutationResult.invalid(
                [FieldError(("idempotencyKey",), message, ErrorCode.IDEMPOTENCY_KEY_REUSED)]
            )
        result = await run()
        if result.executed:  # invalid inputs are not remembered: the client may fix and resend
            reservation.record(result)
        return result


# --- create ---------------------------------------------------------------------------------


async def _create(
    ctx: GatewayContext, write: CustomerWrite, targets: Sequence[str], client_key: str | None
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
    first = await asyncio.gather(
        *(_create_in(ctx, p, write, None, client_key) for p in order.first)
    )
    written: list[Written] = list(first)
    stripe = next((o for o, _ in first if o.provider == "stripe"), None)
    if stripe is not None and stripe.status is not Status.APPLIED:
        reason = (
            "not attempted: the Stripe create failed, and this record would be linked to the "
            "new Stripe customer. Create it in Stripe first, then call createCustomer with "
            "stripeId and these providers"
        )
        written += [(Outcome(p, Status.SKIPPED, reason=reason), None) for p in order.then]
    else:
        link = stripe.record_id if stripe is not None else stripe_id
        written += await asyncio.gather(
            *(_create_in(ctx, p, write, link, client_key) for p in order.then)
        )
    _forget(ctx, written)
    created = [r for _, r in sorted(written, key=lambda w: report_order(w[0].provider)) if r]
    return MutationResult(
        outcomes=_ordered([*outcomes, *(o for o, _ in written)]),
        anchor=created[0].ref if created else None,
    )


async def _create_in(
    ctx: GatewayContext,
    provider: str,
    write: CustomerWrite,
    link: str | None,
    client_key: str | None,
) -> Written:
    adapter = ctx.adapters[provider]
    if not adapter.capabilities.create:
        return _unsupported(provider, "create"), None
    plan = plan_write(
        provider, write, adapter.capabilities.writable_fields, creating=True, link_stripe_id=link
    )
    key = derive_key(client_key, CREATE, provider) if client_key else None
    return await _attempt(
        provider, None, plan.skipped, adapter.create(plan.write, idempotency_key=key)
    )


# --- update ---------------------------------------------------------------------------------


async def _update(
    ctx: GatewayContext,
    customer_id: str,
    anchor: RecordRef,
    write: CustomerWrite,
    targets: Sequence[str],
    client_key: str | None,
) -> MutationResult:
    customer = await _read(ctx, customer_id)
    if not isinstance(customer, Customer):
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
        await asyncio.gather(*(_update_in(ctx, record, write, client_key) for record in records))
    )
    _forget(ctx, written)
    outcomes = [o for o, _ in written] + _missing(customer, targets, set(record_ids))
    return MutationResult(outcomes=_ordered(outcomes), anchor=anchor)


async def _update_in(
    ctx: GatewayContext, record: CustomerRecord, write: CustomerWrite, client_key: str | None
) -> Written:
    provider = record.provider
    adapter = ctx.adapters[provider]
    if not adapter.capabilities.update:
        return _unsupported(provider, "update", record.id), None
    plan = plan_write(provider, write, adapter.capabilities.writable_fields, creating=False)
    if not plan.has_changes:
        reason = f"{label(provider)} stores none of the given fields"
        return Outcome(
            provider, Status.SKIPPED, record.id, reason=reason, skipped_fields=plan.skipped
        ), None
    key = derive_key(client_key, UPDATE, provider, record.id) if client_key else None
    return await _attempt(
        provider,
        record.id,
        plan.skipped,
        adapter.update(record.id, plan.write, idempotency_key=key),
    )


# --- delete ---------------------------------------------------------------------------------


async def _delete(
    ctx: GatewayContext,
    customer_id: str,
    anchor: RecordRef,
    targets: Sequence[str],
    client_key: str | None,
) -> MutationResult:
    customer = await _read(ctx, customer_id)
    if not isinstance(customer, Customer):
        return customer
    records = [r for r in customer.merged.records if r.provider in targets]
    written = list(
        await asyncio.gather(*(_delete_in(ctx, record, client_key) for record in records))
    )
    _forget(ctx, written)
    held = {r.provider for r in records}
    outcomes = [o for o, _ in written] + _missing(customer, targets, held)
    gone = {(o.provider, o.record_id) for o, _ in written if o.status is Status.APPLIED}
    remaining = [r.ref for r in customer.merged.records if (r.provider, r.id) not in gone]
    survivor = anchor if anchor in remaining else (remaining[0] if remaining else None)
    return MutationResult(outcomes=_ordered(outcomes), anchor=survivor)


async def _delete_in(
    ctx: GatewayContext, record: CustomerRecord, client_key: str | None
) -> Written:
    provider = record.provider
    adapter = ctx.adapters[provider]
    if not adapter.capabilities.delete:
        return _unsupported(provider, "delete", record.id), None
    key = derive_key(client_key, DELETE, provider, record.id) if client_key else None
    try:
        await adapter.delete(record.id, idempotency_key=key)
    except ProviderError as exc:
        if exc.kind is ErrorKind.NOT_FOUND:
            # The state asked for is reached: nothing of this record is left upstream.
            reason = f"the {label(provider)} record was already gone"
            return Outcome(provider, Status.APPLIED, record.id, reason=reason), record
        return _failed(provider, record.id, (), exc), record
    except Exception:
        logger.exception("unexpected error deleting a %s customer", provider)
        return _internal(provider, record.id, ()), record
    return Outcome(provider, Status.APPLIED, record.id), record


# --- helpers --------------------------------------------------------------------------------


async def _attempt(
    provider: str,
    record_id: str | None,
    skipped: tuple[str, ...],
    call: Awaitable[CustomerRecord],
) -> Written:
    """Await one provider write; any failure becomes that provider's FAILED outcome."""
    try:
        record = await call
    except ProviderError as exc:
        return _failed(provider, record_id, skipped, exc), None
    except Exception:
        logger.exception("unexpected error writing to %s", provider)
        return _internal(provider, record_id, skipped), None
    return Outcome(provider, Status.APPLIED, record.id, skipped_fields=skipped), record


def _failed(
    provider: str, record_id: str | None, skipped: tuple[str, ...], exc: ProviderError
) -> Outcome:
    logger.info("write to %s failed: %s", provider, exc.kind.value)
    return Outcome(
        provider,
        Status.FAILED,
        record_id,
        code=provider_code(exc),
        message=exc.message,
        skipped_fields=skipped,
    )


def _internal(provider: str, record_id: str | None, skipped: tuple[str, ...]) -> Outcome:
    message = "unexpected gateway error; the write may or may not have reached the provider"
    return Outcome(
        provider,
        Status.FAILED,
        record_id,
        code=ErrorCode.INTERNAL_SERVER_ERROR,
        message=message,
        skipped_fields=skipped,
    )


def _unsupported(provider: str, operation: str, record_id: str | None = None) -> Outcome:
    reason = f"unsupported: {label(provider)} has no API to {operation} customers"
    return Outcome(provider, Status.SKIPPED, record_id, reason=reason)


def _missing(customer: Customer, targets: Sequence[str], held: Collection[str]) -> list[Outcome]:
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


async def _read(ctx: GatewayContext, customer_id: str) -> Customer | MutationResult:
    """The merged customer as it reads now, or the user error saying why it cannot be."""
    try:
        customer = await customer_by_id(ctx, customer_id)
    except GraphQLError as exc:
        code = ErrorCode((exc.extensions or {}).get("code", ErrorCode.NOT_FOUND))
        message = f"could not read the customer: {exc.message}"
        return MutationResult.invalid([FieldError(("id",), message, code)])
    if customer is None:
        return MutationResult.invalid(
            [FieldError(("id",), "no such customer", ErrorCode.NOT_FOUND)]
        )
    return customer


async def _check_stripe_id(ctx: GatewayContext, stripe_id: str) -> FieldError | None:
    """A ``stripeId`` to link to must name a live Stripe customer (when Stripe is configured)."""
    if "stripe" not in ctx.adapters:
        return None
    path = ("input", input_name("stripe_id"))
    found = await ctx.loaders.load("stripe", Lookup.ID, stripe_id)
    if found.error is not None:
        message = f"could not check the Stripe customer: {found.error.message}"
        return FieldError(path, message, provider_code(found.error))
    if not found.records:
        return FieldError(path, f"no Stripe customer {stripe_id!r}", ErrorCode.NOT_FOUND)
    return None


def _anchor(ctx: GatewayContext, customer_id: str) -> tuple[RecordRef | None, list[FieldError]]:
    try:
        anchor = decode_customer_id(customer_id)
    except InvalidCustomerId as exc:
        return None, [FieldError(("id",), f"invalid customer id: {exc}", ErrorCode.INVALID_ID)]
    if anchor.provider not in ctx.adapters:
        message = f"the customer's {label(anchor.provider)} record cannot be read here"
        return None, [FieldError(("id",), message, ErrorCode.NOT_FOUND)]
    return anchor, []


def _forget(ctx: GatewayContext, written: Sequence[Written]) -> None:
    """Clear the request's cached lookups for every provider a write was attempted in (a failed
    one may still have happened upstream), so the customer read back is fresh."""
    attempted = {o.provider for o, _ in written if o.status is not Status.SKIPPED}
    ctx.loaders.clear_providers(attempted)


def _ordered(outcomes: Sequence[Outcome]) -> tuple[Outcome, ...]:
    return tuple(sorted(outcomes, key=lambda o: (*report_order(o.provider), o.record_id or "")))


def _write_set(ctx: GatewayContext) -> list[str]:
    """The configured default write providers (load_settings rejects unknown names)."""
    return list(ctx.settings.write_providers)


def _distinct(providers: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(providers))


def _sorted_or_none(providers: Sequence[str] | None) -> list[str] | None:
    return None if providers is None else sorted(set(providers))
