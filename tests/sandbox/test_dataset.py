"""The seeded sandbox dataset: determinism, scale, the overlap patterns (found by their linking
facts, the way the identity rules see them) and the dataset file loader's errors."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pycountry
import pytest

from gateway.config import IdentitySettings
from gateway.providers.registry import BY_NAME, PROVIDERS, SPECS
from gateway.providers.spec import SeedContext
from gateway.sandbox import dataset as dataset_package
from gateway.sandbox.cluster import SandboxCluster
from gateway.sandbox.dataset import (
    DUPLICATE_EMAIL,
    DUPLICATE_STRIPE_IDS,
    EMAIL_ONLY_EMAIL,
    EMAIL_ONLY_STRIPE_ID,
    FIXED_CUSTOMERS,
    ID_FIELDS,
    IMPORT_DATA_SOURCE_UUID,
    LAGO_ONLY_EMAIL,
    LAGO_ONLY_EXTERNAL_ID,
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_LAGO_EXTERNAL_ID,
    PLACEHOLDER_STRIPE_ID,
    SHOWCASE_EMAIL,
    SHOWCASE_STRIPE_ID,
    STRIPE_DATA_SOURCE_UUID,
    Dataset,
    DatasetError,
    generate,
    load_dataset,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "dataset.json"
PLACEHOLDERS = IdentitySettings().placeholder_emails
STRIPE_ID = re.compile(r"cus_[A-Za-z0-9]{14}")
Record = Mapping[str, Any]
Node = tuple[str, int]


@pytest.fixture(scope="module")
def default() -> Dataset:
    return generate()


def norm(email: Any) -> str:
    return email.strip().casefold() if isinstance(email, str) else ""


def real_email(email: Any) -> str | None:
    """The normalised email, or None for a blank or placeholder one (which never links)."""
    key = norm(email)
    return None if key in PLACEHOLDERS else key


def link_keys(provider: str, record: Record) -> Iterator[tuple[str, str]]:
    """The identity rules of docs/dataset.md, written out independently of the generator."""
    if provider == "stripe":
        yield ("stripe_id", record["id"])
        if company_id := record["metadata"].get("company_id"):
            yield ("external_id", company_id)
    elif provider == "chartmogul":
        for value in record["external_ids"]:
            if STRIPE_ID.fullmatch(value):
                yield ("stripe_id", value)
    elif provider == "firstofficer":
        if record["stripe_id"]:
            yield ("stripe_id", record["stripe_id"])
        if record["extra_id"]:
            yield ("external_id", record["extra_id"])
    elif provider == "lago":
        yield ("external_id", record["external_id"])
        if config := record.get("billing_configuration"):
            yield ("stripe_id", config["provider_customer_id"])
    if email := real_email(record["email"]):
        yield ("email", email)


def clusters(data: Dataset, *, placeholder_links: bool = False) -> list[set[Node]]:
    """Records grouped into customers by shared link values (union-find)."""
    parent: dict[Node, Node] = {}

    def find(node: Node) -> Node:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    owner: dict[tuple[str, str], Node] = {}
    for provider in PROVIDERS:
        for index, record in enumerate(data.for_provider(provider)):
            node = (provider, index)
            parent[node] = node
            keys = list(link_keys(provider, record))
            if placeholder_links and norm(record["email"]) in PLACEHOLDERS:
                keys.append(("email", norm(record["email"])))
            for key in keys:
                if key in owner:
                    parent[find(node)] = find(owner[key])
                else:
                    owner[key] = node
    groups: dict[Node, set[Node]] = {}
    for node in parent:
        groups.setdefault(find(node), set()).add(node)
    return list(groups.values())


def records(data: Dataset, provider: str) -> list[Record]:
    return list(data.for_provider(provider))


def emails_elsewhere(data: Dataset, provider: str, index: int) -> set[str]:
    """Normalised emails of every record except ``data.<provider>[index]``."""
    return {
        norm(r["email"])
        for name in PROVIDERS
        for i, r in enumerate(data.for_provider(name))
        if (name, i) != (provider, index)
    }


# --- Determinism and scale -------------------------------------------------------------------


def test_same_seed_gives_byte_identical_json() -> None:
    first, second = generate(seed=7, customers=300), generate(seed=7, customers=300)
    assert first == second
    assert json.dumps(first.as_json()) == json.dumps(second.as_json())
    assert first.dumps() == second.dumps()


def test_default_dataset_bytes_are_pinned() -> None:
    """The hash of the default dataset as the single-module generator wrote it: splitting the
    module into a package (or any refactor) must not move a byte."""
    digest = hashlib.sha256(generate(seed=0, customers=200).dumps().encode()).hexdigest()
    assert digest == "d7a1f07fdcc37b52b2ab9a0dafd8863a752ee872cd8288c6725c34e08a71b812"


def test_different_seeds_differ_but_fixed_scenarios_do_not() -> None:
    one, two = generate(seed=1), generate(seed=2)
    assert one.dumps() != two.dumps()
    for provider in PROVIDERS:
        assert one.for_provider(provider)[0] == two.for_provider(provider)[0]
    assert generate(seed=1, customers=FIXED_CUSTOMERS) == generate(
        seed=2, customers=FIXED_CUSTOMERS
    )


@pytest.mark.parametrize("customers", [0, 1, 3, FIXED_CUSTOMERS, 7, 25, 200, 1000])
def test_customers_counts_distinct_real_world_customers(customers: int) -> None:
    data = generate(seed=customers, customers=customers)
    assert len(clusters(data)) == customers


def test_record_counts_scale_with_customers() -> None:
    small, large = generate(customers=200), generate(customers=2000)
    for provider in PROVIDERS:
        ratio = len(large.for_provider(provider)) / len(small.for_provider(provider))
        assert 7 < ratio < 13, (provider, ratio)
    assert all(not generate(customers=0).for_provider(p) for p in PROVIDERS)


def test_a_thousand_customers_give_hundreds_of_stripe_records() -> None:
    # Speed is measured in benchmarks/, not asserted here.
    data = generate(seed=3, customers=1000)
    assert len(data.for_provider("stripe")) > 700


def test_negative_customers_rejected() -> None:
    with pytest.raises(ValueError, match="customers must be >= 0"):
        generate(customers=-1)


# --- Shapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_ids_unique_per_provider_and_well_formed(seed: int) -> None:
    data = generate(seed=seed, customers=1500)
    for provider, id_field in ID_FIELDS.items():
        ids = [r[id_field] for r in data.for_provider(provider)]
        assert len(ids) == len(set(ids)), provider
    for record in (*data.for_provider("stripe"), *data.for_provider("tofupay")):
        assert STRIPE_ID.fullmatch(record["id"])
    for record in data.for_provider("chartmogul"):
        assert uuid.UUID(record["uuid"].removeprefix("cus_")).version == 4
        assert record["data_source_uuid"] in (STRIPE_DATA_SOURCE_UUID, IMPORT_DATA_SOURCE_UUID)
        assert record["external_ids"] == [record["external_id"]]
        assert record["data_source_uuids"] == [record["data_source_uuid"]]
    assert len({r["id"] for r in data.for_provider("chartmogul")}) == len(
        data.for_provider("chartmogul")
    )
    assert all(uuid.UUID(r["lago_id"]).version == 4 for r in data.for_provider("lago"))
    assert len({r["lago_id"] for r in data.for_provider("lago")}) == len(data.for_provider("lago"))


def test_records_carry_exactly_the_documented_fields(default: Dataset) -> None:
    expected = {
        "stripe": {"id", "email", "name", "phone", "description", "address", "created"}
        | {"currency", "balance", "metadata"},
        "chartmogul": {"uuid", "id", "external_id", "external_ids", "data_source_uuid"}
        | {"data_source_uuids", "billing-system-type", "name", "email", "company", "city"}
        | {"state", "country", "zip", "customer-since", "status", "mrr", "arr", "currency"},
        "firstofficer": {"id", "stripe_id", "extra_id", "email", "name", "total_contract_value"}
        | {"current_mrr", "current_subscription_count", "currency", "country", "state"},
        "lago": {"lago_id", "external_id", "name", "email", "currency", "address_line1", "city"}
        | {"zipcode", "state", "country", "phone", "legal_name", "created_at"},
        "tofupay": {"id", "email", "description", "created", "currency", "account_balance"}
        | {"metadata"},
    }
    for provider, keys in expected.items():
        for record in default.for_provider(provider):
            extra = {"billing_configuration"} if provider == "lago" else set()
            assert keys <= set(record) <= keys | extra, (provider, set(record) ^ keys)


def test_money_fields_are_integer_minor_units(default: Dataset) -> None:
    def is_int(value: Any) -> bool:
        return type(value) is int

    for r in default.for_provider("stripe"):
        assert is_int(r["balance"]) and r["currency"] in ("usd", "eur", "gbp")
        assert is_int(r["created"])
    for r in default.for_provider("chartmogul"):
        assert is_int(r["mrr"]) and is_int(r["arr"]) and r["arr"] == 12 * r["mrr"]
        assert r["currency"] == "USD" and r["mrr"] >= 0
        assert r["status"] in ("Active", "Past Due", "Cancelled", "New Lead")
        assert (r["mrr"] > 0) == (r["status"] in ("Active", "Past Due"))
    for r in default.for_provider("firstofficer"):
        for key in ("total_contract_value", "current_mrr", "current_subscription_count"):
            assert is_int(r[key]) and r[key] >= 0
        assert r["currency"] in ("usd", "eur", "gbp")
    for r in default.for_provider("lago"):
        assert r["currency"] in ("USD", "EUR", "GBP")
    for r in default.for_provider("tofupay"):
        assert is_int(r["account_balance"]) and is_int(r["created"])
    assert any(
        r["balance"] < 0 for r in default.for_provider("stripe")
    )  # some customers hold a credit


def test_countries_are_iso_3166_alpha_2(default: Dataset) -> None:
    countries = [r["address"]["country"] for r in default.for_provider("stripe") if r["address"]]
    countries += [
        r["country"]
        for r in (*default.for_provider("chartmogul"), *default.for_provider("firstofficer"))
    ]
    countries += [r["country"] for r in default.for_provider("lago")]
    assert len(set(countries)) >= 5
    for code in countries:
        assert pycountry.countries.get(alpha_2=code) is not None, code


def test_timestamps_are_iso_8601(default: Dataset) -> None:
    for r in default.for_provider("chartmogul"):
        since = datetime.fromisoformat(r["customer-since"])
        assert since.utcoffset() is not None
    for r in default.for_provider("lago"):
        assert r["created_at"].endswith("Z")
        assert datetime.fromisoformat(r["created_at"]).tzinfo is not None


def test_metadata_key_is_configurable() -> None:
    data = generate(customers=30, external_id_key="account_ref")
    keys = {key for r in data.for_provider("stripe") for key in r["metadata"]}
    assert keys == {"account_ref"}


def test_as_json_is_a_copy() -> None:
    data = generate(customers=10)
    exported = data.as_json()
    exported["stripe"][0]["metadata"]["company_id"] = "changed"
    exported["lago"].clear()
    assert data.for_provider("stripe")[0]["metadata"]["company_id"] != "changed"
    assert data.for_provider("lago")
    with pytest.raises(ValueError, match="unknown provider 'paypal'"):
        data.for_provider("paypal")


# --- The overlap patterns, found by their linking facts ------------------------------------


def test_most_customers_are_linked_by_ids_across_four_providers(default: Dataset) -> None:
    cm = {
        r["external_id"]: r
        for r in default.for_provider("chartmogul")
        if r["billing-system-type"] == "Stripe"
    }
    fo = {r["stripe_id"]: r for r in default.for_provider("firstofficer") if r["stripe_id"]}
    lago = {
        r["billing_configuration"]["provider_customer_id"]: r
        for r in default.for_provider("lago")
        if "billing_configuration" in r
    }
    fully = [
        s
        for s in default.for_provider("stripe")
        if s["id"] in cm
        and s["id"] in fo
        and s["id"] in lago
        and s["metadata"].get("company_id")
        == lago[s["id"]]["external_id"]
        == fo[s["id"]]["extra_id"]
    ]
    with_stripe = sum(1 for group in clusters(default) if any(p == "stripe" for p, _ in group))
    assert len(fully) >= 0.4 * 200
    assert with_stripe >= 0.75 * 200
    for provider, linked in (("chartmogul", cm), ("firstofficer", fo), ("lago", lago)):
        share = sum(1 for s in default.for_provider("stripe") if s["id"] in linked) / with_stripe
        assert share > 0.6, provider


def test_conflicting_names_and_addresses(default: Dataset) -> None:
    stripe = {r["id"]: r for r in default.for_provider("stripe")}
    renamed = [
        r
        for r in (*default.for_provider("chartmogul"), *default.for_provider("firstofficer"))
        if (sid := r.get("stripe_id") or r.get("external_id")) in stripe
        and r["name"] != stripe[sid]["name"]
    ]
    moved = [
        r
        for r in default.for_provider("lago")
        if (sid := r.get("billing_configuration", {}).get("provider_customer_id")) in stripe
        and stripe[sid]["address"]
        and r["city"] != stripe[sid]["address"]["city"]
    ]
    assert len(renamed) >= 5
    assert len(moved) >= 5


def test_email_only_links_with_case_and_whitespace_differences(default: Dataset) -> None:
    """A Stripe record and a ChartMogul/Lago record sharing no id, only a differently written
    email (the exact-same-email case is the Stripe duplicates', tested below)."""
    others = [(p, r) for p in ("chartmogul", "lago") for r in records(default, p)]
    linked_ids = {key for p, r in others for key in link_keys(p, r) if key[0] != "email"}
    pairs = [
        (s, r)
        for s in default.for_provider("stripe")
        if not any(key in linked_ids for key in link_keys("stripe", s) if key[0] != "email")
        for _, r in others
        if real_email(s["email"])
        and norm(r["email"]) == norm(s["email"])
        and r["email"] != s["email"]
    ]
    assert len(pairs) >= 10
    assert any(r["email"] != r["email"].strip() for _, r in pairs)  # padded
    assert any(r["email"].strip() != r["email"].strip().lower() for _, r in pairs)  # cased


def test_single_provider_customers(default: Dataset) -> None:
    singles = Counter(
        next(iter(group))[0] for group in clusters(default) if len(group) == 1
    )  # one record, linked to nothing
    assert singles["stripe"] >= 5
    assert singles["chartmogul"] >= 3
    assert singles["lago"] >= 3
    assert singles["firstofficer"] >= 3
    assert singles["tofupay"] >= 3
    fo_only = [r for r in default.for_provider("firstofficer") if r["stripe_id"] is None]
    assert fo_only and all(r["extra_id"] is None for r in fo_only)
    imports = [
        r for r in default.for_provider("chartmogul") if r["billing-system-type"] == "Import API"
    ]
    assert all(r["data_source_uuid"] == IMPORT_DATA_SOURCE_UUID for r in imports)
    assert all(not STRIPE_ID.fullmatch(r["external_id"]) for r in imports)


def test_stripe_duplicates_share_an_email(default: Dataset) -> None:
    shared = Counter(e for r in default.for_provider("stripe") if (e := real_email(r["email"])))
    sizes = Counter(count for count in shared.values() if count > 1)
    assert sizes[2] >= 2 and sizes[3] >= 1
    assert set(sizes) <= {2, 3}


def test_tofupay_is_a_separate_subset_linked_by_email(default: Dataset) -> None:
    elsewhere = {
        norm(r["email"]): r["email"]
        for p in PROVIDERS
        if p != "tofupay"
        for r in default.for_provider(p)
    }
    linked = [r for r in default.for_provider("tofupay") if norm(r["email"]) in elsewhere]
    assert 0.10 * 200 <= len(linked) <= 0.20 * 200
    assert any(r["email"] != elsewhere[norm(r["email"])] for r in linked)  # case differs
    assert len(default.for_provider("tofupay")) - len(linked) >= 3  # Tofupay-only
    assert all(r["metadata"] == {} for r in default.for_provider("tofupay"))
    stripe_ids = {r["id"] for r in default.for_provider("stripe")}
    assert not stripe_ids & {r["id"] for r in default.for_provider("tofupay")}


def test_placeholder_emails_never_link(default: Dataset) -> None:
    found = [
        (p, r)
        for p in PROVIDERS
        for r in default.for_provider(p)
        if norm(r["email"]) in PLACEHOLDERS
    ]
    values = Counter(norm(r["email"]) for _, r in found)
    assert "" in values and "n/a" in values
    assert max(values.values()) >= 2  # the same placeholder on unrelated customers
    honest = len(clusters(default))
    assert honest == 200
    assert len(clusters(default, placeholder_links=True)) < honest  # the trap is real


# --- Fixed scenarios -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 5])
def test_showcase_customer_is_first_everywhere_and_linked(seed: int) -> None:
    data = generate(seed=seed)
    stripe, cm, fo, lago, tofu = (data.for_provider(p)[0] for p in PROVIDERS)
    assert stripe["id"] == SHOWCASE_STRIPE_ID and stripe["email"] == SHOWCASE_EMAIL
    company_id = stripe["metadata"]["company_id"]
    assert cm["external_id"] == SHOWCASE_STRIPE_ID and cm["billing-system-type"] == "Stripe"
    assert fo["stripe_id"] == SHOWCASE_STRIPE_ID and fo["extra_id"] == company_id
    assert lago["billing_configuration"]["provider_customer_id"] == SHOWCASE_STRIPE_ID
    assert lago["external_id"] == company_id
    assert tofu["email"] != SHOWCASE_EMAIL and norm(tofu["email"]) == SHOWCASE_EMAIL
    assert tofu["metadata"] == {}
    names = Counter(r["name"] for r in (stripe, cm, fo, lago))
    assert len(names) == 2 and names["Ada Lovelace"] == 3
    group = next(g for g in clusters(data) if ("stripe", 0) in g)
    assert group == {(p, 0) for p in PROVIDERS}


def test_named_scenarios(default: Dataset) -> None:
    by_email = {
        key: [(p, r) for p in PROVIDERS for r in default.for_provider(p) if norm(r["email"]) == key]
        for key in (EMAIL_ONLY_EMAIL, DUPLICATE_EMAIL, LAGO_ONLY_EMAIL)
    }
    email_only = by_email[EMAIL_ONLY_EMAIL]
    assert {p for p, _ in email_only} == {"stripe", "chartmogul", "lago"}
    stripe = next(r for p, r in email_only if p == "stripe")
    assert stripe["id"] == EMAIL_ONLY_STRIPE_ID and stripe["metadata"] == {}
    assert all(r["email"] != EMAIL_ONLY_EMAIL for p, r in email_only if p != "stripe")
    assert all("billing_configuration" not in r for p, r in email_only if p == "lago")

    duplicates = [r["id"] for p, r in by_email[DUPLICATE_EMAIL] if p == "stripe"]
    assert tuple(duplicates) == DUPLICATE_STRIPE_IDS

    (lago_only,) = by_email[LAGO_ONLY_EMAIL]
    assert lago_only[0] == "lago" and lago_only[1]["external_id"] == LAGO_ONLY_EXTERNAL_ID
    assert "billing_configuration" not in lago_only[1]

    assert PLACEHOLDER_EMAIL in PLACEHOLDERS
    stripe_index = next(
        i for i, r in enumerate(default.for_provider("stripe")) if r["id"] == PLACEHOLDER_STRIPE_ID
    )
    lago_index = next(
        i
        for i, r in enumerate(default.for_provider("lago"))
        if r["external_id"] == PLACEHOLDER_LAGO_EXTERNAL_ID
    )
    assert default.for_provider("stripe")[stripe_index]["email"] == PLACEHOLDER_EMAIL
    assert norm(default.for_provider("lago")[lago_index]["email"]) == PLACEHOLDER_EMAIL
    groups = clusters(default)
    assert {("stripe", stripe_index)} in groups and {("lago", lago_index)} in groups
    for group in clusters(default):
        for node in (("stripe", stripe_index), ("lago", lago_index)):
            if node in group:
                assert group == {node}


# --- The simulators accept the records -------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_simulators_accept_the_generated_and_example_records(provider: str, tmp_path: Path) -> None:
    try:
        simulator = importlib.import_module(f"gateway.providers.{provider}.simulator")
    except ModuleNotFoundError:
        pytest.skip(f"gateway.sandbox.{provider} not written yet")
    inline = load_dataset(docs_inline_example(tmp_path))
    for data in (generate(), load_dataset(EXAMPLE), inline):
        for record in data.for_provider(provider):
            simulator.seed_record(record)
        simulator.create_app(data.for_provider(provider))


# --- Loading dataset files -------------------------------------------------------------------


def test_load_round_trip(tmp_path: Path) -> None:
    data = generate(seed=11, customers=120)
    path = tmp_path / "dataset.json"
    path.write_text(data.dumps(), encoding="utf-8")
    assert load_dataset(path) == data
    assert load_dataset(str(path)).as_json() == data.as_json()


def test_missing_provider_keys_mean_no_records(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"lago": [{"external_id": "co_1", "name": "A"}]}))
    data = load_dataset(path)
    assert data.for_provider("lago") == ({"external_id": "co_1", "name": "A"},)
    assert (
        data.for_provider("stripe")
        == data.for_provider("chartmogul")
        == data.for_provider("firstofficer")
        == data.for_provider("tofupay")
        == ()
    )
    (tmp_path / "empty.json").write_text("{}")
    assert load_dataset(tmp_path / "empty.json") == Dataset()


