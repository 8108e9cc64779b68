"""Bounded label values: what kind of upstream call is running, and GraphQL operation names.

Prometheus keeps one time series per label combination, so a label must never carry a path, an
id, an email or a client-chosen string without a cap.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Final, ParamSpec, TypeVar

from gateway.bound import Bound

__all__ = [
    "ANONYMOUS",
    "OTHER",
    "UPSTREAM_KINDS",
    "OperationNames",
    "current_upstream_kind",
    "upstream_kind",
    "upstream_operation",
]

P = ParamSpec("P")
T = TypeVar("T")

OTHER: Final = "other"
ANONYMOUS: Final = "anonymous"

UPSTREAM_KINDS: Final = frozenset(
    {"id", "email", "stripe_id", "external_id", "list", "create", "update", "delete"}
)
"""The ``lookup`` label's values besides ``other``: each ``Lookup`` and each adapter write."""

_upstream_kind: ContextVar[str] = ContextVar("upstream_kind", default=OTHER)


def upstream_kind(kind: str) -> Bound[str, None]:
    """Label the upstream calls made within the ``with`` block (and the tasks it starts) as
    ``kind``; a kind outside :data:`UPSTREAM_KINDS` counts as ``other``."""
    return Bound(_upstream_kind, kind if kind in UPSTREAM_KINDS else OTHER, None)


def current_upstream_kind() -> str:
    return _upstream_kind.get()


def upstream_operation(
    kind: str,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorate an adapter coroutine so its upstream calls are labelled ``kind``."""

    def decorate(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(method)
        async def labelled(*args: P.args, **kwargs: P.kwargs) -> T:
            with upstream_kind(kind):
                return await method(*args, **kwargs)

        return labelled

    return decorate


_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,127}")


class OperationNames:
    """GraphQL operation names as a label: the first ``limit`` distinct names are kept, later
    ones become ``other``; unnamed operations are ``anonymous``. Clients choose these names, so
    without the cap one client could grow the metrics without bound."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: object) -> str:
        """``name`` comes from the request as sent: anything but a GraphQL name is ``other``."""
        if not name:
            return ANONYMOUS
        if not isinstance(name, str):
            return OTHER
        if name in self._seen:
            return name
        if not _GRAPHQL_NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(name)
        return name
