"""The README's recipe for a sixth provider, followed in a scratch copy: one package + one line.

A fake provider (Acme, in tests/providers/sixth/acme) is copied into the copy's
gateway/providers/, the registry gets its line, and a driver exercises everything derived from
the registry: the dataset and sandbox, the GraphQL enum and Customer field, merging, writes and
their validation, configuration and health. Nothing else in the copy is edited.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SIXTH = Path(__file__).resolve().parent / "sixth"
REGISTRY_IMPORT = "from gateway.providers import chartmogul, firstofficer, lago, stripe, tofupay"


def _copy_with_acme(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("gateway", "resolvers"):
        shutil.copytree(REPO / package, target / package, ignore=ignore)
    shutil.copytree(SIXTH / "acme", target / "gateway" / "providers" / "acme", ignore=ignore)
    registry = target / "gateway" / "providers" / "registry.py"
    text = registry.read_text()
    assert REGISTRY_IMPORT in text and "    tofupay.SPEC,\n" in text
    text = text.replace(REGISTRY_IMPORT, REGISTRY_IMPORT.replace("import ", "import acme, "))
    registry.write_text(text.replace("    tofupay.SPEC,\n", "    tofupay.SPEC,\n    acme.SPEC,\n"))


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("sixth")
    _copy_with_acme(scratch)
    env = {**os.environ, "PYTHONPATH": str(scratch)}
    env.pop("CUSTOMER_GATEWAY_CONFIG", None)
    done = subprocess.run(
        [sys.executable, str(SIXTH / "drive.py")],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_schema_grows_an_enum_member_and_a_customer_field(seen: dict[str, Any]) -> None:
    sdl = seen["sdl"]
    assert "  ACME\n" in sdl.split("enum Provider {")[1].split("}")[0]
    assert "acme: [AcmeCustomer!]" in sdl
    assert "type AcmeCustomer implements ProviderRecord" in sdl


def test_the_dataset_and_sandbox_carry_its_records(seen: dict[str, Any]) -> None:
    assert seen["contacts"] > 5
    assert "acme" in seen["health"]["providers"]


def test_its_records_merge_into_customers(seen: dict[str, Any]) -> None:
    customer = seen["by_email"]["data"]["customerByEmail"]
    assert "errors" not in seen["by_email"], seen["by_email"]
    assert [c["plan"] for c in customer["acme"]] == ["pro"]
    providers = {ref["provider"] for ref in customer["externalIds"]}
    assert "acme" in providers and len(providers) > 1
    assert seen["by_id"]["data"]["customerByProviderId"]["acme"]


def test_writes_plan_order_and_validate_from_its_spec(seen: dict[str, Any]) -> None:
    created = seen["create"]["data"]["createCustomer"]
    assert created["userErrors"] == []
    assert [(o["provider"], o["status"]) for o in created["outcomes"]] == [
        ("STRIPE", "APPLIED"),
        ("ACME", "APPLIED"),
    ]
    assert created["customer"]["acme"][0]["email"] == "new@acme.example"
    refused = seen["create_missing_email"]["data"]["createCustomer"]
    assert {"field": ["input", "email"], "code": "REQUIRED"} in refused["userErrors"]
    assert refused["outcomes"] == []


def test_configuration_knows_it(seen: dict[str, Any]) -> None:
    configured = seen["configured"]
    assert configured["acme"] == {"enabled": True, "base_url": "https://acme.internal"}
    assert not configured["stripe"]["enabled"]
