"""Stripe's error shape: ``{"error": {"type", "message", "code"?, "param"?, "doc_url"?}}``.

Stripe's OpenAPI schema (``api_errors``) makes only ``type`` required and none of the others
nullable, so a field with no value is left out rather than sent as ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

JSON = dict[str, Any]


class ApiError(Exception):
    """A Stripe-shaped error; routes raise it and the customers API renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param


def missing_customer(customer_id: str, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(
        status, f"No such customer: '{customer_id}'", code="resource_missing", param=param
    )


def unknown_parameter(name: str) -> ApiError:
    return ApiError(
        400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
    )


def missing_parameter(name: str) -> ApiError:
    return ApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


@dataclass(frozen=True, slots=True)
class ErrorStyle:
    """How one provider renders errors: the doc links differ, the shape does not."""

    doc_url: Callable[[str | None], str | None]

    def body(
        self, message: str, *, type: str, code: str | None = None, param: str | None = None
    ) -> JSON:
        fields = {
            "type": type,
            "code": code,
            "message": message,
            "param": param,
            "doc_url": self.doc_url(code),
        }
        return {"error": {name: value for name, value in fields.items() if value is not None}}

    def error_body(self, error: ApiError) -> JSON:
        return self.body(error.message, type=error.type, code=error.code, param=error.param)

    def render(self, error: ApiError) -> Response:
        return JSONResponse(self.error_body(error), status_code=error.status)
