"""The sandbox demo stays live: a customer created in a simulator appears merged, within
seconds, in a running ``serve`` (through the simulator's signed webhook into the index)."""

from __future__ import annotations

import time

import httpx
import pytest

from gateway.providers.lago.simulator import SANDBOX_KEY as LAGO_KEY
from gateway.providers.stripe.simulator import SANDBOX_KEY
from tests.test_cli import running
from tests.test_serve_lifecycle import WAIT, endpoint, simulator

FOUND = """
query($text: String!) {
  customers(first: 5, filter: { text: $text }) {
    edges { node { name email externalIds { provider id } } }
  }
}
"""


def wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        time.sleep(0.1)


def test_a_customer_created_in_a_simulator_appears_merged_in_serve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Polling the events list would find the customer too: make webhooks the only way in.
    monkeypatch.setenv("CUSTOMER_GATEWAY_SYNC_POLL_INTERVAL", "3600")
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--customers", "12")
    with running(*args) as (_, lines):
        graphql = endpoint(lines)
        health = graphql.replace("/graphql", "/healthz")
        wait_for(lambda: httpx.get(health, timeout=WAIT).json()["sync"]["synced"], "synced")
        stripe = simulator(lines, "stripe")
        lago = simulator(lines, "lago")

        created = httpx.post(
            f"{stripe}/v1/customers",
            data={"email": "Hedy@Lamarr.example", "name": "Hedy Lamarr"},
            auth=(SANDBOX_KEY, ""),
            timeout=WAIT,
        )
        assert created.status_code == 200, created.text
        stripe_id = created.json()["id"]
        # The same person in Lago, linked to the Stripe customer, email in other case.
        lago_created = httpx.post(
            f"{lago}/api/v1/customers",
            json={
                "customer": {
                    "external_id": "co_lamarr",
                    "name": "Hedy Lamarr",
                    "email": "hedy@lamarr.example",
                    "billing_configuration": {"provider_customer_id": stripe_id},
                }
            },
            headers={"Authorization": f"Bearer {LAGO_KEY}"},
            timeout=WAIT,
        )
        assert lago_created.status_code == 200, lago_created.text

        def listed() -> list[dict[str, object]]:
            body = httpx.post(
                graphql, json={"query": FOUND, "variables": {"text": "Lamarr"}}, timeout=WAIT
            ).json()
            return [edge["node"] for edge in body["data"]["customers"]["edges"]]

        both = [{"provider": "lago", "id": "co_lamarr"}, {"provider": "stripe", "id": stripe_id}]
        wait_for(
            lambda: [c["externalIds"] for c in listed()] == [both],
            "the new Stripe and Lago customers listed from the index, merged",
        )
