"""One way to turn a raw value into a setting: declared once, cast and checked in one place.

A value comes either from the environment (always a string, so numbers, booleans and lists are
parsed from text) or from the JSON config file (already typed, so a string where a number or
a list is expected is refused rather than guessed at). Either way it goes through
:meth:`Setting.read`, which names the setting in every error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "ConfigError",
    "Invalid",
    "Parser",
    "Setting",
    "boolean",
    "integer",
    "masked_url",
    "nonblank",
    "number",
    "origin",
    "redis_url",
    "text",
    "text_list",
    "text_lists",
    "url",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """Raised for configuration a human must fix; the message names the setting."""


class Invalid(ValueError):
    """A value a parser refused: what was expected, and where inside the value (``at``)."""

    def __init__(self, expected: str, at: str = "", got: object = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.at = at
        self.got = got


Parser = Callable[[object, bool], T]
"""``parse(raw, from_env)``: the typed value, or :class:`Invalid`."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def text(raw: object, from_env: bool) -> str:
    if not isinstance(raw, str):
        raise Invalid("a string")
    return raw


def nonblank(raw: object, from_env: bool) -> str:
    value = text(raw, from_env).strip()
    if not value:
        raise Invalid("a non-empty string")
    return value


def url(raw: object, from_env: bool) -> str:
    value = nonblank(raw, from_env)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("an http(s) URL such as https://api.example.com")
    return value


def masked_url(value: str) -> str:
    """``value`` with any password replaced by ``***``: what logs, errors and reprs may show."""
    parts = urlsplit(value)
    if parts.password is None:
        return value
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def redis_url(raw: object, from_env: bool) -> str:
    """A ``redis://``, ``rediss://`` or ``unix://`` URL, or blank for none. The refusal never
    repeats the value: it may hold a password."""
    value = text(raw, from_env).strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
        raise Invalid("a redis://, rediss:// or unix:// URL, or empty for none", "", "(hidden)")
    return value


def origin(raw: object, from_env: bool) -> str:
    """A browser origin as browsers send it (no path, no trailing slash), or ``*``."""
    value = nonblank(raw, from_env)
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or value.endswith("/"):
        raise Invalid("an origin such as https://app.example.com (no path) or *")
    if parts.path or parts.query or parts.fragment:
        raise Invalid("an origin such as https://app.example.com (no path) or *")
    return value


def boolean(raw: object, from_env: bool) -> bool:
    if isinstance(raw, bool):
        return raw
    if from_env and isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise Invalid(f"one of {', '.join(sorted(_TRUE | _FALSE))}")
    raise Invalid("true or false")


def number(raw: object, from_env: bool) -> float:
    value: float
    if from_env and isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise Invalid("a number") from None
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        raise Invalid("a number")
    if not math.isfinite(value):
        raise Invalid("a finite number")
    return value


def integer(raw: object, from_env: bool) -> int:
    if from_env and isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            raise Invalid("an integer") from None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise Invalid("an integer")


def text_list(raw: object, from_env: bool) -> tuple[str, ...]:
    """A JSON list of strings; from the environment, comma-separated (blanks dropped)."""
    if from_env and isinstance(raw, str):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if not isinstance(raw, list):
        raise Invalid("a list of strings")
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise Invalid("a string", f"[{index}]", item)
    return tuple(raw)


def text_lists(raw: object, from_env: bool) -> dict[str, tuple[str, ...]]:
    """A JSON object of non-empty names to lists of strings (file only)."""
    if not isinstance(raw, Mapping):
        raise Invalid("an object of lists of strings")
    out: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip():
            raise Invalid("non-empty names", "", name)
        try:
            out[name] = text_list(value, False)
        except Invalid as exc:
            got = value if exc.got is None else exc.got
            raise Invalid(exc.expected, f".{name}{exc.at}", got) from None
    return out


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """One setting, declared once: where it is read from, how it is cast, what is allowed."""

    key: str
    """Its key in the config file (within its section)."""
    attr: str
    """Dotted attribute of the settings object it sets (``retry.max_retries``)."""
    parse: Parser[T]
    default: T
    doc: str
    env: str | None = None
    """Environment variable, or its suffix after ``<PROVIDER>_`` for provider settings."""
    above: float | None = None
    """Values must be greater than this."""
    at_least: float | None = None
    """Values must be at least this."""
    choices: Callable[[], Collection[str]] | None = None
    """The allowed values (of a string, or of each item of a list), looked up when needed."""

    def env_name(self, prefix: str = "") -> str | None:
        if self.env is None:
            return None
        return f"{prefix}_{self.env}" if prefix else self.env

    def read(self, raw: object, where: str, *, from_env: bool) -> T:
        """``raw`` cast and checked; ``where`` (a file path or a variable) names it in errors."""
        try:
            value = self.parse(raw, from_env)
            self._check(value)
        except Invalid as exc:
            got = raw if exc.got is None else exc.got
            raise ConfigError(f"{where}{exc.at}: expected {exc.expected}, got {got!r}") from None
        return value

    def _check(self, value: Any) -> None:
        kind = "an integer" if self.parse is integer else "a number"
        if self.above is not None and value <= self.above:
            raise Invalid(f"{kind} > {self.above:g}")
        if self.at_least is not None and value < self.at_least:
            raise Invalid(f"{kind} >= {self.at_least:g}")
        if self.choices is not None:
            allowed = self.choices()
            items = value if isinstance(value, tuple) else (value,)
            for index, item in enumerate(items):
                if item not in allowed:
                    at = f"[{index}]" if isinstance(value, tuple) else ""
                    raise Invalid(f"one of {', '.join(allowed)}", at, item)
