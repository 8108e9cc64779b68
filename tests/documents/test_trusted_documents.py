"""Trusted documents: with only registered documents allowed, nothing else runs or fetches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings, sandbox_settings
from gateway.documents import sha256_hex
from gateway.documents.manifest import APOLLO_FORMAT
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from tests.conftest import GatewayHarness, gateway_harness

SHOWCASE = "query Showcase($email: String!) { customerByEmail(email: $email) { id name } }"
PAGE = "query Page { customers(first: 2) { nodes { id } } }"
UNREGISTERED = '{ customerByEmail(email: "ada@example.com") { id } }'
VARIABLES = {"email": SHOWCASE_EMAIL}


def apollo_manifest(*bodies: str) -> dict[str, Any]:
    """What ``@apollo/generate-persisted-query-manifest`` writes."""
    return {
        "format": APOLLO_FORMAT,
        "version": 1,
        "operations": [
            {"id": sha256_hex(body), "name": body.split()[1], "type": "query", "body": body}
            for body in bodies
        ],
    }


def codegen_manifest(*bodies: str) -> dict[str, str]:
    """What GraphQL Codegen's client preset writes (``persisted-documents.json``, sha1 ids)."""
    return {hashlib.sha1(body.encode()).hexdigest(): body for body in bodies}


def settings_for(tmp_path: Path, manifest: dict[str, Any], *, only: bool = True) -> Settings:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps(manifest))
    return Settings(
        providers=sandbox_settings(), trusted_documents=str(path), trusted_documents_only=only
    )


@pytest.fixture
async def trusted(small_dataset: Dataset, tmp_path: Path) -> AsyncIterator[GatewayHarness]:
    settings = settings_for(tmp_path, apollo_manifest(SHOWCASE, PAGE))
    async with gateway_harness(small_dataset, settings) as harness:
        yield harness


async def post(gateway: GatewayHarness, **body: Any) -> httpx.Response:
    return await gateway.client.post("/graphql", json={"variables": VARIABLES, **body})


def total(gateway: GatewayHarness) -> int:
    return sum(gateway.call_counts().values())


async def test_an_unregistered_query_is_refused_before_anything_runs(
    trusted: GatewayHarness,
) -> None:
    response = await post(trusted, query=UNREGISTERED)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "QUERY_NOT_IN_SAFELIST"}
    assert "registered (trusted) documents" in error["message"]
    assert total(trusted) == 0
    # GET and mutations alike, and introspection too: nothing outside the manifest.
    for refused in (
        await trusted.client.get("/graphql", params={"query": UNREGISTERED}),
        await post(trusted, query='mutation { deleteCustomer(id: "x") { applied } }'),
        await post(trusted, query="{ __schema { types { name } } }"),
    ):
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
    assert total(trusted) == 0


async def test_unknown_ids_and_apq_registration_are_refused(trusted: GatewayHarness) -> None:
    unknown = sha256_hex(UNREGISTERED)
    attempts = (
        {"documentId": f"sha256:{unknown}"},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}},
        # APQ registration would let anyone add a document
        {
            "query": UNREGISTERED,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}},
        },
    )
    for body in attempts:
        response = await post(trusted, **body)

        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
    assert total(trusted) == 0


async def test_a_registered_document_runs_by_id_hash_or_text(trusted: GatewayHarness) -> None:
    digest = sha256_hex(SHOWCASE)
    by_text = await post(trusted, query=SHOWCASE)
    expected = by_text.json()
    assert expected["data"]["customerByEmail"]["name"]

    for body in (
        {"documentId": f"sha256:{digest}"},
        {"documentId": digest},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
        {
            "query": SHOWCASE,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
        },
    ):
        response = await post(trusted, **body)
        assert response.status_code == 200, body
        assert response.json() == expected

    over_get = await trusted.client.get(
        "/graphql",
        params={"documentId": f"sha256:{digest}", "variables": json.dumps(VARIABLES)},
        headers={"accept": "*/*"},
    )
    assert over_get.status_code == 200
    assert over_get.json() == expected


async def test_a_codegen_manifest_serves_by_its_sha1_ids_and_by_sha256(
    small_dataset: Dataset, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, codegen_manifest(SHOWCASE, PAGE))
    sha1 = hashlib.sha1(PAGE.encode()).hexdigest()
    async with gateway_harness(small_dataset, settings) as gateway:
        by_id = await post(gateway, documentId=sha1)
        by_sha256 = await post(gateway, documentId=f"sha256:{sha256_hex(PAGE)}")
        refused = await post(gateway, query=UNREGISTERED)

    assert by_id.status_code == by_sha256.status_code == 200
    assert len(by_id.json()["data"]["customers"]["nodes"]) == 2
    assert by_sha256.json() == by_id.json()
    assert refused.status_code == 400


async def test_without_only_the_manifest_adds_ids_and_anything_else_runs(
    small_dataset: Dataset, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, apollo_manifest(SHOWCASE), only=False)
    async with gateway_harness(small_dataset, settings) as gateway:
        by_id = await post(gateway, documentId=sha256_hex(SHOWCASE))
        free_form = await post(gateway, query=UNREGISTERED)
        unknown = await post(gateway, documentId="sha256:" + "0" * 64)

    assert by_id.json()["data"]["customerByEmail"]["name"]
    assert free_form.status_code == 200 and "errors" not in free_form.json()
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0] == {
        "message": "no document is registered under that id",
        "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
    }
