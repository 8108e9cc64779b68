"""docs/deployment.md stays true: its configuration loads with the keys from its environment
file, its ``/readyz`` example has the real fields, and its unit leaves the drain room."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gateway.config import load_settings
from gateway.config.schema import DRAIN_SECONDS
from gateway.providers.health import provider_readiness

DOC = (Path(__file__).resolve().parent.parent / "docs" / "deployment.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def test_the_production_config_loads_with_the_keys_from_the_environment(tmp_path: Path) -> None:
    config, _ = blocks("json")
    env_file = blocks("sh")[0]
    env = dict(line.split("=", 1) for line in env_file.splitlines() if "=" in line)
    path = tmp_path / "gateway.json"
    path.write_text(config)

    settings = load_settings(env, config_file=path)

    assert "api_key" not in config
    assert [p.name for p in settings.enabled()] == ["stripe", "chartmogul", "lago"]
    assert all(p.api_key == env[f"{p.name.upper()}_API_KEY"] for p in settings.enabled())
    assert settings.drain_seconds == json.loads(config)["drain_seconds"]


def test_the_readiness_example_has_the_fields_the_gateway_sends() -> None:
    _, example = blocks("json")
    providers = json.loads(example)["providers"]

    assert all(set(entry) == set(provider_readiness(object())) for entry in providers.values())


def test_the_systemd_unit_waits_longer_than_the_drain() -> None:
    [unit] = blocks("ini")
    timeout = re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M)

    assert timeout is not None and int(timeout.group(1)) > DRAIN_SECONDS.default
    assert "KillSignal=SIGTERM" in unit
