"""Run inside a scratch copy of the project with Acme registered; prints what it saw as JSON.

Started by tests/providers/test_sixth_provider.py in a subprocess, so the copy's registry (with
the sixth line) is the one every module imports.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from gateway.config import Settings, load_settings, sandbox_settings
from gateway.sandbox.cluster import SandboxCluster
from gateway.sandbox.dataset import generate
from gateway.server import create_app
from resolvers.schema import schema_sdl

CUSTOMER = """
query ($email: String!) {
  customerByEmail(email: $email) {
    id name externalIds { provider id } acme { id plan email }
  }
}
"""
BY_ID = "query ($id: String!) { customerByProviderId(provider: ACME, id: $id) { acme { id } } }"
CREATE = """
mutation ($providers: [Provider!]) {
  createCustomer(
    input: {email: "new@acme.example", name: "New Acme", externalId: "co_newacme"}
    providers: $providers
  ) {
    userErrors { field code }
    outcomes { provider status recordId }
    customer { acme { id email } }
  }
}
"""


async def main() -> dict[str, Any]:
    dataset = generate(customers=40)
    contacts = dataset.for_provider("acme")
    cluster = SandboxCluster.from_dataset(dataset)
    transports = {name: httpx.ASGITransport(app=app) for name, app in cluster.apps.items()}
    app = create_app(Settings(providers=sandbox_settings()), transports=transports)
    seen: dict[str, Any] = {"contacts": len(contacts), "sdl": schema_sdl()}
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):

        async def query(text: str, **variables: Any) -> Any:
            response = await client.post("/graphql", json={"query": text, "variables": variables})
            return response.json()

        seen["by_email"] = await query(CUSTOMER, email=contacts[0]["email"])
        seen["by_id"] = await query(BY_ID, id=contacts[0]["id"])
        seen["create"] = await query(CREATE, providers=["STRIPE", "ACME"])
        seen["create_missing_email"] = await query(
            CREATE.replace('email: "new@acme.example", ', ""), providers=["ACME"]
        )
        seen["health"] = (await client.get("/healthz")).json()
    configured = load_settings({"ACME_BASE_URL": "https://acme.internal", "ACME_API_KEY": "k"})
    seen["configured"] = {
        name: {"enabled": p.enabled, "base_url": p.base_url}
        for name, p in configured.providers.items()
    }
    return seen


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
