"""The Strawberry schema: an Apollo Federation v2 subgraph with ``Customer`` as an entity."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from gateway.config import DEFAULT_FEDERATION_VERSION
from gateway.errors import InvalidInput
from gateway.telemetry.operations import OperationObserver
from resolvers.customer import Customer
from resolvers.errors import is_unexpected
from resolvers.execution import ReleasingExecutionContext
from resolvers.extension_runner import PreparedExtensionsRunner
from resolvers.lean import use_lean_resolvers
from resolvers.mutation import Mutation
from resolvers.operation import GatewayOperation
from resolvers.pii import protect_pii
from resolvers.query import Query
from resolvers.scalars import SCALAR_MAP

logger = logging.getLogger("customer_gateway.graphql")


MAX_REPRESENTATIONS = 200
"""``_entities`` representations per request: a router batches one per entity in a page; 5,000
(one FirstOfficer call each) is an attack, not a query plan."""


def representation_problem(representation: object) -> str | None:
    """Why a ``_entities`` representation cannot name a customer, or ``None``.

    Strawberry's resolver assumes a well-formed ``{"__typename": "Customer", "id": ...}``; anything
    else would surface as an internal error instead of the client's mistake.
    """
    if not isinstance(representation, dict):
        return "each representation must be an object"
    typename = representation.get("__typename")
    if typename != "Customer":
        return f"unknown entity type {typename!r}: this subgraph resolves Customer"
    if not isinstance(representation.get("id"), str):
        return "a Customer representation needs its key field id, a string"
    if extra := sorted(set(representation) - {"__typename", "id"}):
        return f"a Customer representation has only __typename and id, not {', '.join(extra)}"
    return None


class GatewaySchema(strawberry.federation.Schema):
    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Strawberry's resolver, behind checks that turn malformed representations into
        ``BAD_USER_INPUT`` errors for their own positions."""
        if len(representations) > MAX_REPRESENTATIONS:
            raise InvalidInput(
                f"at most {MAX_REPRESENTATIONS} representations per request, "
                f"got {len(representations)}",
                path=("representations",),
            )
        problems = [representation_problem(r) for r in representations]
        valid = [r for r, problem in zip(representations, problems, strict=True) if not problem]
        resolved = iter(super().entities_resolver(info, valid))
        # An exception in the list is that position's error; the others resolve as usual.
        results: list[Any] = [
            InvalidInput(f"representations[{index}]: {problem}", path=("representations",))
            if problem
            else next(resolved)
            for index, problem in enumerate(problems)
        ]
        return results

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Hooks looked up once per extension class, not per stage of every request."""
        return PreparedExtensionsRunner(execution_context, extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors in full; coded user and provider errors are not incidents."""
        for error in errors:
            if is_unexpected(error):
                logger.error(
                    "unexpected error at %s: %s",
                    error.path,
                    error.message,
                    exc_info=error.original_error,
                )


def build_schema(federation_version: str = DEFAULT_FEDERATION_VERSION) -> GatewaySchema:
    """The schema linking Apollo Federation ``federation_version`` (one of strawberry's
    ``FEDERATION_VERSIONS``); built once per version and shared by every app made after."""
    return _schema(federation_version)


@cache
def _schema(federation_version: str) -> GatewaySchema:
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[Customer],
        extensions=[
            # First, so the operation's span covers parsing and validation too.
            OperationObserver,
            # Limits, checks, cached parse and validation, budget, response extensions.
            GatewayOperation,
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        # Frees each execution by reference counting, not the cyclic collector.
        execution_context_class=ReleasingExecutionContext,
        # Strawberry types this as a Literal of its version strings; an unknown one raises
        # KeyError there, and settings have refused it long before (gateway/config.py).
        federation_version=cast(Any, federation_version),
    )
    use_lean_resolvers(schema)  # first: protect_pii wraps what it leaves
    protect_pii(schema._schema)
    return schema


def schema_sdl(federation_version: str = DEFAULT_FEDERATION_VERSION) -> str:
    """The exported SDL; with the default version, what ``schema.graphql`` holds."""
    return build_schema(federation_version).as_str().rstrip() + "\n"
