"""Stripe, declared: the link source of every other provider's record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from gateway.errors import ErrorCode
from gateway.model import Metric, WritableField
from gateway.providers.spec import FieldProblem, ProviderSpec, WriteCheck, WritePhase
from gateway.providers.stripe import simulator
from gateway.providers.stripe.adapter import StripeAdapter


def write_rule(check: WriteCheck) -> Iterator[FieldProblem]:
    given = check.given
    if check.creating:
        if given.get(WritableField.STRIPE_ID):
            yield FieldProblem(
                WritableField.STRIPE_ID,
                "stripeId links to an existing Stripe customer: leave STRIPE out of providers, "
                "or drop stripeId to create a new Stripe customer",
                ErrorCode.CONFLICT,
            )
    elif WritableField.METADATA in given and given[WritableField.METADATA] is None:
        yield FieldProblem(
            WritableField.METADATA,
            "clearing all Stripe metadata would also remove the external id link; send the "
            "keys to change instead",
            ErrorCode.NOT_CLEARABLE,
        )


SPEC: Final = ProviderSpec(
    name="stripe",
    label="Stripe",
    adapter=StripeAdapter,
    simulator=simulator,
    base_url="https://api.stripe.com",
    rate_limit=25.0,  # test mode; live mode allows 100/s
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8101,
    graphql_type="gateway.providers.stripe.graphql:StripeCustomer",
    graphql_field="stripe",
    graphql_description="Stripe records (a customer may hold duplicates).",
    dataset_id_field="id",
    webhook="gateway.providers.stripe.webhooks:WEBHOOKS",
    anchor_rank=0,
    write_rank=0,
    write_phase=WritePhase.INDEPENDENT,
    links_others=True,
    field_priority={
        "name": 0,
        "email": 0,
        "phone": 0,
        "company": 2,
        "address": 0,
        "currency": 0,
        "status": 2,
    },
    customer_metrics=frozenset({Metric.BALANCE}),
    link_fields={"stripe_id": ("id",), "external_id": ("metadata.{external_id_key}",)},
    write_rule=write_rule,
)
