"""Completeness: every registered provider is wired everywhere its spec is read.

Everything per-provider is derived from the specs, so what can go wrong is a spec that
contradicts itself or the code it feeds; each check names the spec field to fix.
"""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.config import IdentitySettings, default_link_rules, sandbox_settings
from gateway.identity.keys import _parse_rule
from gateway.identity.survivorship import DEFAULT_FIELD_PRIORITY, FIELDS, PROVIDER_PRIORITY
from gateway.providers.contract import ProviderAdapter
from gateway.providers.graphql import ProviderRecord
from gateway.providers.registry import BY_NAME, PROVIDERS, SPECS
from gateway.providers.spec import ProviderSpec
from gateway.sandbox.dataset import generate
from gateway.writes.plan import LINK_PROVIDER, WRITE_ORDER
from resolvers.provider_records import record_type
from resolvers.scalars import Provider
from resolvers.schema import schema_sdl

BY_ID = [pytest.param(spec, id=spec.name) for spec in SPECS]


def test_names_ranks_and_ports_are_unique() -> None:
    for attribute in ("name", "label", "sandbox_port", "anchor_rank", "write_rank"):
        counts = Counter(getattr(spec, attribute) for spec in SPECS)
        assert max(counts.values()) == 1, (attribute, counts)
    assert [spec.name for spec in SPECS if spec.links_others] == [LINK_PROVIDER]


@pytest.mark.parametrize("spec", BY_ID)
def test_identity_and_config(spec: ProviderSpec) -> None:
    assert spec.name.isidentifier() and spec.name == spec.name.lower()
    assert BY_NAME[spec.name] is spec and spec.name in PROVIDERS
    assert spec.base_url.startswith("https://")
    assert spec.rate_limit >= 0
    assert sandbox_settings()[spec.name].api_key == spec.sandbox_key
    assert spec.name in PROVIDER_PRIORITY and spec.name in WRITE_ORDER


@pytest.mark.parametrize("spec", BY_ID)
def test_adapter_keeps_the_contract(spec: ProviderSpec) -> None:
    adapter = spec.adapter(sandbox_settings()[spec.name], IdentitySettings())
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.name == spec.name
    capabilities = spec.capabilities
    writable = capabilities.writable_fields
    assert set(spec.required_to_create) <= writable, "required_to_create: fields it cannot store"
    assert set(spec.not_clearable) <= writable, "not_clearable: fields it cannot store"
    assert spec.create_only <= writable, "create_only: fields it cannot store"
    if spec.required_to_create:
        assert capabilities.create


@pytest.mark.parametrize("spec", BY_ID)
def test_identity_rules_and_priorities_parse(spec: ProviderSpec) -> None:
    assert set(spec.field_priority) <= set(FIELDS), "field_priority: unknown unified field"
    for field, rank in spec.field_priority.items():
        assert spec.name in DEFAULT_FIELD_PRIORITY[field], (field, rank)
    rules = default_link_rules()
    for namespace, paths in spec.link_fields.items():
        for path in paths:
            rule = f"{spec.name}:{path}"
            assert rule in rules[namespace]
            assert _parse_rule(rule, "company_id").provider == spec.name


@pytest.mark.parametrize("spec", BY_ID)
def test_graphql_type_enum_member_and_customer_field(spec: ProviderSpec) -> None:
    kind = record_type(spec)
    assert issubclass(kind, ProviderRecord)
    assert Provider[spec.enum_name].value == spec.name
    sdl = schema_sdl()
    customer = sdl.split("type Customer ")[1].split("\n}")[0]
    camel = spec.graphql_field.split("_")[0] + "".join(
        part.title() for part in spec.graphql_field.split("_")[1:]
    )
    assert f"  {camel}: [{kind.__name__}!]" in customer


@pytest.mark.parametrize("spec", BY_ID)
def test_simulator_serves_its_generated_records(spec: ProviderSpec) -> None:
    records = generate(customers=60).for_provider(spec.name)
    assert records, "the dataset generator made no records for it"
    ids = [record[spec.dataset_id_field] for record in records]
    assert len(ids) == len(set(ids)), "dataset_id_field: not unique"
    for record in records:
        spec.simulator.seed_record(record)
    app = spec.simulator.create_app(records, api_key=spec.sandbox_key)
    assert app.state.sandbox.name == spec.name
