"""One provider's write: plan its fields, call its adapter, and turn what happened into an
:class:`~gateway.writes.outcomes.Outcome` (a failure never hides another provider's success)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Final

from gateway.core.context import RequestContext
from gateway.errors import ErrorCode, ErrorKind, ProviderError, provider_code
from gateway.model import CustomerRecord, CustomerWrite
from gateway.providers.registry import label
from gateway.writes.idempotency import derive_key
from gateway.writes.outcomes import Outcome, Status
from gateway.writes.plan import plan_write

CREATE: Final = "createCustomer"
UPDATE: Final = "updateCustomer"
DELETE: Final = "deleteCustomer"

logger = logging.getLogger("customer_gateway.writes")

Written = tuple[Outcome, CustomerRecord | None]


# --- entry points -------------------------------------------------------------------------


async def create_in(
    ctx: RequestContext,
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


async def update_in(
    ctx: RequestContext, record: CustomerRecord, write: CustomerWrite, client_key: str | None
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


async def delete_in(ctx: RequestContext, record: CustomerRecord, client_key: str | None) -> Written:
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