def test_docs_example_loads_and_covers_every_provider() -> None:
    data = load_dataset(EXAMPLE)
    assert all(data.for_provider(p) for p in PROVIDERS)
    assert data.for_provider("stripe")[0]["id"] == SHOWCASE_STRIPE_ID
    assert len(clusters(data)) >= 15


def docs_inline_example(tmp_path: Path) -> Path:
    """The copyable example in docs/dataset.md, written to a file."""
    blocks = re.findall(r"```json\n(.*?)```", (DOCS / "dataset.md").read_text(), re.S)
    (text,) = [block for block in blocks if block.startswith("{\n")]
    path = tmp_path / "inline.json"
    path.write_text(text)
    return path


def test_docs_inline_example_is_the_showcase_plus_a_minimal_record(tmp_path: Path) -> None:
    data = load_dataset(docs_inline_example(tmp_path)).as_json()
    minimal = data["lago"].pop()
    assert minimal == {
        "external_id": LAGO_ONLY_EXTERNAL_ID,
        "name": "Katherine Johnson",
        "email": LAGO_ONLY_EMAIL,
    }
    assert data == generate(customers=1).as_json()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", r"expected a JSON object with provider keys, got list"),
        ('{"stripe": [], "paypal": []}', r"unknown provider key\(s\) 'paypal'"),
        ('{"stripe": {"id": "cus_1"}}', r": stripe: expected a list of records, got dict"),
        ('{"lago": [{"external_id": "a"}, 3]}', r": lago\[1\]: expected a record object, got int"),
        ('{"chartmogul": [{"id": 5}]}', r": chartmogul\[0\]: missing id field 'uuid'"),
        ('{"stripe": [{"id": null}]}', r": stripe\[0\]: missing id field 'id'"),
        ('{"lago": [{"name": "x"}]}', r": lago\[0\]: missing id field 'external_id'"),
        ('{"tofupay": [{"email": "a@b.c"}]}', r": tofupay\[0\]: missing id field 'id'"),
        ('{"stripe": [{"id": ""}]}', r": stripe\[0\]: id must be a non-blank string or an integer"),
        ('{"lago": [{"external_id": "  "}]}', r": lago\[0\]: external_id must be a non-blank"),
        ('{"tofupay": [{"id": ["cus_a"]}]}', r": tofupay\[0\]: id must be a non-blank string or"),
        ('{"firstofficer": [{"id": true}]}', r": firstofficer\[0\]: id must be a non-blank"),
        # Past the generic checks, each provider's own seed_record judges the record.
        ('{"firstofficer": [{"id": "12"}]}', r": firstofficer\[0\]: id must be an integer"),
        ('{"stripe": [{"id": 5}]}', r": stripe\[0\]: id: a Stripe customer id is 'cus_'"),
        ('{"chartmogul": [{"uuid": "cus_x"}]}', r": chartmogul\[0\]: uuid must look like"),
        (
            '{"lago": [{"external_id": "a"}, {"external_id": "b", "email": "nope"}]}',
            r": lago\[1\]: invalid Lago customer: email",
        ),
        (
            '{"tofupay": [{"id": "cus_a"}, {"id": "cus_b"}, {"id": "cus_a"}]}',
            r": tofupay\[2\]: duplicate id 'cus_a' \(first used by tofupay\[0\]\)",
        ),
        (
            '{"firstofficer": [{"id": 7}, {"id": 7}]}',
            r": firstofficer\[1\]: duplicate id 7 \(first used by firstofficer\[0\]\)",
        ),
        ('{"stripe": [', r"not valid JSON"),
    ],
)
def test_load_errors_name_file_provider_and_record(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=re.escape(str(path)) + ".*" + message):
        load_dataset(path)


