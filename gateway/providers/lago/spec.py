"""Lago, declared: customers named by the company's own id (``external_id``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from gateway.errors import ErrorCode
from gateway.model import WritableField
from gateway.providers.lago import simulator
from gateway.providers.lago.adapter import LagoAdapter
from gateway.providers.spec import FieldProblem, ProviderSpec, WriteCheck


def write_rule(check: WriteCheck) -> Iterator[FieldProblem]:
    external = check.given.get(WritableField.EXTERNAL_ID)
    current = set(check.record_ids)
    if not check.creating and isinstance(external, str) and current and current != {external}:
        yield FieldProblem(
            WritableField.EXTERNAL_ID,
            "Lago cannot change a customer's external id (it is the record's id)",
            ErrorCode.NOT_CHANGEABLE,
        )


SPEC: Final = ProviderSpec(
    name="lago",
    label="Lago",
    adapter=LagoAdapter,
    simulator=simulator,
    base_url="https://api.getlago.com",
    rate_limit=50.0,
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8104,
    graphql_type="gateway.providers.lago.graphql:LagoCustomer",
    graphql_field="lago",
    dataset_id_field="external_id",
    webhook="gateway.providers.lago.webhooks:WEBHOOKS",
    anchor_rank=1,
    write_rank=2,
    field_priority={
        "name": 1,
        "email": 1,
        "phone": 1,
        "company": 0,
        "address": 1,
        "currency": 1,
    },
    link_fields={
        "stripe_id": ("billing_configuration.provider_customer_id",),
        "external_id": ("external_id",),
    },
    # Lago names customers by external_id; the gateway wants a name too.
    required_to_create=(WritableField.EXTERNAL_ID, WritableField.NAME),
    not_clearable=(WritableField.NAME, WritableField.EXTERNAL_ID),
    write_rule=write_rule,
)
