"""What goes into Redis comes back equal: records from every adapter, and mutation results."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.config import Settings, sandbox_settings
from gateway.errors import ErrorCode, FieldError
from gateway.model import Lookup, RecordRef
from gateway.providers.registry import build_adapters
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.shared.codec import dump_records, dump_result, load_records, load_result
from gateway.writes.outcomes import MutationResult, Outcome, Status
from tests.conftest import build_simulators


async def test_every_providers_records_round_trip(small_dataset: Dataset) -> None:
    simulators = build_simulators(small_dataset)
    transports = {name: httpx.ASGITransport(app=app) for name, app in simulators.items()}
    adapters = build_adapters(Settings(providers=sandbox_settings()), transports=transports)
    try:
        for name, adapter in adapters.items():
            [records] = await adapter.lookup(Lookup.EMAIL, [SHOWCASE_EMAIL])
            assert records, name
            text = dump_records(tuple(records))
            assert load_records(text) == tuple(records), name
            assert all(r.details is not None for r in load_records(text))
    finally:
        for adapter in adapters.values():
            await adapter.aclose()


def test_mutation_results_round_trip() -> None:
    result = MutationResult(
        outcomes=(
            Outcome("stripe", Status.APPLIED, record_id="cus_1", skipped_fields=("phone",)),
            Outcome("lago", Status.FAILED, code=ErrorCode.PROVIDER_UNAVAILABLE, message="503"),
            Outcome("tofupay", Status.SKIPPED, reason="no record"),
        ),
        user_errors=(FieldError(("input", "email"), "bad", ErrorCode.INVALID_EMAIL),),
        anchor=RecordRef("stripe", "cus_1"),
        actor="key-1",
    )
    assert load_result(dump_result(result)) == result


def test_a_stored_value_names_only_record_details_types() -> None:
    """Stored data cannot name an arbitrary class (no pickle, no import by name)."""
    record = {
        "provider": "stripe",
        "id": "x",
        "raw": {},
        **dict.fromkeys(("email", "name", "phone", "company", "address", "currency")),
        **dict.fromkeys(("created_at", "status")),
        "metrics": {},
        "deleted": False,
        "details": {"type": "subprocess.Popen", "fields": {"args": ["true"]}},
    }
    with pytest.raises(ValueError, match="unknown record details type"):
        load_records(json.dumps([record]))
