"""What one logical call sends, built once and handed to every attempt unchanged: the URL, the
merged headers and the body bytes, encoded exactly as httpx encodes ``data=`` and ``json=``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from multidict import CIMultiDict, CIMultiDictProxy


def _version() -> str:
    try:
        return metadata.version("customer-gateway")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "dev"


USER_AGENT: Final = f"customer-gateway/{_version()}"
"""What providers see in their request logs: this gateway, and which release."""

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE: Final = "application/json"

_AS_WRITTEN: Final = re.compile(
    r"(?:[\w\-.~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*(?:\?(?:[\w\-.~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+)?",
    re.ASCII,
)
"""Paths and queries made only of characters httpx never escapes, and valid escapes."""
_DOT_SEGMENT: Final = re.compile(r"(?:^|/)\.\.?(?:/|$)")
"""A ``.`` or ``..`` segment, which httpx removes from a path."""

Params = Mapping[str, Any] | list[tuple[str, Any]]
FormData = Mapping[str, Any] | list[tuple[str, str]]
Headers = CIMultiDictProxy[str]
"""Request headers: case-insensitive, read-only once built."""


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """One request to a provider: what each attempt sends (the same bytes and headers on every
    retry, ``Idempotency-Key`` included) and whether it may be retried.

    ``path`` is kept for messages and logs; ``url`` is what goes on the wire, encoded once.
    """

    method: str
    path: str
    url: str
    headers: Headers
    body: bytes | None = None
    retryable: bool = False


class ProviderURLs:
    """Absolute request URLs under one base URL, exactly as httpx would send them."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        self._base_as_written = as_httpx_sends(self.base) == self.base
        """Whether httpx leaves the base URL alone (then :meth:`build` may skip parsing)."""

    def build(self, path: str, params: Params | None) -> str | None:
        """The URL that goes on the wire, or ``None`` if httpx cannot parse it."""
        url = self.absolute(path, params)
        if self._base_as_written and sent_as_written(url[len(self.base) :]):
            return url
        return as_httpx_sends(url)

    def absolute(self, path: str, params: Params | None) -> str:
        """The request URL as one absolute string, query encoded by httpx's own rules.

        Same URL as ``base_url`` + ``path`` + ``params`` would give, but httpx then parses one
        URL instead of merging and re-parsing three times: ~50 µs less CPU per call
        (benchmarks/client_overhead.py).
        """
        url = self.base + path.lstrip("/")
        if params is not None:
            # Like httpx: given params (even empty) replace a query written into the path.
            query = str(httpx.QueryParams(params))
            url = url.partition("?")[0] + (f"?{query}" if query else "")
        return url


def as_httpx_sends(url: str) -> str | None:
    """``url`` as httpx encodes it, or ``None`` if httpx cannot parse it (returned, not
    raised: no httpx exception rides along as the context of the error made of it)."""
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL:
        return None


def sent_as_written(rest: str) -> bool:
    """Whether httpx would send ``rest``, the path and query after a base URL it leaves alone,
    exactly as written: then parsing the URL (~10 µs) can be skipped, as it changes nothing and
    cannot fail. Conservative: anything else is parsed (tests/providers/upstream/test_request.py
    checks the claim against httpx)."""
    return (
        _AS_WRITTEN.fullmatch(rest) is not None
        and _DOT_SEGMENT.search(rest.partition("?")[0]) is None
    )


def request_headers(
    headers: Mapping[str, str] | None, idempotency_key: str | None
) -> CIMultiDict[str]:
    """The caller's headers plus ``Idempotency-Key`` when one is given (it wins)."""
    sent: CIMultiDict[str] = CIMultiDict(headers or {})
    if idempotency_key is not None:
        sent["Idempotency-Key"] = idempotency_key
    return sent


def merged_headers(base: Headers, own: Mapping[str, str], content_type: str | None) -> Headers:
    """``base`` with ``own`` over them and ``content_type`` unless one is set: what httpx's
    ``Headers.update`` and its body encoding do (a name in ``own`` replaces every ``base`` value
    of that name, in any case). ``base`` itself when nothing changes."""
    if not own and (content_type is None or "content-type" in base):
        return base
    merged = CIMultiDict(base)
    for name in own:
        merged.popall(name, None)
    merged.extend(own)
    if content_type is not None:
        merged.setdefault("Content-Type", content_type)
    return CIMultiDictProxy(merged)


def encode_body(data: FormData | None, json_body: Any) -> tuple[bytes | None, str | None]:
    """The body and its content type: ``data`` form-encoded (pairs in their order, repeated keys
    kept; a mapping's list values repeated), else ``json_body`` as httpx encodes ``json=``
    (compact, UTF-8, no NaN); ``(None, None)`` for neither. An empty mapping is no body, as in
    httpx; an empty list of pairs is an empty form."""
    if isinstance(data, Mapping):
        if data:
            pairs = [
                (key, item)
                for key, value in data.items()
                for item in (value if isinstance(value, list | tuple) else (value,))
            ]
            return form_body(pairs), FORM_CONTENT_TYPE
    elif data is not None:
        return form_body(data), FORM_CONTENT_TYPE
    if json_body is not None:
        encoded = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return encoded.encode("utf-8"), JSON_CONTENT_TYPE
    return None, None


def form_body(pairs: Sequence[tuple[str, Any]]) -> bytes:
    """Urlencode ordered, possibly repeated form pairs the way httpx encodes a mapping."""

    def text(value: Any) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        return "" if value is None else str(value)

    return urlencode([(key, text(value)) for key, value in pairs]).encode("utf-8")
