"""What one logical call sends, built once and handed to every attempt unchanged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import httpx

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

Params = Mapping[str, Any] | list[tuple[str, Any]]
FormData = Mapping[str, Any] | list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """One request to a provider: what each attempt sends (the same bytes and headers on every
    retry, ``Idempotency-Key`` included) and whether it may be retried.

    ``path`` is kept for messages and logs; ``url`` is what goes on the wire, parsed once.
    """

    method: str
    path: str
    url: httpx.URL
    headers: httpx.Headers
    form: Mapping[str, Any] | None = None
    content: bytes | None = None
    json_body: Any = None
    retryable: bool = False


def request_headers(
    headers: Mapping[str, str] | None, idempotency_key: str | None
) -> httpx.Headers:
    """The caller's headers plus ``Idempotency-Key`` when one is given (it wins)."""
    sent = httpx.Headers(headers or {})
    if idempotency_key is not None:
        sent["Idempotency-Key"] = idempotency_key
    return sent


def form_payload(
    data: FormData | None, headers: httpx.Headers
) -> tuple[Mapping[str, Any] | None, bytes | None]:
    """``data`` as httpx's ``data`` (a mapping) or as ready bytes (ordered, repeated pairs).

    Pairs are encoded here because httpx would reorder them; the form content type is then set
    on ``headers`` unless the caller chose one.
    """
    if data is None or isinstance(data, Mapping):
        return data, None
    headers.setdefault("Content-Type", FORM_CONTENT_TYPE)
    return None, form_body(data)


def form_body(pairs: Sequence[tuple[str, Any]]) -> bytes:
    """Urlencode ordered, possibly repeated form pairs the way httpx encodes a mapping."""

    def text(value: Any) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        return "" if value is None else str(value)

    return urlencode([(key, text(value)) for key, value in pairs]).encode("utf-8")
