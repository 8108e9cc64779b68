"""Where values come from, in order: the declared default < the config file < the environment.

:func:`read_section` is the only place a raw value becomes a setting: every section of the file
(and the variables that shadow it) goes through it, so the precedence, the casts, the checks
and the error messages are the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.config.casts import ConfigError, Setting
from gateway.config.typos import closest

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["assign", "read_file", "read_section", "section", "unknown"]

D = TypeVar("D", bound="DataclassInstance")


def read_file(path: str | Path) -> dict[str, Any]:
    """The config file's top-level object."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return data


def section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """The object under ``key`` (empty when absent); anything else is an error naming it."""
    found = data.get(key, {})
    if not isinstance(found, Mapping):
        raise ConfigError(f"{where}: expected an object, got {found!r}")
    return found


def read_section(
    declared: Sequence[Setting[Any]],
    data: Mapping[str, Any],
    where: str,
    env: Mapping[str, str],
    *,
    env_prefix: str = "",
    sections: Collection[str] = (),
) -> dict[str, Any]:
    """The settings of one file section that are set, by key, cast and checked; a variable
    wins over the file. An empty variable counts as unset. Unknown keys are errors (``sections``
    names nested objects the caller reads itself)."""
    known = {s.key for s in declared} | set(sections)
    for key in data:
        if key not in known:
            raise unknown(_join(where, key), "setting", key, sorted(known))
    found: dict[str, Any] = {}
    for setting in declared:
        name = setting.env_name(env_prefix)
        if name is not None and env.get(name):
            found[setting.key] = setting.read(env[name], name, from_env=True)
        elif setting.key in data:
            found[setting.key] = setting.read(
                data[setting.key], _join(where, setting.key), from_env=False
            )
    return found


def unknown(where: str, what: str, key: str, known: Sequence[str]) -> ConfigError:
    """The error for a key nothing reads: the closest known key first, then all of them."""
    meant = closest(key, known)
    hint = f" (did you mean {meant!r}?)" if meant else ""
    return ConfigError(f"{where}: unknown {what}{hint}; known: {', '.join(known)}")


def assign(target: D, declared: Sequence[Setting[Any]], values: Mapping[str, Any]) -> D:
    """``target`` with the settings in ``values`` (by key) set at their dotted attributes."""
    by_key = {s.key: s for s in declared}
    return _set(target, {by_key[key].attr: value for key, value in values.items()})


def _set(target: D, values: Mapping[str, Any]) -> D:
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for attr, value in values.items():
        head, dot, rest = attr.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, inner in nested.items():
        direct[head] = _set(getattr(target, head), inner)
    return replace(target, **direct)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
