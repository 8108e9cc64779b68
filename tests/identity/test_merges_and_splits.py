"""Customer ids through merges and splits, end to end through the GraphQL API.

A merge keeps the older customer's id and the other id keeps answering (an alias); a split
leaves the id with the part holding the oldest record. The newer customer in each test is
created through the API after the sync, so which customer is older is not up to the order the
backfill happened to list the providers in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.config import Settings, SyncSettings, sandbox_settings
from gateway.sandbox.dataset import Dataset
from tests.conftest import GatewayHarness, gateway_harness

OLD = 1_500_000_000  # 2017: older than anything created during the test
DATA = Dataset(
    stripe=[
        {"id": "cus_BridgeA", "email": "a@bridge.example", "created": OLD},
        {"id": "cus_LinkA", "email": "a@link.example", "created": OLD},
    ],
    lago=[
        {
            "external_id": "co_linkA",
            "email": "lago@link.example",
            "created_at": "2017-07-15T00:00:00Z",
            "billing_configuration": {
                "payment_provider": "stripe",
                "provider_customer_id": "cus_LinkA",
            },
        }
    ],
)
SETTINGS = Settings(
    providers=sandbox_settings(), sync=SyncSettings(poll_interval=3600, relist_interval=3600)
)

CUSTOMER = """
  id externalIds { provider id }
  identity {
    aliases
    edges { rule value left { provider id } right { provider id } }
    overrides { kind reason actor records { provider id } }
  }
