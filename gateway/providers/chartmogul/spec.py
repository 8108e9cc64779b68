"""ChartMogul, declared: revenue analytics (MRR, ARR) for customers of a data source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from gateway.errors import ErrorCode
from gateway.model import Metric, WritableField
from gateway.providers.chartmogul import simulator
from gateway.providers.chartmogul.adapter import ChartMogulAdapter
from gateway.providers.spec import FieldProblem, ProviderSpec, WriteCheck


def write_rule(check: WriteCheck) -> Iterator[FieldProblem]:
    given = check.given
    linked = given.get(WritableField.EXTERNAL_ID) or given.get(WritableField.STRIPE_ID)
    if check.creating and not (linked or check.link_created):
        yield FieldProblem(
            WritableField.EXTERNAL_ID,
            "ChartMogul needs an external id: give externalId, or stripeId, or create the "
            "customer in Stripe in the same call",
            ErrorCode.REQUIRED,
        )


SPEC: Final = ProviderSpec(
    name="chartmogul",
    label="ChartMogul",
    adapter=ChartMogulAdapter,
    simulator=simulator,
    base_url="https://api.chartmogul.com",
    rate_limit=40.0,
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8102,
    graphql_type="gateway.providers.chartmogul.graphql:ChartMogulCustomer",
    graphql_field="chartmogul",
    dataset_id_field="uuid",
    anchor_rank=2,
    write_rank=3,
    field_priority={
        "name": 2,
        "email": 2,
        "company": 1,
        "address": 2,
        "currency": 4,
        "status": 0,
    },
    customer_metrics=frozenset({Metric.MRR, Metric.ARR}),
    # Some answers carry only `external_id`, others only `external_ids`: read both.
    link_fields={"stripe_id": ("external_ids[]", "external_id")},
    required_to_create=(WritableField.DATA_SOURCE_UUID, WritableField.NAME),
    not_clearable=(WritableField.NAME,),
    # The update is a PATCH of the profile fields: these are set at creation only.
    create_only=frozenset(
        {WritableField.EXTERNAL_ID, WritableField.STRIPE_ID, WritableField.DATA_SOURCE_UUID}
    ),
    write_rule=write_rule,
)
