"""Gateways with access control, in-process against the simulators, and credentials for them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from gateway.auth.keys import ApiKey, digest, new_key
from gateway.auth.scopes import SCOPES
from gateway.config import AuthSettings, Settings, load_settings, sandbox_settings
from gateway.sandbox.dataset import Dataset
from tests.conftest import GatewayHarness, gateway_harness

READ, WRITE, PII, INTROSPECTION = SCOPES
ISSUER = "https://id.example.test/"
AUDIENCE = "customer-gateway"
SECRET_ENV = "GATEWAY_TEST_JWT_SECRET"
SECRET = "an-hs256-test-secret-of-more-than-32-characters"
SHOWCASE = '{ customerByEmail(email: "ada@lovelace.example") { name } }'


@dataclass(frozen=True)
class Keys:
    """One API key per combination the tests need, by name: the key text and its config."""

    texts: Mapping[str, str]
    configured: tuple[ApiKey, ...]

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.texts[name]}"}


KEY_SCOPES: Mapping[str, Sequence[str]] = {
    "reader": [READ],
    "writer": [WRITE],
    "editor": [READ, WRITE],
    "support": [READ, PII],
    "schema": [READ, INTROSPECTION],
    "admin": list(SCOPES),
}


@pytest.fixture(scope="session")
def keys() -> Keys:
    texts = {name: new_key() for name in KEY_SCOPES}
    configured = tuple(
        ApiKey(name, digest(texts[name]), frozenset(scopes)) for name, scopes in KEY_SCOPES.items()
    )
    return Keys(texts, configured)


def with_auth(auth: AuthSettings, *, sandbox: bool = True) -> Settings:
    return Settings(providers=sandbox_settings(), auth=auth, sandbox=sandbox)


@asynccontextmanager
async def secured(
    dataset: Dataset, auth: AuthSettings, *, sandbox: bool = True
) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(dataset, with_auth(auth, sandbox=sandbox)) as harness:
        yield harness


@pytest.fixture
async def keyed(small_dataset: Dataset, keys: Keys) -> AsyncIterator[GatewayHarness]:
    """A gateway accepting :func:`keys` (per-key limits off, so tests may send freely)."""
    auth = AuthSettings(api_keys=keys.configured)
    auth = replace(auth, rate_limit=replace(auth.rate_limit, rate=0, cost_per_minute=0))
    async with secured(small_dataset, auth) as harness:
        yield harness


async def post(
    harness: GatewayHarness,
    query: str,
    headers: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> httpx.Response:
    return await harness.client.post(
        "/graphql", json={"query": query, "variables": dict(variables or {})}, headers=headers
    )


def config_file(tmp_path: Path, auth: Mapping[str, Any]) -> Path:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({"auth": auth}))
    return path


def jwt_settings(
    tmp_path: Path,
    jwt_section: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    **auth: Any,
) -> Settings:
    """Settings for the sandbox with ``auth.jwt`` as given (and other ``auth`` keys), loaded
    as ``serve`` loads them."""
    section = {"issuer": ISSUER, "audience": AUDIENCE, **jwt_section}
    rates = {"rate": 0, "cost_per_minute": 0}
    path = config_file(tmp_path, {"jwt": section, "rate_limit": rates, **auth})
    return load_settings(dict(env or {}), config_file=path, mode="sandbox")


def claims(scopes: str | list[str] | None, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now,
        "exp": now + 300,
    }
    if scopes is not None:
        found["scope"] = scopes
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def hs256(scopes: str | list[str] | None = READ, **changes: Any) -> str:
    return jwt.encode(claims(scopes, **changes), SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