def test_load_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(DatasetError, match=re.escape(str(missing)) + ": cannot read"):
        load_dataset(missing)
    assert issubclass(DatasetError, ValueError)


def test_load_refuses_a_record_its_providers_simulator_refuses(tmp_path: Path) -> None:
    """No provider is special-cased by name in the loader: FirstOfficer's integer ids are its
    simulator's rule, reported at load with the file, provider and index."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"firstofficer": [{"id": "abc", "email": "a@b.example"}]}))
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert str(caught.value) == f"{path}: firstofficer[0]: id must be an integer, not 'abc'"


def test_a_loaded_file_is_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_dataset runs every record through seed_record; the cluster's check of the same
    Dataset is then a no-op, so a file is not validated twice at start-up."""
    path = tmp_path / "dataset.json"
    path.write_text(generate(customers=20).dumps())
    simulator = BY_NAME["lago"].simulator
    calls: list[Mapping[str, Any]] = []

    def counting(record: Mapping[str, Any]) -> dict[str, Any]:
        calls.append(record)
        return real(record)

    real = simulator.seed_record
    monkeypatch.setattr(simulator, "seed_record", counting)
    data = load_dataset(path)
    assert len(calls) == len(data.for_provider("lago")) > 0
    data.check()
    assert len(calls) == len(data.for_provider("lago"))


