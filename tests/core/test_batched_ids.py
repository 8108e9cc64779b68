"""Customers by id asked for together (``_entities``, ``customer(id:)`` under aliases) are
answered in one batch, each representation exactly as it would be answered alone.

End to end on the five simulators with the index synced, both backends (``synced``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.config import tune
from gateway.identity import encode_customer_id
from gateway.identity.overrides import Override, OverrideKind
from gateway.index import IndexedCustomer
from gateway.model import RecordRef
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness
from tests.core.test_graph_reads import (
    QUIET,
    count_index_reads,
    customers,
    per_provider,
    reads,
    stripe_api,
    synced,  # noqa: F401 (the fixture)
)

DETAIL = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Customer {
      id email name externalIds { provider id } identity { aliases } degradedProviders
      stripe { id email }
    }
  }
}
"""
TWICE = "query($a: ID!, $b: ID!) { one: customer(id: $a) { id } two: customer(id: $b) { id } }"
FRESH_AND_CACHED = (
    "query($a: ID!) { cached: customer(id: $a) { id } fresh: customer(id: $a, fresh: true) { id } }"
)


def entity(customer_id: str) -> dict[str, str]:
    return {"__typename": "Customer", "id": customer_id}


async def alone(harness: GatewayHarness, ids: list[str]) -> tuple[list[Any], set[Any]]:
    """Each id's answer and :func:`coded` errors asked on its own, as one representation
    each, with the error paths set to the position the id has in ``ids``."""
    data: list[Any] = []
    errors: set[Any] = set()
    for position, customer_id in enumerate(ids):
        body = await harness.query(DETAIL, {"r": [entity(customer_id)]})
        data += body["data"]["_entities"]
        for error in body.get("errors", []):
            if "path" in error:
                error = {**error, "path": ["_entities", position, *error["path"][2:]]}
            errors |= coded([error])
    return data, errors


def coded(errors: list[Any]) -> set[tuple[tuple[Any, ...], str]]:
    """The errors of positions, by where and what: messages and response-wide errors aside
    (a failed provider's breaker is open for the queries after the first, which say so)."""
    return {(tuple(e["path"]), e["extensions"]["code"]) for e in errors if "path" in e}


def with_stripe(found: list[IndexedCustomer]) -> list[IndexedCustomer]:
    return [c for c in found if "stripe" in per_provider(c.members)]


async def test_a_mixed_batch_answers_each_position_as_alone_with_one_index_read(
    synced: GatewayHarness,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph = synced.app.state.graph
    kept, merged, *others = with_stripe(await customers(synced))
    link = (kept.members[0], merged.members[0])
    await graph.index.add_override(
        Override(OverrideKind.LINK, link, "one company", "tests", datetime.now(UTC))
    )
    survivor = await graph.index.customer(merged.id)
    assert survivor is not None and set(survivor.members) == {*kept.members, *merged.members}
    alias = merged.id if survivor.id == kept.id else kept.id
    async with stripe_api(synced) as stripe:  # created behind the gateway's back
        created = await stripe.post("/v1/customers", data={"email": "new.one@example.org"})
    unknown = encode_customer_id(RecordRef("stripe", created.json()["id"]))
    assert await graph.index.customer(unknown) is None
    ids = [others[0].id, "not-an-id", alias, unknown, others[1].id, others[2].id]
    asked = count_index_reads(synced, monkeypatch)

    body = await synced.query(DETAIL, {"r": [entity(i) for i in ids]})

    # One read for all ids; the unknown one's live answer is fed to the index and read back.
    assert sorted(asked) == ["customer_of", "customers", "records"]
    answers = body["data"]["_entities"]
    assert [a and a["id"] for a in answers] == [ids[0], None, survivor.id, unknown, *ids[4:]]
    assert answers[2]["identity"]["aliases"] == [alias]
    assert answers[3]["email"] == "new.one@example.org"
    [error] = body["errors"]
    assert error["path"] == ["_entities", 1]
    assert error["extensions"]["code"] == "INVALID_ID"
    assert "invalid customer id" in error["message"]
    data, errors = await alone(synced, ids)
    assert answers == data
    assert coded(body["errors"]) == errors


async def test_a_failing_provider_costs_each_customer_only_its_own_fields(
    synced: GatewayHarness,  # noqa: F811
) -> None:
    """A customer whose every record is in the failed provider is that position's error (one
    lookup: "not found" would be a lie); the others answer, naming the provider if theirs."""
    found = await customers(synced)
    only_lago = next(c for c in found if set(per_provider(c.members)) == {"lago"})
    with_lago = [c for c in found if len(per_provider(c.members)) > 1][:6]
    assert any("lago" in per_provider(c.members) for c in with_lago)
    assert any("lago" not in per_provider(c.members) for c in with_lago)
    ids = [with_lago[0].id, only_lago.id, *(c.id for c in with_lago[1:])]
    synced.set_faults("lago", Faults(outage=True))

    body = await synced.query(DETAIL, {"r": [entity(i) for i in ids]})

    answers = body["data"]["_entities"]
    assert answers[1] is None
    for answer, customer in zip(answers[:1] + answers[2:], with_lago, strict=True):
        assert answer["id"] == customer.id
        failed = ["lago"] if "lago" in per_provider(customer.members) else []
        assert answer["degradedProviders"] == failed
    assert [d["provider"] for d in body["extensions"]["degradedProviders"]] == ["lago"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"PROVIDER_UNAVAILABLE"}
    assert ["_entities", 1] in [e["path"] for e in body["errors"]]
    data, errors = await alone(synced, ids)
    assert answers == data
    assert coded(body["errors"]) == errors


async def test_customer_by_id_under_two_aliases_is_one_index_read(
    synced: GatewayHarness,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = (await customers(synced))[:2]
    asked = count_index_reads(synced, monkeypatch)

    body = await synced.query(TWICE, {"a": a.id, "b": b.id})
    same = await synced.query(TWICE, {"a": a.id, "b": a.id})

    assert body["data"] == {"one": {"id": a.id}, "two": {"id": b.id}}
    assert same["data"] == {"one": {"id": a.id}, "two": {"id": a.id}}
    assert asked == ["customers", "customers"]  # one per query


async def test_fresh_and_cached_fields_are_batched_apart(small_dataset: Dataset) -> None:
    """A batch runs in its first field's context: ``fresh`` ones go in a batch of their own,
    so a fresh field still reads the provider and a cached one still does not."""
    providers = {**QUIET.providers, "stripe": tune(QUIET.providers["stripe"], cache_ttl=60)}
    async with gateway_harness(
        small_dataset, replace(QUIET, providers=providers), graph=True, sync=True
    ) as harness:
        await harness.synced()
        customer = with_stripe(await customers(harness))[0]
        (record,) = [ref for ref in customer.members if ref.provider == "stripe"]
        await harness.query(TWICE, {"a": customer.id, "b": customer.id})  # the cache warmed
        harness.reset_calls()

        body = await harness.query(FRESH_AND_CACHED, {"a": customer.id})

        assert body["data"] == {"cached": {"id": customer.id}, "fresh": {"id": customer.id}}
        assert [call.path for call in reads(harness, "stripe")] == [f"/v1/customers/{record.id}"]
