"""Reads from the identity index: who from the index, each member record fetched once by id.

End to end through the GraphQL API on the five simulators, with the index in memory and the
background sync backfilling it (``gateway_harness(graph=True, sync=True)``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from gateway.config import Settings, SyncSettings, sandbox_settings
from gateway.index import IndexedCustomer, PageQuery
from gateway.model import RecordRef
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness

CUSTOMER = """
  id email
  externalIds { provider id }
  identity { syncedAt aliases anchor { provider id } edges { rule } }
  degradedProviders
"""
BY_EMAIL = f"query($e: String!) {{ customerByEmail(email: $e) {{ {CUSTOMER} }} }}"
BY_ID = f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER} }} }}"
BY_RECORD = (
    f"query($p: Provider!, $id: String!) {{ customerByProviderId(provider: $p, id: $id) "
    f"{{ {CUSTOMER} }} }}"
)
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id email } } }"
PAGE = """
query($first: Int!, $after: String, $filter: CustomerFilter, $order: CustomerOrder) {
  customers(first: $first, after: $after, filter: $filter, orderBy: $order) {
    edges { cursor node { id name email externalIds { provider id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


QUIET = Settings(
    providers=sandbox_settings(),
    # Backfill, then no polling within a test: the calls counted are the reads'.
    sync=SyncSettings(poll_interval=3600, relist_interval=3600),
)


@pytest.fixture
async def synced(small_dataset: Dataset) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(small_dataset, QUIET, graph=True, sync=True) as harness:
        await harness.synced()
        harness.reset_calls()
        yield harness


async def customers(harness: GatewayHarness) -> list[IndexedCustomer]:
    index = harness.app.state.graph.index
    found: list[IndexedCustomer] = []
    after = None
    while True:
        page = await index.page(PageQuery(100, after))
        found += page.customers
        if not page.has_next_page:
            return found
        after = page.end_cursor


def per_provider(members: tuple[RecordRef, ...]) -> dict[str, int]:
    return dict(Counter(ref.provider for ref in members))


def refs(customer: dict[str, Any]) -> set[RecordRef]:
    return {RecordRef(r["provider"], r["id"]) for r in customer["externalIds"]}


async def widest(harness: GatewayHarness) -> IndexedCustomer:
    """The indexed customer with records in the most providers (all five in the dataset)."""
    return max(await customers(harness), key=lambda c: (len(per_provider(c.members)), c.id))


async def test_a_customer_in_all_five_providers_costs_one_call_per_record_in_one_wave(
    synced: GatewayHarness,
) -> None:
    customer = await widest(synced)
    assert len(per_provider(customer.members)) == 5
    email = (await synced.app.state.graph.index.records([customer.members[0]]))[
        customer.members[0]
    ].email

    body = await synced.query(BY_EMAIL, {"e": email})

    found = body["data"]["customerByEmail"]
    assert found["id"] == customer.id
    assert refs(found) == set(customer.members)
    assert synced.read_counts() == per_provider(customer.members)
    # Every call is a read by the record's own id: nothing searched, nothing hopped.
    reads = [call.path for call in synced.calls() if call.path != "/v1/events"]
    assert not any("search" in path for path in reads)


async def test_every_record_of_a_customer_gives_that_customer_with_the_same_id(
    synced: GatewayHarness,
) -> None:
    for customer in (await customers(synced))[:12]:
        answers = [
            (await synced.query(BY_ID, {"id": customer.id}))["data"]["customer"],
            *[
                (await synced.query(BY_RECORD, {"p": ref.provider.upper(), "id": ref.id}))["data"][
                    "customerByProviderId"
                ]
                for ref in customer.members
            ],
        ]
        assert {a["id"] for a in answers} == {customer.id}
        assert all(refs(a) == set(customer.members) for a in answers)


async def test_the_id_stays_when_the_anchor_provider_is_down(synced: GatewayHarness) -> None:
    customer = await widest(synced)
    lago = next(ref for ref in customer.members if ref.provider == "lago")
    synced.set_faults("stripe", Faults(outage=True))

    body = await synced.query(BY_RECORD, {"p": "LAGO", "id": lago.id})

    found = body["data"]["customerByProviderId"]
    assert found["id"] == customer.id
    assert "stripe" in found["degradedProviders"]
    assert refs(found) == {ref for ref in customer.members if ref.provider != "stripe"}


async def test_a_page_costs_at_most_one_call_per_member_record(synced: GatewayHarness) -> None:
    body = await synced.query(PAGE, {"first": 50})

    edges = body["data"]["customers"]["edges"]
    members = [ref for edge in edges for ref in refs(edge["node"])]
    assert len({edge["node"]["id"] for edge in edges}) == len(edges) == 40  # every customer once
    assert sum(synced.read_counts().values()) == len(members)


async def test_a_20_entity_batch_costs_at_most_one_call_per_member_record(
    synced: GatewayHarness,
) -> None:
    chosen = (await customers(synced))[:20]
    representations = [{"__typename": "Customer", "id": c.id} for c in chosen]

    body = await synced.query(ENTITIES, {"r": representations})

    assert [e["id"] for e in body["data"]["_entities"]] == [c.id for c in chosen]
    assert sum(synced.read_counts().values()) == sum(len(c.members) for c in chosen)


async def test_pages_follow_cursors_without_repeats_and_filter_and_order(
    synced: GatewayHarness,
) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = await synced.query(
            PAGE, {"first": 7, "after": after, "order": {"field": "NAME", "direction": "ASC"}}
        )
        page = body["data"]["customers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 40

    only_five = await synced.query(
        PAGE,
        {
            "first": 50,
            "filter": {"providers": ["STRIPE", "CHARTMOGUL", "FIRSTOFFICER", "LAGO", "TOFUPAY"]},
        },
    )
    nodes = [e["node"] for e in only_five["data"]["customers"]["edges"]]
    assert nodes
    assert all(len({r["provider"] for r in n["externalIds"]}) == 5 for n in nodes)

    without_stripe = await synced.query(
        PAGE, {"first": 50, "filter": {"withoutProviders": ["STRIPE"]}}
    )
    assert all(
        all(r["provider"] != "stripe" for r in e["node"]["externalIds"])
        for e in without_stripe["data"]["customers"]["edges"]
    )


async def test_a_bad_filter_or_cursor_is_a_coded_error(synced: GatewayHarness) -> None:
    country = await synced.query(PAGE, {"first": 5, "filter": {"country": "Narnia"}})
    assert country["errors"][0]["extensions"]["code"] == "INVALID_COUNTRY"
    cursor = await synced.query(PAGE, {"first": 5, "after": "garbage"})
    assert cursor["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_before_the_sync_filters_are_refused_and_lookups_feed_the_index(
    small_dataset: Dataset,
) -> None:
    async with gateway_harness(small_dataset, graph=True) as harness:
        refused = await harness.query(PAGE, {"first": 5, "filter": {"text": "a"}})
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "NOT_SYNCED"
        assert "chartmogul" in error["message"]

        page = await harness.query(PAGE, {"first": 3})  # the primary's listing, as before
        node = page["data"]["customers"]["edges"][0]["node"]
        index = harness.app.state.graph.index
        indexed = await index.customer(node["id"])
        assert indexed is not None
        assert set(indexed.members) == refs(node)

        # Later, with Stripe down, the same customer keeps its id.
        harness.set_faults("stripe", Faults(outage=True))
        other = next(r for r in indexed.members if r.provider != "stripe")
        again = await harness.query(BY_RECORD, {"p": other.provider.upper(), "id": other.id})
        assert again["data"]["customerByProviderId"]["id"] == node["id"]


async def test_a_failing_index_costs_nothing_but_the_index_lookups_answer_live(
    synced: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await widest(synced)
    ref = customer.members[0]

    async def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    index = synced.app.state.graph.index
    for method in ("customer", "customer_of", "customers_by_email", "records", "apply", "page"):
        monkeypatch.setattr(index, method, down)

    body = await synced.query(BY_RECORD, {"p": ref.provider.upper(), "id": ref.id})

    found = body["data"]["customerByProviderId"]
    assert "errors" not in body
    assert refs(found) == set(customer.members)  # found by today's live expansion
    page = await synced.query(PAGE, {"first": 5, "order": {"field": "NAME"}})
    assert page["errors"][0]["extensions"]["code"] == "NOT_SYNCED"
