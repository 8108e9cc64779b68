"""Modes: ``auto`` (sandbox unless something is configured), ``sandbox`` and ``live``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ConfigError, load_settings
from gateway.config.modes import check_host
from gateway.providers.registry import BY_NAME, PROVIDERS
from tests.config.conftest import Load

STRIPE_KEY = "sk_live_0123456789"
NO_PROVIDER = "live mode needs at least one provider on"


def test_nothing_configured_runs_the_sandbox_in_auto_mode(load: Load) -> None:
    settings = load()

    assert (settings.mode, settings.sandbox, settings.running) == ("auto", True, "sandbox")


@pytest.mark.parametrize(
    ("data", "env"),
    [
        pytest.param(None, {"STRIPE_API_KEY": STRIPE_KEY}, id="env"),
        pytest.param({"providers": {"stripe": {"api_key": STRIPE_KEY}}}, {}, id="file"),
    ],
)
def test_an_api_key_alone_configures_its_provider_at_the_public_url(
    load: Load, data: dict[str, Any] | None, env: dict[str, str]
) -> None:
    settings = load(data, env)

    assert (settings.sandbox, settings.running) == (False, "live")
    assert [p.name for p in settings.enabled()] == ["stripe"]
    stripe = settings.providers["stripe"]
    assert (stripe.base_url, stripe.api_key) == (BY_NAME["stripe"].base_url, STRIPE_KEY)


def test_a_provider_section_without_url_or_key_keeps_the_sandbox(load: Load) -> None:
    settings = load({"providers": {"lago": {"max_concurrency": 4}}})

    assert settings.sandbox is True
    assert settings.providers["lago"].max_concurrency == 4
    assert [p.name for p in settings.enabled()] == list(PROVIDERS)


def test_sandbox_mode_ignores_configured_providers_and_says_so(
    load: Load, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"CUSTOMER_GATEWAY_MODE": "sandbox", "STRIPE_API_KEY": STRIPE_KEY}

    with caplog.at_level(logging.WARNING, logger="customer_gateway.config"):
        settings = load({"providers": {"lago": {"base_url": "https://lago.example"}}}, env)

    assert (settings.mode, settings.sandbox) == ("sandbox", True)
    assert [p.name for p in settings.enabled()] == list(PROVIDERS)
    stripe, lago = settings.providers["stripe"], settings.providers["lago"]
    assert (stripe.base_url, stripe.api_key) == ("http://127.0.0.1:8101", "sk_test_sandbox")
    assert lago.base_url == "http://127.0.0.1:8104"
    [warning] = caplog.records
    assert "stripe, lago" in warning.getMessage() and "--mode live" in warning.getMessage()


@pytest.mark.parametrize(
    ("data", "env", "mode"),
    [
        pytest.param(None, {"CUSTOMER_GATEWAY_MODE": "live"}, None, id="env"),
        pytest.param({"mode": "live"}, {}, None, id="file"),
        pytest.param(None, {}, "live", id="option"),
        pytest.param(
            None, {"STRIPE_API_KEY": STRIPE_KEY, "STRIPE_ENABLED": "0"}, "live", id="all-off"
        ),
    ],
)
def test_live_mode_never_falls_back_to_the_sandbox(
    load: Load, data: dict[str, Any] | None, env: dict[str, str], mode: str | None
) -> None:
    with pytest.raises(ConfigError, match=NO_PROVIDER):
        if mode is None:
            load(data, env)
        else:
            load_settings(env, mode=mode)


def test_live_mode_runs_the_configured_providers() -> None:
    settings = load_settings({"STRIPE_API_KEY": STRIPE_KEY}, mode="live")

    assert (settings.mode, settings.sandbox, settings.running) == ("live", False, "live")
    assert [p.name for p in settings.enabled()] == ["stripe"]


def test_the_option_beats_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text('{"mode": "live"}')
    live_env = {"CUSTOMER_GATEWAY_MODE": "live"}

    assert load_settings({}, config_file=path, mode="sandbox").mode == "sandbox"
    assert load_settings({"CUSTOMER_GATEWAY_MODE": "auto"}, config_file=path).mode == "auto"
    assert load_settings(live_env, mode="auto").mode == "auto"


@pytest.mark.parametrize(
    ("env", "mode", "where"),
    [({"CUSTOMER_GATEWAY_MODE": "prod"}, None, "CUSTOMER_GATEWAY_MODE"), ({}, "prod", "--mode")],
)
def test_an_unknown_mode_is_refused(env: dict[str, str], mode: str | None, where: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{where}: expected one of auto, sandbox, live"):
        load_settings(env, mode=mode)


# -- where the gateway may listen ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_the_sandbox_listens_on_loopback(host: str) -> None:
    check_host(load_settings({}), host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gateway.example.com"])
def test_the_sandbox_refuses_other_interfaces_and_says_how_to_go_live(host: str) -> None:
    with pytest.raises(ConfigError, match=rf"--host {host}: the sandbox serves fake data") as err:
        check_host(load_settings({}), host)

    assert f"serve --mode live --host {host}" in str(err.value)


def test_configured_providers_may_listen_anywhere() -> None:
    check_host(load_settings({"STRIPE_API_KEY": STRIPE_KEY}), "0.0.0.0")
