"""The production :class:`~gateway.providers.upstream.wire.Wire`: aiohttp, nothing in between.

httpx's request and response models and httpx-aiohttp's conversions cost more CPU per call than
the whole resilience layer (docs/benchmarks.md, "Client cost per upstream call"); aiohttp's pool
keeps what chose it over httpcore's (CPU flat in pool size).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Final

import aiohttp
import httpx
from yarl import URL

from gateway.providers.upstream.classify import TransportFailure, classify_aiohttp_error
from gateway.providers.upstream.wire import Answer, Timeouts, WireFailure

__all__ = ["AiohttpWire"]

KEEPALIVE_SECONDS: Final = 5.0
"""How long an idle pooled connection is kept (httpx's default keep-alive expiry)."""


class AiohttpWire:
    """One aiohttp session per provider: a pool of at most ``max_connections`` kept-alive
    connections, opened on first use (inside the running loop)."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max(max_connections, 1)
        self._session: aiohttp.ClientSession | None = None
        self._timeout: tuple[Timeouts, aiohttp.ClientTimeout] | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            keepalive_timeout=KEEPALIVE_SECONDS,
            ssl=_tls(),
        )
        # No cookie jar: provider calls are stateless, as they are through httpx transports.
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        )
        return self._session

    def _client_timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for ours, built once: ``connect`` covers the wait for a pooled
        connection, ``sock_connect`` the connection itself, ``sock_read`` each read."""
        if self._timeout is None or self._timeout[0] is not timeouts:
            built = aiohttp.ClientTimeout(
                total=None,
                connect=timeouts.pool,
                sock_connect=timeouts.connect,
                sock_read=timeouts.read,
            )
            self._timeout = (timeouts, built)
        return self._timeout[1]

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> Answer:
        session = self._session or self._open()
        failure: TransportFailure | None = None
        try:
            async with session.request(
                method,
                URL(url, encoded=True),  # already encoded by httpx's rules: sent as is
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._client_timeout(timeouts),
            ) as response:
                return Answer(response.status, response.headers, await response.read())
        except aiohttp.ClientError as exc:
            failure = classify_aiohttp_error(exc)
        # Raised outside the except block: aiohttp's exception (its request info holds the
        # auth header) does not ride along as context.
        raise WireFailure(failure)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _tls() -> ssl.SSLContext:
    """The trust store httpx uses (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), as the
    httpx-aiohttp transport this replaced did."""
    return httpx.create_ssl_context()
