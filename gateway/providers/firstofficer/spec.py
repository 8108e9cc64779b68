"""FirstOfficer, declared: contract metrics, one record per email, Stripe id or extra id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from gateway.errors import ErrorCode
from gateway.model import Metric, WritableField
from gateway.providers.firstofficer import simulator
from gateway.providers.firstofficer.adapter import FirstOfficerAdapter
from gateway.providers.spec import FieldProblem, ProviderSpec, WriteCheck


def misread(value: str) -> bool:
    """FirstOfficer's GET resolves an id by its shape (see ``adapter.sendable``)."""
    return (value.isascii() and value.isdigit()) or value.startswith("cus_") or "@" in value


def write_rule(check: WriteCheck) -> Iterator[FieldProblem]:
    external = check.given.get(WritableField.EXTERNAL_ID)
    if isinstance(external, str) and misread(external):
        yield FieldProblem(
            WritableField.EXTERNAL_ID,
            "FirstOfficer would read this external id as another kind of id (it is all "
            "digits, starts with 'cus_' or holds '@')",
            ErrorCode.INVALID_FORMAT,
        )


SPEC: Final = ProviderSpec(
    name="firstofficer",
    label="FirstOfficer",
    adapter=FirstOfficerAdapter,
    simulator=simulator,
    base_url="https://api.firstofficer.io",
    rate_limit=0.0,  # documented as unlimited
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8103,
    graphql_type="gateway.providers.firstofficer.graphql:FirstOfficerCustomer",
    graphql_field="first_officer",
    dataset_id_field="id",
    anchor_rank=3,
    write_rank=4,
    field_priority={"name": 3, "email": 3, "address": 3, "currency": 3, "status": 1},
    customer_metrics=frozenset(
        {Metric.CURRENT_MRR, Metric.TOTAL_CONTRACT_VALUE, Metric.CURRENT_SUBSCRIPTION_COUNT}
    ),
    link_fields={"stripe_id": ("stripe_id",), "external_id": ("extra_id",)},
    required_to_create=(WritableField.EMAIL,),  # FirstOfficer's create needs a unique email
    not_clearable=(WritableField.EMAIL,),
    write_rule=write_rule,
)
