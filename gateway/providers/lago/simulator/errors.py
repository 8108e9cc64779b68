"""Lago's error answers as exceptions and bodies (see lago-api ``api_errors.rb``).

Errors come as ``{"status", "error", "code"?, "error_details"?}``; the http module sends them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

Errors = dict[str, list[str]]
"""Per-field error codes, as ``error_details`` holds them."""


class LagoNotFound(Exception):
    """A referenced object does not exist: Lago's 404 with ``<resource>_not_found``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class LagoInvalid(ValueError):
    """Validation failed: Lago's 422 ``validation_errors`` with per-field error codes."""

    def __init__(self, details: Errors) -> None:
        super().__init__(", ".join(f"{k}: {'/'.join(v)}" for k, v in details.items()))
        self.details = details


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Lago's error shape for a status."""
    if status == 400:
        return {"status": 400, "error": f"BadRequest: {message or 'bad request'}"}
    if status == 401:
        return {"status": 401, "error": "Unauthorized"}
    if status == 404:
        return {"status": 404, "error": "Not Found", "code": message or "not_found"}
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"status": status, "error": phrase}


def invalid_body(details: Errors) -> dict[str, Any]:
    """The 422 body for :class:`LagoInvalid`."""
    return {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": details,
        "error_extra": {},
    }
