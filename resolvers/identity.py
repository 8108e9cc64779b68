"""``Customer.identity``: why these records are one customer, and what the merge met."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry

from gateway.identity import MergedCustomer, Override
from gateway.model import Address as AddressRecord
from gateway.model import RecordRef


@strawberry.type(description="A provider's record, by provider name and the provider's own id.")
class RecordReference:
    provider: str
    id: str

    @classmethod
    def of(cls, ref: RecordRef) -> RecordReference:
        return cls(provider=ref.provider, id=ref.id)


@strawberry.enum(description="Why two records were merged.")
class MatchRule(enum.Enum):
    EMAIL = "email"
    LINKED_ID = "linked_id"
    OVERRIDE = "override"


@strawberry.type(description="One reason two records are the same customer.")
class MatchEdge:
    rule: MatchRule
    namespace: str | None = strawberry.field(
        description="For LINKED_ID: the link namespace (stripe_id, external_id)."
    )
    value: str = strawberry.field(
        description="The shared normalised email or id; for OVERRIDE, the operator's reason."
    )
    left: RecordReference
    right: RecordReference


@strawberry.type(description="A disagreement or a guardrail decision met while merging.")
class IdentityConflict:
    kind: str = strawberry.field(
        description="FIELD (records disagree) or GUARDRAIL (edge dropped)."
    )
    message: str
    field: str | None
    email: str | None
    provider: str | None
    records: list[RecordReference]
    values: list[str] = strawberry.field(description="The competing values, as text.")


@strawberry.enum(description="An operator's identity decision.")
class OverrideKind(enum.Enum):
    LINK = "LINK"
    UNLINK = "UNLINK"


@strawberry.type(description="An operator's decision about these records, with who, when, why.")
class IdentityOverride:
    kind: OverrideKind
    records: list[RecordReference]
    reason: str
    actor: str
    at: datetime

    @classmethod
    def of(cls, override: Override) -> IdentityOverride:
        return cls(
            kind=OverrideKind(override.kind.value),
            records=[RecordReference.of(r) for r in override.records],
            reason=override.reason,
            actor=override.actor,
            at=override.at,
        )


@strawberry.type(description="Why these records are one customer.")
class Identity:
    anchor: RecordReference = strawberry.field(
        description="The highest-priority record now (the customer's id was minted from the "
        "anchor it had when the gateway first saw it, and does not change with it)."
    )
    edges: list[MatchEdge]
    conflicts: list[IdentityConflict]
    truncated: bool = strawberry.field(
        description="True when an expansion bound (hops, records) stopped the search early."
    )
    synced_at: datetime | None = strawberry.field(
        description="When the identity index last recomputed or confirmed who this customer "
        "is: how old this identity view is. Null on a gateway without an index."
    )
    aliases: list[strawberry.ID] = strawberry.field(
        description="Ids of customers merged into this one; they still find it."
    )
    members: strawberry.Private[tuple[RecordRef, ...]]

    @strawberry.field(
        description="Operators' link and unlink decisions naming any of these records, oldest "
        "first (the audit trail)."
    )
    async def overrides(self, info: strawberry.Info) -> list[IdentityOverride]:
        graph = info.context.graph
        if graph is None:
            return []
        found = await graph.guarded(graph.index.overrides(list(self.members)), ())
        return [IdentityOverride.of(o) for o in found]


def identity_of(
    merged: MergedCustomer,
    *,
    truncated: bool,
    synced_at: datetime | None = None,
    aliases: Sequence[str] = (),
) -> Identity:
    return Identity(
        synced_at=synced_at,
        aliases=[strawberry.ID(a) for a in aliases],
        members=tuple(r.ref for r in merged.records),
        anchor=RecordReference.of(merged.anchor),
        edges=[
            MatchEdge(
                rule=MatchRule(edge.rule.value.lower()),
                namespace=edge.namespace,
                value=edge.value,
                left=RecordReference.of(edge.left),
                right=RecordReference.of(edge.right),
            )
            for edge in merged.edges
        ],
        conflicts=[_conflict(c) for c in merged.conflicts],
        truncated=truncated,
    )


def _text(value: Any) -> str:
    if isinstance(value, AddressRecord):
        parts = (
            value.line1,
            value.line2,
            value.city,
            value.state,
            value.postal_code,
            value.country,
        )
        return ", ".join(p for p in parts if p)
    return "" if value is None else str(value)


def _conflict(conflict: Any) -> IdentityConflict:
    values: Sequence[tuple[RecordRef, Any]] = conflict.values
    return IdentityConflict(
        kind=str(conflict.kind.value if hasattr(conflict.kind, "value") else conflict.kind),
        message=conflict.message,
        field=conflict.field,
        email=conflict.email,
        provider=conflict.provider,
        records=[RecordReference.of(r) for r in conflict.records]
        or [RecordReference.of(ref) for ref, _ in values],
        values=[_text(v) for _, v in values],
    )
