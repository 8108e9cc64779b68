"""Acme, declared: every generated customer with an even index also has an Acme contact."""

from __future__ import annotations

from typing import Any, Final

from gateway.providers.acme import simulator
from gateway.providers.acme.adapter import AcmeAdapter

from gateway.model import WritableField
from gateway.providers.spec import ProviderSpec, SeedContext


def seed(customer: SeedContext) -> dict[str, Any] | None:
    if customer.index % 2:
        return None
    return {
        "id": f"ac_{customer.index:06d}",
        "email": customer.email,
        "name": customer.name,
        "plan": "pro",
        "created": customer.created,
    }


SPEC: Final = ProviderSpec(
    name="acme",
    label="Acme",
    adapter=AcmeAdapter,
    simulator=simulator,
    base_url="https://api.acme.example",
    rate_limit=5.0,
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8106,
    graphql_type="gateway.providers.acme.graphql:AcmeCustomer",
    graphql_field="acme",
    dataset_id_field="id",
    anchor_rank=5,
    write_rank=5,
    field_priority={"name": 5, "email": 5},
    required_to_create=(WritableField.EMAIL,),
    seed=seed,
)
