"""The Strawberry schema: an Apollo Federation v2 subgraph with ``Customer`` as an entity."""

from __future__ import annotations

import logging
from functools import cache

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers.customer import Customer
from resolvers.extensions import GatewayErrors, is_unexpected
from resolvers.query import Query
from resolvers.scalars import SCALAR_MAP

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000

# Built once so ValidationCache can hit (a factory would make a new rule per request).
_DEPTH_RULE = create_validator(MAX_DEPTH, None, None)

logger = logging.getLogger("customer_gateway.graphql")


class GatewaySchema(strawberry.federation.Schema):
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


@cache
def build_schema() -> GatewaySchema:
    return GatewaySchema(
        query=Query,
        types=[Customer],
        extensions=[
            GatewayErrors,
            ParserCache,
            ValidationCache,
            lambda: AddValidationRules([_DEPTH_RULE]),
            lambda: MaxAliasesLimiter(MAX_ALIASES),
            lambda: MaxTokensLimiter(MAX_TOKENS),
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )


def schema_sdl() -> str:
    """The exported SDL, as kept in ``schema.graphql``."""
    return build_schema().as_str().rstrip() + "\n"
