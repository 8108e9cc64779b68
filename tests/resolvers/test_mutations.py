"""End-to-end writes: the gateway's mutations against the five simulators (in-process).

Every upstream count is read from the simulators' own request logs.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from gateway.config import IdentitySettings
from gateway.core.loaders import Loaders
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import Capabilities
from gateway.sandbox.base import LoggedRequest
from gateway.sandbox.dataset import (
    IMPORT_DATA_SOURCE_UUID,
    SHOWCASE_EMAIL,
    SHOWCASE_STRIPE_ID,
)
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness

PROVIDERS = ("stripe", "chartmogul", "firstofficer", "lago", "tofupay")
ALL = ["STRIPE", "TOFUPAY", "LAGO", "CHARTMOGUL", "FIRSTOFFICER"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

PAYLOAD = """
  replayed
  userErrors { field message code }
  outcomes { provider status recordId reason code message skippedFields }
  customer {
    id name email phone company
    externalIds { provider id }
    stripe { id email metadata } lago { externalId providerCustomerId }
    chartmogul { uuid externalId } firstOfficer { id extraId } tofupay { id email }
  }
"""
CREATE = f"""
mutation($input: CustomerInput!, $providers: [Provider!], $key: String) {{
  createCustomer(input: $input, providers: $providers, idempotencyKey: $key) {{ {PAYLOAD} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: CustomerInput!, $providers: [Provider!], $key: String) {{
  updateCustomer(id: $id, input: $input, providers: $providers, idempotencyKey: $key) {{
    {PAYLOAD}
  }}
}}"""
DELETE = f"""
mutation($id: ID!, $providers: [Provider!], $key: String) {{
  deleteCustomer(id: $id, providers: $providers, idempotencyKey: $key) {{ {PAYLOAD} }}
}}"""
BY_EMAIL = """query($email: String!) {
  customerByEmail(email: $email) { id name externalIds { provider id } }
}"""


def full_input(
    email: str = "new@customer.example", external_id: str = "co_newco"
) -> dict[str, Any]:
    """An input every provider can create from (ChartMogul in its Import API data source)."""
    return {
        "email": email,
        "name": "New Co",
        "phone": "+33 1 23 45 67 89",
        "company": "New Co SAS",
        "description": "Signed up through the gateway",
        "address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postalCode": "75001",
            "country": "fr",
        },
        "currency": "EUR",
        "metadata": {"plan": "pro"},
        "externalId": external_id,
        "chartmogulDataSourceUuid": IMPORT_DATA_SOURCE_UUID,
    }


def writes(gateway: GatewayHarness, provider: str | None = None) -> list[LoggedRequest]:
    return [e for e in gateway.calls(provider) if e.method in WRITE_METHODS]


def write_counts(gateway: GatewayHarness) -> Counter[str]:
    return Counter({p: len(writes(gateway, p)) for p in PROVIDERS if writes(gateway, p)})


def outcomes_by_provider(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {o["provider"]: o for o in payload["outcomes"]}
    assert len(found) == len(payload["outcomes"]), "one outcome per provider expected"
    return found


async def create(gateway: GatewayHarness, variables: dict[str, Any]) -> dict[str, Any]:
    body = await gateway.query(CREATE, variables)
    payload: dict[str, Any] = body["data"]["createCustomer"]
    return payload


async def customer_id_of(gateway: GatewayHarness, email: str) -> str:
    body = await gateway.query(BY_EMAIL, {"email": email})
    return str(body["data"]["customerByEmail"]["id"])


# --- create ---------------------------------------------------------------------------------


async def test_create_in_all_five_providers_links_every_record(gateway: GatewayHarness) -> None:
    payload = await create(gateway, {"input": full_input(), "providers": ALL})

    assert payload["userErrors"] == [] and payload["replayed"] is False
    assert [o["provider"] for o in payload["outcomes"]] == ALL  # the documented order
    outcomes = outcomes_by_provider(payload)
    assert {p: o["status"] for p, o in outcomes.items()} == {p: "APPLIED" for p in ALL}
    assert outcomes["STRIPE"]["skippedFields"] == ["company", "currency"]
    assert outcomes["TOFUPAY"]["skippedFields"] == [
        "address",
        "company",
        "currency",
        "externalId",
        "name",
        "phone",
    ]
    assert outcomes["LAGO"]["skippedFields"] == ["description"]
    assert outcomes["CHARTMOGUL"]["skippedFields"] == [
        "currency",
        "description",
        "metadata",
        "phone",
    ]
    assert outcomes["FIRSTOFFICER"]["skippedFields"] == [
        "address",
        "company",
        "currency",
        "description",
        "metadata",
        "phone",
    ]
    stripe_id = outcomes["STRIPE"]["recordId"]
    customer = payload["customer"]
    assert {r["provider"] for r in customer["externalIds"]} == set(PROVIDERS)
    assert customer["stripe"][0]["metadata"] == {"plan": "pro", "company_id": "co_newco"}
    assert customer["lago"] == [{"externalId": "co_newco", "providerCustomerId": stripe_id}]
    assert customer["chartmogul"][0]["externalId"] == stripe_id
    assert customer["firstOfficer"][0]["extraId"] == "co_newco"
    # Exactly one write per provider; Stripe's finished before the linked ones were sent.
    assert write_counts(gateway) == Counter({p: 1 for p in PROVIDERS})
    (stripe_post,) = writes(gateway, "stripe")
    for linked in ("lago", "chartmogul", "firstofficer"):
        (post,) = writes(gateway, linked)
        assert post.at >= stripe_post.at
    (lago_post,) = writes(gateway, "lago")
    body = json.loads(lago_post.body)["customer"]
    assert body["billing_configuration"]["provider_customer_id"] == stripe_id
    assert body["country"] == "FR" and body["currency"] == "EUR"


async def test_created_customer_reads_back_merged(gateway: GatewayHarness) -> None:
    payload = await create(gateway, {"input": full_input(), "providers": ALL})
    created_id = payload["customer"]["id"]

    by_email = await gateway.query(BY_EMAIL, {"email": "New@Customer.example"})
    by_id = await gateway.query(
        "query($id: ID!) { customer(id: $id) { id name externalIds { provider id } } }",
        {"id": created_id},
    )

    found = by_email["data"]["customerByEmail"]
    assert found["id"] == created_id == by_id["data"]["customer"]["id"]
    expected = {(o["provider"].lower(), o["recordId"]) for o in payload["outcomes"]}
    assert {(r["provider"], r["id"]) for r in found["externalIds"]} == expected
    assert found["name"] == "New Co"


async def test_create_defaults_to_the_configured_write_set(gateway: GatewayHarness) -> None:
    payload = await create(
        gateway, {"input": {"email": "two@pair.example", "name": "Pair", "externalId": "co_pair"}}
    )

    assert [(o["provider"], o["status"]) for o in payload["outcomes"]] == [
        ("STRIPE", "APPLIED"),
        ("LAGO", "APPLIED"),
    ]
    assert write_counts(gateway) == Counter({"stripe": 1, "lago": 1})
    assert {r["provider"] for r in payload["customer"]["externalIds"]} == {"stripe", "lago"}


async def test_stripe_failure_skips_the_providers_it_would_link(gateway: GatewayHarness) -> None:
    gateway.set_faults("stripe", Faults(outage=True))
    variables = {"input": full_input(), "providers": ALL}

    payload = await create(gateway, variables)

    outcomes = outcomes_by_provider(payload)
    assert outcomes["STRIPE"]["status"] == "FAILED"
    assert outcomes["STRIPE"]["code"] == "PROVIDER_UNAVAILABLE"
    assert outcomes["TOFUPAY"]["status"] == "APPLIED"  # independent of Stripe
    for linked in ("LAGO", "CHARTMOGUL", "FIRSTOFFICER"):
        assert outcomes[linked]["status"] == "SKIPPED"
        assert "Stripe create failed" in outcomes[linked]["reason"]
    assert write_counts(gateway) == Counter({"stripe": 1, "tofupay": 1})  # no retry: no key

    # Finishing the create as docs/writes.md says: Stripe alone, then the rest by stripeId.
    gateway.set_faults("stripe", Faults())
    stripe_only = await create(gateway, {**variables, "providers": ["STRIPE"]})
    stripe_id = stripe_only["outcomes"][0]["recordId"]
    rest = await create(
        gateway,
        {
            "input": {**full_input(), "stripeId": stripe_id},
            "providers": ["LAGO", "CHARTMOGUL", "FIRSTOFFICER"],
        },
    )
    assert [o["status"] for o in rest["outcomes"]] == ["APPLIED"] * 3
    merged = rest["customer"]
    assert Counter(r["provider"] for r in merged["externalIds"]) == Counter(
        {p: 1 for p in PROVIDERS}
    )
    assert merged["lago"][0]["providerCustomerId"] == stripe_id


async def test_lago_outage_does_not_hide_the_others(gateway: GatewayHarness) -> None:
    gateway.set_faults("lago", Faults(outage=True))

    body = await gateway.query(
        CREATE, {"input": full_input(), "providers": ["STRIPE", "LAGO", "FIRSTOFFICER"]}
    )

    payload = body["data"]["createCustomer"]
    outcomes = outcomes_by_provider(payload)
    assert outcomes["LAGO"]["status"] == "FAILED"
    assert outcomes["LAGO"]["code"] == "PROVIDER_UNAVAILABLE"
    assert outcomes["STRIPE"]["status"] == outcomes["FIRSTOFFICER"]["status"] == "APPLIED"
    customer = payload["customer"]
    assert customer["stripe"][0]["id"] == outcomes["STRIPE"]["recordId"]
    assert customer["lago"] is None  # unreadable while down, reported as a field error
    assert any(e["extensions"].get("provider") == "lago" for e in body["errors"])


async def test_a_422_from_chartmogul_is_reported_with_its_message(
    gateway: GatewayHarness,
) -> None:
    unknown_source = "ds_00000000-0000-4000-8000-000000000000"
    variables = {
        "input": {**full_input(), "chartmogulDataSourceUuid": unknown_source},
        "providers": ["STRIPE", "CHARTMOGUL", "LAGO"],
    }

    payload = await create(gateway, variables)

    outcomes = outcomes_by_provider(payload)
    assert outcomes["CHARTMOGUL"]["status"] == "FAILED"
    assert outcomes["CHARTMOGUL"]["code"] == "PROVIDER_BAD_REQUEST"
    assert "Data source not found" in outcomes["CHARTMOGUL"]["message"]
    assert outcomes["STRIPE"]["status"] == outcomes["LAGO"]["status"] == "APPLIED"


# --- update ---------------------------------------------------------------------------------


async def test_update_reaches_every_record_and_reports_skipped_fields(
    gateway: GatewayHarness,
) -> None:
    customer_id = await customer_id_of(gateway, SHOWCASE_EMAIL)
    gateway.reset_calls()

    payload = (
        await gateway.query(
            UPDATE,
            {
                "id": customer_id,
                "input": {
                    "name": "Ada King",
                    "company": "Analytical Engines Ltd",
                    "description": "VIP",
                },
            },
        )
    )["data"]["updateCustomer"]

    outcomes = outcomes_by_provider(payload)
    assert {p: o["status"] for p, o in outcomes.items()} == {p: "APPLIED" for p in ALL}
    assert outcomes["STRIPE"]["skippedFields"] == ["company"]
    assert outcomes["TOFUPAY"]["skippedFields"] == ["company", "name"]
    assert outcomes["LAGO"]["skippedFields"] == ["description"]
    assert outcomes["CHARTMOGUL"]["skippedFields"] == ["description"]
    assert outcomes["FIRSTOFFICER"]["skippedFields"] == ["company", "description"]
    assert outcomes["STRIPE"]["recordId"] == SHOWCASE_STRIPE_ID
    methods = {p: [(e.method, e.path) for e in writes(gateway, p)] for p in PROVIDERS}
    assert methods["stripe"] == [("POST", f"/v1/customers/{SHOWCASE_STRIPE_ID}")]
    assert methods["tofupay"][0][0] == "POST"
    assert methods["lago"] == [("POST", "/api/v1/customers")]  # the upsert by external id
    assert methods["firstofficer"][0][0] == "PUT"
    assert methods["chartmogul"][0][0] == "PATCH"
    (put,) = writes(gateway, "firstofficer")
    assert parse_qs(put.body) == {"name": ["Ada King"]}  # only what FirstOfficer stores
    assert payload["customer"]["id"] == customer_id
    assert payload["customer"]["name"] == "Ada King"  # read back fresh
    assert payload["customer"]["company"] == "Analytical Engines Ltd"


async def test_update_null_clears_where_stored_and_skips_elsewhere(
    gateway: GatewayHarness,
) -> None:
    created = await create(
        gateway, {"input": full_input(), "providers": ["STRIPE", "LAGO", "TOFUPAY"]}
    )
    assert created["customer"]["phone"] == "+33 1 23 45 67 89"

    payload = (
        await gateway.query(UPDATE, {"id": created["customer"]["id"], "input": {"phone": None}})
    )["data"]["updateCustomer"]

    outcomes = outcomes_by_provider(payload)
    assert outcomes["STRIPE"]["status"] == outcomes["LAGO"]["status"] == "APPLIED"
    assert outcomes["TOFUPAY"]["status"] == "SKIPPED"
    assert outcomes["TOFUPAY"]["skippedFields"] == ["phone"]
    assert "stores none of the given fields" in outcomes["TOFUPAY"]["reason"]
    for absent in ("CHARTMOGUL", "FIRSTOFFICER"):
        assert outcomes[absent]["status"] == "SKIPPED"
        assert "has no" in outcomes[absent]["reason"]
    assert payload["customer"]["phone"] is None
    assert payload["customer"]["name"] == "New Co"  # absent: unchanged


async def test_update_with_a_provider_down_applies_the_rest(gateway: GatewayHarness) -> None:
    customer_id = await customer_id_of(gateway, SHOWCASE_EMAIL)
    gateway.set_faults("lago", Faults(outage=True))
    gateway.reset_calls()

    variables = {"id": customer_id, "input": {"name": "Ada", "description": "VIP"}}
    payload = (await gateway.query(UPDATE, variables))["data"]["updateCustomer"]

    outcomes = outcomes_by_provider(payload)
    assert outcomes["LAGO"]["status"] == "FAILED"
    assert outcomes["LAGO"]["code"] == "PROVIDER_UNAVAILABLE"
    assert "could not read" in outcomes["LAGO"]["message"]
    for applied in ("STRIPE", "TOFUPAY", "CHARTMOGUL", "FIRSTOFFICER"):
        assert outcomes[applied]["status"] == "APPLIED", outcomes[applied]
    assert writes(gateway, "lago") == []


async def test_a_provider_refusing_an_update_does_not_hide_the_others(
    gateway: GatewayHarness,
) -> None:
    taken = await create(
        gateway, {"input": {"email": "taken@fo.example"}, "providers": ["FIRSTOFFICER"]}
    )
    assert taken["outcomes"][0]["status"] == "APPLIED"
    customer_id = await customer_id_of(gateway, SHOWCASE_EMAIL)

    payload = (
        await gateway.query(
            UPDATE,
            {
                "id": customer_id,
                "input": {"email": "taken@fo.example"},
                "providers": ["STRIPE", "FIRSTOFFICER"],
            },
        )
    )["data"]["updateCustomer"]

    outcomes = outcomes_by_provider(payload)
    assert outcomes["STRIPE"]["status"] == "APPLIED"
    assert outcomes["FIRSTOFFICER"]["status"] == "FAILED"
    assert outcomes["FIRSTOFFICER"]["code"] == "PROVIDER_BAD_REQUEST"
    assert "already exists" in outcomes["FIRSTOFFICER"]["message"]


# --- delete ---------------------------------------------------------------------------------


async def test_delete_in_every_supporting_provider(gateway: GatewayHarness) -> None:
    created = await create(gateway, {"input": full_input(), "providers": ALL})
    gateway.reset_calls()

    payload = (await gateway.query(DELETE, {"id": created["customer"]["id"]}))["data"][
        "deleteCustomer"
    ]

    outcomes = outcomes_by_provider(payload)
    for deleted in ("STRIPE", "TOFUPAY", "LAGO", "CHARTMOGUL"):
        assert outcomes[deleted]["status"] == "APPLIED", outcomes[deleted]
    assert outcomes["FIRSTOFFICER"]["status"] == "SKIPPED"
    assert outcomes["FIRSTOFFICER"]["reason"].startswith("unsupported")
    deletes = Counter(e.method for e in writes(gateway))
    assert deletes == Counter({"DELETE": 4})
    # What remains is the FirstOfficer record, under a new id (its anchor).
    remaining = payload["customer"]
    assert [(r["provider"]) for r in remaining["externalIds"]] == ["firstofficer"]
    assert remaining["id"] != created["customer"]["id"]
    gone = await gateway.query(
        "query($id: ID!) { customer(id: $id) { id } }", {"id": created["customer"]["id"]}
    )
    assert gone["data"]["customer"] is None


async def test_delete_only_where_asked_and_nothing_left(gateway: GatewayHarness) -> None:
    created = await create(gateway, {"input": full_input(), "providers": ["STRIPE", "LAGO"]})

    payload = (
        await gateway.query(
            DELETE, {"id": created["customer"]["id"], "providers": ["STRIPE", "LAGO"]}
        )
    )["data"]["deleteCustomer"]

    assert [(o["provider"], o["status"]) for o in payload["outcomes"]] == [
        ("STRIPE", "APPLIED"),
        ("LAGO", "APPLIED"),
    ]
    assert payload["customer"] is None


async def test_chartmogul_refuses_to_delete_billing_system_customers(
    gateway: GatewayHarness,
) -> None:
    customer_id = await customer_id_of(gateway, SHOWCASE_EMAIL)

    payload = (
        await gateway.query(
            DELETE, {"id": customer_id, "providers": ["CHARTMOGUL", "FIRSTOFFICER"]}
        )
    )["data"]["deleteCustomer"]

    outcomes = outcomes_by_provider(payload)
    assert outcomes["CHARTMOGUL"]["status"] == "FAILED"
    assert outcomes["CHARTMOGUL"]["code"] == "PROVIDER_BAD_REQUEST"
    assert "only customers imported through the Import API" in outcomes["CHARTMOGUL"]["message"]
    assert outcomes["FIRSTOFFICER"]["status"] == "SKIPPED"
    assert payload["customer"]["id"] == customer_id  # nothing was removed
    assert [e.method for e in writes(gateway)] == ["DELETE"]  # FirstOfficer was not called


# --- idempotency ----------------------------------------------------------------------------


async def test_same_key_twice_writes_once_and_replays(gateway: GatewayHarness) -> None:
    variables = {"input": full_input(), "providers": ALL, "key": "signup-42"}

    first = await create(gateway, variables)
    second = await create(gateway, variables)

    assert first["replayed"] is False and second["replayed"] is True
    assert second["outcomes"] == first["outcomes"]
    assert second["customer"]["id"] == first["customer"]["id"]
    assert write_counts(gateway) == Counter({p: 1 for p in PROVIDERS})
    # Derived per-provider keys go where the provider honours them, and nowhere else.
    stripe_key = writes(gateway, "stripe")[0].headers["idempotency-key"]
    tofupay_key = writes(gateway, "tofupay")[0].headers["idempotency-key"]
    assert len(stripe_key) == 64 and stripe_key != tofupay_key != "signup-42"
    for provider in ("lago", "chartmogul", "firstofficer"):
        assert "idempotency-key" not in writes(gateway, provider)[0].headers


async def test_concurrent_requests_with_one_key_write_once(gateway: GatewayHarness) -> None:
    variables = {"input": full_input(), "providers": ["STRIPE", "LAGO"], "key": "double-click"}

    first, second = await asyncio.gather(create(gateway, variables), create(gateway, variables))

    assert sorted([first["replayed"], second["replayed"]]) == [False, True]
    assert first["outcomes"] == second["outcomes"]
    assert write_counts(gateway) == Counter({"stripe": 1, "lago": 1})


async def test_same_key_with_other_input_is_rejected(gateway: GatewayHarness) -> None:
    await create(gateway, {"input": full_input(), "key": "k-1"})
    gateway.reset_calls()

    payload = await create(gateway, {"input": {**full_input(), "name": "Other Name"}, "key": "k-1"})

    assert payload["outcomes"] == [] and payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["idempotencyKey"], "IDEMPOTENCY_KEY_REUSED")
    ]
    assert sum(gateway.call_counts().values()) == 0


async def test_update_and_delete_replay_under_their_keys(gateway: GatewayHarness) -> None:
    created = await create(gateway, {"input": full_input(), "providers": ["STRIPE", "LAGO"]})
    customer_id = created["customer"]["id"]
    gateway.reset_calls()
    update = {"id": customer_id, "input": {"name": "Renamed"}, "key": "u-1"}

    first = (await gateway.query(UPDATE, update))["data"]["updateCustomer"]
    second = (await gateway.query(UPDATE, update))["data"]["updateCustomer"]

    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["customer"]["name"] == "Renamed"
    assert write_counts(gateway) == Counter({"stripe": 1, "lago": 1})
    gateway.reset_calls()
    delete = {"id": customer_id, "key": "d-1"}
    first = (await gateway.query(DELETE, delete))["data"]["deleteCustomer"]
    second = (await gateway.query(DELETE, delete))["data"]["deleteCustomer"]
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["outcomes"] == first["outcomes"]
    assert Counter(e.method for e in writes(gateway)) == Counter({"DELETE": 2})


async def test_keyed_writes_are_retried_and_unkeyed_are_not(gateway: GatewayHarness) -> None:
    gateway.set_faults("lago", Faults(next_statuses=[503]))
    keyed = await create(gateway, {"input": full_input(), "providers": ["LAGO"], "key": "retry-me"})
    assert keyed["outcomes"][0]["status"] == "APPLIED"
    assert [e.status for e in writes(gateway, "lago")] == [503, 200]

    gateway.reset_calls()
    gateway.set_faults("lago", Faults(next_statuses=[503]))
    unkeyed = await create(
        gateway, {"input": full_input("b@b.example", "co_b"), "providers": ["LAGO"]}
    )
    assert unkeyed["outcomes"][0]["status"] == "FAILED"
    assert [e.status for e in writes(gateway, "lago")] == [503]


# --- validation -----------------------------------------------------------------------------

LONG = "x" * 256


def _metadata(count: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(count)}


INVALID_CREATES: list[tuple[dict[str, Any], list[str] | None, list[str], str]] = [
    ({"email": "not-an-email"}, ["STRIPE"], ["input", "email"], "INVALID_EMAIL"),
    (
        {"email": "a@b.example", "address": {"country": "XX"}},
        ["STRIPE"],
        ["input", "address", "country"],
        "INVALID_COUNTRY",
    ),
    (
        {"email": "a@b.example", "currency": "EUX"},
        ["STRIPE"],
        ["input", "currency"],
        "INVALID_CURRENCY",
    ),
    ({"metadata": _metadata(51)}, ["STRIPE"], ["input", "metadata"], "METADATA_TOO_MANY_KEYS"),
    (
        {"metadata": {"k" * 41: "v"}},
        ["STRIPE"],
        ["input", "metadata", "k" * 41],
        "METADATA_KEY_TOO_LONG",
    ),
    (
        {"metadata": {"k": "v" * 501}},
        ["STRIPE"],
        ["input", "metadata", "k"],
        "METADATA_VALUE_TOO_LONG",
    ),
    (
        {"metadata": {"a[b]": "v"}},
        ["STRIPE"],
        ["input", "metadata", "a[b]"],
        "METADATA_KEY_INVALID",
    ),
    ({"metadata": {"n": 1}}, ["STRIPE"], ["input", "metadata", "n"], "METADATA_INVALID"),
    (
        {"metadata": {"company_id": "x"}},
        ["STRIPE"],
        ["input", "metadata", "company_id"],
        "METADATA_KEY_RESERVED",
    ),
    ({"email": "a@b.example", "name": "No Id"}, None, ["input", "externalId"], "REQUIRED"),
    (
        {"name": "Cm", "externalId": "co_cm"},
        ["CHARTMOGUL"],
        ["input", "chartmogulDataSourceUuid"],
        "REQUIRED",
    ),
    ({"name": "No Email"}, ["FIRSTOFFICER"], ["input", "email"], "REQUIRED"),
    ({"name": "No Email"}, ["TOFUPAY"], ["input", "email"], "REQUIRED"),
    ({"name": LONG}, ["STRIPE"], ["input", "name"], "TOO_LONG"),
    ({"phone": "+1" + "0" * 19}, ["STRIPE"], ["input", "phone"], "TOO_LONG"),
    ({"name": "   "}, ["STRIPE"], ["input", "name"], "BLANK"),
    ({"stripeId": SHOWCASE_STRIPE_ID}, ["STRIPE"], ["input", "stripeId"], "CONFLICT"),
    (
        {"stripeId": "cust_x", "externalId": "co_x", "name": "X"},
        ["LAGO"],
        ["input", "stripeId"],
        "INVALID_FORMAT",
    ),
    (
        {"email": "a@b.example", "externalId": "12345"},
        ["FIRSTOFFICER"],
        ["input", "externalId"],
        "INVALID_FORMAT",
    ),
]


async def test_invalid_creates_write_nothing_and_say_where(gateway: GatewayHarness) -> None:
    for given, providers, path, code in INVALID_CREATES:
        gateway.reset_calls()
        payload = await create(gateway, {"input": given, "providers": providers})
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], given
        assert payload["outcomes"] == [] and payload["customer"] is None
        assert sum(gateway.call_counts().values()) == 0, given


async def test_every_problem_is_reported_at_once(gateway: GatewayHarness) -> None:
    payload = await create(
        gateway,
        {
            "input": {"email": "bad", "address": {"country": "ZZ"}, "name": LONG},
            "providers": ["STRIPE", "LAGO"],
            "key": "k" * 256,
        },
    )

    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "email"),
        ("input", "address", "country"),
        ("input", "name"),
        ("input", "externalId"),
        ("idempotencyKey",),
    }
    assert all(e["message"] for e in payload["userErrors"])
    assert sum(gateway.call_counts().values()) == 0


async def test_invalid_updates_and_deletes_write_nothing(gateway: GatewayHarness) -> None:
    showcase = await customer_id_of(gateway, SHOWCASE_EMAIL)
    cases = [
        (UPDATE, {"id": "nope", "input": {"name": "x"}}, ["id"], "INVALID_ID"),
        (DELETE, {"id": "nope"}, ["id"], "INVALID_ID"),
        (UPDATE, {"id": showcase, "input": {}}, ["input"], "EMPTY_INPUT"),
        (UPDATE, {"id": showcase, "input": {"email": "x@"}}, ["input", "email"], "INVALID_EMAIL"),
        (
            UPDATE,
            {"id": showcase, "input": {"chartmogulDataSourceUuid": IMPORT_DATA_SOURCE_UUID}},
            ["input", "chartmogulDataSourceUuid"],
            "NOT_CHANGEABLE",
        ),
    ]
    for query, variables, path, code in cases:
        gateway.reset_calls()
        body = await gateway.query(query, variables)
        payload = next(iter(body["data"].values()))
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)]
        assert sum(gateway.call_counts().values()) == 0, variables


async def test_provider_rules_are_checked_before_any_write(gateway: GatewayHarness) -> None:
    showcase = await customer_id_of(gateway, SHOWCASE_EMAIL)
    cases = [
        ({"email": None}, ["input", "email"], "NOT_CLEARABLE"),  # FirstOfficer needs one
        ({"metadata": None}, ["input", "metadata"], "NOT_CLEARABLE"),  # Stripe link key
        ({"externalId": "co_other"}, ["input", "externalId"], "NOT_CHANGEABLE"),  # Lago id
        ({"stripeId": "cus_DoesNotExist"}, ["input", "stripeId"], "NOT_FOUND"),
    ]
    for given, path, code in cases:
        gateway.reset_calls()
        body = await gateway.query(UPDATE, {"id": showcase, "input": given})
        payload = body["data"]["updateCustomer"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], given
        assert writes(gateway) == [], given  # reads only


async def test_unknown_customer_is_a_user_error(gateway: GatewayHarness) -> None:
    from gateway.identity import encode_customer_id
    from gateway.model import RecordRef

    ghost = encode_customer_id(RecordRef("stripe", "cus_NoSuchCustomer"))

    body = await gateway.query(UPDATE, {"id": ghost, "input": {"name": "x"}})

    payload = body["data"]["updateCustomer"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["id"], "NOT_FOUND")]
    assert writes(gateway) == []


async def test_unconfigured_provider_is_a_user_error(gateway: GatewayHarness) -> None:
    body = await gateway.query(CREATE, {"input": {"email": "a@b.example"}, "providers": []})
    payload = body["data"]["createCustomer"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["providers"], "REQUIRED")]
    assert sum(gateway.call_counts().values()) == 0


async def test_mutations_are_refused_over_get(gateway: GatewayHarness) -> None:
    query = 'mutation { createCustomer(input: {email: "g@x.example"}) { replayed } }'

    response = await gateway.client.get("/graphql", params={"query": query})

    assert response.status_code == 400  # a link or an image tag cannot write
    assert response.json()["errors"][0]["message"] == "mutations are not allowed when using GET"
    assert sum(gateway.call_counts().values()) == 0


# --- loaders after writes -------------------------------------------------------------------


class _Book:
    """A one-provider stand-in whose answers change when it is written to."""

    name = "lago"
    capabilities = Capabilities(lookups=frozenset({Lookup.ID, Lookup.EMAIL}))

    def __init__(self) -> None:
        self.records: list[CustomerRecord] = []
        self.calls = 0

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        self.calls += 1
        key = "id" if by is Lookup.ID else "email"
        return [[r for r in self.records if getattr(r, key) == v] for v in values]


async def test_loaders_forget_answers_a_write_can_change() -> None:
    book = _Book()
    first = CustomerRecord(provider="lago", id="co_1", raw={}, email="old@x.example")
    book.records = [first]
    loaders = Loaders({"lago": book}, IdentitySettings())  # type: ignore[dict-item]
    assert (await loaders.load("lago", Lookup.EMAIL, "new@x.example")).records == ()

    # A write moves the email onto the record: the cached "nobody" answer must go too.
    moved = CustomerRecord(provider="lago", id="co_1", raw={}, email="new@x.example")
    book.records = [moved]
    loaders.clear([moved])

    found = await loaders.load("lago", Lookup.EMAIL, "new@x.example")
    assert found.records == (moved,)
    assert (await loaders.load("lago", Lookup.ID, "co_1")).records == (moved,)
