"""Requests that are not well-formed GraphQL over HTTP, answered as GraphQL errors.

A client that sends invalid UTF-8, a JSON ``null`` or number, JSON nested 100,000 deep, a
5,000-digit number, the wrong method or an unknown path gets a 4xx whose body is
``{"errors": [{"message", "extensions": {"code"}}]}`` in the content type it asked for: never
a 500, a traceback in the log, or Starlette's plain-text page. The request never executed, so
the body has no ``data`` entry (GraphQL spec, "Response").

Three places feed this module: :func:`decode_json` is the gateway view's JSON decoder (body,
and ``variables``/``extensions`` of a GET); :func:`request_error` answers the view's own
refusals; :data:`EXCEPTION_HANDLERS` answers Starlette's (404, 405) and a client that hung up.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, Final

from cross_web import HTTPException as ViewHTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from strawberry.types import ExecutionResult

from gateway.errors import ErrorCode

__all__ = [
    "APPLICATION_JSON",
    "EXCEPTION_HANDLERS",
    "GRAPHQL_RESPONSE_JSON",
    "decode_json",
    "error_body",
    "error_response",
    "media_type",
    "never_executed",
    "request_error",
]

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"

_CODES: Final[Mapping[int, ErrorCode]] = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
}

logger = logging.getLogger("customer_gateway.server")


def media_type(headers: Headers) -> str:
    """``application/graphql-response+json`` for a client that accepts it, else
    ``application/json`` (also for ``*/*`` or no ``Accept``: GraphQL-over-HTTP's legacy rule)."""
    return (
        GRAPHQL_RESPONSE_JSON
        if GRAPHQL_RESPONSE_JSON in headers.get("accept", "")
        else (APPLICATION_JSON)
    )


def never_executed(result: ExecutionResult) -> bool:
    """A request error: no data and no error from a field (field errors have a path), so parsing,
    validation, variable coercion or a limit refused the document before it ran."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def error_body(message: str, code: ErrorCode) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code.value}}]}


def error_response(
    message: str,
    code: ErrorCode,
    status: int,
    *,
    headers: Mapping[str, str] | None = None,
    media: str = APPLICATION_JSON,
) -> Response:
    """A GraphQL-shaped error for a request that never executed (no ``data`` entry)."""
    return JSONResponse(
        error_body(message, code), status_code=status, headers=headers, media_type=media
    )


def request_error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The answer to a refused request: ``BAD_REQUEST`` (400), ``NOT_FOUND`` (404),
    ``METHOD_NOT_ALLOWED`` (405, with ``Allow``), in the media type the client accepts."""
    return error_response(
        message,
        _CODES.get(status, ErrorCode.BAD_REQUEST),
        status,
        headers=headers,
        media=media_type(request.headers),
    )


# -- decoding -----------------------------------------------------------------------------------


class _NotJson(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's decoder accepts them, JSON does not."""


def _refuse_constant(name: str) -> object:
    raise _NotJson(f"{name} is not JSON")


def decode_json(data: str | bytes) -> object:
    """JSON from a request, or a 400 saying what is wrong with it.

    Stricter than :func:`json.loads` on purpose: bytes must be UTF-8 (RFC 8259; ``json.loads``
    would guess UTF-16 from two stray bytes), ``NaN``/``Infinity`` are refused, and the errors
    ``json.loads`` raises that are not ``JSONDecodeError`` (``RecursionError`` for nesting
    deeper than the interpreter's recursion limit, ``ValueError`` for an integer over Python's
    int-string limit of 4300 digits) become 400s instead of 500s.

    Every caller wants an object: the body, and the ``variables`` and ``extensions`` of a GET.
    A top-level number, string or boolean is refused here; a top-level ``null`` reads as ``{}``
    (for ``variables``/``extensions`` the same as absent, and a body without a query is then
    refused as such); an array goes on to the view, which refuses batches.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ViewHTTPException(400, f"the request body is not valid UTF-8: {exc.reason}") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ViewHTTPException(400, f"Unable to parse request body as JSON: {exc}") from exc
    except RecursionError as exc:
        raise ViewHTTPException(400, "the request's JSON is nested too deeply") from exc
    except _NotJson as exc:
        raise ViewHTTPException(400, f"Unable to parse request body as JSON: {exc}") from exc
    except ValueError as exc:  # int(): the JSON decoder has no other ValueError of its own
        limit = sys.get_int_max_str_digits()
        raise ViewHTTPException(
            400, f"Unable to parse request body as JSON: a number has more than {limit} digits"
        ) from exc
    if value is None:
        return {}
    if not isinstance(value, dict | list):
        kind = "a string" if isinstance(value, str) else "a boolean"
        if isinstance(value, int | float) and not isinstance(value, bool):
            kind = "a number"
        raise ViewHTTPException(
            400, f"a GraphQL request (and its variables) must be a JSON object, not {kind}"
        )
    return value


# -- Starlette's own refusals -------------------------------------------------------------------


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's 404 (unknown path) and 405 (method a route does not take; ``Allow`` kept),
    and a static file's 404, in GraphQL's error shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail
    if exc.status_code == 404:
        detail = f"no such path: {request.url.path}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    return request_error(request, exc.status_code, detail, exc.headers)


async def _client_disconnect(request: Request, exc: Exception) -> Response:
    """The client hung up before sending its whole body: nothing is wrong with the gateway and
    nobody is left to answer, so one INFO line instead of an "unhandled error" traceback."""
    logger.info(
        "client disconnected before its request was read",
        extra={"method": request.method, "path": request.url.path},
    )
    return error_response("the client disconnected", ErrorCode.BAD_REQUEST, 400)


EXCEPTION_HANDLERS: Final = {HTTPException: _http_exception, ClientDisconnect: _client_disconnect}
"""For ``Starlette(exception_handlers=...)``."""
