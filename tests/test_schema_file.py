"""schema.graphql at the repo root is the exported SDL; this fails when it drifts."""

from __future__ import annotations

from pathlib import Path

from resolvers.schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_matches_the_strawberry_schema() -> None:
    assert SCHEMA_FILE.exists(), "run: customer-gateway export-schema --output schema.graphql"
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql is stale: run `customer-gateway export-schema --output schema.graphql`"
    )


def test_customer_is_a_federation_entity_keyed_by_id() -> None:
    sdl = schema_sdl()
    assert 'type Customer @key(fields: "id")' in sdl
    assert "_entities(" in sdl and "_service" in sdl
