"""Every GraphQL example in README.md and docs/ runs against the sandbox without errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.sandbox.dataset import Dataset
from tests.conftest import GatewayHarness, gateway_harness

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for index, block in enumerate(BLOCK.findall(path.read_text())):
            found.append((f"{path.relative_to(ROOT)}#{index + 1}", block))
    return found


async def variables_for(query: str, gateway: GatewayHarness) -> dict[str, Any]:
    """Values for the variables examples use, taken from the sandbox's showcase customer."""
    body = await gateway.query('{ customerByEmail(email: "ada@lovelace.example") { id } }')
    showcase_id = body["data"]["customerByEmail"]["id"]
    known: dict[str, Any] = {
        "id": showcase_id,
        "representations": [{"__typename": "Customer", "id": showcase_id}],
    }
    names = set(re.findall(r"\$(\w+)\s*:", query))
    missing = names - set(known)
    assert not missing, f"add example values for {missing} in tests/test_docs.py"
    return {name: known[name] for name in names}


def test_the_docs_have_examples() -> None:
    assert len(examples()) >= 5


@pytest.fixture
async def gateway(small_dataset: Dataset) -> AsyncIterator[GatewayHarness]:
    """The gateway as `serve` runs it: on an identity index, synced."""
    async with gateway_harness(small_dataset, graph=True, sync=True) as harness:
        await harness.synced()
        yield harness


@pytest.mark.parametrize(("where", "query"), examples(), ids=[w for w, _ in examples()])
async def test_documented_query_runs(gateway: GatewayHarness, where: str, query: str) -> None:
    body = await gateway.query(query, await variables_for(query, gateway))

    assert "errors" not in body, (where, body["errors"])
    assert all(value is not None for value in body["data"].values()), (where, body["data"])
