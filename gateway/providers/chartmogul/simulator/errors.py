"""ChartMogul's two error bodies, raised as exceptions by the shape and store modules.

``{"code","message","param"?}`` for request and lookup errors (as recorded for a search without
matches) and ``{"errors":{field: message}}`` with 422 for validation (the shape chartmogul-go
decodes into ``Customer.Errors``). The http module renders either as the answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """A ChartMogul error answer: a status and the JSON body to send with it."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body


class Invalid(ApiError, ValueError):
    """Field validation failed (422). A ``ValueError`` whose text names each field, so a
    dataset record refused by the same rules says which field is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(422, {"errors": dict(errors)})
        self.errors = dict(errors)

    def __str__(self) -> str:
        return "; ".join(
            message if message.startswith(field) else f"{field} {message}"
            for field, message in self.errors.items()
        )


def api_error(status: int, message: str, param: str | None = None) -> ApiError:
    body: dict[str, Any] = {"code": status, "message": message}
    if param is not None:
        body["param"] = param
    return ApiError(status, body)


def not_found() -> ApiError:
    """Unknown customer uuid (the exact real text is unconfirmed; inferred)."""
    return api_error(404, "Customer not found")
