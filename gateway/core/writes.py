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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from gateway.core.context import RequestContext
from gateway.core.loaders import fresh_reads
from gateway.core.provider_writes import CREATE, DELETE, UPDATE
from gateway.core.write_flows import run_create, run_delete, run_update
from gateway.errors import ErrorCode, FieldError
from gateway.identity import InvalidCustomerId, decode_customer_id
from gateway.model import CustomerWrite, RecordRef
from gateway.providers.registry import label
from gateway.writes.idempotency import fingerprint
from gateway.writes.outcomes import MutationResult
from gateway.writes.plan import LINK_PROVIDER
from gateway.writes.validation import (
    normalise_write,
    validate_idempotency_key,
    validate_providers,
    validate_write,
)


async def create_customer(
    ctx: RequestContext,
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
            creates_stripe=LINK_PROVIDER in configured,
        ),
    ]
    if errors:
        return _invalid(ctx, errors)
    arguments = {"input": write.given(), "providers": _sorted_or_none(providers)}
    return await _once(
        ctx,
        CREATE,
        idempotency_key,
        arguments,
        lambda: run_create(ctx, write, targets, idempotency_key),
    )


async def update_customer(
    ctx: RequestContext,
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
        return _invalid(ctx, errors)
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
        lambda: run_update(ctx, customer_id, anchor, write, targets, idempotency_key),
    )


async def delete_customer(
    ctx: RequestContext,
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
        return _invalid(ctx, errors)
    arguments = {"id": customer_id, "providers": _sorted_or_none(providers)}
    targets = _distinct(providers) if providers is not None else list(ctx.adapters)
    return await _once(
        ctx,
        DELETE,
        idempotency_key,
        arguments,
        lambda: run_delete(ctx, customer_id, anchor, targets, idempotency_key),
    )


async def _once(
    ctx: RequestContext,
    operation: str,
    key: str | None,
    arguments: dict[str, Any],
    run: Callable[[], Awaitable[MutationResult]],
) -> MutationResult:
    """Run the mutation, or replay it under a key already used with the same arguments.

    The result records who made it (``actor``), and keys are the caller's own: another key id
    sending the same idempotency key neither replays nor blocks this one's result.
    The reads a write is planned from skip the record cache: it must target records as they
    are now.
    """
    with fresh_reads():
        return await _run_once(ctx, operation, key, arguments, run)


async def _run_once(
    ctx: RequestContext,
    operation: str,
    key: str | None,
    arguments: dict[str, Any],
    run: Callable[[], Awaitable[MutationResult]],
) -> MutationResult:
    actor = ctx.principal.key_id
    if key is None:
        return replace(await run(), actor=actor)
    scope = operation if actor is None else f"{operation} by {actor}"
    async with ctx.idempotency.reserve(scope, key, fingerprint(arguments)) as reservation:
        if reservation.replay is not None:
            return replace(reservation.replay, replayed=True)
        if reservation.reused:
            message = (
                f"this idempotencyKey was already used for a {operation} with different "
                "arguments; use a new key for a new request"
            )
            return _invalid(
                ctx, [FieldError(("idempotencyKey",), message, ErrorCode.IDEMPOTENCY_KEY_REUSED)]
            )
        result = replace(await run(), actor=actor)
        if result.executed:  # invalid inputs are not remembered: the client may fix and resend
            reservation.record(result)
        return result


def _invalid(ctx: RequestContext, errors: list[FieldError]) -> MutationResult:
    """Nothing written: the field errors, and who asked."""
    return replace(MutationResult.invalid(errors), actor=ctx.principal.key_id)


def _anchor(ctx: RequestContext, customer_id: str) -> tuple[RecordRef | None, list[FieldError]]:
    try:
        anchor = decode_customer_id(customer_id)
    except InvalidCustomerId as exc:
        return None, [FieldError(("id",), f"invalid customer id: {exc}", ErrorCode.INVALID_ID)]
    if anchor.provider not in ctx.adapters:
        message = f"the customer's {label(anchor.provider)} record cannot be read here"
        return None, [FieldError(("id",), message, ErrorCode.NOT_FOUND)]
    return anchor, []


def _write_set(ctx: RequestContext) -> list[str]:
    """The configured default write providers (load_settings rejects unknown names)."""
    return list(ctx.settings.write_providers)


def _distinct(providers: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(providers))


def _sorted_or_none(providers: Sequence[str] | None) -> list[str] | None:
    return None if providers is None else sorted(set(providers))