"""
BY_ID = f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER} }} }}"
BY_RECORD = (
    "query($p: Provider!, $id: String!) "
    f"{{ customerByProviderId(provider: $p, id: $id) {{ {CUSTOMER} }} }}"
)
CREATE = f"""
mutation($input: CustomerInput!, $providers: [Provider!]) {{
  createCustomer(input: $input, providers: $providers) {{
    userErrors {{ message }} outcomes {{ provider status recordId }} customer {{ {CUSTOMER} }}
  }}
}}
"""
UPDATE = f"""
mutation($id: ID!, $input: CustomerInput!, $providers: [Provider!]) {{
  updateCustomer(id: $id, input: $input, providers: $providers) {{
    userErrors {{ message }} outcomes {{ provider status }} customer {{ {CUSTOMER} }}
  }}
}}
"""
LINK = f"""
mutation($a: RecordInput!, $b: RecordInput!, $reason: String!) {{
  linkRecords(a: $a, b: $b, reason: $reason) {{
    userErrors {{ message }} override {{ kind reason actor }} customers {{ {CUSTOMER} }}
  }}
}}
"""
UNLINK = f"""
mutation($record: RecordInput!, $reason: String!) {{
  unlinkRecord(record: $record, reason: $reason) {{
    userErrors {{ message }} override {{ kind reason actor }} customers {{ {CUSTOMER} }}
  }}
}}
"""


@pytest.fixture
async def synced(index_url: str) -> AsyncIterator[GatewayHarness]:
    """Synced, on each backend (SQLite, PostgreSQL)."""
    async with gateway_harness(DATA, SETTINGS, graph=index_url, sync=True) as harness:
        await harness.synced()
        yield harness


async def data(harness: GatewayHarness, query: str, **variables: Any) -> Any:
    body = await harness.query(query, variables)
    assert "errors" not in body, body["errors"]
    [value] = body["data"].values()
    if isinstance(value, dict) and "userErrors" in value:
        assert value["userErrors"] == [], value["userErrors"]
    return value


def members(customer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["provider"], r["id"]) for r in customer["externalIds"]}


async def record_of(harness: GatewayHarness, provider: str, id: str) -> dict[str, Any]:
    found: dict[str, Any] = await data(harness, BY_RECORD, p=provider, id=id)
    return found


async def test_a_write_that_bridges_two_customers_keeps_the_older_id_and_aliases_the_other(
    synced: GatewayHarness,
) -> None:
    older = (await record_of(synced, "STRIPE", "cus_BridgeA"))["id"]
    created = await data(
        synced,
        CREATE,
        input={"externalId": "co_bridgeB", "name": "Bea Bridge", "email": "b@bridge.example"},
        providers=["LAGO"],
    )
    newer = created["customer"]["id"]
    assert newer != older and members(created["customer"]) == {("lago", "co_bridgeB")}

    # The Lago record takes the Stripe customer's email: one customer now.
    updated = await data(
        synced, UPDATE, id=newer, input={"email": "A@Bridge.example"}, providers=["LAGO"]
    )

    survivor = updated["customer"]
    assert survivor["id"] == older
    assert members(survivor) == {("stripe", "cus_BridgeA"), ("lago", "co_bridgeB")}
    assert survivor["identity"]["aliases"] == [newer]
    for answer in (
        await data(synced, BY_ID, id=newer),  # the merged-away id still answers
        await data(synced, BY_ID, id=older),
        await record_of(synced, "LAGO", "co_bridgeB"),
    ):
        assert answer["id"] == older
        assert answer["identity"]["aliases"] == [newer]
        assert members(answer) == members(survivor)


async def test_link_joins_two_customers_and_unlink_leaves_the_id_with_the_oldest_record(
    synced: GatewayHarness,
) -> None:
    older = await record_of(synced, "STRIPE", "cus_LinkA")
    assert members(older) == {("stripe", "cus_LinkA"), ("lago", "co_linkA")}
    created = await data(
        synced, CREATE, input={"email": "billing@elsewhere.example"}, providers=["TOFUPAY"]
    )
    [tofupay] = [o["recordId"] for o in created["outcomes"] if o["provider"] == "TOFUPAY"]
    newer = created["customer"]["id"]
    assert newer != older["id"]

    reason = "same company: confirmed by support ticket 4711"
    linked = await data(
        synced,
        LINK,
        a={"provider": "STRIPE", "id": "cus_LinkA"},
        b={"provider": "TOFUPAY", "id": tofupay},
        reason=reason,
    )

    assert linked["override"] == {"kind": "LINK", "reason": reason, "actor": "anonymous"}
    [joined] = linked["customers"]
    assert joined["id"] == older["id"]
    assert joined["identity"]["aliases"] == [newer]
    assert members(joined) == members(older) | {("tofupay", tofupay)}
    override_edges = [e for e in joined["identity"]["edges"] if e["rule"] == "OVERRIDE"]
    assert override_edges == [
        {
            "rule": "OVERRIDE",
            "value": reason,
            "left": {"provider": "stripe", "id": "cus_LinkA"},
            "right": {"provider": "tofupay", "id": tofupay},
        }
    ]
    assert (await data(synced, BY_ID, id=newer))["id"] == older["id"]

    # The Lago record (newer than the Stripe one) stands alone: the rest keeps the id.
    split = await data(
        synced, UNLINK, record={"provider": "LAGO", "id": "co_linkA"}, reason="wrong company"
    )

    assert split["override"] == {"kind": "UNLINK", "reason": "wrong company", "actor": "anonymous"}
    kept, alone = split["customers"][1], split["customers"][0]
    assert members(alone) == {("lago", "co_linkA")}
    assert alone["id"] not in (older["id"], newer)
    assert kept["id"] == older["id"]
    assert members(kept) == {("stripe", "cus_LinkA"), ("tofupay", tofupay)}
    trail = (await data(synced, BY_ID, id=older["id"]))["identity"]["overrides"]
    assert [(o["kind"], o["reason"], o["actor"]) for o in trail] == [("LINK", reason, "anonymous")]
    lago_trail = (await record_of(synced, "LAGO", "co_linkA"))["identity"]["overrides"]
    assert [(o["kind"], o["records"]) for o in lago_trail] == [
        ("UNLINK", [{"provider": "lago", "id": "co_linkA"}])
    ]
