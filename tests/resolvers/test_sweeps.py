"""Invariants over whole datasets, and under random provider faults."""

from __future__ import annotations

from collections import Counter

from gateway.config import IdentitySettings
from gateway.identity import normalise_email
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness

PROVIDERS = ("stripe", "chartmogul", "firstofficer", "lago", "tofupay")
BY_EMAIL = """query($e: String!) { customerByEmail(email: $e) {
  id emails externalIds { provider id } identity { truncated }
  metrics { mrr { amount } currentMrr { amount } balance { amount } }
  stripe { id } chartmogul { uuid } firstOfficer { id } lago { externalId } tofupay { id }
} }"""
BY_ID = "query($id: ID!) { customer(id: $id) { id externalIds { provider id } } }"


def usable_emails(dataset: Dataset) -> list[str]:
    placeholders = IdentitySettings().placeholder_emails
    found = {
        email
        for name in PROVIDERS
        for record in dataset.for_provider(name)
        if (email := normalise_email(record.get("email"), placeholders))
    }
    return sorted(found)


async def test_every_email_resolves_consistently(
    gateway: GatewayHarness, small_dataset: Dataset
) -> None:
    emails = usable_emails(small_dataset)
    assert len(emails) > 30

    for email in emails:
        body = await gateway.query(BY_EMAIL, {"e": email})
        assert "errors" not in body, (email, body["errors"])
        customer = body["data"]["customerByEmail"]
        assert customer is not None, email
        assert email in {normalise_email(e, frozenset()) for e in customer["emails"]}, email
        assert not customer["identity"]["truncated"], email
        per_provider = Counter(ref["provider"] for ref in customer["externalIds"])
        assert max(per_provider.values()) <= IdentitySettings().max_records_per_provider

        again = (await gateway.query(BY_ID, {"id": customer["id"]}))["data"]["customer"]
        assert again["id"] == customer["id"], email
        assert sorted(map(str, again["externalIds"])) == sorted(map(str, customer["externalIds"]))


async def test_random_faults_never_leak_an_uncoded_or_internal_error(
    gateway: GatewayHarness, small_dataset: Dataset
) -> None:
    for seed, (name, status) in enumerate(zip(PROVIDERS, (500, 502, 503, 422, 400), strict=True)):
        gateway.set_faults(
            name,
            Faults(
                error_rate=0.15,
                error_status=status,
                rate_limit_rate=0.1,
                retry_after=0,
                malformed_rate=0.05,
                seed=seed,
            ),
        )
    codes: Counter[str] = Counter()

    for email in usable_emails(small_dataset)[:25]:
        response = await gateway.client.post(
            "/graphql", json={"query": BY_EMAIL, "variables": {"e": email}}
        )
        assert response.status_code == 200
        for error in response.json().get("errors", []):
            codes[error["extensions"]["code"]] += 1

    assert codes, "the faults should have cost something"
    assert set(codes) <= {
        "PROVIDER_BAD_RESPONSE",
        "PROVIDER_BAD_REQUEST",
        "PROVIDER_RATE_LIMITED",
        "PROVIDER_UNAVAILABLE",
    }
