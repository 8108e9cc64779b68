"""Configuration from the environment and a JSON file: modes, precedence, grouped settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import (
    DEFAULT_FEDERATION_VERSION,
    BreakerPolicy,
    ConfigError,
    ProviderSettings,
    RateLimit,
    RetryPolicy,
    Settings,
    Timeouts,
    load_settings,
    tune,
)
from gateway.providers.registry import BY_NAME, PROVIDERS
from tests.config.conftest import Load

LAGO = {"LAGO_BASE_URL": "http://lago.internal", "LAGO_API_KEY": "k"}


def test_nothing_configured_means_the_sandbox() -> None:
    settings = load_settings({})

    assert settings.sandbox is True
    assert [p.name for p in settings.enabled()] == list(PROVIDERS)
    assert settings.providers["stripe"].base_url == "http://127.0.0.1:8101"
    assert settings.providers["lago"].api_key == BY_NAME["lago"].sandbox_key
    assert settings.providers["stripe"].rate_limit == RateLimit(rate=0.0, burst=10)


def test_configuring_one_provider_turns_the_others_off() -> None:
    settings = load_settings(
        {"STRIPE_BASE_URL": "https://api.stripe.com", "STRIPE_API_KEY": "sk_live_x"}
    )

    assert settings.sandbox is False
    assert [p.name for p in settings.enabled()] == ["stripe"]
    stripe = settings.providers["stripe"]
    assert (stripe.base_url, stripe.api_key, stripe.rate_limit.rate) == (
        "https://api.stripe.com",
        "sk_live_x",
        25.0,
    )
    # The default write providers name Lago, which is off: writes report it as skipped.
    assert settings.write_providers == ("stripe", "lago")


def test_every_provider_setting_lands_in_its_group() -> None:
    env = {
        **LAGO,
        "LAGO_TIMEOUT": "3.5",
        "LAGO_CONNECT_TIMEOUT": "1",
        "LAGO_DEADLINE": "9",
        "LAGO_MAX_RETRIES": "4",
        "LAGO_MAX_CONCURRENCY": "16",
        "LAGO_RATE_LIMIT": "0",
        "LAGO_RATE_BURST": "3",
        "LAGO_BREAKER_THRESHOLD": "0",
        "LAGO_BREAKER_RESET": "2.5",
    }

    lago = load_settings(env).providers["lago"]

    assert lago == ProviderSettings(
        name="lago",
        base_url="http://lago.internal",
        api_key="k",
        timeouts=Timeouts(connect=1.0, read=3.5, deadline=9.0),
        retry=RetryPolicy(max_retries=4),
        breaker=BreakerPolicy(threshold=0, reset=2.5),
        rate_limit=RateLimit(rate=0.0, burst=3),
        max_concurrency=16,
    )


def test_backoffs_come_from_the_file(load: Load) -> None:
    lago = {"base_url": "http://lago", "api_key": "k", "backoff_base": 0.5, "backoff_max": 8}

    settings = load({"providers": {"lago": lago}})

    assert settings.providers["lago"].retry == RetryPolicy(2, 0.5, 8.0)


def test_an_enabled_provider_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="CHARTMOGUL_API_KEY"):
        load_settings({"CHARTMOGUL_BASE_URL": "https://api.chartmogul.com"})


@pytest.mark.parametrize(
    ("word", "enabled"),
    [("0", False), ("off", False), ("No", False), ("1", True), ("TRUE", True), ("yes", True)],
)
def test_enabled_reads_the_usual_words(word: str, enabled: bool) -> None:
    settings = load_settings(
        {**LAGO, "STRIPE_BASE_URL": "https://s", "STRIPE_API_KEY": "sk", "LAGO_ENABLED": word}
    )

    assert settings.providers["lago"].enabled is enabled


def test_a_key_alone_turns_a_provider_on_at_its_public_url() -> None:
    settings = load_settings({**LAGO, "STRIPE_API_KEY": "sk_live_x"})

    assert settings.providers["stripe"].enabled is True
    assert settings.providers["stripe"].base_url == BY_NAME["stripe"].base_url


def test_keys_never_show_in_a_repr() -> None:
    settings = load_settings({"STRIPE_BASE_URL": "https://x", "STRIPE_API_KEY": "sk_live_secret"})

    assert "sk_live_secret" not in repr(settings)
    assert "sk_live_secret" not in repr(settings.providers["stripe"])


def test_config_file(load: Load) -> None:
    settings = load(
        {
            "providers": {"lago": {"base_url": "http://lago", "api_key": "k", "deadline": 5}},
            "primary_provider": "lago",
            "identity": {
                "placeholder_emails": ["Billing@Example.com"],
                "field_priority": {"name": ["lago", "stripe"]},
            },
        },
        {"LAGO_DEADLINE": "7"},
    )

    assert settings.primary_provider == "lago"
    assert settings.providers["lago"].timeouts.deadline == 7.0  # the environment wins
    assert settings.identity.placeholder_emails == frozenset({"billing@example.com"})
    assert settings.identity.field_priority["name"] == ("lago", "stripe")


def test_the_config_file_can_come_from_the_environment(load: Load, tmp_path: Path) -> None:
    load({"cors_origins": ["https://a.example"]})

    settings = load_settings({"CUSTOMER_GATEWAY_CONFIG": str(tmp_path / "gateway.json")})

    assert settings.cors_origins == ("https://a.example",)


# -- default < file < environment -------------------------------------------------------------

Getter = Callable[[Settings], Any]


@pytest.mark.parametrize(
    ("file_data", "env", "get", "values"),
    [
        pytest.param(
            {"primary_provider": "lago"},
            {"CUSTOMER_GATEWAY_PRIMARY_PROVIDER": "chartmogul"},
            lambda s: s.primary_provider,
            ("stripe", "lago", "chartmogul"),
            id="scalar",
        ),
        pytest.param(
            {"cors_origins": ["https://a.example", "https://b.example"]},
            {"CUSTOMER_GATEWAY_CORS_ORIGINS": " https://c.example, ,https://d.example:8443"},
            lambda s: s.cors_origins,
            (
                (),
                ("https://a.example", "https://b.example"),
                ("https://c.example", "https://d.example:8443"),
            ),
            id="list",
        ),
        pytest.param(
            {"providers": {"lago": {"base_url": "http://lago", "api_key": "k", "max_retries": 5}}},
            {"LAGO_MAX_RETRIES": "0"},
            lambda s: s.providers["lago"].retry.max_retries,
            (2, 5, 0),
            id="provider",
        ),
        pytest.param(
            {"identity": {"external_id_metadata_key": "erp_id"}},
            {"CUSTOMER_GATEWAY_EXTERNAL_ID_KEY": "tenant"},
            lambda s: s.identity.external_id_metadata_key,
            ("company_id", "erp_id", "tenant"),
            id="identity",
        ),
    ],
)
def test_the_file_beats_the_default_and_the_environment_beats_the_file(
    load: Load,
    file_data: dict[str, Any],
    env: dict[str, str],
    get: Getter,
    values: tuple[Any, Any, Any],
) -> None:
    default, from_file, from_env = values
    # Keep the mode of the file's own settings, so only the value under test differs.
    base_env = LAGO if "providers" in file_data else {}

    assert get(load(None, base_env)) == default
    assert get(load(file_data, base_env)) == from_file
    assert get(load(file_data, {**base_env, **env})) == from_env


def test_an_empty_variable_counts_as_unset(load: Load) -> None:
    settings = load(
        {"primary_provider": "lago", "cors_origins": ["https://a.example"]},
        {
            "CUSTOMER_GATEWAY_PRIMARY_PROVIDER": "",
            "CUSTOMER_GATEWAY_CORS_ORIGINS": "",
            "STRIPE_TIMEOUT": "",
            "STRIPE_ENABLED": "",
        },
    )

    assert (settings.primary_provider, settings.cors_origins) == ("lago", ("https://a.example",))
    assert settings.providers["stripe"].timeouts.read == 10.0
    assert settings.providers["stripe"].enabled is True


# -- tune: the loader's path for code and tests ----------------------------------------------


def test_tune_changes_settings_by_their_file_keys() -> None:
    base = ProviderSettings(name="demo", base_url="http://demo", api_key="k")

    tuned = tune(base, deadline=0.5, max_retries=0, rate_burst=2, breaker_reset=0.05)

    assert tuned.timeouts == Timeouts(connect=2.0, read=10.0, deadline=0.5)
    assert (tuned.retry.max_retries, tuned.rate_limit.burst, tuned.breaker.reset) == (0, 2, 0.05)
    assert tune(base) == base


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"deadlines": 1}, r"providers\.demo\.deadlines: unknown setting"),
        ({"max_retries": -1}, r"providers\.demo\.max_retries: expected an integer >= 0"),
        ({"backoff_max": 0.1}, r"providers\.demo\.backoff_max: expected a number >= backoff_base"),
    ],
)
def test_tune_checks_as_the_file_does(changes: dict[str, Any], message: str) -> None:
    base = ProviderSettings(name="demo", base_url="http://demo", api_key="k")

    with pytest.raises(ConfigError, match=message):
        tune(base, **changes)


def test_federation_version_from_the_file_and_the_environment(load: Load) -> None:
    assert load().federation_version == DEFAULT_FEDERATION_VERSION
    assert load({"federation_version": "2.5"}).federation_version == "2.5"
    env = {"CUSTOMER_GATEWAY_FEDERATION_VERSION": "2.7"}
    assert load({"federation_version": "2.5"}, env).federation_version == "2.7"


def test_log_format_from_the_file_and_the_environment(load: Load) -> None:
    assert load().log_format == "auto"
    assert load({"log_format": "text"}).log_format == "text"
    env = {"CUSTOMER_GATEWAY_LOG_FORMAT": "json"}
    assert load({"log_format": "text"}, env).log_format == "json"


def test_drain_seconds_from_the_file_and_the_environment(load: Load) -> None:
    assert load().drain_seconds == 30
    assert load({"drain_seconds": 5}).drain_seconds == 5
    assert (
        load({"drain_seconds": 5}, {"CUSTOMER_GATEWAY_DRAIN_SECONDS": "0.5"}).drain_seconds == 0.5
    )
