"""Finding one customer: turn a lookup into an expansion, merge, and pick the answer.

Data flows request -> resolver -> these services -> dataloader -> adapter -> httpx, one way.
Failures leave as domain errors (:class:`~gateway.errors.InvalidInput`,
:class:`~gateway.errors.ProviderFailed`); the GraphQL layer maps them in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.core.context import RequestContext
from gateway.core.expansion import Key, expand, pick_customer
from gateway.errors import ErrorCode, InvalidInput, ProviderError, ProviderFailed
from gateway.identity import (
    InvalidCustomerId,
    MergedCustomer,
    decode_customer_id,
    encode_customer_id,
    expansion_lookups,
    normalise_email,
    resolve,
)
from gateway.inputs import MAX_EMAIL_LENGTH, MAX_ID_LENGTH, character_problem
from gateway.model import CustomerRecord, Lookup, RecordRef

__all__ = [
    "FoundCustomer",
    "customer_by_email",
    "customer_by_id",
    "customer_by_linked_id",
    "customer_by_provider_id",
    "find",
    "require_provider",
]


@dataclass(frozen=True, slots=True)
class FoundCustomer:
    """One merged customer as this request found it, with the providers that failed meanwhile."""

    merged: MergedCustomer
    errors: Mapping[str, ProviderError] = field(default_factory=dict)
    """Providers that failed while this customer was collected: their fields are unknown."""
    truncated: bool = False
    """An expansion bound (hops, records) stopped the search early."""

    @property
    def id(self) -> str:
        """The public customer id (derived from the anchor record)."""
        return encode_customer_id(self.merged.anchor)


async def find(
    ctx: RequestContext,
    *,
    keys: Sequence[Key] = (),
    refs: Sequence[RecordRef] = (),
    seed: Sequence[CustomerRecord] = (),
    want: RecordRef | None = None,
    email: str | None = None,
) -> FoundCustomer | None:
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=keys, refs=refs, seed=seed)
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    chosen = pick_customer(merged, identity, want=want, email=email)
    if chosen is None:
        if expansion.errors and not expansion.records:
            # Nothing found and someone failed: "not found" would be a lie.
            raise ProviderFailed(next(iter(expansion.errors.values())))
        return None
    return FoundCustomer(chosen, expansion.errors, expansion.truncated)


def checked_value(value: str, argument: str, limit: int = MAX_ID_LENGTH) -> str:
    """A lookup argument trimmed, or :class:`InvalidInput` before any upstream call: blank,
    longer than any provider could hold, or holding control characters."""
    if len(value) > limit:
        raise InvalidInput(f"{argument} must be at most {limit} characters", path=(argument,))
    if problem := character_problem(value):
        raise InvalidInput(f"{argument} {problem}", path=(argument,))
    if not value.strip():
        raise InvalidInput(f"{argument} must not be blank", path=(argument,))
    return value.strip()


def require_provider(ctx: RequestContext, provider: str) -> None:
    if provider not in ctx.adapters:
        raise InvalidInput(
            f"provider {provider!r} is not configured on this gateway",
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            provider=provider,
        )


async def customer_by_id(ctx: RequestContext, customer_id: str) -> FoundCustomer | None:
    try:
        anchor = decode_customer_id(customer_id)
    except InvalidCustomerId as exc:
        raise InvalidInput(f"invalid customer id: {exc}", ErrorCode.INVALID_ID) from None
    require_provider(ctx, anchor.provider)
    return await find(ctx, refs=[anchor], want=anchor)


async def customer_by_provider_id(
    ctx: RequestContext, provider: str, record_id: str
) -> FoundCustomer | None:
    require_provider(ctx, provider)
    ref = RecordRef(provider, checked_value(record_id, "id"))
    return await find(ctx, refs=[ref], want=ref)


async def customer_by_email(ctx: RequestContext, email: str) -> FoundCustomer | None:
    checked_value(email, "email", MAX_EMAIL_LENGTH)
    normalised = normalise_email(email, ctx.settings.identity.placeholder_emails)
    if normalised is None:
        raise InvalidInput(
            f"{email!r} is not an email the gateway can look up (blank, placeholder or no '@')"
        )
    return await find(ctx, keys=[(Lookup.EMAIL, normalised)], email=normalised)


async def customer_by_linked_id(
    ctx: RequestContext, by: Lookup, value: str
) -> FoundCustomer | None:
    """The customer holding a record that carries the linked id itself."""
    key: Key = (by, checked_value(value, "value"))
    identity = ctx.settings.identity
    expansion = await expand(ctx.loaders, identity, keys=[key])
    ctx.note_degraded(expansion.errors)
    merged = resolve(expansion.records.values(), identity)
    if not merged and expansion.errors:
        raise ProviderFailed(next(iter(expansion.errors.values())))
    for customer in merged:
        if any(key in expansion_lookups(r, identity) for r in customer.records):
            return FoundCustomer(customer, expansion.errors, expansion.truncated)
    return None
