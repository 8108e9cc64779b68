"""The ``userErrors`` entry every mutation payload shares."""

from __future__ import annotations

import strawberry

from gateway import errors

__all__ = ["FieldError"]


@strawberry.type(description="A problem with one argument; nothing was written.")
class FieldError:
    field: list[str] = strawberry.field(
        description='Path to the argument, e.g. ["input", "address", "country"].'
    )
    message: str
    code: str

    @classmethod
    def of(cls, error: errors.FieldError) -> FieldError:
        return cls(field=list(error.path), message=error.message, code=error.code)
