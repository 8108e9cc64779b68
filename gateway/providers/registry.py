"""Provider name -> adapter class. Adding a provider adds one line here."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from gateway.config import IdentitySettings, ProviderSettings, Settings
from gateway.providers.chartmogul.adapter import ChartMogulAdapter
from gateway.providers.contract import ProviderAdapter
from gateway.providers.firstofficer.adapter import FirstOfficerAdapter
from gateway.providers.lago.adapter import LagoAdapter
from gateway.providers.stripe.adapter import StripeAdapter
from gateway.providers.tofupay.adapter import TofupayAdapter

AdapterFactory = Callable[..., ProviderAdapter]

ADAPTERS: Mapping[str, AdapterFactory] = {
    "stripe": StripeAdapter,
    "chartmogul": ChartMogulAdapter,
    "firstofficer": FirstOfficerAdapter,
    "lago": LagoAdapter,
    "tofupay": TofupayAdapter,
}


def build_adapters(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> dict[str, ProviderAdapter]:
    """One adapter (and so one pooled HTTP client) per enabled provider."""
    adapters: dict[str, ProviderAdapter] = {}
    for provider in settings.enabled():
        factory = ADAPTERS[provider.name]
        adapters[provider.name] = factory(
            provider, settings.identity, transport=(transports or {}).get(provider.name)
        )
    return adapters


def make_adapter(
    provider: ProviderSettings,
    identity: IdentitySettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProviderAdapter:
    return ADAPTERS[provider.name](provider, identity, transport=transport)
