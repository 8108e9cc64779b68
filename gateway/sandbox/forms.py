"""Form bodies as Stripe-style APIs send them: ordered pairs and bracket keys decoded into nested
values (``address[city]=x``, ``expand[]=a``), blank values kept (they mean "unset")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["FormError", "nest_form", "read_form"]


async def read_form(request: Request) -> list[tuple[str, str]]:
    """Form fields in order, repeated keys kept (``metadata[a]=1&expand[]=x``)."""
    # Parsed here rather than with request.form(): that needs python-multipart, and drops the
    # blank values Stripe-style APIs use to clear a field (``metadata[k]=``).
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(body, keep_blank_values=True)


class _Seq:
    """A list being decoded: values by index (``[]`` appends), compacted in index order."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}

    def next_index(self) -> int:
        return max(self.items, default=-1) + 1


_MAX_INDEX_DIGITS = 9


def _is_index(part: str) -> bool:
    """``[]`` or a plain ASCII number: the enclosing value is a list."""
    return part == "" or (part.isascii() and part.isdigit() and len(part) <= _MAX_INDEX_DIGITS)


def _key_parts(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head] + [piece.split("]", 1)[0] for piece in rest.split("[")]


def _finish(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _finish(v) for k, v in node.items()}
    if isinstance(node, _Seq):
        return [_finish(v) for _, v in sorted(node.items.items())]
    return node


class FormError(ValueError):
    """Two form keys disagree on a value's shape (``a=1&a[b]=2``); simulators answer 400."""


def _shape(node: Any) -> str:
    return "a list" if isinstance(node, _Seq) else "a hash" if isinstance(node, dict) else "a value"


def nest_form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe-style bracket keys: ``address[city]=x`` -> ``{"address": {"city": "x"}}``.

    ``k[]=a&k[]=b`` gives a list; ``k[0][x]=1`` gives a list of dicts (indices are ordered and
    compacted, so ``k[5]=a`` alone is ``["a"]``). A repeated plain key keeps its last value. Keys
    that use one name both as a value and as a hash or list raise :class:`FormError` (a
    ``ValueError``), as Stripe rejects them.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        node: dict[str, Any] | _Seq = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, _Seq):
                slot: Any = node.next_index() if part == "" or not _is_index(part) else int(part)
                container: dict[Any, Any] = node.items
            else:
                slot = part
                container = node
            child = container.get(slot)
            if last:
                if isinstance(child, dict | _Seq):
                    raise FormError(
                        f"{key}: {parts[0]!r} is used both as {_shape(child)} and a value"
                    )
                container[slot] = value
                break
            want_list = _is_index(parts[index + 1])
            if child is None:
                child = container[slot] = _Seq() if want_list else {}
            elif want_list != isinstance(child, _Seq) or isinstance(child, str):
                wanted = "a list" if want_list else "a hash"
                raise FormError(f"{key}: {parts[0]!r} is used both as {_shape(child)} and {wanted}")
            node = child
    finished: dict[str, Any] = _finish(root)
    return finished
