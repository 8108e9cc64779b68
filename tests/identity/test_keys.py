"""Link keys from configured rules, and the lookups they imply."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway.config import ConfigError, IdentitySettings
from gateway.identity.keys import (
    MatchKey,
    email_key,
    expansion_lookups,
    is_stripe_customer_id,
    plan_next_hop,
    record_keys,
)
from gateway.model import CustomerRecord, Lookup

SETTINGS = IdentitySettings()
STRIPE_ID = "cus_NffrFeUfNV2Hib"
CM_UUID = "cus_de305d54-75b4-431b-adb2-eb6b9e546014"


def record(provider: str, id: str, raw: dict[str, Any], **kw: Any) -> CustomerRecord:
    return CustomerRecord(provider, id, raw, **kw)


def test_stripe_id_is_one_key_across_four_providers() -> None:
    records = [
        record("stripe", STRIPE_ID, {"id": STRIPE_ID}),
        record("firstofficer", "7", {"id": 7, "stripe_id": STRIPE_ID}),
        record("chartmogul", CM_UUID, {"uuid": CM_UUID, "external_ids": [STRIPE_ID]}),
        record(
            "lago",
            "acme",
            {"external_id": "acme", "billing_configuration": {"provider_customer_id": STRIPE_ID}},
        ),
    ]
    expected = MatchKey("stripe_id", STRIPE_ID)
    for r in records:
        assert expected in record_keys(r, SETTINGS), r.provider


def test_chartmogul_external_id_alone_links_too() -> None:
    # Some ChartMogul answers (the v1 customer object of older data sources) carry only the
    # singular `external_id`; the default rules read it as well as `external_ids[]`.
    only_singular = record("chartmogul", CM_UUID, {"uuid": CM_UUID, "external_id": STRIPE_ID})
    both = record("chartmogul", CM_UUID, {"external_id": STRIPE_ID, "external_ids": [STRIPE_ID]})
    assert record_keys(only_singular, SETTINGS) == {MatchKey("stripe_id", STRIPE_ID)}
    assert record_keys(both, SETTINGS) == {MatchKey("stripe_id", STRIPE_ID)}


def test_external_id_is_one_key_across_three_providers() -> None:
    stripe = record("stripe", STRIPE_ID, {"id": STRIPE_ID, "metadata": {"company_id": "acme-1"}})
    lago = record("lago", "acme-1", {"external_id": "acme-1"})
    fo = record("firstofficer", "7", {"id": 7, "extra_id": "acme-1"})
    assert record_keys(stripe, SETTINGS) == {
        MatchKey("stripe_id", STRIPE_ID),
        MatchKey("external_id", "acme-1"),
    }
    assert record_keys(lago, SETTINGS) == {MatchKey("external_id", "acme-1")}
    assert record_keys(fo, SETTINGS) == {MatchKey("external_id", "acme-1")}


def test_metadata_key_comes_from_settings_and_may_contain_a_dot() -> None:
    settings = dataclasses.replace(SETTINGS, external_id_metadata_key="erp.id")
    stripe = record(
        "stripe",
        STRIPE_ID,
        {"id": STRIPE_ID, "metadata": {"erp.id": "E-9", "company_id": "ignored"}},
    )
    assert record_keys(stripe, settings) == {
        MatchKey("stripe_id", STRIPE_ID),
        MatchKey("external_id", "E-9"),
    }


def test_chartmogul_uuid_never_counts_as_a_stripe_id() -> None:
    cm = record(
        "chartmogul",
        CM_UUID,
        {"uuid": CM_UUID, "external_ids": [CM_UUID, CM_UUID.replace("-", ""), STRIPE_ID]},
    )
    assert record_keys(cm, SETTINGS) == {MatchKey("stripe_id", STRIPE_ID)}
    fo = record("firstofficer", "1", {"stripe_id": CM_UUID})
    assert record_keys(fo, SETTINGS) == frozenset()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (STRIPE_ID, True),
        ("cus_123", True),
        (CM_UUID, False),
        ("cus_de305d5475b4431badb2eb6b9e546014", False),
        ("cus_", False),
        ("cus_abc-def", False),
        ("sub_NffrFeUfNV2Hib", False),
        ("CUS_NffrFeUfNV2Hib", False),
        (" cus_abc", False),
    ],
)
def test_stripe_customer_id_shape(value: str, ok: bool) -> None:
    assert is_stripe_customer_id(value) is ok


def test_empty_and_non_scalar_values_are_skipped() -> None:
    fo = record("firstofficer", "1", {"stripe_id": None, "extra_id": "   "})
    assert record_keys(fo, SETTINGS) == frozenset()
    cm = record("chartmogul", CM_UUID, {"external_ids": ["", None, {"x": 1}, ["cus_a"]]})
    assert record_keys(cm, SETTINGS) == frozenset()
    lago = record("lago", "x", {"billing_configuration": None})
    assert record_keys(lago, SETTINGS) == frozenset()
    assert record_keys(record("stripe", "cus_a", {}), SETTINGS) == frozenset()


def test_values_are_trimmed_and_integers_stringified_but_booleans_skipped() -> None:
    assert record_keys(record("firstofficer", "1", {"extra_id": 42}), SETTINGS) == {
        MatchKey("external_id", "42")
    }
    assert record_keys(record("firstofficer", "1", {"extra_id": " a1 "}), SETTINGS) == {
        MatchKey("external_id", "a1")
    }
    assert record_keys(record("firstofficer", "1", {"extra_id": True}), SETTINGS) == frozenset()


def test_rules_apply_only_to_their_provider() -> None:
    tofu = record("tofupay", "cus_T1", {"id": "cus_T1", "stripe_id": STRIPE_ID, "extra_id": "a"})
    assert record_keys(tofu, SETTINGS) == frozenset()


def test_spread_without_brackets_is_not_spread() -> None:
    settings = dataclasses.replace(SETTINGS, link_rules={"stripe_id": ("chartmogul:external_ids",)})
    cm = record("chartmogul", CM_UUID, {"external_ids": [STRIPE_ID]})
    assert record_keys(cm, settings) == frozenset()


def test_custom_namespace_and_nested_spread() -> None:
    settings = dataclasses.replace(
        SETTINGS, link_rules={"crm": ("lago:metadata[].value", "tofupay:crm_id")}
    )
    lago = record("lago", "x", {"metadata": [{"key": "crm", "value": "C1"}, {"value": "C2"}]})
    assert record_keys(lago, settings) == {MatchKey("crm", "C1"), MatchKey("crm", "C2")}
    tofu = record("tofupay", "cus_T", {"crm_id": "C1"})
    assert record_keys(tofu, settings) == {MatchKey("crm", "C1")}
    # a custom namespace links records but is not a lookup
    assert expansion_lookups(tofu, settings) == frozenset()


@pytest.mark.parametrize("rule", ["stripe", "stripe:", ":id", "stripe:a..b", "stripe:[]"])
def test_malformed_rules_are_configuration_errors(rule: str) -> None:
    settings = dataclasses.replace(SETTINGS, link_rules={"stripe_id": (rule,)})
    with pytest.raises(ConfigError, match="link_rules"):
        record_keys(record("stripe", STRIPE_ID, {"id": STRIPE_ID}), settings)


def test_email_key_uses_settings_placeholders() -> None:
    settings = dataclasses.replace(SETTINGS, placeholder_emails=frozenset({"ops@acme.com"}))
    assert email_key(record("stripe", "cus_a", {}, email=" Ops@Acme.com"), SETTINGS) == (
        "ops@acme.com"
    )
    assert email_key(record("stripe", "cus_a", {}, email=" Ops@Acme.com"), settings) is None


def test_expansion_lookups() -> None:
    stripe = record(
        "stripe",
        STRIPE_ID,
        {"id": STRIPE_ID, "metadata": {"company_id": "acme"}},
        email=" Ann@Example.com",
    )
    assert expansion_lookups(stripe, SETTINGS) == {
        (Lookup.EMAIL, "ann@example.com"),
        (Lookup.STRIPE_ID, STRIPE_ID),
        (Lookup.EXTERNAL_ID, "acme"),
    }
    placeholder = record("firstofficer", "1", {"stripe_id": CM_UUID}, email="n/a")
    assert expansion_lookups(placeholder, SETTINGS) == frozenset()


def test_plan_next_hop_returns_only_unseen_lookups_of_live_records() -> None:
    a = record("stripe", "cus_A", {"id": "cus_A"}, email="a@x.com")
    b = record("lago", "L1", {"external_id": "L1"}, email="A@X.com")
    gone = record("firstofficer", "9", {"stripe_id": "cus_Z"}, email="z@x.com", deleted=True)
    seen = {(Lookup.EMAIL, "a@x.com")}
    assert plan_next_hop(seen, [a, b, gone], SETTINGS) == {
        (Lookup.STRIPE_ID, "cus_A"),
        (Lookup.EXTERNAL_ID, "L1"),
    }
    assert plan_next_hop(seen | plan_next_hop(seen, [a, b], SETTINGS), [a, b], SETTINGS) == set()


def test_plan_next_hop_drives_a_bounded_expansion_to_a_fixpoint() -> None:
    """The gateway's loop, against an in-memory store: email -> stripe id -> external id."""
    s = record("stripe", "cus_S", {"id": "cus_S", "metadata": {"company_id": "acme"}})
    fo = record("firstofficer", "1", {"stripe_id": "cus_S"}, email="ann@x.com")
    lago = record("lago", "acme", {"external_id": "acme"})
    store = [s, fo, lago]

    def fetch(lookup: Lookup, value: str) -> list[CustomerRecord]:
        return [r for r in store if (lookup, value) in expansion_lookups(r, SETTINGS)]

    seen: set[tuple[Lookup, str]] = {(Lookup.EMAIL, "ann@x.com")}
    found = fetch(Lookup.EMAIL, "ann@x.com")
    hops = 0
    while (plan := plan_next_hop(seen, found, SETTINGS)) and hops < SETTINGS.max_hops:
        hops += 1
        seen |= plan
        found += [r for lookup, value in sorted(plan) for r in fetch(lookup, value)]
    assert {r.ref for r in found} == {s.ref, fo.ref, lago.ref}
    assert hops == 2
