"""The providers this gateway knows. Adding a provider adds one line to :data:`SPECS`.

The order is the sandbox's port order and the CLI's listing order; every other order (anchors,
survivorship, writes) comes from the specs' own ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from gateway.providers import chartmogul, firstofficer, lago, stripe, tofupay
from gateway.providers.spec import ProviderSpec
from gateway.telemetry.upstream import NO_TELEMETRY

if TYPE_CHECKING:
    import httpx

    from gateway.config import IdentitySettings, ProviderSettings, Settings
    from gateway.providers.contract import ProviderAdapter
    from gateway.telemetry.upstream import UpstreamTelemetry

SPECS: Final[tuple[ProviderSpec, ...]] = (
    stripe.SPEC,
    chartmogul.SPEC,
    firstofficer.SPEC,
    lago.SPEC,
    tofupay.SPEC,
)

BY_NAME: Final[Mapping[str, ProviderSpec]] = MappingProxyType({s.name: s for s in SPECS})
PROVIDERS: Final = tuple(BY_NAME)


def spec(name: str) -> ProviderSpec:
    """The spec of a registered provider; ``KeyError`` names the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}") from None


def label(provider: str) -> str:
    """A provider's name as people write it, for messages."""
    found = BY_NAME.get(provider)
    return found.label if found is not None else provider


def build_adapters(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    telemetry: UpstreamTelemetry | None = None,
) -> dict[str, ProviderAdapter]:
    """One adapter (and so one pooled HTTP client) per enabled provider, reporting to
    ``telemetry`` (nothing when ``None``)."""
    return {
        provider.name: make_adapter(
            provider, settings.identity, (transports or {}).get(provider.name), telemetry
        )
        for provider in settings.enabled()
    }


def make_adapter(
    provider: ProviderSettings,
    identity: IdentitySettings,
    transport: httpx.AsyncBaseTransport | None = None,
    telemetry: UpstreamTelemetry | None = None,
) -> ProviderAdapter:
    return spec(provider.name).adapter(
        provider, identity, transport=transport, telemetry=telemetry or NO_TELEMETRY
    )
