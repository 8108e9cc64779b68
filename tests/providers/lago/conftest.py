"""Lago's OpenAPI document as a fixture: simulator answers are validated against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.conftest import shared_reference

SPEC_URI = "urn:lago-openapi"


@dataclass
class OpenAPI:
    """Validates a response body against the operation's documented schema."""

    document: dict[str, Any]
    registry: Registry[Any]

    def schema_pointer(self, method: str, path: str, status: int) -> str:
        template = "/customers" if path.rstrip("/") == "/api/v1/customers" else None
        if template is None and path.startswith("/api/v1/customers/"):
            template = "/customers/{external_customer_id}"
        assert template is not None, f"no documented operation for {path}"
        operation = self.document["paths"][template][method.lower()]
        response = operation["responses"][str(status)]
        if "$ref" in response:
            pointer = response["$ref"].removeprefix("#")
        else:
            escaped = template.replace("~", "~0").replace("/", "~1")
            pointer = f"/paths/{escaped}/{method.lower()}/responses/{status}"
        return f"{pointer}/content/application~1json/schema"

    def validate(self, method: str, path: str, status: int, body: Any) -> None:
        ref = {"$ref": f"{SPEC_URI}#{self.schema_pointer(method, path, status)}"}
        if str(self.document["openapi"]).startswith("3.0"):
            validator: Any = OAS30Validator(
                ref, registry=self.registry, format_checker=oas30_format_checker
            )
        else:
            validator = OAS31Validator(
                ref, registry=self.registry, format_checker=oas31_format_checker
            )
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not problems, f"{method} {path} -> {status} breaks the OpenAPI schema: {problems}"


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    spec_file = shared_reference("lago-openapi.yaml", env="LAGO_OPENAPI")
    document = yaml.safe_load(spec_file.read_text())
    dialect = DRAFT4 if str(document["openapi"]).startswith("3.0") else DRAFT202012
    resource = dialect.create_resource(document)
    return OpenAPI(document, Registry().with_resource(SPEC_URI, resource))
