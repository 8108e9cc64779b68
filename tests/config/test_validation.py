"""Every mistake in the configuration stops start-up with an error naming the setting."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ConfigError, load_settings
from tests.config.conftest import Load


def lago(**settings: Any) -> dict[str, Any]:
    """A file configuring Lago (so: configured mode) with ``settings`` added."""
    return {"providers": {"lago": {"base_url": "http://lago", "api_key": "k", **settings}}}


def identity(**settings: Any) -> dict[str, Any]:
    return {"identity": settings}


def refused(load: Load, data: dict[str, Any] | None, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(data, env)


# -- the file itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read config file"), ("[]", "must hold a JSON object")],
)
def test_an_unreadable_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match=message):
        load_settings({}, config_file=path)


# -- identity link rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"stripe_id": ["bogus"]}, r"identity\.link_rules: 'bogus' is not 'provider:path'"),
        ({"stripe_id": ["stripe:"]}, r"'stripe:' is not 'provider:path'"),
        ({"stripe_id": ["stripe:a..b"]}, r"'stripe:a\.\.b' has an empty path segment"),
        (
            {"stripe_id": ["stripe:id", "paypal:id"]},
            r"identity\.link_rules\.stripe_id\[1\]: expected a rule on one of .*'paypal:id'",
        ),
        ({"": ["stripe:id"]}, r"identity\.link_rules: expected non-empty names, got ''"),
        (
            {"stripe_id": "stripe:id"},
            r"identity\.link_rules\.stripe_id: expected a list of strings",
        ),
        (
            {"stripe_id": [{"stripe": "id"}]},
            r"identity\.link_rules\.stripe_id\[0\]: expected a string",
        ),
        (["stripe:id"], r"identity\.link_rules: expected an object"),
    ],
)
def test_link_rules_are_parsed_at_start_up(load: Load, rules: Any, message: str) -> None:
    refused(load, identity(link_rules=rules), {}, message)


# -- identity field priority -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "message"),
    [
        ({"colour": ["stripe"]}, r"identity\.field_priority\.colour: expected a unified field"),
        ({"name": ["lago", "paypal"]}, r"identity\.field_priority\.name\[1\]: expected one of"),
        ({"name": "lago"}, r"identity\.field_priority\.name: expected a list of strings"),
    ],
)
def test_field_priority_names_fields_and_providers(load: Load, priority: Any, message: str) -> None:
    refused(load, identity(field_priority=priority), {}, message)


# -- numeric ranges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("read_timeout", 0, "expected a number > 0"),
        ("connect_timeout", -1, "expected a number > 0"),
        ("deadline", 0, "expected a number > 0"),
        ("max_retries", -1, "expected an integer >= 0"),
        ("max_concurrency", 0, "expected an integer >= 1"),
        ("rate_limit", -5, "expected a number >= 0"),
        ("rate_burst", 0, "expected an integer >= 1"),
        ("breaker_threshold", -1, "expected an integer >= 0"),
        ("breaker_reset", 0, "expected a number > 0"),
        ("backoff_base", -0.1, "expected a number >= 0"),
        ("backoff_max", 0.1, r"expected a number >= backoff_base \(0.25\)"),
        ("deadline", math.nan, "expected a finite number"),
        ("read_timeout", math.inf, "expected a finite number"),
    ],
)
def test_provider_numbers_are_in_range(load: Load, key: str, value: float, message: str) -> None:
    refused(load, lago(**{key: value}), {}, rf"providers\.lago\.{key}: {message}")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LAGO_TIMEOUT", "0", "expected a number > 0"),
        ("LAGO_DEADLINE", "nan", "expected a finite number"),
        ("LAGO_BREAKER_RESET", "inf", "expected a finite number"),
        ("LAGO_MAX_RETRIES", "many", "expected an integer, got 'many'"),
        ("LAGO_MAX_CONCURRENCY", "2.5", "expected an integer"),
        ("LAGO_RATE_LIMIT", "fast", "expected a number"),
    ],
)
def test_variables_are_cast_and_in_range(
    load: Load, variable: str, value: str, message: str
) -> None:
    env = {"LAGO_BASE_URL": "http://lago", "LAGO_API_KEY": "k", variable: value}

    refused(load, None, env, rf"{variable}: {message}")


@pytest.mark.parametrize("key", ["max_hops", "max_records", "max_records_per_provider"])
def test_identity_limits_are_at_least_one(load: Load, key: str) -> None:
    refused(load, identity(**{key: 0}), {}, rf"identity\.{key}: expected an integer >= 1")


# -- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cors_origins": "https://a.example"}, r"cors_origins: expected a list of strings"),
        ({"write_providers": "stripe"}, r"write_providers: expected a list of strings"),
        (identity(placeholder_emails="x"), r"identity\.placeholder_emails: expected a list"),
        (identity(placeholder_emails=["a", 1]), r"placeholder_emails\[1\]: expected a string"),
        (lago(enabled="true"), r"providers\.lago\.enabled: expected true or false"),
        (lago(enabled=1), r"providers\.lago\.enabled: expected true or false"),
        (lago(deadline="5"), r"providers\.lago\.deadline: expected a number, got '5'"),
        (lago(max_retries=2.5), r"providers\.lago\.max_retries: expected an integer"),
        (lago(rate_limit=True), r"providers\.lago\.rate_limit: expected a number"),
        (lago(api_key=None), r"providers\.lago\.api_key: expected a string"),
        (lago(base_url="lago.internal"), r"providers\.lago\.base_url: expected an http\(s\) URL"),
        (identity(max_hops="3"), r"identity\.max_hops: expected an integer"),
        (identity(external_id_metadata_key=" "), r"external_id_metadata_key: expected a non-empty"),
        ({"cors_origins": ["https://a.example/"]}, r"cors_origins\[0\]: expected an origin"),
        ({"cors_origins": ["https://a.example/app"]}, r"cors_origins\[0\]: expected an origin"),
    ],
)
def test_file_values_have_the_declared_type(load: Load, data: dict[str, Any], message: str) -> None:
    refused(load, data, {}, message)


@pytest.mark.parametrize("word", ["maybe", "2", "enabled"])
def test_a_boolean_variable_is_one_of_the_usual_words(load: Load, word: str) -> None:
    env = {"LAGO_BASE_URL": "http://lago", "LAGO_API_KEY": "k", "LAGO_ENABLED": word}

    refused(load, None, env, rf"LAGO_ENABLED: expected one of .*, got '{word}'")


def test_a_variable_origin_list_is_checked_item_by_item(load: Load) -> None:
    env = {"CUSTOMER_GATEWAY_CORS_ORIGINS": "https://a.example,a.example"}

    refused(load, None, env, r"CUSTOMER_GATEWAY_CORS_ORIGINS\[1\]: expected an origin")


# -- unknown keys at every level ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"primary_providers": "lago"},
            r"^primary_providers: unknown setting \(did you mean 'primary_provider'\?\); "
            r"known: apq_cache_size, auth, cors_origins",
        ),
        (
            lago(timeout_ms=1),
            r"providers\.lago\.timeout_ms: unknown setting \(did you mean 'read_timeout'\?\); "
            r"known: api_key",
        ),
        (identity(max_hopz=2), r"identity\.max_hopz: unknown setting \(did you mean 'max_hops'"),
        ({"providers": {"paypal": {}}}, r"providers\.paypal: unknown provider; known: stripe"),
        (
            {"providers": {"strpe": {"api_key": "sk"}}},
            r"providers\.strpe: unknown provider \(did you mean 'stripe'\?\); known: stripe",
        ),
        ({"cors_orgins": []}, r"^cors_orgins: unknown setting \(did you mean 'cors_origins'"),
        ({"providers": ["lago"]}, r"providers: expected an object"),
        ({"providers": {"lago": "http://lago"}}, r"providers\.lago: expected an object"),
        ({"identity": []}, r"identity: expected an object"),
    ],
)
def test_unknown_keys_and_shapes_are_refused(
    load: Load, data: dict[str, Any], message: str
) -> None:
    refused(load, data, {}, message)


# -- references to providers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "env", "message"),
    [
        (
            {"primary_provider": "paypal"},
            {},
            r"primary_provider: expected one of stripe, .*'paypal'",
        ),
        (
            None,
            {"CUSTOMER_GATEWAY_PRIMARY_PROVIDER": "paypal"},
            r"CUSTOMER_GATEWAY_PRIMARY_PROVIDER: expected one of",
        ),
        (
            {"write_providers": ["stripe", "paypal"]},
            {},
            r"write_providers\[1\]: expected one of .*, got 'paypal'",
        ),
    ],
)
def test_named_providers_must_be_registered(
    load: Load, data: dict[str, Any] | None, env: dict[str, str], message: str
) -> None:
    refused(load, data, env, message)


@pytest.mark.parametrize(
    ("data", "env", "message"),
    [
        (
            {**lago(), "primary_provider": "stripe"},
            {},
            r"primary_provider: stripe is off: set STRIPE_BASE_URL and STRIPE_API_KEY, "
            r"or add providers\.stripe to the config file",
        ),
        (
            lago(),
            {"CUSTOMER_GATEWAY_PRIMARY_PROVIDER": "chartmogul"},
            r"CUSTOMER_GATEWAY_PRIMARY_PROVIDER: chartmogul is off",
        ),
        ({**lago(), "write_providers": ["lago", "stripe"]}, {}, r"write_providers: stripe is off"),
        (
            {**lago(enabled=False), "primary_provider": "lago"},
            {"STRIPE_API_KEY": "sk"},
            r"primary_provider: lago is off: providers\.lago\.enabled turns it off",
        ),
        (
            {"write_providers": ["lago"]},
            {"LAGO_ENABLED": "0"},
            r"write_providers: lago is off: LAGO_ENABLED turns it off",
        ),
    ],
)
def test_named_primary_and_write_providers_must_be_on(
    load: Load, data: dict[str, Any], env: dict[str, str], message: str
) -> None:
    refused(load, data, env, message)


def test_providers_off_by_default_may_stay_in_the_defaults(load: Load) -> None:
    settings = load(lago())

    assert (settings.primary_provider, settings.write_providers) == ("stripe", ("stripe", "lago"))
    assert not settings.providers["stripe"].enabled


def test_serve_stops_at_start_up_on_a_bad_link_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.cli import main

    path = tmp_path / "gateway.json"
    path.write_text('{"identity": {"link_rules": {"stripe_id": ["bogus"]}}}')
    monkeypatch.setenv("CUSTOMER_GATEWAY_CONFIG", str(path))

    assert main(["serve", "--port", "0", "--sandbox-base-port", "0"]) == 2
    assert "identity.link_rules: 'bogus' is not 'provider:path'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2.99", "v2.9", "1.0"])
def test_an_unknown_federation_version_is_refused(load: Load, value: str) -> None:
    with pytest.raises(ConfigError, match="CUSTOMER_GATEWAY_FEDERATION_VERSION") as raised:
        load(None, {"CUSTOMER_GATEWAY_FEDERATION_VERSION": value})

    assert repr(value) in str(raised.value)
    assert "2.0, 2.1" in str(raised.value)  # the choices are listed


def test_a_federation_version_in_the_file_is_a_string(load: Load) -> None:
    with pytest.raises(ConfigError, match=r"federation_version: expected .* got 2\.9"):
        load({"federation_version": 2.9})


def test_an_unknown_log_format_is_refused(load: Load) -> None:
    with pytest.raises(ConfigError, match="CUSTOMER_GATEWAY_LOG_FORMAT") as raised:
        load(None, {"CUSTOMER_GATEWAY_LOG_FORMAT": "xml"})

    assert "'xml'" in str(raised.value) and "auto, json, text" in str(raised.value)


def test_a_negative_drain_is_refused(load: Load) -> None:
    with pytest.raises(
        ConfigError, match=r"CUSTOMER_GATEWAY_DRAIN_SECONDS: expected a number >= 0"
    ):
        load(None, {"CUSTOMER_GATEWAY_DRAIN_SECONDS": "-1"})
