"""Where a simulator keeps its records: ``app.state.store``, next to ``app.state.sandbox``.

Routes are plain functions that find the store through the request's app, so a test (or the
admin side) reaches the same object the routes use without a closure to dig into.
"""

from __future__ import annotations

from typing import TypeVar

from starlette.applications import Starlette

__all__ = ["attach_store", "store_of"]

S = TypeVar("S")


def attach_store(app: Starlette, store: object) -> None:
    """Hang ``store`` on ``app`` where :func:`store_of` finds it."""
    app.state.store = store


def store_of(app: Starlette, kind: type[S]) -> S:
    """The store :func:`attach_store` hung on ``app``, checked to be a ``kind``."""
    store = app.state.store
    if not isinstance(store, kind):
        raise TypeError(f"{app!r} holds a {type(store).__name__}, not a {kind.__name__}")
    return store
