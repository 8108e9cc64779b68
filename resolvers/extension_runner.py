"""Strawberry's schema-extension runner, with each extension's hooks looked up once per class.

Strawberry's own runner, for each of the four stages of every operation, asks each extension for
its hook again (``getattr``, ``inspect.isgeneratorfunction``), wraps a generator hook in a new
``contextlib.contextmanager`` (a ``functools.update_wrapper`` each time) and enters the result
through a new ``AsyncExitStack``. Behind a trivial cached query that bookkeeping was ~10 % of
the request (docs/benchmarks.md). Here the hook lookup and the wrapping happen once per
extension class; a request only calls the prepared factories, and a stage with a single hook
enters it directly. One difference, on purpose: a hook that raises on entry unwinds the hooks
entered before it, where Strawberry leaves them suspended.

Only hooks written as plain generator methods, which is what the gateway's extensions are, take
the prepared path. A stage where any extension's hook is another kind (an async generator, a
plain function) runs through Strawberry's own context manager, unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Final, TypeAlias, cast

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

__all__ = ["PreparedExtensionsRunner"]

HookFactory: TypeAlias = Callable[[SchemaExtension], contextlib.AbstractContextManager[None]]

_UNPREPARED: Final = object()
"""A hook of a kind the prepared path leaves to Strawberry."""


_factories: Final[dict[tuple[type[SchemaExtension], str], object]] = {}


def _hook_factory(extension_type: type[SchemaExtension], hook_name: str) -> object:
    """The context-manager factory of ``extension_type``'s ``hook_name``, ``None`` when the
    class keeps the base class's no-op, or :data:`_UNPREPARED`; worked out once per class."""
    key = (extension_type, hook_name)
    if key not in _factories:
        hook = getattr(extension_type, hook_name)
        if hook is getattr(SchemaExtension, hook_name):
            _factories[key] = None
        elif inspect.isgeneratorfunction(hook):
            _factories[key] = contextlib.contextmanager(hook)
        else:
            _factories[key] = _UNPREPARED
    return _factories[key]


class _Stage:
    """One stage's hooks, entered in the extensions' order and left in reverse, with or
    without ``async``: Strawberry's async execution enters every stage with ``async with``."""

    __slots__ = ("_entered", "_hooks")

    def __init__(self, hooks: list[tuple[HookFactory, SchemaExtension]]) -> None:
        self._hooks = hooks
        self._entered: contextlib.AbstractContextManager[object, bool | None] | None = None

    def __enter__(self) -> None:
        if len(self._hooks) == 1:
            factory, extension = self._hooks[0]
            entered: contextlib.AbstractContextManager[object, bool | None] = factory(extension)
            entered.__enter__()
        else:
            # An ExitStack hands each hook the exception the inner ones left, as Strawberry's
            # does. Unlike Strawberry's, a hook that raises on entry unwinds the ones already
            # entered, so they finish now rather than whenever their generators are collected.
            with contextlib.ExitStack() as stack:
                for factory, extension in self._hooks:
                    stack.enter_context(factory(extension))
                entered = stack.pop_all()
        self._entered = entered

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        entered, self._entered = self._entered, None
        assert entered is not None
        return entered.__exit__(exc_type, exc_value, traceback)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return self.__exit__(exc_type, exc_value, traceback)


class _NoHooks:
    """A stage no extension hooks into."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None


_NO_HOOKS: Final = _NoHooks()

StageManager: TypeAlias = _Stage | _NoHooks | ExtensionContextManagerBase


class PreparedExtensionsRunner(SchemaExtensionsRunner):
    """A :class:`SchemaExtensionsRunner` whose stages call hooks prepared once per class."""

    def _stage(
        self, hook_name: str, fallback: Callable[[list[SchemaExtension]], StageManager]
    ) -> StageManager:
        hooks: list[tuple[HookFactory, SchemaExtension]] = []
        for extension in self.extensions:
            factory = _hook_factory(type(extension), hook_name)
            if factory is None:
                continue
            if factory is _UNPREPARED:
                return fallback(self.extensions)
            hooks.append((cast(HookFactory, factory), extension))
        return _Stage(hooks) if hooks else _NO_HOOKS

    # Strawberry only enters what these return (``with`` or ``async with``); the casts name
    # the types its signatures promise.
    def operation(self) -> OperationContextManager:
        return cast(OperationContextManager, self._stage("on_operation", OperationContextManager))

    def validation(self) -> ValidationContextManager:
        return cast(ValidationContextManager, self._stage("on_validate", ValidationContextManager))

    def parsing(self) -> ParsingContextManager:
        return cast(ParsingContextManager, self._stage("on_parse", ParsingContextManager))

    def executing(self) -> ExecutingContextManager:
        return cast(ExecutingContextManager, self._stage("on_execute", ExecutingContextManager))
