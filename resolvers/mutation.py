"""Root ``Mutation``: create, update and delete one customer across the providers.

Errors are data: an invalid input comes back in ``userErrors`` (nothing written), and every
provider's result in ``outcomes``. See docs/writes.md for the order of writes and what to do
after a partial failure.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from strawberry.types.unset import UnsetType

from gateway.core.lookups import customer_by_provider_id
from gateway.core.writes import create_customer, delete_customer, update_customer
from gateway.model import UNSET, Address, CustomerWrite, RecordRef
from gateway.writes.idempotency import DEFAULT_TTL
from gateway.writes.outcomes import MutationResult, Outcome
from resolvers.context import Info
from resolvers.customer import Customer
from resolvers.identity_mutations import link_records_field, unlink_record_field
from resolvers.mutation_errors import FieldError
from resolvers.scalars import JSON, Provider

_KEY_DOC = (
    "Optional, 1-255 characters. The same key with the same arguments replays the first "
    "result without writing again (replayed: true); with other arguments it is refused "
    f"(IDEMPOTENCY_KEY_REUSED). Remembered for {DEFAULT_TTL / 3600:g} hours by this gateway "
    "process. Only writes under a key are retried on transient provider errors."
)

IdempotencyKey = Annotated[str | None, strawberry.argument(description=_KEY_DOC)]


@strawberry.input(description="A postal address; it replaces the stored address as a whole.")
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 code (e.g. GB)."
    )


@strawberry.input(
    description=(
        "A unified customer change. For updates a field left out stays unchanged and an "
        "explicit null clears it where the provider allows. Fields a provider cannot store are "
        "reported per provider in ProviderOutcome.skippedFields."
    )
)
class CustomerInput:
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code (e.g. eur)."
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "String values only; Stripe's limits apply (50 keys, keys up to 40 characters "
            "without [ or ], values up to 500). Stripe and Tofupay merge the keys into what they "
            "hold; Lago replaces its metadata list with exactly these entries."
        ),
    )
    external_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The company's own customer id: Lago external_id, FirstOfficer extra_id, the "
            "configured Stripe metadata key, ChartMogul external_id when no Stripe id links it."
        ),
    )
    stripe_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Link to an existing Stripe customer (cus_...) instead of creating one, e.g. to "
            "finish a create after a partial failure. Stored as Lago's "
            "billing_configuration.provider_customer_id and ChartMogul's external_id."
        ),
    )
    chartmogul_data_source_uuid: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The ChartMogul data source (ds_...) to create the customer in.",
    )


@strawberry.enum(description="What one provider did with the write.")
class WriteStatus(enum.Enum):
    APPLIED = "APPLIED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


@strawberry.type(description="One provider's result for one record (or for the provider).")
class ProviderOutcome:
    provider: Provider
    status: WriteStatus
    record_id: str | None = strawberry.field(
        description="The provider's record id (the new one for creates)."
    )
    reason: str | None = strawberry.field(description="Why it was SKIPPED, or a note.")
    code: str | None = strawberry.field(
        description="For FAILED: the normalised error code (PROVIDER_UNAVAILABLE, "
        "PROVIDER_BAD_REQUEST, PROVIDER_TIMEOUT, ...)."
    )
    message: str | None = strawberry.field(description="For FAILED: the provider's message.")
    skipped_fields: list[str] = strawberry.field(
        description="Input fields this provider cannot store, so did not receive."
    )

    @classmethod
    def of(cls, outcome: Outcome) -> ProviderOutcome:
        return cls(
            provider=Provider(outcome.provider),
            status=WriteStatus(outcome.status.value),
            record_id=outcome.record_id,
            reason=outcome.reason,
            code=outcome.code,
            message=outcome.message,
            skipped_fields=list(outcome.skipped_fields),
        )


@strawberry.type
class CustomerMutationPayload:
    result: strawberry.Private[MutationResult]
    outcomes: list[ProviderOutcome] = strawberry.field(
        description="One per provider record written (or per provider when it has none), in "
        "the order Stripe, Tofupay, Lago, ChartMogul, FirstOfficer. Empty when userErrors."
    )
    user_errors: list[FieldError] = strawberry.field(
        description="Invalid arguments; when present nothing was written."
    )
    replayed: bool = strawberry.field(
        description="True when this is the stored result of an earlier request with the same "
        "idempotencyKey (nothing was written this time)."
    )
    actor: str | None = strawberry.field(
        description="Who made the mutation: the API key's id, or jwt:<sub> for a token (null "
        "when the gateway runs without access control). A replay shows the original's."
    )

    @strawberry.field(
        description="The merged customer as it reads after the writes (null when nothing is "
        "left or nothing was written). Its id may differ from the one sent when the anchor "
        "record was deleted."
    )
    async def customer(self, info: Info) -> Customer | None:
        anchor: RecordRef | None = self.result.anchor
        if anchor is None or anchor.provider not in info.context.adapters:
            return None
        found = await customer_by_provider_id(info.context, anchor.provider, anchor.id)
        return Customer.maybe(found)

    @classmethod
    def of(cls, result: MutationResult) -> CustomerMutationPayload:
        return cls(
            result=result,
            outcomes=[ProviderOutcome.of(o) for o in result.outcomes],
            user_errors=[FieldError.of(e) for e in result.user_errors],
            replayed=result.replayed,
            actor=result.actor,
        )


def _value(value: Any) -> Any:
    return UNSET if isinstance(value, UnsetType) else value


def to_write(data: CustomerInput) -> CustomerWrite:
    """Map the GraphQL input onto CustomerWrite, keeping absent (UNSET) apart from null."""
    address = _value(data.address)
    if isinstance(address, AddressInput):
        address = Address(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
            country=address.country,
        )
    return CustomerWrite(
        email=_value(data.email),
        name=_value(data.name),
        phone=_value(data.phone),
        company=_value(data.company),
        description=_value(data.description),
        address=address,
        currency=_value(data.currency),
        metadata=_value(data.metadata),
        external_id=_value(data.external_id),
        stripe_id=_value(data.stripe_id),
        data_source_uuid=_value(data.chartmogul_data_source_uuid),
    )


def _names(providers: list[Provider] | None) -> list[str] | None:
    return None if providers is None else [p.value for p in providers]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Create a customer in `providers` (default: the gateway's configured write set, "
            "e.g. Stripe and Lago) and link the records so they read back as one customer. "
            "Stripe (and Tofupay) are written first; Lago, ChartMogul and FirstOfficer then, "
            "linked to the new Stripe id (skipped if that Stripe create failed). Lago's create "
            "is an upsert: an existing Lago customer with the same externalId is updated in "
            "place. Needs: Lago externalId + name; ChartMogul chartmogulDataSourceUuid + name "
            "+ an external id (externalId, stripeId, or Stripe in the same call); FirstOfficer "
            "and Tofupay an email."
        )
    )
    async def create_customer(
        self,
        info: Info,
        input: CustomerInput,
        providers: list[Provider] | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CustomerMutationPayload:
        result = await create_customer(
            info.context, to_write(input), _names(providers), idempotency_key
        )
        return CustomerMutationPayload.of(result)

    @strawberry.mutation(
        description=(
            "Change the given fields on every record of the merged customer (in `providers`, "
            "default all), concurrently: Stripe/Tofupay form update, Lago upsert by external "
            "id, FirstOfficer PUT, ChartMogul PATCH. Fields a provider cannot store are listed "
            "in its outcome's skippedFields. Safe to re-send under a new key: it sets values."
        )
    )
    async def update_customer(
        self,
        info: Info,
        id: strawberry.ID,
        input: CustomerInput,
        providers: list[Provider] | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CustomerMutationPayload:
        result = await update_customer(
            info.context, str(id), to_write(input), _names(providers), idempotency_key
        )
        return CustomerMutationPayload.of(result)

    @strawberry.mutation(
        description=(
            "Delete the merged customer's records in `providers` (default all) where the "
            "provider can: Stripe, Tofupay, Lago, and ChartMogul for customers of an Import "
            "API data source (others come back FAILED with ChartMogul's message). FirstOfficer "
            "has no delete: SKIPPED. `customer` is what remains, or null."
        )
    )
    async def delete_customer(
        self,
        info: Info,
        id: strawberry.ID,
        providers: list[Provider] | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CustomerMutationPayload:
        result = await delete_customer(info.context, str(id), _names(providers), idempotency_key)
        return CustomerMutationPayload.of(result)

    link_records = link_records_field
    unlink_record = unlink_record_field


__all__ = [
    "AddressInput",
    "CustomerInput",
    "CustomerMutationPayload",
    "FieldError",
    "Mutation",
    "ProviderOutcome",
    "WriteStatus",
]
