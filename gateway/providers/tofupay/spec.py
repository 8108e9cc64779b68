"""Tofupay, declared: a Stripe-like API whose records join a customer by email only."""

from __future__ import annotations

from typing import Final

from gateway.model import WritableField
from gateway.providers.spec import ProviderSpec, WritePhase
from gateway.providers.tofupay import simulator
from gateway.providers.tofupay.adapter import TofupayAdapter

SPEC: Final = ProviderSpec(
    name="tofupay",
    label="Tofupay",
    adapter=TofupayAdapter,
    simulator=simulator,
    base_url="https://api.tofupay.com",
    rate_limit=25.0,  # Stripe-like; assumed to match Stripe's test-mode limit
    sandbox_key=simulator.SANDBOX_KEY,
    sandbox_port=8105,
    graphql_type="gateway.providers.tofupay.graphql:TofupayCustomer",
    graphql_field="tofupay",
    dataset_id_field="id",
    webhook="gateway.providers.tofupay.webhooks:WEBHOOKS",
    anchor_rank=4,
    write_rank=1,
    write_phase=WritePhase.INDEPENDENT,
    field_priority={"name": 4, "email": 4, "phone": 2, "currency": 2},
    required_to_create=(WritableField.EMAIL,),
    not_clearable=(WritableField.EMAIL,),
)
