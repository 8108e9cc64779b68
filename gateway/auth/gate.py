"""The HTTP side of access control: a request is admitted (authenticated, within its key's
rate) before Strawberry reads its body, or refused with a GraphQL-shaped 401 or 429."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.auth.control import AccessControl, Unauthenticated
from gateway.auth.scopes import NOBODY, Principal
from gateway.documents.resolve import names_document
from gateway.errors import ErrorCode

__all__ = ["REALM", "admit", "error_response", "principal_of", "retry_after"]

REALM: Final = "customer-gateway"

logger = logging.getLogger("customer_gateway.auth")


def retry_after(seconds: float) -> int:
    """Whole seconds for ``Retry-After``: rounded up, at least 1."""
    return max(1, math.ceil(seconds))


def error_response(
    message: str,
    code: ErrorCode,
    status: int,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A GraphQL-shaped error for a request refused before it ran."""
    error = {"message": message, "extensions": {"code": code.value, **extensions}}
    return JSONResponse(
        {"data": None, "errors": [error]}, status_code=status, headers=dict(headers or {})
    )


def _is_operation(request: Request) -> bool:
    """A POST, or a GET naming an operation (its text, a persisted document's id or an APQ
    hash): not the GraphiQL page, which any browser may load."""
    return request.method == "POST" or (
        request.method == "GET" and names_document(request.query_params)
    )


async def admit(request: Request) -> Response | None:
    """``None`` once the request may run (its principal on ``request.state``), else the
    refusal to send. Nothing is parsed or fetched for a refused request."""
    if not _is_operation(request):
        return None
    access: AccessControl = request.app.state.access
    try:
        principal = await access.authenticate(request.headers.get("authorization"))
    except Unauthenticated as exc:
        logger.info("refused: %s", exc.message)
        challenge = f'Bearer realm="{REALM}"'
        if exc.presented:
            challenge += ', error="invalid_token"'
        return error_response(
            exc.message, ErrorCode.UNAUTHENTICATED, 401, headers={"WWW-Authenticate": challenge}
        )
    request.state.principal = principal
    if principal.key_id is not None and (wait := access.limits.admit(principal.key_id)) > 0:
        seconds = retry_after(wait)
        return error_response(
            f"too many requests for key {principal.key_id}: at most "
            f"{access.limits.requests.rate:g} per second (bursts of "
            f"{access.limits.requests.burst}); retry in {seconds} s",
            ErrorCode.RATE_LIMITED,
            429,
            headers={"Retry-After": str(seconds)},
            retryAfter=seconds,
        )
    return None


def principal_of(request: Any) -> Principal:
    """Who the request runs as; a request :func:`admit` never admitted may do nothing."""
    state = getattr(request, "state", None)
    principal = getattr(state, "principal", None)
    return principal if isinstance(principal, Principal) else NOBODY
