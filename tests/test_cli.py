"""The CLI as a user runs it: child processes on free loopback ports, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from resolvers.schema import schema_sdl

START_TIMEOUT = 30.0
SHOWCASE_QUERY = '{ customerByEmail(email: "ada@lovelace.example") { name lago { externalId } } }'


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Start ``customer-gateway ARGS``; yields the process and the lines it printed on start."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "Ctrl-C stops" in line:
                break
        assert any("Ctrl-C stops" in line for line in lines), (lines, proc.stderr)
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_serve_runs_the_gateway_on_the_sandbox_and_stops_on_ctrl_c() -> None:
    with running("serve", "--port", "0", "--sandbox-base-port", "0") as (proc, lines):
        url = next(
            m.group(1) for line in lines if (m := re.search(r"GraphQL endpoint: (\S+)", line))
        )
        body = httpx.post(
            url,
            json={"query": SHOWCASE_QUERY},
            timeout=10,
        ).json()
        assert body == {
            "data": {
                "customerByEmail": {
                    "name": "Ada Lovelace",
                    "lago": [{"externalId": "co_analyticalengines"}],
                }
            }
        }
        assert "built-in sandbox" in lines[0]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_sandbox_prints_urls_and_keys_and_enforces_them() -> None:
    with running("sandbox", "--base-port", "0", "--customers", "10") as (proc, lines):
        urls = dict(re.findall(r"^\s+(\w+)\s+(http://\S+)\s+key: \S+", "\n".join(lines), re.M))
        assert sorted(urls) == sorted(["stripe", "chartmogul", "firstofficer", "lago", "tofupay"])
        stripe = urls["stripe"]
        ok = httpx.get(
            f"{stripe}/v1/customers", headers={"Authorization": "Bearer sk_test_sandbox"}
        )
        wrong = httpx.get(f"{stripe}/v1/customers", headers={"Authorization": "Bearer sk_test_x"})
        assert ok.status_code == 200 and ok.json()["object"] == "list"
        assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "invalid_request_error"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"

    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export-schema", "--output", str(out)],
        check=True,
        timeout=60,
    )

    assert out.read_text() == schema_sdl()


def test_export_schema_links_the_federation_version_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"

    assert main(["export-schema", "--federation-version", "2.5", "--output", str(out)]) == 0

    assert out.read_text() == schema_sdl("2.5")
    assert '@link(url: "https://specs.apollo.dev/federation/v2.5"' in out.read_text()


def test_serve_refuses_an_unknown_federation_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0", "--sandbox-base-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CUSTOMER_GATEWAY_FEDERATION_VERSION": "2.12"},
    )

    assert result.returncode == 2
    assert "CUSTOMER_GATEWAY_FEDERATION_VERSION" in result.stderr and "'2.12'" in result.stderr
    assert "GraphQL endpoint" not in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "missing.json"], "missing.json"),
        (["--faults", '{"lago": {"latency_ms": "slow"}}'], "latency_ms"),
        (["--faults", '{"paypal": {}}'], "unknown provider 'paypal'"),
    ],
)
def test_bad_sandbox_options_exit_with_a_message(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "sandbox", "--base-port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dataset_file_is_served(tmp_path: Path) -> None:
    dataset = tmp_path / "mine.json"
    dataset.write_text(
        json.dumps(
            {"lago": [{"external_id": "co_mine", "name": "Mine Ltd", "email": "me@mine.example"}]}
        )
    )

    with running("serve", "--port", "0", "--sandbox-base-port", "0", "--dataset", str(dataset)) as (
        _,
        lines,
    ):
        url = next(
            m.group(1) for line in lines if (m := re.search(r"GraphQL endpoint: (\S+)", line))
        )
        body = httpx.post(
            url,
            json={"query": '{ customerByEmail(email: "ME@mine.example") { name } }'},
            timeout=10,
        ).json()
        assert body == {"data": {"customerByEmail": {"name": "Mine Ltd"}}}


def test_a_busy_port_is_named_with_a_way_out() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "sandbox", "--base-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--base-port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--log-format", "json"], {"CUSTOMER_GATEWAY_LOG_FORMAT": "text"}),  # the flag wins
        ([], {}),  # auto: stderr is a pipe here, not a terminal
    ],
)
def test_serve_logs_json_lines_with_the_request_id(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTOMER_GATEWAY_LOG_FORMAT", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with running("serve", "--port", "0", "--sandbox-base-port", "0", *args) as (proc, lines):
        url = next(
            m.group(1) for line in lines if (m := re.search(r"GraphQL endpoint: (\S+)", line))
        )
        response = httpx.post(
            url, json={"query": SHOWCASE_QUERY}, headers={"X-Request-Id": "cli-1"}, timeout=10
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert proc.stderr is not None
        logged = [json.loads(line) for line in proc.stderr.read().splitlines()]

    assert response.headers["x-request-id"] == "cli-1"
    [access] = [line for line in logged if line["logger"] == "customer_gateway.access"]
    assert access["request_id"] == "cli-1" and access["status"] == 200
    assert re.fullmatch(r"127\.0\.0\.1:\d+", access["client"])
    assert access["upstream_calls"] == sum(access["upstream_by_provider"].values()) > 0


def test_an_unknown_log_level_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--log-level", "loud"])

    assert exited.value.code == 2
    assert "--log-level" in capsys.readouterr().err


# -- modes and config check ---------------------------------------------------------------------


def _without_our_variables() -> dict[str, str]:
    """This process's environment minus every variable the gateway reads."""
    from gateway.config.typos import known_variables

    return {k: v for k, v in os.environ.items() if k not in known_variables()}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.config.typos import known_variables

    for name in known_variables():
        monkeypatch.delenv(name, raising=False)


def test_serve_prints_a_fake_data_banner_on_the_sandbox() -> None:
    with running("serve", "--port", "0", "--sandbox-base-port", "0", "--customers", "5") as (
        _,
        lines,
    ):
        assert any("SANDBOX MODE" in line and "FAKE" in line for line in lines)
        assert any("customer-gateway serve --mode live" in line for line in lines)


@pytest.mark.usefixtures("clean_env")
def test_serve_refuses_a_public_host_on_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--sandbox-base-port", "0"]) == 2

    err = capsys.readouterr().err
    assert "--host 0.0.0.0: the sandbox serves fake data on loopback only" in err
    assert "customer-gateway serve --mode live --host 0.0.0.0" in err


@pytest.mark.usefixtures("clean_env")
def test_serve_in_live_mode_with_nothing_configured_stops(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--mode", "live", "--port", "0"]) == 2

    assert "live mode needs at least one provider on" in capsys.readouterr().err


@pytest.mark.usefixtures("clean_env")
def test_config_check_probes_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--mode", "sandbox"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("mode: sandbox (running on the built-in sandbox: FAKE data)")
    assert "All 5 reachable, keys accepted." in out
    assert "sk_test_sandbox" not in out


def test_config_check_exits_2_on_a_configuration_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_without_our_variables(), "CUSTOMER_GATEWAY_MODE": "live", "STRPE_API_KEY": "sk"},
    )

    assert result.returncode == 2
    assert "STRPE_API_KEY (did you mean STRIPE_API_KEY?)" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_metrics_address_with_workers_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CUSTOMER_GATEWAY_METRICS_ADDRESS", "127.0.0.1:0")

    code = main(["serve", "--workers", "2", "--port", "0", "--sandbox-base-port", "0"])

    assert code == 2
    assert "metrics_address with --workers" in capsys.readouterr().err
