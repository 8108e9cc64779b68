"""Configuration from the environment and a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import DEFAULT_FEDERATION_VERSION, ConfigError, load_settings
from gateway.providers.registry import BY_NAME, PROVIDERS


def test_nothing_configured_means_the_sandbox() -> None:
    settings = load_settings({})

    assert settings.sandbox is True
    assert [p.name for p in settings.enabled()] == list(PROVIDERS)
    assert settings.providers["stripe"].base_url == "http://127.0.0.1:8101"
    assert settings.providers["lago"].api_key == BY_NAME["lago"].sandbox_key


def test_configuring_one_provider_turns_the_others_off() -> None:
    settings = load_settings(
        {"STRIPE_BASE_URL": "https://api.stripe.com", "STRIPE_API_KEY": "sk_live_x"}
    )

    assert settings.sandbox is False
    assert [p.name for p in settings.enabled()] == ["stripe"]
    stripe = settings.providers["stripe"]
    assert (stripe.base_url, stripe.api_key, stripe.rate_limit) == (
        "https://api.stripe.com",
        "sk_live_x",
        25.0,
    )


def test_numeric_settings_and_their_errors() -> None:
    env = {
        "LAGO_BASE_URL": "http://lago.internal",
        "LAGO_API_KEY": "k",
        "LAGO_TIMEOUT": "3.5",
        "LAGO_MAX_CONCURRENCY": "16",
        "LAGO_RATE_LIMIT": "0",
    }
    lago = load_settings(env).providers["lago"]
    assert (lago.read_timeout, lago.max_concurrency, lago.rate_limit) == (3.5, 16, 0.0)

    with pytest.raises(ConfigError, match=r"lago\.max_retries"):
        load_settings({**env, "LAGO_MAX_RETRIES": "many"})


def test_an_enabled_provider_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="CHARTMOGUL_API_KEY"):
        load_settings({"CHARTMOGUL_BASE_URL": "https://api.chartmogul.com"})


def test_keys_never_show_in_a_repr() -> None:
    settings = load_settings({"STRIPE_BASE_URL": "https://x", "STRIPE_API_KEY": "sk_live_secret"})

    assert "sk_live_secret" not in repr(settings)
    assert "sk_live_secret" not in repr(settings.providers["stripe"])


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(
        json.dumps(
            {
                "providers": {"lago": {"base_url": "http://lago", "api_key": "k", "deadline": 5}},
                "primary_provider": "lago",
                "identity": {
                    "placeholder_emails": ["Billing@Example.com"],
                    "field_priority": {"name": ["lago", "stripe"]},
                },
            }
        )
    )

    settings = load_settings({"LAGO_DEADLINE": "7"}, config_file=path)

    assert settings.primary_provider == "lago"
    assert settings.providers["lago"].deadline == 7.0  # the environment wins
    assert settings.identity.placeholder_emails == frozenset({"billing@example.com"})
    assert settings.identity.field_priority["name"] == ("lago", "stripe")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read config file"),
        ("[]", "must hold a JSON object"),
        ('{"providers": {"lago": {"timeout_ms": 1}}}', "unknown setting 'timeout_ms'"),
        ('{"primary_provider": "paypal"}', "primary_provider must be one of"),
        ('{"identity": {"max_hopz": 2}}', "identity:"),
        ('{"write_providers": ["stripe", "paypal"]}', "unknown provider\\(s\\) paypal"),
        ('{"federation_version": 2.9}', "federation_version .* not 2.9"),
    ],
)
def test_bad_config_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match=message):
        load_settings({}, config_file=path)


def test_federation_version_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text('{"federation_version": "2.5"}')

    assert load_settings({}).federation_version == DEFAULT_FEDERATION_VERSION
    assert load_settings({}, config_file=path).federation_version == "2.5"
    env = {"CUSTOMER_GATEWAY_FEDERATION_VERSION": "2.7"}
    assert load_settings(env, config_file=path).federation_version == "2.7"


@pytest.mark.parametrize("value", ["2.99", "v2.9", "", "1.0"])
def test_an_unknown_federation_version_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="CUSTOMER_GATEWAY_FEDERATION_VERSION") as raised:
        load_settings({"CUSTOMER_GATEWAY_FEDERATION_VERSION": value})

    assert repr(value) in str(raised.value)
    assert "2.0, 2.1" in str(raised.value)  # the choices are listed
