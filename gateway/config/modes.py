"""What each mode allows once the settings are loaded: where the gateway may listen, and the
banner that makes sandbox data impossible to mistake for real customers."""

from __future__ import annotations

import ipaddress
from typing import Final

from gateway.config.casts import ConfigError
from gateway.config.settings import Settings

__all__ = ["SANDBOX_BANNER", "check_host", "is_loopback"]

SANDBOX_BANNER: Final = """\
************************************************************************
*  SANDBOX MODE: every customer served here is FAKE sandbox data.      *
*  No request reaches a real provider. To serve real providers, set    *
*  their API keys and run: customer-gateway serve --mode live          *
************************************************************************"""


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.1``, ``::1``, ``[::1]``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(settings: Settings, host: str) -> None:
    """The sandbox listens on loopback only: its fake data must never look like a live
    service on the network."""
    if settings.sandbox and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: the sandbox serves fake data on loopback only (127.0.0.1, ::1, "
            "localhost). To serve on other interfaces, configure your providers (e.g. "
            "STRIPE_API_KEY) and run: customer-gateway serve --mode live --host "
            f"{host}. See docs/configuration.md#modes"
        )
