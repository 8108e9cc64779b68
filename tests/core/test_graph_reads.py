"""Reads from the identity index: who from the index, each member record fetched once by id
(Stripe's, three or more at once, with one listing of their creation window).

End to end through the GraphQL API on the five simulators, with the index in memory and the
background sync backfilling it (``gateway_harness(graph=True, sync=True)``).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from gateway.config import Settings, SyncSettings, sandbox_settings, tune
from gateway.identity import encode_customer_id
from gateway.index import IndexedCustomer, PageQuery, open_index
from gateway.model import CustomerRecord, RecordRef
from gateway.providers.registry import BY_NAME
from gateway.sandbox.base import LoggedRequest
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
async def synced(small_dataset: Dataset, index_url: str) -> AsyncIterator[GatewayHarness]:
    """On each backend (SQLite, PostgreSQL), synced."""
    index = await open_index(index_url, QUIET.identity)
    try:
        async with gateway_harness(small_dataset, QUIET, index=index, sync=True) as harness:
            await harness.synced()
            harness.reset_calls()
            yield harness
    finally:
        await index.aclose()


@contextlib.asynccontextmanager
async def stripe_api(harness: GatewayHarness) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the Stripe simulator itself (changes the gateway does not see)."""
    transport = httpx.ASGITransport(app=harness.simulators["stripe"])
    auth = (BY_NAME["stripe"].sandbox_key, "")
    async with httpx.AsyncClient(transport=transport, base_url="http://stripe", auth=auth) as c:
        yield c


def reads(harness: GatewayHarness, provider: str) -> list[LoggedRequest]:
    """``provider``'s upstream calls, the sync's event polls left out."""
    return [call for call in harness.calls(provider) if call.path != "/v1/events"]


def is_window(call: LoggedRequest) -> bool:
    return call.path == "/v1/customers" and "created%5Bgte%5D=" in call.query


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


async def test_a_page_lists_stripe_once_and_reads_every_other_record_by_id(
    synced: GatewayHarness,
) -> None:
    body = await synced.query(PAGE, {"first": 50})

    edges = body["data"]["customers"]["edges"]
    members = [ref for edge in edges for ref in refs(edge["node"])]
    assert len({edge["node"]["id"] for edge in edges}) == len(edges) == 40  # every customer once
    # 124 member records, 37 of them Stripe's: 124 calls by id before, 88 now.
    assert (len(members), per_provider(tuple(members))["stripe"]) == (124, 37)
    assert synced.read_counts() == {**per_provider(tuple(members)), "stripe": 1}
    assert sum(synced.read_counts().values()) == 88
    [window] = reads(synced, "stripe")
    assert is_window(window) and "limit=100" in window.query


