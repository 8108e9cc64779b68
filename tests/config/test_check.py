"""``config check`` in-process: the configuration printed with keys masked, each provider
probed through its real adapter against its simulator (``httpx.ASGITransport``)."""

from __future__ import annotations

import io
import socket

import httpx
import pytest

from gateway.config import Settings, load_settings
from gateway.config.check import check, describe, mask
from gateway.providers.registry import SPECS

KEYS = {spec.name: f"{spec.name}_key_0123456789" for spec in SPECS}
ENV = {
    **{f"{spec.env_prefix}_BASE_URL": f"http://{spec.name}.test" for spec in SPECS},
    **{f"{spec.env_prefix}_API_KEY": KEYS[spec.name] for spec in SPECS},
}


def simulators(keys: dict[str, str] = KEYS) -> dict[str, httpx.AsyncBaseTransport]:
    """Every provider's simulator, accepting ``keys``."""
    return {
        spec.name: httpx.ASGITransport(app=spec.simulator.create_app(api_key=keys[spec.name]))
        for spec in SPECS
    }


async def run(
    settings: Settings, transports: dict[str, httpx.AsyncBaseTransport]
) -> tuple[int, str]:
    out = io.StringIO()
    code = await check(settings, out, transports=transports, deadline=2)
    return code, out.getvalue()


def probe_line(output: str, provider: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith(f"  {provider} ")]
    return line


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_every_provider_answering_with_its_key_accepted_exits_0() -> None:
    code, output = await run(load_settings(ENV), simulators())

    assert code == 0
    for spec in SPECS:
        assert f"providers.{spec.name}.base_url = http://{spec.name}.test" in output
        assert "ok" in probe_line(output, spec.name).split()
        assert KEYS[spec.name] not in output
    assert output.rstrip().endswith("All 5 reachable, keys accepted.")


async def test_a_wrong_key_is_rejected_and_never_printed() -> None:
    wrong = "sk_live_wrong_0123456789"

    code, output = await run(load_settings({**ENV, "STRIPE_API_KEY": wrong}), simulators())

    assert code == 1
    assert "key rejected" in probe_line(output, "stripe")
    assert "HTTP 401" in probe_line(output, "stripe")
    assert "ok" in probe_line(output, "lago").split()
    assert wrong not in output
    assert "providers.stripe.api_key = sk_l…(masked)" in output
    assert "1 of 5 failed: stripe" in output


async def test_a_refused_connection_is_unreachable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = {"LAGO_BASE_URL": url, "LAGO_API_KEY": KEYS["lago"]}

    code, output = await run(load_settings(env), {})

    assert code == 1
    assert f"unreachable    {url} (connection refused" in probe_line(output, "lago")
    assert "1 of 1 failed: lago" in output


async def test_no_provider_on_is_a_failure() -> None:
    settings = load_settings({"STRIPE_API_KEY": "sk", "STRIPE_ENABLED": "0"})

    code, output = await run(settings, {})

    assert code == 1
    assert "No provider is on: nothing to probe." in output


@pytest.mark.parametrize(
    ("key", "shown"),
    [("", "(none)"), ("short_key", "***"), ("sk_live_0123456789", "sk_l…(masked)")],
)
def test_keys_are_masked(key: str, shown: str) -> None:
    assert mask(key) == shown


def test_the_description_names_every_setting_by_its_file_key() -> None:
    lines = describe(load_settings({"LAGO_API_KEY": KEYS["lago"], "LAGO_DEADLINE": "7"}))

    assert lines[0] == "mode: auto (running on the configured providers)"
    assert "providers.lago.deadline = 7.0" in lines
    assert "providers.lago.base_url = https://api.getlago.com" in lines
    assert "providers.stripe.enabled = false" in lines
    assert "identity.max_hops = 3" in lines
    assert 'write_providers = ["stripe", "lago"]' in lines
