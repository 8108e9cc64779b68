"""Request parameters in Stripe's conventions, and seed records turned into the same parameters.

Bodies and queries are form-encoded with bracket keys (``address[city]=x``) and ``""`` unsets a
field. The value checks here (lengths, email, metadata limits) are the ones the create and
update routes apply; :func:`wire_params` turns a JSON seed record into the form values its API
would have received, so a seed goes through exactly the same checks.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from gateway.providers.stripe_like.simulator.errors import ApiError, unknown_parameter
from gateway.sandbox.forms import nest_form

JSON = dict[str, Any]

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def form_params(body: bytes) -> JSON:
    """A form-encoded body decoded with bracket keys; blank values kept (they mean "unset")."""
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return _nest(pairs)


def query_params(request: Request) -> JSON:
    return _nest(list(request.query_params.multi_items()))


def _nest(pairs: Sequence[tuple[str, str]]) -> JSON:
    try:
        return nest_form(pairs)
    except (AttributeError, TypeError, ValueError, IndexError):
        # e.g. ``metadata=`` followed by ``metadata[k]=v``: one name used as scalar and hash.
        raise ApiError(
            400, "Invalid parameters: a key is used both as a value and a hash."
        ) from None


def check_known(params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    for name in params:
        if name not in allowed_set:
            raise unknown_parameter(name)


def string_param(
    params: Mapping[str, Any], name: str, *, max_length: int = 5000, param: str | None = None
) -> str | None:
    """A string parameter; ``""`` unsets the field (``None``). ``param`` names it in errors."""
    value = params[name]
    shown = param or name
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid string: {shown} must be a string.", param=shown)
    if len(value) > max_length:
        raise ApiError(
            400, f"Invalid {shown}: must be at most {max_length} characters.", param=shown
        )
    return value or None


def int_param(params: Mapping[str, Any], name: str) -> int:
    value = params[name]
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise ApiError(400, f"Invalid integer: {value!r}", param=name)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def email_param(params: Mapping[str, Any]) -> str | None:
    value = string_param(params, "email", max_length=512)
    if value is not None and not _EMAIL.match(value):
        raise ApiError(400, f"Invalid email address: {value}", code="email_invalid", param="email")
    return value


def merge_metadata(current: Mapping[str, str], value: Any) -> dict[str, str]:
    """Stripe metadata semantics: keys merge, ``""`` unsets a key, ``metadata=`` unsets all.

    Limits (docs.stripe.com/api/metadata): 50 keys, keys up to 40 characters without ``[`` or
    ``]``, values up to 500 characters.
    """
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object: metadata must be a hash.", param="metadata")
    merged = dict(current)
    for key, item in value.items():
        param = f"metadata[{key}]"
        if not isinstance(item, str):
            raise ApiError(400, f"Invalid string: {param} must be a string.", param=param)
        if len(key) > MAX_METADATA_KEY:
            raise ApiError(
                400,
                f"Metadata keys can be at most {MAX_METADATA_KEY} characters long.",
                param=param,
            )
        if "[" in key or "]" in key:
            raise ApiError(400, "Metadata keys cannot contain '[' or ']'.", param=param)
        if len(item) > MAX_METADATA_VALUE:
            raise ApiError(
                400,
                f"Metadata values can be at most {MAX_METADATA_VALUE} characters long.",
                param=param,
            )
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    if len(merged) > MAX_METADATA_KEYS:
        raise ApiError(
            400, f"Metadata can have at most {MAX_METADATA_KEYS} keys.", param="metadata"
        )
    return merged


def parse_limit(params: Mapping[str, Any], default: int = 10, maximum: int = 100) -> int:
    if "limit" not in params:
        return default
    limit = int_param(params, "limit")
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"Invalid limit: must be between 1 and {maximum}", param="limit")
    return limit


def cursor_param(params: Mapping[str, Any], name: str) -> str | None:
    return string_param(params, name) if name in params else None


# -- seed records as parameters ------------------------------------------------------------


class Kind(enum.Enum):
    """The JSON type a writable field has in the API's objects (form encoding erases it)."""

    STRING = "a string or null"
    INTEGER = "an integer"
    HASH = "an object or null"
    LIST = "a list of strings"


def wire_params(record: Mapping[str, Any], kinds: Mapping[str, Kind]) -> JSON:
    """``record``'s writable fields as the form values its API would receive.

    ``null`` becomes ``""`` (the API's "unset") and integers their decimal text; a value of the
    wrong JSON type raises ``ValueError`` naming the field, since the wire could not carry it.
    """
    params: JSON = {}
    for name, kind in kinds.items():
        if name not in record:
            continue
        value = record[name]
        if kind is Kind.INTEGER:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name}: must be {kind.value}, not {value!r}")
            params[name] = str(value)
        elif kind is Kind.LIST:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name}: must be {kind.value}, not {value!r}")
            params[name] = list(value) if value else ""
        elif value is None:
            params[name] = ""
        elif kind is Kind.STRING and isinstance(value, str):
            params[name] = value
        elif kind is Kind.HASH and isinstance(value, dict):
            params[name] = _wire_value(value, name)
        else:
            raise ValueError(f"{name}: must be {kind.value}, not {value!r}")
    return params


def _wire_value(value: Any, path: str) -> Any:
    """A nested JSON value as form values: strings kept, ``null`` -> ``""``, hashes and lists
    recursed; numbers and booleans inside a hash have no form encoding here and are refused."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): _wire_value(v, f"{path}[{k}]") for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{path}: must be a string or null, not {value!r}")


_COMPARATORS: Mapping[str, Callable[[int, int], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _compare_to(compare: Callable[[int, int], bool], bound: int, value: int) -> bool:
    return compare(value, bound)


def created_bounds(value: Any) -> list[Callable[[int], bool]]:
    """``created=N`` or ``created[gt|gte|lt|lte]=N`` as predicates on a timestamp."""
    if isinstance(value, str):
        exact = int_param({"created": value}, "created")
        return [lambda c: c == exact]
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid created: must be an integer or a hash.", param="created")
    tests: list[Callable[[int], bool]] = []
    for op, raw in value.items():
        if op not in _COMPARATORS:
            raise unknown_parameter(f"created[{op}]")
        bound = int_param({op: raw}, op)
        compare = _COMPARATORS[op]
        tests.append(functools.partial(_compare_to, compare, bound))
    return tests