def count_index_reads(harness: GatewayHarness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The who-is-who reads asked of the app's index, by method name, in order."""
    index = harness.app.state.graph.index
    asked: list[str] = []
    for name in ("customer", "customers", "customer_of", "customers_by_email", "records"):
        method = getattr(index, name)

        async def counted(*args: Any, _name: str = name, _method: Any = method) -> Any:
            asked.append(_name)
            return await _method(*args)

        monkeypatch.setattr(index, name, counted)
    return asked


async def test_a_20_entity_batch_is_one_index_read_and_one_wave(
    synced: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 20 representations are answered together: one index read for all of them, then
    one wave of reads for their 54 member records, where Stripe's 17 are one creation-window
    listing (each representation on its own before: 20 index reads, 54 calls by id; now 38)."""
    chosen = (await customers(synced))[:20]
    representations = [{"__typename": "Customer", "id": c.id} for c in chosen]
    asked = count_index_reads(synced, monkeypatch)

    body = await synced.query(ENTITIES, {"r": representations})

    assert [e["id"] for e in body["data"]["_entities"]] == [c.id for c in chosen]
    assert asked == ["customers"]
    members = tuple(ref for c in chosen for ref in c.members)
    assert per_provider(members) == {
        "stripe": 17,
        "chartmogul": 12,
        "firstofficer": 11,
        "lago": 11,
        "tofupay": 3,
    }
    assert synced.read_counts() == {**per_provider(members), "stripe": 1}
    assert sum(synced.read_counts().values()) == 38
    [window] = reads(synced, "stripe")
    assert is_window(window)


async def test_fewer_than_three_stripe_records_are_read_by_id(synced: GatewayHarness) -> None:
    chosen = [c for c in await customers(synced) if "stripe" in per_provider(c.members)][:2]
    representations = [{"__typename": "Customer", "id": c.id} for c in chosen]

    body = await synced.query(ENTITIES, {"r": representations})

    assert [e["id"] for e in body["data"]["_entities"]] == [c.id for c in chosen]
    stripe = sorted(
        f"/v1/customers/{r.id}" for c in chosen for r in c.members if r.provider == "stripe"
    )
    assert sorted(call.path for call in reads(synced, "stripe")) == stripe


async def test_a_record_deleted_after_the_sync_costs_the_window_and_one_read_by_id(
    synced: GatewayHarness,
) -> None:
    customer = next(
        c
        for c in await customers(synced)
        if len(per_provider(c.members)) > 1 and "stripe" in per_provider(c.members)
    )
    (gone,) = [ref for ref in customer.members if ref.provider == "stripe"]
    async with stripe_api(synced) as stripe:
        assert (await stripe.delete(f"/v1/customers/{gone.id}")).status_code == 200
    synced.reset_calls()

    body = await synced.query(PAGE, {"first": 50})

    nodes = {e["node"]["id"]: e["node"] for e in body["data"]["customers"]["edges"]}
    assert refs(nodes[customer.id]) == set(customer.members) - {gone}
    window, by_id = reads(synced, "stripe")
    assert is_window(window) and by_id.path == f"/v1/customers/{gone.id}"


async def test_a_failed_window_falls_back_to_reads_by_id(synced: GatewayHarness) -> None:
    expected = await synced.query(PAGE, {"first": 50})
    synced.reset_calls()
    synced.set_faults("stripe", Faults(next_statuses=[400]))

    body = await synced.query(PAGE, {"first": 50})

    assert body["data"] == expected["data"]
    assert "extensions" not in body or not body["extensions"].get("degradedProviders")
    window, *by_id = reads(synced, "stripe")
    assert is_window(window) and window.status == 400
    stripe = {r for e in body["data"]["customers"]["edges"] for r in refs(e["node"])}
    assert sorted(call.path for call in by_id) == sorted(
        f"/v1/customers/{r.id}" for r in stripe if r.provider == "stripe"
    )


async def test_stripe_down_degrades_the_page_and_names_it(synced: GatewayHarness) -> None:
    synced.set_faults("stripe", Faults(outage=True))

    body = await synced.query(PAGE, {"first": 50})

    assert [d["provider"] for d in body["extensions"]["degradedProviders"]] == ["stripe"]
    [error] = body["errors"]  # the one error naming the failed provider, as without windows
    assert error["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
    assert error["extensions"]["provider"] == "stripe"
    nodes = [e["node"] for e in body["data"]["customers"]["edges"]]
    assert nodes and all(r["provider"] != "stripe" for n in nodes for r in n["externalIds"])


async def test_with_stripes_record_cache_on_no_window_is_listed(
    small_dataset: Dataset,
) -> None:
    """Cached reads answer by id from the cache (a window would be a call for nothing), and a
    fresh read must refresh it, which only the reads by id do."""
    providers = {**QUIET.providers, "stripe": tune(QUIET.providers["stripe"], cache_ttl=60)}
    async with gateway_harness(
        small_dataset, replace(QUIET, providers=providers), graph=True, sync=True
    ) as harness:
        await harness.synced()
        harness.reset_calls()

        await harness.query(PAGE, {"first": 50})
        first = reads(harness, "stripe")
        harness.reset_calls()
        await harness.query(PAGE, {"first": 50})

        assert len(first) == 37 and not any(is_window(call) for call in first)
        assert reads(harness, "stripe") == []


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
    for method in (
        "customer",
        "customers",
        "customer_of",
        "customers_by_email",
        "records",
        "apply",
        "page",
    ):
        monkeypatch.setattr(index, method, down)

    body = await synced.query(BY_RECORD, {"p": ref.provider.upper(), "id": ref.id})

    found = body["data"]["customerByProviderId"]
    assert "errors" not in body
    assert refs(found) == set(customer.members)  # found by today's live expansion
    page = await synced.query(PAGE, {"first": 5, "order": {"field": "NAME"}})
    assert page["errors"][0]["extensions"]["code"] == "NOT_SYNCED"


async def test_the_first_backfill_mints_ids_from_the_anchor_provider(
    synced: GatewayHarness,
) -> None:
    """Stripe is listed before the others, so a customer with a Stripe record keeps the id a
    gateway without the index gave it (one naming a Stripe record), whatever page came first."""
    with_stripe = [c for c in await customers(synced) if "stripe" in per_provider(c.members)]
    assert with_stripe
    for customer in with_stripe:
        stripe_ids = {encode_customer_id(r) for r in customer.members if r.provider == "stripe"}
        assert customer.id in stripe_ids
    ada = (await synced.query(BY_EMAIL, {"e": "ada@lovelace.example"}))["data"]["customerByEmail"]
    assert ada["id"] == encode_customer_id(RecordRef("stripe", "cus_ShowcaseAda001"))


async def test_a_lookup_reads_the_snapshots_with_the_customer_and_still_repairs(
    synced: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await widest(synced)
    index = synced.app.state.graph.index
    (stripe,) = [ref for ref in customer.members if ref.provider == "stripe"]
    assert set(customer.snapshots) == set(customer.members)
    assert customer.snapshots == await index.records(list(customer.members))
    moved = "moved.away@example.org"
    async with stripe_api(synced) as client:
        answer = await client.post(f"/v1/customers/{stripe.id}", data={"email": moved})
        assert answer.status_code == 200
    asked: list[Sequence[RecordRef]] = []
    records = index.records

    async def spy(refs: Sequence[RecordRef]) -> Mapping[RecordRef, CustomerRecord]:
        asked.append(refs)
        return await records(refs)

    monkeypatch.setattr(index, "records", spy)

    body = await synced.query(BY_ID, {"id": customer.id})

    assert body["data"]["customer"] is not None
    assert asked == []  # the snapshots came with the customer: no second index read
    monkeypatch.setattr(index, "records", records)
    assert (await index.records([stripe]))[stripe].email == moved  # read-repair fed it
