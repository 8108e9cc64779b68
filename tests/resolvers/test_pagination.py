"""customers(first, after) over every provider's cursor style: ids, page numbers, tokens."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.config import Settings, sandbox_settings
from gateway.sandbox.dataset import Dataset
from tests.conftest import gateway_harness

PAGE = """query($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    edges { cursor node { id externalIds { provider id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.mark.parametrize("primary", ["stripe", "chartmogul", "lago", "firstofficer", "tofupay"])
async def test_walking_every_page_visits_each_primary_record_once(
    small_dataset: Dataset, primary: str
) -> None:
    settings = replace(Settings(providers=sandbox_settings()), primary_provider=primary)
    expected = len(small_dataset.for_provider(primary))
    seen: list[str] = []
    after: str | None = None
    async with gateway_harness(small_dataset, settings) as gateway:
        for _ in range(expected + 2):  # bounded: a cursor bug must not loop forever
            body = await gateway.query(PAGE, {"first": 7, "after": after})
            assert "errors" not in body, body["errors"]
            page = body["data"]["customers"]
            seen += [
                ref["id"]
                for edge in page["edges"]
                for ref in edge["node"]["externalIds"]
                if ref["provider"] == primary
            ]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]

    # Every primary record shows up, none twice (duplicates merged into one customer still
    # list all their records once).
    assert len(seen) == len(set(seen)) == expected


async def test_a_cursor_from_one_listing_is_refused_by_another(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset) as gateway:
        body = await gateway.query(PAGE, {"first": 2})
        cursor = body["data"]["customers"]["pageInfo"]["endCursor"]
    settings = replace(Settings(providers=sandbox_settings()), primary_provider="lago")
    async with gateway_harness(small_dataset, settings) as gateway:
        body = await gateway.query(PAGE, {"first": 2, "after": cursor})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
