"""Failure paths of the read API that need their own setup: timeouts, bugs, guardrails."""

from __future__ import annotations

import logging

import pytest

from gateway.config import Settings, sandbox_settings, tune
from gateway.providers.contract import ProviderAdapter
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness, without_stripe_search

QUERY = """query($e: String!) { customerByEmail(email: $e) {
  name stripe { id } lago { externalId }
  identity { conflicts { kind email message records { provider id } } }
} }"""


async def test_a_slow_provider_times_out_and_costs_only_its_fields(small_dataset: Dataset) -> None:
    providers = sandbox_settings()
    providers["lago"] = tune(providers["lago"], deadline=0.2)
    async with gateway_harness(small_dataset, Settings(providers=providers)) as gateway:
        gateway.set_faults("lago", Faults(latency_ms=2000))

        body = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

    customer = body["data"]["customerByEmail"]
    assert customer["lago"] is None and customer["stripe"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"PROVIDER_TIMEOUT"}
    assert body["extensions"]["degradedProviders"][0]["provider"] == "lago"


async def test_a_bug_is_masked_for_the_client_and_logged_in_full(
    gateway: GatewayHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: ProviderAdapter, by: object, values: object) -> object:
        raise RuntimeError("internal detail that must not leak")

    adapter = type(gateway.client._transport.app.state.adapters["tofupay"])  # type: ignore[attr-defined]
    monkeypatch.setattr(adapter, "lookup", broken)

    with caplog.at_level(logging.ERROR, logger="customer_gateway.graphql"):
        body = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})

    assert "internal detail" not in str(body)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "Internal server error."
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "internal detail that must not leak" in str(logged[0].exc_info[1])


def stripe_record(index: int, email: str) -> dict[str, object]:
    return {"id": f"cus_Shared{index:010d}", "email": email, "name": f"Person {index}"}


async def test_an_email_shared_too_widely_is_refused_and_reported() -> None:
    shared = "billing@sharedinbox.example"
    dataset = Dataset(stripe=tuple(stripe_record(i, shared) for i in range(4)))
    async with gateway_harness(dataset) as gateway:
        body = await gateway.query(QUERY, {"e": shared})

    customer = body["data"]["customerByEmail"]
    assert len(customer["stripe"]) == 3  # max_records_per_provider
    guardrails = [c for c in customer["identity"]["conflicts"] if c["kind"] == "GUARDRAIL"]
    assert guardrails and guardrails[0]["email"] == shared


async def test_a_failed_provider_is_reported_even_when_none_of_its_fields_is_asked(
    gateway: GatewayHarness,
) -> None:
    gateway.set_faults("lago", Faults(outage=True))

    body = await gateway.query(
        "query($e: String!) { customerByEmail(email: $e) { name } }", {"e": SHOWCASE_EMAIL}
    )

    assert body["data"]["customerByEmail"]["name"] == "Ada Lovelace"
    [error] = body["errors"]
    assert error["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
    assert error["extensions"]["provider"] == "lago"
    assert "path" not in error


async def test_without_stripe_search_emails_still_find_stripe_records_and_say_how(
    small_dataset: Dataset,
) -> None:
    """An account (or a Stripe-compatible fake) without customer search: the email lookup is
    served by the list filter, the customer is whole, and the answer names the fallback."""

    async with gateway_harness(small_dataset) as gateway:
        without_stripe_search(gateway.simulators["stripe"])

        body = await gateway.query(QUERY, {"e": SHOWCASE_EMAIL})
        searches = [c.path for c in gateway.calls("stripe") if c.path.endswith("/search")]
        listed = [c.query for c in gateway.calls("stripe") if c.path == "/v1/customers"]

    assert "errors" not in body, body["errors"]
    assert body["data"]["customerByEmail"]["stripe"] == [{"id": "cus_ShowcaseAda001"}]
    assert searches == ["/v1/customers/search"]  # tried once, then remembered
    assert listed and all("email=" in query for query in listed)
    [degraded] = body["extensions"]["degradedProviders"]
    assert degraded["provider"] == "stripe" and degraded["code"] == "PROVIDER_FALLBACK"
    assert "list filter" in degraded["message"]
