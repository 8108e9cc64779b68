"""What most adapters share: one ``ProviderHTTP`` and a deduplicating, concurrent ``lookup``.

:class:`HTTPAdapter` is an implementation convenience, not part of the contract: the gateway
only relies on :class:`~gateway.providers.base.ProviderAdapter`, and a new provider whose reads
do not fit this template can implement that protocol directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final, TypeVar

import httpx

from gateway.config import IdentitySettings, ProviderSettings
from gateway.errors import ErrorKind, ProviderError
from gateway.model import CustomerRecord, Lookup
from gateway.providers.coerce import email_key
from gateway.providers.contract import Capabilities
from gateway.providers.http import ErrorParser, ProviderHTTP, json_error_parser
from gateway.telemetry.labels import upstream_kind, upstream_operation
from gateway.telemetry.upstream import NO_TELEMETRY, UpstreamTelemetry

_T = TypeVar("_T")

JSON_ERROR_PARSER: Final = json_error_parser(("error", "message"))
"""Reads ``{"error": {"message", "code"|"type"}}``, the Stripe-style shape several providers use."""

_LABELLED: Final = {
    "list_page": "list",
    "created_between": "list",
    "create": "create",
    "update": "update",
    "delete": "delete",
}
"""Adapter methods whose upstream calls carry the method's kind as their ``lookup`` label."""


async def gather_all(calls: Iterable[Awaitable[_T]]) -> list[_T]:
    """Run ``calls`` concurrently; every one finishes before the first failure is raised.

    Plain ``asyncio.gather`` raises at the first failure and leaves the rest running unobserved.
    A lone call (a single lookup's, the usual case) is awaited as it is: a task for it would
    cost more than the call's own work here.
    """
    pending = list(calls)
    if len(pending) == 1:
        return [await pending[0]]
    results: list[_T] = []
    for outcome in await asyncio.gather(*pending, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
        results.append(outcome)
    return results


class HTTPAdapter:
    """Base for adapters that talk to one provider through one :class:`ProviderHTTP`.

    Subclasses set :attr:`name` and :attr:`capabilities`, adjust the client through
    :meth:`auth_headers`, :meth:`error_parser` and :attr:`default_headers`, and answer lookups
    with :meth:`fetch_one` (one value per upstream call) or by overriding
    :meth:`resolve_many` (several values per call). Nothing requires a provider to use it:
    the contract is :class:`~gateway.providers.base.ProviderAdapter`.

    Upstream calls are labelled for metrics and traces (:mod:`gateway.telemetry.labels`) with
    what they serve: :meth:`lookup` by its ``Lookup``, and a subclass's ``list_page``,
    ``create``, ``update`` and ``delete`` by their names, wrapped when the subclass is defined.
    """

    name: str
    capabilities: Capabilities
    default_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}
    """Sent with every request besides the auth headers."""
    trim_lookup_values: ClassVar[bool] = True
    """Whether lookup values are sent (and compared) trimmed; ``False`` where the exact text is
    the value (a Lago external id) or decides how the provider reads it (FirstOfficer)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method, kind in _LABELLED.items():
            if method in cls.__dict__:
                setattr(cls, method, upstream_operation(kind)(cls.__dict__[method]))

    def __init__(
        self,
        settings: ProviderSettings,
        identity: IdentitySettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        telemetry: UpstreamTelemetry = NO_TELEMETRY,
    ) -> None:
        self.identity = identity or IdentitySettings()
        self.http = ProviderHTTP(
            settings,
            auth_headers=self.auth_headers(settings.api_key),
            error_parser=self.error_parser(),
            default_headers=self.default_headers,
            transport=transport,
            telemetry=telemetry,
        )

    def __repr__(self) -> str:
        # Only the base URL: the API key must never show up in a repr.
        return f"{type(self).__name__}(base_url={self.http.settings.base_url!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    def bad_response(self, message: str) -> ProviderError:
        """An answer this adapter cannot use (wrong shape, endless paging)."""
        return ProviderError(self.name, ErrorKind.BAD_RESPONSE, message)

    # client hooks ---------------------------------------------------------------------------

    @classmethod
    def auth_headers(cls, api_key: str) -> Mapping[str, str]:
        """Headers authenticating every request; a bearer token unless overridden."""
        return {"Authorization": f"Bearer {api_key}"}

    def error_parser(self) -> ErrorParser:
        """Reads the provider's error bodies; ``{"error": {"message"}}`` unless overridden."""
        return JSON_ERROR_PARSER

    # lookups --------------------------------------------------------------------------------

    def lookup_value(self, value: str) -> str:
        """The text sent upstream for a requested value."""
        return value.strip() if self.trim_lookup_values else value

    def lookup_key(self, by: Lookup, value: str) -> str | None:
        """The key values are deduplicated and matched by; ``None`` for a value never sent.

        Blank values are never sent; emails compare trimmed and casefolded.
        """
        sent = self.lookup_value(value)
        if not sent.strip():
            return None
        return email_key(sent) if by is Lookup.EMAIL else sent

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        """Resolve each distinct value once; unsendable and missing values give ``[]``."""
        if by not in self.capabilities.lookups:
            raise NotImplementedError(f"{self.name} cannot look customers up by {by}")
        keys = [self.lookup_key(by, value) for value in values]
        distinct: dict[str, str] = {}
        for key, value in zip(keys, values, strict=True):
            if key is not None:
                distinct.setdefault(key, self.lookup_value(value))
        with upstream_kind(by.value):
            found = await self.resolve_many(by, distinct) if distinct else {}
        return [list(found.get(key, ())) if key is not None else [] for key in keys]

    async def resolve_many(
        self, by: Lookup, values: Mapping[str, str]
    ) -> Mapping[str, Sequence[CustomerRecord]]:
        """Records per lookup key (``values`` maps key -> value to send).

        One concurrent :meth:`fetch_one` per value unless a provider batches.
        """
        keys = list(values)
        found = await gather_all(self.fetch_one(by, values[key]) for key in keys)
        return dict(zip(keys, found, strict=True))

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        """The records one value names; ``[]`` when there are none."""
        raise NotImplementedError(f"{self.name} cannot look customers up by {by}")
