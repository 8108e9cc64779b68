"""Bearer JWTs end to end: HS256 with a secret from the environment, RS256 and ES256 against a
JWKS served on loopback; every scope, and every way a token can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.auth.control import access_control
from gateway.sandbox.dataset import Dataset
from tests.auth.conftest import (
    INTROSPECTION,
    PII,
    READ,
    SECRET,
    SECRET_ENV,
    SHOWCASE,
    WRITE,
    bearer,
    claims,
    hs256,
    jwt_settings,
    post,
)
from tests.auth.test_api_keys import CREATE, INTROSPECT, only_error
from tests.conftest import GatewayHarness, gateway_harness

EMAIL = '{ customerByEmail(email: "ada@lovelace.example") { email } }'


@dataclass
class Jwks:
    """Signing keys, and the JWKS app publishing their public halves (counting fetches)."""

    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    fetches: int = 0

    def app(self) -> Starlette:
        async def keys(request: Request) -> JSONResponse:
            self.fetches += 1
            rsa_jwk = RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True)
            ec_jwk = ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True)
            return JSONResponse(
                {
                    "keys": [
                        {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                        {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
                    ]
                }
            )

        return Starlette(routes=[Route("/.well-known/jwks.json", keys)])

    def rs256(self, scopes: Any = READ, kid: str = "rsa-1", **changes: Any) -> str:
        token: str = jwt.encode(
            claims(scopes, **changes), self.rsa, algorithm="RS256", headers={"kid": kid}
        )
        return token

    def es256(self, scopes: Any = READ) -> str:
        token: str = jwt.encode(claims(scopes), self.ec, algorithm="ES256", headers={"kid": "ec-1"})
        return token


@pytest.fixture(scope="module")
def signing_keys() -> tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(
        ec.SECP256R1()
    )


@pytest.fixture
def jwks(
    signing_keys: tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey],
    live_server: Callable[[ASGIApp], str],
) -> Iterator[tuple[Jwks, str]]:
    published = Jwks(*signing_keys)
    yield published, live_server(published.app()) + "/.well-known/jwks.json"


@pytest.fixture
async def hs_gateway(small_dataset: Dataset, tmp_path: Path) -> AsyncIterator[GatewayHarness]:
    settings = jwt_settings(
        tmp_path,
        {"hs_secret_env": SECRET_ENV},
        {SECRET_ENV: SECRET},
        introspection=False,
    )
    async with gateway_harness(small_dataset, settings) as harness:
        yield harness


@pytest.fixture
async def rs_gateway(
    small_dataset: Dataset, tmp_path: Path, jwks: tuple[Jwks, str]
) -> AsyncIterator[GatewayHarness]:
    settings = jwt_settings(
        tmp_path, {"jwks_url": jwks[1], "algorithms": ["RS256", "ES256"]}, introspection=False
    )
    async with gateway_harness(small_dataset, settings) as harness:
        yield harness


async def check_every_scope(gateway: GatewayHarness, sign: Callable[[Any], str]) -> None:
    """What a token with each scope may do: read, write, see personal data, introspect."""
    read = await post(gateway, SHOWCASE, bearer(sign(READ)))
    assert read.json() == {"data": {"customerByEmail": {"name": "Ada Lovelace"}}}
    assert (await post(gateway, CREATE, bearer(sign(READ)))).status_code == 403

    write = await post(gateway, CREATE, bearer(sign(WRITE)))
    assert write.json()["data"]["createCustomer"]["actor"] == "jwt:user-42"
    assert (await post(gateway, SHOWCASE, bearer(sign(WRITE)))).status_code == 403

    masked = await post(gateway, EMAIL, bearer(sign(READ)))
    shown = await post(gateway, EMAIL, bearer(sign(f"{READ} {PII}")))
    assert masked.json()["data"]["customerByEmail"]["email"] == "a***@lovelace.example"
    assert shown.json()["data"]["customerByEmail"]["email"] == "ada@lovelace.example"

    assert (await post(gateway, INTROSPECT, bearer(sign(READ)))).status_code == 403
    schema = await post(gateway, INTROSPECT, bearer(sign(f"{READ} {INTROSPECTION}")))
    assert schema.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_hs256_tokens_grant_their_scopes(hs_gateway: GatewayHarness) -> None:
    await check_every_scope(hs_gateway, hs256)


async def test_rs256_tokens_grant_their_scopes(
    rs_gateway: GatewayHarness, jwks: tuple[Jwks, str]
) -> None:
    await check_every_scope(rs_gateway, jwks[0].rs256)


async def test_es256_tokens_are_verified_against_the_jwks(
    rs_gateway: GatewayHarness, jwks: tuple[Jwks, str]
) -> None:
    response = await post(rs_gateway, SHOWCASE, bearer(jwks[0].es256()))

    assert response.status_code == 200


async def test_the_key_set_is_fetched_once_and_cached(
    rs_gateway: GatewayHarness, jwks: tuple[Jwks, str]
) -> None:
    published, _ = jwks
    for _ in range(3):
        assert (await post(rs_gateway, SHOWCASE, bearer(published.rs256()))).status_code == 200

    assert published.fetches == 1


async def test_scopes_may_come_as_a_list_claim(small_dataset: Dataset, tmp_path: Path) -> None:
    section = {"hs_secret_env": SECRET_ENV, "scopes_claim": "scp"}
    settings = jwt_settings(tmp_path, section, {SECRET_ENV: SECRET})
    async with gateway_harness(small_dataset, settings) as gateway:
        listed = await post(gateway, SHOWCASE, bearer(hs256(None, scp=[READ])))
        in_scope_claim = await post(gateway, SHOWCASE, bearer(hs256(READ)))

    assert listed.status_code == 200
    assert in_scope_claim.status_code == 403  # `scope` is not the configured claim


def expired() -> str:
    return hs256(exp=int(time.time()) - 3600)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (expired, "expired"),
        (lambda: hs256(iss="https://evil.example/"), "issuer"),
        (lambda: hs256(aud="another-service"), "audience"),
        (lambda: hs256(sub=None), "'sub'"),
        (lambda: hs256(exp=None), "'exp'"),
        (lambda: hs256(nbf=int(time.time()) + 3600), "not valid yet"),
        (lambda: jwt.encode(claims(READ), "another-secret-of-at-least-32-chars!!"), "signature"),
        (lambda: jwt.encode(claims(READ), None, algorithm="none"), "'none'"),
        (lambda: jwt.encode(claims(READ), SECRET * 2, algorithm="HS512"), "'HS512'"),
        (lambda: "a.b.c", "neither"),
    ],
    ids=[
        "expired",
        "issuer",
        "audience",
        "no subject",
        "no expiry",
        "not yet valid",
        "wrong secret",
        "alg none",
        "alg not allowed",
        "garbage",
    ],
)
async def test_a_bad_token_is_refused_before_anything_runs(
    hs_gateway: GatewayHarness, token: Callable[[], str], reason: str
) -> None:
    response = await post(hs_gateway, SHOWCASE, bearer(token()))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    error = only_error(response.json())
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert reason in error["message"]
    assert sum(hs_gateway.call_counts().values()) == 0


async def test_expiry_allows_the_configured_leeway(hs_gateway: GatewayHarness) -> None:
    response = await post(hs_gateway, SHOWCASE, bearer(hs256(exp=int(time.time()) - 5)))

    assert response.status_code == 200  # 5 s late, within the default 30 s leeway


async def test_rs256_refusals(rs_gateway: GatewayHarness, jwks: tuple[Jwks, str]) -> None:
    published, _ = jwks
    public_pem = published.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The classic confusion: an HS256 token "signed" with the public key as the secret (PyJWT
    # refuses to make one, so it is made by hand).
    confused = _hmac_signed(claims(READ), public_pem)
    cases = {
        published.rs256(kid="rotated-away"): "kid",
        published.rs256(aud="another-service"): "audience",
        published.rs256(exp=int(time.time()) - 3600): "expired",
        jwt.encode(claims(READ), published.rsa, algorithm="RS256"): "kid",
    }
    for token, reason in cases.items():
        response = await post(rs_gateway, SHOWCASE, bearer(token))
        assert response.status_code == 401, reason
        assert reason in only_error(response.json())["message"]
    hs = await post(rs_gateway, SHOWCASE, bearer(confused))
    assert hs.status_code == 401 and "'HS256'" in only_error(hs.json())["message"]
    assert sum(rs_gateway.call_counts().values()) == 0


async def test_an_unreachable_key_set_refuses_tokens_quickly(tmp_path: Path) -> None:
    """A JWKS URL nothing answers: the token is refused (the fetch is bounded), not hung."""
    settings = jwt_settings(tmp_path, {"jwks_url": "http://127.0.0.1:9/jwks.json"})
    access = access_control(settings)
    from gateway.auth.control import Unauthenticated

    with pytest.raises(Unauthenticated, match="cannot be fetched"):
        await access.authenticate(f"Bearer {_unsigned_rs256()}")


def _hmac_signed(payload: dict[str, Any], secret: bytes) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = part(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"


def _unsigned_rs256() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token: str = jwt.encode(claims(READ), key, algorithm="RS256", headers={"kid": "k"})
    return token
