"""``linkRecords`` and ``unlinkRecord``: operators' identity decisions, kept as an audit trail."""

from __future__ import annotations

import strawberry

from gateway.core.identity_overrides import OverrideResult, link_records, unlink_record
from gateway.model import RecordRef
from resolvers.context import Info
from resolvers.customer import Customer
from resolvers.identity import IdentityOverride
from resolvers.mutation_errors import FieldError
from resolvers.scalars import Provider

__all__ = ["IdentityOverridePayload", "RecordInput", "link_records_field", "unlink_record_field"]


@strawberry.input(description="A provider's record, by provider and the provider's own id.")
class RecordInput:
    provider: Provider
    id: str

    def ref(self) -> RecordRef:
        return RecordRef(self.provider.value, self.id)


@strawberry.type
class IdentityOverridePayload:
    override: IdentityOverride | None = strawberry.field(
        description="The decision as stored; null when refused (see userErrors)."
    )
    customers: list[Customer] = strawberry.field(
        description="The customers the decision touched, as they read now (the named records' "
        "customer(s) first, then any customer a record left)."
    )
    user_errors: list[FieldError]

    @classmethod
    def of(cls, result: OverrideResult) -> IdentityOverridePayload:
        return cls(
            override=IdentityOverride.of(result.override) if result.override else None,
            customers=[Customer.of(found) for found in result.customers],
            user_errors=[FieldError.of(e) for e in result.user_errors],
        )


async def _link(info: Info, a: RecordInput, b: RecordInput, reason: str) -> IdentityOverridePayload:
    return IdentityOverridePayload.of(await link_records(info.context, a.ref(), b.ref(), reason))


async def _unlink(info: Info, record: RecordInput, reason: str) -> IdentityOverridePayload:
    return IdentityOverridePayload.of(await unlink_record(info.context, record.ref(), reason))


link_records_field = strawberry.mutation(
    resolver=_link,
    description="Make two records one customer, whatever their data says (an operator's "
    "decision, kept with who/when/why: Customer.identity.overrides). Needs the write scope.",
)
unlink_record_field = strawberry.mutation(
    resolver=_unlink,
    description="Make a record stand alone: no email or shared id joins it to other records "
    "until a later linkRecords names it. Kept with who/when/why. Needs the write scope.",
)
