"""Bearer JWTs, verified with PyJWT: signature (JWKS or shared secret), issuer, audience,
expiry; the subject becomes the key id (``jwt:<sub>``) and a claim the scopes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Final

import jwt
from jwt import PyJWKClient

from gateway.auth.scopes import Principal
from gateway.config.settings import JwtSettings

__all__ = ["HS_ALGORITHMS", "JWKS_LIFESPAN", "JWKS_TIMEOUT", "JwtVerifier", "TokenRefused"]

HS_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})
JWKS_TIMEOUT: Final = 5.0
"""Seconds one fetch of the key set may take; a token waiting on it is refused after that."""
JWKS_LIFESPAN: Final = 300.0
"""Seconds the fetched key set is used before it is fetched again (an unknown ``kid`` refetches
at most every 30 s, PyJWT's cool-down)."""

logger = logging.getLogger("customer_gateway.auth")


class TokenRefused(Exception):
    """A token that does not admit its bearer; the message says why and is safe to show."""


class JwtVerifier:
    """Checks tokens against :class:`JwtSettings`. ``jwks`` replaces the client made from
    ``jwks_url`` (tests)."""

    def __init__(self, settings: JwtSettings, jwks: PyJWKClient | None = None) -> None:
        self.settings = settings
        self._jwks = jwks
        if jwks is None and settings.jwks_url:
            self._jwks = PyJWKClient(
                settings.jwks_url, cache_keys=True, lifespan=JWKS_LIFESPAN, timeout=JWKS_TIMEOUT
            )

    async def verify(self, token: str) -> Principal:
        """The token's principal, or :class:`TokenRefused`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenRefused("the bearer token is neither a known API key nor a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.settings.algorithms:
            raise TokenRefused(f"tokens signed with {algorithm!r} are not accepted")
        try:
            key = await self._key(algorithm, header)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                leeway=self.settings.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("the token's issuer is not accepted here") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("the token is for another audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(f"the token has no {exc.claim!r} claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("the token is not valid yet") from None
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("cannot fetch the JWKS at %s: %s", self.settings.jwks_url, exc)
            raise TokenRefused("the token's signing keys cannot be fetched now") from None
        except jwt.PyJWKClientError:
            raise TokenRefused("the token's signing key (kid) is not in the key set") from None
        except (jwt.InvalidTokenError, jwt.PyJWKError):
            raise TokenRefused("the token's signature or claims are invalid") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            raise TokenRefused("the token's subject (sub) must be a non-empty string")
        return Principal(f"jwt:{subject}", self._scopes(claims))

    async def _key(self, algorithm: str, header: Mapping[str, Any]) -> Any:
        if algorithm in HS_ALGORITHMS:
            return self.settings.hs_secret
        if self._jwks is None:  # load_settings pairs every algorithm with its key source
            raise TokenRefused(f"tokens signed with {algorithm!r} are not accepted")
        if not isinstance(header.get("kid"), str):
            raise TokenRefused("the token names no signing key (kid)")
        # PyJWT's client fetches with urllib (blocking): keep it off the event loop.
        signing = await asyncio.to_thread(self._jwks.get_signing_key, header["kid"])
        return signing.key

    def _scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """A space-separated string (OAuth's ``scope``) or a list of strings (``scp``)."""
        value = claims.get(self.settings.scopes_claim)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(item for item in value if isinstance(item, str))
        return frozenset()
