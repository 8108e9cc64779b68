"""Gateway configuration: provider endpoints, keys and resilience knobs, from env or a file.

Three modes (``CUSTOMER_GATEWAY_MODE`` or ``serve --mode``): ``auto``, the default, points every
provider at the built-in sandbox until some provider has a base URL or an API key (environment
or config file), then runs the configured providers only; ``sandbox`` always runs the sandbox;
``live`` never does, and refuses to start without a configured provider.
Every setting is declared once in :mod:`gateway.config.schema` and read through one path
(:mod:`gateway.config.sources`): declared default < config file < environment, cast and checked
at start-up. docs/configuration.md lists the variables and file keys.
"""

from gateway.config.casts import ConfigError
from gateway.config.loader import load_settings
from gateway.config.providers import tune
from gateway.config.schema import DEFAULT_FEDERATION_VERSION
from gateway.config.settings import (
    AuthSettings,
    BreakerPolicy,
    CachePolicy,
    IdentitySettings,
    ProviderSettings,
    RateLimit,
    RetryPolicy,
    Settings,
    SyncSettings,
    Timeouts,
    default_link_rules,
    sandbox_settings,
)

__all__ = [
    "DEFAULT_FEDERATION_VERSION",
    "AuthSettings",
    "BreakerPolicy",
    "CachePolicy",
    "ConfigError",
    "IdentitySettings",
    "ProviderSettings",
    "RateLimit",
    "RetryPolicy",
    "Settings",
    "SyncSettings",
    "Timeouts",
    "default_link_rules",
    "load_settings",
    "sandbox_settings",
    "tune",
]
