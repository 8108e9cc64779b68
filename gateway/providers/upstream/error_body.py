"""Reading a provider's own error body into a code and a message."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.providers.upstream.wire import Answer


@dataclass(frozen=True, slots=True)
class UpstreamError:
    """What an adapter reads out of a provider's error body."""

    code: str | None
    message: str | None


ErrorParser = Callable[[Answer], UpstreamError]
"""Reads a provider's own error shape; must not raise."""


def json_error_parser(*paths: tuple[str, ...]) -> ErrorParser:
    """An :data:`ErrorParser` reading ``code``/``message`` from the first matching JSON paths.

    Each path is a tuple of keys ending at the message; the code is looked up beside it
    (``code``, else ``type``).
    """

    def parse(response: Answer) -> UpstreamError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return UpstreamError(None, None)
        for path in paths:
            if not path:
                continue
            node: Any = body
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict) and path[-1] in node:
                message = node.get(path[-1])
                code = node.get("code")
                if code is None:
                    code = node.get("type")
                return UpstreamError(
                    str(code) if code is not None else None,
                    str(message) if message is not None else None,
                )
        return UpstreamError(None, None)

    return parse
