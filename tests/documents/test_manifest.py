"""The trusted-documents manifest is checked at start-up: a bad one stops the gateway."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ConfigError, load_settings
from gateway.documents import load_manifest, sha256_hex
from gateway.documents.manifest import APOLLO_FORMAT

QUERY = "query Page { customers(first: 2) { nodes { id } } }"
MUTATION = 'mutation Delete { deleteCustomer(id: "x") { applied } }'


def write(tmp_path: Path, manifest: Any) -> str:
    path = tmp_path / "manifest.json"
    path.write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return str(path)


def apollo(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"format": APOLLO_FORMAT, "version": 1, "operations": list(operations)}


def test_both_formats_load_with_ids_normalised(tmp_path: Path) -> None:
    sha1 = hashlib.sha1(QUERY.encode()).hexdigest()
    codegen = load_manifest(write(tmp_path, {sha1.upper(): QUERY, "opaque-id-1": MUTATION}))
    assert sorted(codegen) == sorted([sha1, "opaque-id-1"])
    assert codegen.find(sha256_hex(QUERY)) is codegen[sha1]  # by content sha256 too

    operation = {"id": sha256_hex(MUTATION), "name": "Delete", "type": "mutation"}
    manifest = load_manifest(write(tmp_path, apollo({**operation, "body": MUTATION})))
    assert manifest.find(f"sha256:{sha256_hex(MUTATION)}") is manifest[sha256_hex(MUTATION)]
    assert manifest.with_text(MUTATION) is not None and manifest.with_text(QUERY) is None


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        ("not json", "cannot read the manifest"),
        ([QUERY], "expected a JSON object"),
        ({"abc": 3}, "expected the document text"),
        ({"abc": "query {"}, "'abc' does not parse"),
        ({"abc": "fragment F on Query { __typename }"}, "holds no operation"),
        ({sha256_hex(MUTATION): QUERY}, "the id is not the sha256 of the document"),
        ({f"sha256:{'0' * 64}": QUERY}, "the id is not the sha256 of the document"),
        ({"a" * 40: QUERY}, "the id is not the sha1 of the document"),
        ({"format": "relay", "version": 1}, '"format": "apollo-persisted-query-manifest"'),
        (apollo({"id": "x", "body": QUERY, "type": "mutation"}), "declared a mutation"),
        (apollo({"id": "x", "name": "Page"}), 'needs a string "id" and "body"'),
        (apollo({"id": "x", "body": QUERY}, {"id": "x", "body": QUERY}), "appears twice"),
        ({"format": APOLLO_FORMAT, "version": 1, "operations": {}}, "must be a list"),
    ],
)
def test_a_bad_manifest_stops_start_up(tmp_path: Path, manifest: Any, says: str) -> None:
    env = {"CUSTOMER_GATEWAY_TRUSTED_DOCUMENTS": write(tmp_path, manifest)}

    with pytest.raises(ConfigError, match="trusted_documents") as caught:
        load_settings(env)

    assert says in str(caught.value)


def test_a_missing_manifest_or_none_with_only_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the manifest"):
        load_settings({"CUSTOMER_GATEWAY_TRUSTED_DOCUMENTS": str(tmp_path / "absent.json")})
    with pytest.raises(ConfigError, match="trusted_documents_only needs trusted_documents"):
        load_settings({"CUSTOMER_GATEWAY_TRUSTED_DOCUMENTS_ONLY": "1"})


def test_the_file_keys_load(tmp_path: Path) -> None:
    config = tmp_path / "gateway.json"
    documents = write(tmp_path, {sha256_hex(QUERY): QUERY})
    config.write_text(
        json.dumps(
            {
                "trusted_documents": documents,
                "trusted_documents_only": True,
                "apq_cache_size": 50,
            }
        )
    )

    settings = load_settings({}, config_file=config)

    assert settings.trusted_documents == documents
    assert settings.trusted_documents_only is True
    assert settings.apq_cache_size == 50
