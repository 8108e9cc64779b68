"""Upstream request paths (which hold customer ids) reach only callers with customers:pii."""

from __future__ import annotations

from gateway.providers.upstream.redact import without_paths
from gateway.sandbox.faults import Faults
from tests.auth.conftest import Keys
from tests.conftest import GatewayHarness

BY_PROVIDER_ID = (
    '{ customerByProviderId(provider: LAGO, id: "co_analyticalengines") { lago { externalId } } }'
)


def test_request_paths_are_withheld_from_messages() -> None:
    message = "no answer to GET /api/v1/customers/co_analyticalengines within 20s"
    assert without_paths(message) == "no answer to GET <path withheld> within 20s"
    assert without_paths("HTTP 503") == "HTTP 503"


async def test_a_provider_failure_names_its_path_only_to_pii_callers(
    keyed: GatewayHarness, keys: Keys
) -> None:
    keyed.set_faults("lago", Faults(malformed_next=100))

    async def messages(key: str) -> list[str]:
        response = await keyed.client.post(
            "/graphql", json={"query": BY_PROVIDER_ID}, headers=keys.header(key)
        )
        body = response.json()
        degraded = body["extensions"]["degradedProviders"]
        return [e["message"] for e in body["errors"]] + [d["message"] for d in degraded]

    reader, support = await messages("reader"), await messages("support")

    assert reader and all("co_analyticalengines" not in m for m in reader)
    assert any("<path withheld>" in m for m in reader)
    assert any("/api/v1/customers/co_analyticalengines" in m for m in support)
