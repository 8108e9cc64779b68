"""The ``auth`` section: every mistake stops start-up naming the setting; live mode refuses to
start without access control unless the operator opts out (and is warned at every start)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.keys import KEY_PREFIX, digest, new_key
from gateway.cli import main
from gateway.config import AuthSettings, ConfigError, load_settings
from gateway.config.auth_schema import AUTH, AUTH_JWT, AUTH_RATE
from gateway.sandbox.dataset import Dataset
from gateway.server import create_app
from tests.auth.conftest import (
    AUDIENCE,
    ISSUER,
    READ,
    SECRET,
    SECRET_ENV,
    SHOWCASE,
    Keys,
    config_file,
    jwt_settings,
    post,
    secured,
    with_auth,
)

SHA = digest("a-key")
DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def load_auth(
    tmp_path: Path, auth: dict[str, Any], env: dict[str, str] | None = None
) -> AuthSettings:
    return load_settings(env or {}, config_file=config_file(tmp_path, auth)).auth


def test_api_keys_are_loaded_by_hash(tmp_path: Path) -> None:
    key = {"id": "ci", "sha256": SHA.upper(), "scopes": [READ, "customers:pii"]}

    [loaded] = load_auth(tmp_path, {"api_keys": [key]}).api_keys

    assert (loaded.id, loaded.sha256) == ("ci", SHA)
    assert loaded.scopes == {READ, "customers:pii"}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"id": "ci"}, r"auth\.api_keys: expected a list"),
        ([{"id": "ci", "sha256": SHA}], r"api_keys\[0\]: expected an object with exactly"),
        (
            [{"id": " ", "sha256": SHA, "scopes": [READ]}],
            r"api_keys\[0\]\.id: expected a non-blank",
        ),
        ([{"id": "ci", "sha256": "abc", "scopes": [READ]}], r"api_keys\[0\]\.sha256: expected"),
        (
            [{"id": "ci", "sha256": SHA, "scopes": []}],
            r"api_keys\[0\]\.scopes: expected a non-empty",
        ),
        (
            [{"id": "ci", "sha256": SHA, "scopes": [READ, "customers:admin"]}],
            r"api_keys\[0\]\.scopes\[1\]: expected one of customers:read, .*'customers:admin'",
        ),
        (
            [
                {"id": "ci", "sha256": SHA, "scopes": [READ]},
                {"id": "ci", "sha256": digest("other"), "scopes": [READ]},
            ],
            r"api_keys\[1\]\.id: expected ids used once, got 'ci'",
        ),
        (
            [
                {"id": "ci", "sha256": SHA, "scopes": [READ]},
                {"id": "cd", "sha256": SHA, "scopes": [READ]},
            ],
            r"api_keys\[1\]: expected each key configured once",
        ),
    ],
)
def test_bad_api_keys_stop_start_up(tmp_path: Path, keys: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_auth(tmp_path, {"api_keys": keys})


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        (
            {"hs_secret_env": SECRET_ENV, "issuer": None},
            {SECRET_ENV: SECRET},
            r"auth\.jwt\.issuer: required",
        ),
        (
            {"hs_secret_env": SECRET_ENV, "audience": None},
            {SECRET_ENV: SECRET},
            r"jwt\.audience: required",
        ),
        ({"hs_secret_env": SECRET_ENV}, {}, rf"hs_secret_env: {SECRET_ENV} is not set"),
        ({"hs_secret_env": SECRET_ENV}, {SECRET_ENV: "short"}, "fewer than 32 characters"),
        ({"hs_secret_env": "not a name"}, {}, r"hs_secret_env: expected an environment variable"),
        (
            {"jwks_url": "https://id.example/jwks", "algorithms": ["HS256"]},
            {},
            r"algorithms\[0\]: HS256 needs auth\.jwt\.hs_secret_env",
        ),
        (
            {"hs_secret_env": SECRET_ENV, "algorithms": ["RS256"]},
            {SECRET_ENV: SECRET},
            r"RS256 needs auth\.jwt\.jwks_url",
        ),
        (
            {"jwks_url": "https://id.example/jwks", "algorithms": ["none"]},
            {},
            r"algorithms\[0\]: expected one of RS256",
        ),
        ({"jwks_url": "file:///etc/passwd"}, {}, r"jwt\.jwks_url: expected an http\(s\) URL"),
        (
            {"jwks_url": "https://id.example/jwks", "leeway": -1},
            {},
            r"jwt\.leeway: expected a number >= 0",
        ),
    ],
)
def test_bad_jwt_settings_stop_start_up(
    tmp_path: Path, section: dict[str, Any], env: dict[str, str], message: str
) -> None:
    given = {"issuer": ISSUER, "audience": AUDIENCE, **section}
    path = config_file(tmp_path, {"jwt": {k: v for k, v in given.items() if v is not None}})
    with pytest.raises(ConfigError, match=message):
        load_settings(env, config_file=path)


def test_missing_issuer_is_named_even_when_only_the_defaults_fill_it(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"jwt": {"jwks_url": "https://id.example/jwks"}})
    with pytest.raises(ConfigError, match="issuer: required"):
        load_settings({}, config_file=path)


def test_the_default_algorithms_follow_the_key_sources(tmp_path: Path) -> None:
    both = {"jwks_url": "https://id.example/jwks", "hs_secret_env": SECRET_ENV}

    jwt = jwt_settings(tmp_path, both, {SECRET_ENV: SECRET}).auth.jwt

    assert jwt.algorithms == ("RS256", "ES256", "HS256")
    assert jwt.hs_secret == SECRET and SECRET not in repr(jwt)


def test_the_secrets_variable_is_not_taken_for_a_misspelt_one(tmp_path: Path) -> None:
    """A name close to ours (CUSTOMER_GATEWAY_JWT_SECRET) named by hs_secret_env is the
    operator's own variable: live mode's misspelling check must not refuse it."""
    name = "CUSTOMER_GATEWAY_JWT_SECRET"
    auth = {
        "jwt": {"hs_secret_env": name, "issuer": "i", "audience": "a"},
    }
    env = {name: SECRET, "STRIPE_API_KEY": "sk_test_x", "CUSTOMER_GATEWAY_MODE": "live"}

    settings = load_settings(env, config_file=config_file(tmp_path, auth))

    assert settings.auth.jwt.hs_secret == SECRET


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CUSTOMER_GATEWAY_AUTH_OPEN": "1"}, {"open": True}),
        ({"CUSTOMER_GATEWAY_INTROSPECTION": "scope"}, {"introspection": False}),
        ({"CUSTOMER_GATEWAY_INTROSPECTION": "true"}, {"introspection": True}),
        ({"CUSTOMER_GATEWAY_GRAPHIQL": "on"}, {"graphiql": True}),
    ],
)
def test_variables_set_the_auth_switches(env: dict[str, str], expected: dict[str, Any]) -> None:
    auth = load_settings(env).auth

    assert {key: getattr(auth, key) for key in expected} == expected


def test_variables_set_the_per_key_limits_and_jwt_endpoints() -> None:
    auth = load_settings(
        {
            "CUSTOMER_GATEWAY_KEY_RATE_LIMIT": "5",
            "CUSTOMER_GATEWAY_KEY_RATE_BURST": "7",
            "CUSTOMER_GATEWAY_KEY_COST_BUDGET": "9000",
            "CUSTOMER_GATEWAY_JWKS_URL": "https://id.example/jwks",
            "CUSTOMER_GATEWAY_JWT_ISSUER": "https://id.example/",
            "CUSTOMER_GATEWAY_JWT_AUDIENCE": "gw",
        }
    ).auth

    assert (auth.rate_limit.rate, auth.rate_limit.burst, auth.rate_limit.cost_per_minute) == (
        5,
        7,
        9000,
    )
    assert (auth.jwt.jwks_url, auth.jwt.issuer, auth.jwt.audience) == (
        "https://id.example/jwks",
        "https://id.example/",
        "gw",
    )


def test_introspection_takes_true_false_or_scope_only(tmp_path: Path) -> None:
    assert load_auth(tmp_path, {"introspection": "scope"}).introspection is False
    with pytest.raises(
        ConfigError, match=r"auth\.introspection: expected true, false or \"scope\""
    ):
        load_auth(tmp_path, {"introspection": "everyone"})


def test_unknown_auth_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"auth\.jwt\.jwks: unknown setting \(did you mean 'jwks_url'"
    ):
        load_auth(tmp_path, {"jwt": {"jwks": "https://id.example/jwks"}})


# -- live mode ---------------------------------------------------------------------------------


def test_live_mode_without_access_control_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="live mode needs access control"):
        create_app(with_auth(AuthSettings(), sandbox=False))


def test_opting_out_and_configuring_keys_at_once_is_refused(keys: Keys) -> None:
    with pytest.raises(ConfigError, match="remove one or the other"):
        create_app(with_auth(AuthSettings(open=True, api_keys=keys.configured), sandbox=False))


def test_opting_out_warns_at_every_start(caplog: pytest.LogCaptureFixture) -> None:
    settings = with_auth(AuthSettings(open=True), sandbox=False)
    with caplog.at_level(logging.WARNING, logger="customer_gateway.auth"):
        create_app(settings)
        create_app(settings)

    warnings = [r for r in caplog.records if "access control is OFF" in r.getMessage()]
    assert len(warnings) == 2


def test_the_sandbox_starts_open_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="customer_gateway.auth"):
        app = create_app(with_auth(AuthSettings()))

    assert not app.state.access.enforced
    assert not [r for r in caplog.records if r.name == "customer_gateway.auth"]


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.config.typos import known_variables

    for name in known_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTOMER_GATEWAY_MODE", "live")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_live_mode_without_auth")


@pytest.mark.usefixtures("live_env")
def test_serve_in_live_mode_without_auth_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "live mode needs access control" in err and "CUSTOMER_GATEWAY_AUTH_OPEN=1" in err


@pytest.mark.usefixtures("live_env")
def test_config_check_in_live_mode_without_auth_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "check"]) == 2
    assert "live mode needs access control" in capsys.readouterr().err


async def test_live_mode_turns_graphiql_and_introspection_off(
    small_dataset: Dataset, keys: Keys
) -> None:
    async with secured(small_dataset, AuthSettings(api_keys=keys.configured), sandbox=False) as gw:
        page = await gw.client.get("/graphql", headers={"Accept": "text/html"})
        schema = await post(gw, "{ __schema { queryType { name } } }", keys.header("reader"))
        granted = await post(gw, "{ __schema { queryType { name } } }", keys.header("schema"))
        read = await post(gw, SHOWCASE, keys.header("reader"))

    assert page.status_code == 404
    assert schema.status_code == 403
    assert granted.status_code == 200
    assert read.status_code == 200


async def test_live_mode_serves_graphiql_and_introspection_when_enabled(
    small_dataset: Dataset, keys: Keys
) -> None:
    auth = AuthSettings(api_keys=keys.configured, graphiql=True, introspection=True)
    async with secured(small_dataset, auth, sandbox=False) as gw:
        page = await gw.client.get("/graphql", headers={"Accept": "text/html"})
        schema = await post(gw, "{ __schema { queryType { name } } }", keys.header("reader"))

    assert page.status_code == 200
    assert schema.status_code == 200


async def test_an_open_live_gateway_admits_anyone_with_every_scope(
    small_dataset: Dataset,
) -> None:
    async with secured(small_dataset, AuthSettings(open=True), sandbox=False) as gw:
        response = await post(gw, '{ customerByEmail(email: "ada@lovelace.example") { email } }')

    assert response.json() == {"data": {"customerByEmail": {"email": "ada@lovelace.example"}}}


def test_new_keys_are_random_and_prefixed() -> None:
    first, second = new_key(), new_key()

    assert first != second and first.startswith(KEY_PREFIX) and len(first) >= 40
    assert re.fullmatch(r"[0-9a-f]{64}", digest(first))


@pytest.mark.parametrize(
    "name",
    sorted(
        {s.env for s in (*AUTH, *AUTH_JWT, *AUTH_RATE) if s.env}
        | {f"`{s.key}`" for s in (*AUTH, *AUTH_JWT, *AUTH_RATE)}
    ),
)
def test_every_auth_variable_and_key_is_documented(name: str) -> None:
    assert name in DOC.read_text()


def test_a_replaced_limit_keeps_the_others() -> None:
    auth = AuthSettings()
    changed = replace(auth, rate_limit=replace(auth.rate_limit, rate=1))

    assert changed.rate_limit.burst == auth.rate_limit.burst


def test_the_deployment_guides_config_passes_the_access_check(tmp_path: Path) -> None:
    """docs/deployment.md's production config must start in live mode: it configures JWTs."""
    from gateway.auth.control import require_access_config

    doc = (DOC.parent / "deployment.md").read_text()
    config = re.findall(r"```json\n(.*?)```", doc, re.S)[0]
    path = tmp_path / "gateway.json"
    path.write_text(config)

    keys = {f"{name}_API_KEY": "rk_live_x" for name in ("STRIPE", "CHARTMOGUL", "LAGO")}
    settings = load_settings(keys, config_file=path, mode="live")

    require_access_config(settings)
    assert settings.auth.jwt.algorithms == ("RS256", "ES256")


def test_config_check_shows_access_control_without_secrets(tmp_path: Path) -> None:
    from gateway.config.check import describe

    auth = {
        "api_keys": [{"id": "ci", "sha256": SHA, "scopes": [READ, "customers:pii"]}],
        "jwt": {"hs_secret_env": SECRET_ENV, "issuer": ISSUER, "audience": AUDIENCE},
    }
    settings = load_settings({SECRET_ENV: SECRET}, config_file=config_file(tmp_path, auth))

    lines = describe(settings)

    assert 'auth.api_keys = ["ci: customers:pii customers:read"]' in lines
    assert f"auth.jwt.hs_secret_env = {SECRET_ENV}" in lines
    assert "auth.open = false" in lines and "auth.rate_limit.rate = 20.0" in lines
    assert not [line for line in lines if SECRET in line or SHA in line]
