"""Access rules that need the parsed operation: scopes by operation type, introspection, and
each key's per-minute cost budget. Every refusal happens before anything is fetched or written.

The caller was authenticated (and rate-limited) by the HTTP layer (:mod:`gateway.auth.gate`);
its principal is on the request context.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gateway.auth.control import AccessControl
from gateway.auth.gate import retry_after
from gateway.auth.scopes import Principal, Scope
from gateway.core.context import RequestContext
from gateway.errors import ErrorCode

__all__ = ["OPERATION_SCOPES", "budget_refusal", "scope_refusal"]

OPERATION_SCOPES = {OperationType.QUERY: Scope.READ, OperationType.MUTATION: Scope.WRITE}
"""The scope each operation type needs (subscriptions are not served)."""


def _access(request: RequestContext) -> AccessControl | None:
    """The app's policy; ``None`` for a context built outside the HTTP app (trusted code)."""
    app = getattr(request.request, "app", None)
    access = getattr(getattr(app, "state", None), "access", None)
    return access if isinstance(access, AccessControl) else None


def _refuse(request: RequestContext, status: int, headers: dict[str, str] | None = None) -> None:
    response = request.response
    if response is not None:
        response.status_code = status
        response.headers.update(headers or {})


def _forbidden(scope: str, message: str) -> GraphQLError:
    return GraphQLError(
        message, extensions={"code": ErrorCode.FORBIDDEN.value, "missingScope": scope}
    )


def scope_refusal(context: ExecutionContext) -> GraphQLError | None:
    """403 ``FORBIDDEN`` when the caller lacks the operation's scope (or introspects without
    the introspection scope where that is required); checked before validation."""
    request = context.context
    if not isinstance(request, RequestContext):
        return None
    error = _scope_error(context, request)
    if error is not None:
        _refuse(request, 403)
    return error


def _scope_error(context: ExecutionContext, request: RequestContext) -> GraphQLError | None:
    principal = request.principal
    needed = OPERATION_SCOPES.get(context.operation_type)
    missing = principal.missing(needed) if needed is not None else None
    if missing is not None:
        return _forbidden(
            missing,
            f"this {context.operation_type.value} needs the {missing} scope, which "
            f"{_who(principal)} does not have",
        )
    access = _access(request)
    if access is None or access.may_introspect(principal) or not _mentions_schema(context.query):
        return None
    assert context.graphql_document is not None
    errors = validate(
        context.schema._schema, context.graphql_document, [NoSchemaIntrospectionCustomRule]
    )
    if not errors:
        return None
    return _forbidden(
        Scope.INTROSPECTION.value,
        f"{errors[0].message} It needs the {Scope.INTROSPECTION.value} scope here.",
    )


def budget_refusal(context: ExecutionContext) -> GraphQLError | None:
    """429 ``QUERY_BUDGET_EXHAUSTED`` once the key's minute budget is spent; charged just
    before execution with the operation's estimated cost."""
    request = context.context
    if not isinstance(request, RequestContext):
        return None
    access = _access(request)
    key = request.principal.key_id
    cost = request.query_cost or 0
    if access is None or key is None:
        return None
    wait = access.limits.charge(key, cost)
    if wait == 0:
        return None
    budget = access.limits.budget
    extensions: dict[str, Any] = {
        "code": ErrorCode.QUERY_BUDGET_EXHAUSTED.value,
        "cost": cost,
        "budget": budget,
    }
    if wait is None:
        _refuse(request, 429)
        return GraphQLError(
            f"this operation could make about {cost} upstream calls, more than the whole "
            f"budget of {budget} per minute of key {key}; ask for less per request",
            extensions=extensions,
        )
    seconds = retry_after(wait)
    _refuse(request, 429, {"Retry-After": str(seconds)})
    return GraphQLError(
        f"key {key} has spent its budget of {budget} estimated upstream calls per minute; "
        f"this operation needs {cost}, refilled in {seconds} s",
        extensions={**extensions, "retryAfter": seconds},
    )


def _mentions_schema(query: str | None) -> bool:
    """Whether the document can select ``__schema``/``__type`` at all: names have no escapes,
    so a query without the text needs no walk (most requests, in live mode)."""
    return query is None or "__schema" in query or "__type" in query


def _who(principal: Principal) -> str:
    return f"key {principal.key_id}" if principal.key_id else "this caller"
