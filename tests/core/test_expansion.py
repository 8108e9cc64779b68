"""Live expansion (search and hop) stops at its bounds."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from gateway.config import IdentitySettings
from gateway.core import expansion
from gateway.identity import plan_next_hop
from gateway.model import CustomerRecord, Lookup
from tests.conftest import gateway_harness
from tests.identity.hard_cases import dataset

QUERY = """
query { customerByProviderId(provider: STRIPE, id: "cus_HopB1") {
  externalIds { provider id } identity { truncated }
} }
"""


async def test_a_chain_longer_than_max_hops_is_cut_there_and_the_lookup_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: once truncated, the loop planned the dropped keys again and again without
    # ever yielding to the event loop. Count the plans so a relapse fails instead of hanging.
    plans = 0

    def counted(
        seen: Iterable[tuple[Lookup, str]],
        records: Iterable[CustomerRecord],
        settings: IdentitySettings,
    ) -> set[tuple[Lookup, str]]:
        nonlocal plans
        plans += 1
        assert plans <= 10, "expansion keeps planning after it was truncated"
        return plan_next_hop(seen, records, settings)

    monkeypatch.setattr(expansion, "plan_next_hop", counted)
    async with gateway_harness(dataset()) as harness:
        body = await harness.query(QUERY)

    found = body["data"]["customerByProviderId"]
    assert found["identity"]["truncated"] is True
    # Three hops from the Stripe record (id, then its email and Stripe id, then the company
    # id): the rest of its 7-record chain is beyond max_hops.
    assert {(r["provider"], r["id"]) for r in found["externalIds"]} == {
        ("stripe", "cus_HopB1"),
        ("tofupay", "cus_HopA1"),
        ("firstofficer", "131"),
        ("lago", "co_hop1"),
    }
