"""Misspelt variables are named at start-up (refused in live mode); unrelated ones never are."""

from __future__ import annotations

import logging

import pytest

from gateway.config import ConfigError, load_settings
from gateway.config.schema import GATEWAY, IDENTITY, PROVIDER
from gateway.config.typos import Misspelt, known_variables, misspelt_variables
from gateway.providers.registry import SPECS

MISSPELT = {
    "STRPE_API_KEY": "STRIPE_API_KEY",
    "STRIPE_BASEURL": "STRIPE_BASE_URL",
    "CUSTOMER_GATEWAY_CONFG": "CUSTOMER_GATEWAY_CONFIG",
    "CUSTOMERGATEWAY_MODE": "CUSTOMER_GATEWAY_MODE",
    "LAGO_APIKEY": "LAGO_API_KEY",
    "STRIPE_KEY": "STRIPE_API_KEY",
    "CHARTMOGUL_TIMEOUT_MS": "CHARTMOGUL_TIMEOUT",
    "stripe_api_key": "STRIPE_API_KEY",
    "SANDBOX_STRPE_KEY": "SANDBOX_STRIPE_KEY",
}
UNRELATED = [
    "PATH",
    "HOME",
    "PYTHONPATH",
    "LANG",
    "LC_ALL",
    "SHELL",
    "STRIPE_ACCOUNT_ID",
    "STRIPE_PUBLISHABLE_KEY",
    "CUSTOMER_GATEWAY_WORKERS",
]


@pytest.mark.parametrize(("name", "meant"), MISSPELT.items())
def test_a_misspelt_variable_is_named_with_the_one_meant(name: str, meant: str) -> None:
    assert misspelt_variables({name: "x"}) == [Misspelt(name, meant)]


@pytest.mark.parametrize("name", UNRELATED)
def test_other_programs_variables_are_left_alone(name: str) -> None:
    assert misspelt_variables({name: "x"}) == []


def test_known_and_empty_variables_are_not_suspects() -> None:
    env = {name: "x" for name in known_variables()} | {"STRPE_API_KEY": ""}

    assert misspelt_variables(env) == []


def test_every_declared_variable_is_known() -> None:
    declared = {s.env for s in (*GATEWAY, *IDENTITY) if s.env} | {
        f"{spec.env_prefix}_{s.env}" for spec in SPECS for s in PROVIDER if s.env
    }

    assert declared | {"CUSTOMER_GATEWAY_CONFIG", "SANDBOX_LAGO_KEY"} <= known_variables()


@pytest.mark.parametrize("mode", ["auto", "sandbox"])
def test_misspelt_variables_are_warned_about_outside_live_mode(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"STRPE_API_KEY": "sk_live_0123456789", "PATH": "/bin", "LAGO_APIKEY": "k"}

    with caplog.at_level(logging.WARNING, logger="customer_gateway.config"):
        settings = load_settings(env, mode=mode)

    assert settings.sandbox is True  # the misspelt key configured nothing
    assert [r.getMessage() for r in caplog.records] == [
        "LAGO_APIKEY is not a variable the gateway reads; did you mean LAGO_API_KEY?",
        "STRPE_API_KEY is not a variable the gateway reads; did you mean STRIPE_API_KEY?",
    ]
    assert "sk_live_0123456789" not in caplog.text


def test_live_mode_refuses_misspelt_variables() -> None:
    env = {"STRIPE_API_KEY": "sk_live_0123456789", "LAGO_BASEURL": "https://lago.example"}

    with pytest.raises(ConfigError, match=r"LAGO_BASEURL \(did you mean LAGO_BASE_URL\?\)"):
        load_settings({**env, "CUSTOMER_GATEWAY_MODE": "live"})
    assert load_settings(env).providers["stripe"].enabled  # auto mode: a warning only
