"""The subgraph SDL the gateway serves composes into a supergraph with both composers.

Apollo's composer is what Apollo Router deployments use; The Guild's is what Hive Gateway uses,
and it refuses federation links newer than it knows (v2.10+ with 0.26.x), hence the setting.
"""

from __future__ import annotations

from dataclasses import replace

from graphql import ObjectTypeDefinitionNode, parse

from gateway.config import DEFAULT_FEDERATION_VERSION, Settings, sandbox_settings
from gateway.sandbox.dataset import Dataset
from tests.conftest import GatewayHarness, gateway_harness
from tests.federation.conftest import Composers, Subgraph

SERVICE_SDL = "{ _service { sdl } }"

ORDERS_SDL = """\
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Query {
  order(id: ID!): Order
}

type Order @key(fields: "id") {
  id: ID!
  customer: Customer
}

type Customer @key(fields: "id", resolvable: false) {
  id: ID!
}
"""


async def served_sdl(gateway: GatewayHarness) -> str:
    body = await gateway.query(SERVICE_SDL)
    assert "errors" not in body, body
    sdl: str = body["data"]["_service"]["sdl"]
    return sdl


def object_fields(sdl: str, name: str) -> set[str]:
    """Field names of object type ``name`` in ``sdl``, extensions included."""
    return {
        field.name.value
        for node in parse(sdl).definitions
        if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == name
        for field in node.fields or ()
    }


def link(version: str) -> str:
    return f'@link(url: "https://specs.apollo.dev/federation/v{version}"'


async def test_the_served_sdl_composes_with_both_composers(
    gateway: GatewayHarness, composers: Composers
) -> None:
    sdl = await served_sdl(gateway)
    subgraphs = [
        Subgraph("customers", "http://customers/graphql", sdl),
        Subgraph("orders", "http://orders/graphql", ORDERS_SDL),
    ]

    results = composers.compose(subgraphs)

    customer_fields = object_fields(sdl, "Customer")
    assert {"id", "name", "email", "metrics"} <= customer_fields
    assert set(results) == {"apollo", "guild"}
    for result in results.values():
        where = f"{result['package']}@{result['version']}"
        assert result["errors"] == [], (where, result["errors"])
        supergraph = result["supergraphSdl"]
        assert customer_fields <= object_fields(supergraph, "Customer"), where
        assert "customer" in object_fields(supergraph, "Order"), where
        assert {"customer", "customerByEmail", "order"} <= object_fields(supergraph, "Query"), where


async def test_the_served_sdl_links_the_configured_version(
    gateway: GatewayHarness, small_dataset: Dataset
) -> None:
    assert link(DEFAULT_FEDERATION_VERSION) in await served_sdl(gateway)

    settings = replace(Settings(providers=sandbox_settings()), federation_version="2.5")
    async with gateway_harness(small_dataset, settings) as older:
        assert link("2.5") in await served_sdl(older)