def test_in_memory_datasets_are_checked_by_the_cluster() -> None:
    """A Dataset built in code has no file to name; the cluster still refuses a bad record,
    every time (only a passing check is remembered)."""
    bad = Dataset(firstofficer=[{"id": 7}, {"id": "abc"}])
    for _ in range(2):
        with pytest.raises(DatasetError, match=r"^firstofficer\[1\]: id must be an integer"):
            SandboxCluster.from_dataset(bad)


def test_providers_with_a_seed_generator_get_generated_customers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A spec's ``seed`` is offered every generated (not fixed) customer, in order; its records
    land under the spec's name and change nothing else (no random draw is spent on them)."""
    seen: list[SeedContext] = []

    def seed(context: SeedContext) -> dict[str, Any] | None:
        seen.append(context)
        if context.index % 2:
            return None
        return {"id": f"cus_plugged{context.index:05d}", "email": context.email}

    plugged = tuple(
        dataclasses.replace(spec, seed=seed) if spec.name == "tofupay" else spec for spec in SPECS
    )
    plain = generate(seed=4, customers=30)
    monkeypatch.setattr(dataset_package.generator, "SPECS", plugged)
    data = generate(seed=4, customers=30)

    generated = 30 - FIXED_CUSTOMERS
    assert [c.index for c in seen] == list(range(generated))
    tofupay = data.for_provider("tofupay")
    added = [r for r in tofupay if r["id"].startswith("cus_plugged")]
    assert added == [
        {"id": f"cus_plugged{c.index:05d}", "email": c.email} for c in seen if c.index % 2 == 0
    ]
    assert [r for r in tofupay if r not in added] == list(plain.for_provider("tofupay"))
    for provider in PROVIDERS:
        if provider != "tofupay":
            assert data.for_provider(provider) == plain.for_provider(provider)
