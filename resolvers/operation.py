"""The gateway's schema extension: every step it adds around an operation, in one place.

Strawberry wraps each hook of each extension in a new context manager on every request, and
looks the hooks up again each time. With one extension per concern (parser cache, token limit,
extra validation rules, checks, operation name, response extensions) that bookkeeping was a
large share of a cached lookup's CPU: merging four of them into one took it from 1.4 to 1.0 ms
(docs/benchmarks.md). So the steps are plain functions in their own modules and this class only
puts them in order:

- before parsing: the token limit and the depth and alias rules;
- parsing, cached by document text (the document's limits are part of the key);
- before validation: size, cost and scope refusals (:mod:`resolvers.checks`), then validation,
  cached;
- before execution: the key's budget (:func:`resolvers.access.budget_refusal`);
- afterwards: the operation's name on the request context (for the access log) and the
  response's ``extensions`` (:mod:`resolvers.extensions`).

Telemetry's :class:`~gateway.telemetry.operations.OperationObserver` stays its own extension,
first, so the operation's span covers all of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Final

from graphql import ExecutionResult, parse
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator
from strawberry.schema.schema import validate_document

from gateway.core.context import RequestContext
from resolvers.access import budget_refusal
from resolvers.checks import refusal_before_validation
from resolvers.extensions import response_extensions
from resolvers.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS

__all__ = ["GatewayOperation"]

_CACHED_DOCUMENTS: Final = 128
"""Distinct documents whose parse and validation are kept (a client sends a handful)."""

# Rule classes built once: validation is cached by (schema, document, rules), and a rule made
# per request would never hit the cache.
_RULES: Final = (
    create_depth_validator(MAX_DEPTH, None, None),
    create_aliases_validator(MAX_ALIASES),
)
_parse: Final = lru_cache(maxsize=_CACHED_DOCUMENTS)(parse)
_validate: Final = lru_cache(maxsize=_CACHED_DOCUMENTS)(validate_document)


class GatewayOperation(SchemaExtension):
    """Limits, checks, cached parsing and validation, and what the response reports."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        context.validation_rules = (*context.validation_rules, *_RULES)
        yield
        if isinstance(context.context, RequestContext):
            context.context.operation_name = context.operation_name

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            if (error := refusal_before_validation(context)) is not None:
                # Strawberry skips validation when an extension has already set these.
                context.pre_execution_errors = [error]
            else:
                context.pre_execution_errors = _validate(
                    context.schema._schema, context.graphql_document, context.validation_rules
                )
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if not context.result and (error := budget_refusal(context)) is not None:
            # Strawberry skips execution when an extension has set the result.
            context.result = ExecutionResult(data=None, errors=[error])
        yield

    def get_results(self) -> dict[str, Any]:
        return response_extensions(self.execution_context.context)
