"""``/healthz`` answers while the process lives; ``/readyz`` says whether it can serve."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.config import Settings, sandbox_settings, tune
from gateway.sandbox.dataset import SHOWCASE_EMAIL, Dataset
from gateway.sandbox.faults import Faults
from tests.conftest import GatewayHarness, gateway_harness

PROVIDERS = ("chartmogul", "firstofficer", "lago", "stripe", "tofupay")
QUERY = "query($email: String!) { customerByEmail(email: $email) { name } }"


async def readyz(gateway: GatewayHarness, status: int) -> dict[str, Any]:
    response = await gateway.client.get("/readyz")
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_ready_when_every_provider_is_usable(gateway: GatewayHarness) -> None:
    await gateway.query(QUERY, {"email": SHOWCASE_EMAIL})

    body = await readyz(gateway, 200)

    assert body == {
        "status": "ready",
        "sandbox": True,
        "providers": {
            name: {
                "circuit": "closed",
                "key_rejected": False,
                "last_error": None,
                "rate_limit_cooldown_seconds": 0.0,
                "usable": True,
            }
            for name in PROVIDERS
        },
    }


async def test_a_rejected_key_makes_that_provider_unusable_but_the_gateway_ready(
    gateway: GatewayHarness,
) -> None:
    gateway.set_faults("lago", Faults(next_statuses=[401] * 5))

    await gateway.query(QUERY, {"email": SHOWCASE_EMAIL})
    body = await readyz(gateway, 200)

    lago = body["providers"]["lago"]
    assert lago["key_rejected"] is True and lago["usable"] is False
    assert lago["circuit"] == "closed"  # a 401 proves the provider up: the breaker ignores it
    assert lago["last_error"]["kind"] == "auth" and lago["last_error"]["status"] == 401
    assert lago["last_error"]["at"].endswith("+00:00")
    assert body["status"] == "ready" and body["providers"]["stripe"]["usable"] is True


async def test_not_ready_when_every_circuit_is_open(small_dataset: Dataset) -> None:
    base = Settings(providers=sandbox_settings())
    settings = replace(
        base, providers={n: tune(p, breaker_threshold=1) for n, p in base.providers.items()}
    )
    async with gateway_harness(small_dataset, settings, breaker_reset=600) as gateway:
        for name in PROVIDERS:
            gateway.set_faults(name, Faults(outage=True))
        await gateway.query(QUERY, {"email": SHOWCASE_EMAIL})

        body = await readyz(gateway, 503)

    assert body["status"] == "not_ready"
    for entry in body["providers"].values():
        assert entry["circuit"] == "open" and entry["usable"] is False
        assert entry["key_rejected"] is False
        assert entry["last_error"]["kind"] == "unavailable"


async def test_a_429_shows_the_cool_down_it_asked_for(gateway: GatewayHarness) -> None:
    # A Retry-After past the deadline: the gateway gives up at once instead of waiting.
    gateway.set_faults("stripe", Faults(next_statuses=[429] * 5, retry_after=60))

    await gateway.query(QUERY, {"email": SHOWCASE_EMAIL})
    stripe = (await readyz(gateway, 200))["providers"]["stripe"]

    assert 50 < stripe["rate_limit_cooldown_seconds"] <= 60
    assert stripe["last_error"]["kind"] == "rate_limited"
    assert stripe["usable"] is True and stripe["key_rejected"] is False


async def test_healthz_stays_live_when_not_ready(small_dataset: Dataset) -> None:
    async with gateway_harness(small_dataset) as gateway:
        for name in PROVIDERS:
            gateway.set_faults(name, Faults(next_statuses=[403] * 5))
        await gateway.query(QUERY, {"email": SHOWCASE_EMAIL})

        ready = await readyz(gateway, 503)
        live = await gateway.client.get("/healthz")

    assert all(p["key_rejected"] for p in ready["providers"].values())
    assert live.status_code == 200 and live.json()["status"] == "ok"
