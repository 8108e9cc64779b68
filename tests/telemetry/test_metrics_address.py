"""``metrics_address``: where ``serve`` answers /metrics, apart from the API."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx
import pytest

from gateway.config import ConfigError, load_settings
from tests.telemetry.conftest import parse
from tests.test_cli import SHOWCASE_QUERY, running

ENV = "CUSTOMER_GATEWAY_METRICS_ADDRESS"


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (" [::1]:0 ", ("::1", 0)),
        ("metrics.internal:9464", ("metrics.internal", 9464)),
    ],
)
def test_an_address_is_a_host_and_port(value: str, address: tuple[str, int]) -> None:
    assert load_settings({ENV: value}).metrics_address == address


def test_metrics_are_off_by_default_and_when_blank(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({"metrics_address": ""}))

    assert load_settings({}).metrics_address is None
    assert load_settings({}, config_file=path).metrics_address is None


@pytest.mark.parametrize(
    "value", ["localhost", "127.0.0.1:99999", "http://127.0.0.1:9464", "me@127.0.0.1:1", ":9464"]
)
def test_anything_else_stops_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=f"{ENV}: expected host:port"):
        load_settings({ENV: value})


def test_serve_answers_metrics_on_its_own_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "127.0.0.1:0")
    with running("serve", "--port", "0", "--sandbox-base-port", "0") as (proc, lines):
        api = next(m.group(1) for ln in lines if (m := re.search(r"GraphQL endpoint: (\S+)", ln)))
        metrics = next(
            m.group(1) for ln in lines if (m := re.search(r"Prometheus metrics: (\S+)", ln))
        )
        assert httpx.post(api, json={"query": SHOWCASE_QUERY}, timeout=10).status_code == 200

        scraped = parse(httpx.get(metrics, timeout=10).text)

        assert scraped.value("graphql_requests_total", outcome="ok") == 1
        assert scraped.value("upstream_requests_total") >= 5
        assert httpx.get(api.replace("/graphql", "/metrics"), timeout=10).status_code == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
