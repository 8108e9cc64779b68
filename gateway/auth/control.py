"""The gateway's access policy, built once per app from the settings: who is admitted, as
which principal, what they may introspect, and their per-key limits.

The sandbox is open (every caller has every scope) unless credentials are configured; live
mode refuses to start without credentials unless ``auth.open`` says so explicitly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from jwt import PyJWKClient

from gateway.auth.keys import match
from gateway.auth.limits import PerKeyLimits
from gateway.auth.scopes import OPEN, Principal, Scope
from gateway.auth.tokens import JwtVerifier, TokenRefused
from gateway.config.casts import ConfigError
from gateway.config.settings import Settings

__all__ = [
    "MAX_CREDENTIAL",
    "AccessControl",
    "Unauthenticated",
    "access_control",
    "require_access_config",
]

MAX_CREDENTIAL: Final = 8192
"""Characters a bearer credential may have; a longer one is refused before any hashing."""

logger = logging.getLogger("customer_gateway.auth")


class Unauthenticated(Exception):
    """Missing or unacceptable credentials; the message says which, never echoing them."""

    def __init__(self, message: str, *, presented: bool) -> None:
        super().__init__(message)
        self.message = message
        self.presented = presented


class AccessControl:
    """Authenticates requests and holds what the policy allows; one per app."""

    def __init__(
        self,
        settings: Settings,
        *,
        enforced: bool,
        jwks: PyJWKClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        auth = settings.auth
        self.enforced = enforced
        self.keys = auth.api_keys
        self.tokens = JwtVerifier(auth.jwt, jwks) if auth.jwt.enabled else None
        self.limits = PerKeyLimits(auth.rate_limit, clock)
        self.introspection_for_all = (
            settings.sandbox if auth.introspection is None else auth.introspection
        )
        self.graphiql = settings.sandbox if auth.graphiql is None else auth.graphiql

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal an ``Authorization`` header value admits, or :class:`Unauthenticated`."""
        if not self.enforced:
            return OPEN
        if not authorization:
            raise Unauthenticated(
                "authentication required: send Authorization: Bearer <API key or token>",
                presented=False,
            )
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated(
                "use Authorization: Bearer <API key or token>", presented=bool(credential)
            )
        if len(credential) > MAX_CREDENTIAL:
            raise Unauthenticated("the bearer credential is too long", presented=True)
        key = match(self.keys, credential)
        if key is not None:
            return Principal(key.id, key.scopes)
        if self.tokens is None or credential.count(".") != 2:
            raise Unauthenticated("the API key is not valid", presented=True)
        try:
            return await self.tokens.verify(credential)
        except TokenRefused as exc:
            raise Unauthenticated(str(exc), presented=True) from None

    def may_introspect(self, principal: Principal) -> bool:
        return self.introspection_for_all or principal.allows(Scope.INTROSPECTION)


def require_access_config(settings: Settings) -> None:
    """Live mode needs credentials configured, or ``auth.open`` saying it runs without them."""
    auth = settings.auth
    if auth.open and auth.configured:
        raise ConfigError(
            "auth.open (CUSTOMER_GATEWAY_AUTH_OPEN) turns access control off, but API keys or "
            "JWTs are configured: remove one or the other"
        )
    if not settings.sandbox and not auth.configured and not auth.open:
        raise ConfigError(
            "live mode needs access control: add auth.api_keys or auth.jwt to the config file "
            "(docs/security.md#access-control), or run without it on purpose with "
            "auth.open: true (CUSTOMER_GATEWAY_AUTH_OPEN=1)"
        )


def access_control(
    settings: Settings,
    *,
    jwks: PyJWKClient | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AccessControl:
    """The app's policy; a ConfigError when live mode has none, a warning when it is open."""
    require_access_config(settings)
    if not settings.sandbox and settings.auth.open:
        logger.warning(
            "access control is OFF (auth.open): anyone who can reach this gateway can read "
            "and write every customer. Configure auth.api_keys or auth.jwt to turn it on."
        )
    return AccessControl(settings, enforced=settings.auth.configured, jwks=jwks, clock=clock)
