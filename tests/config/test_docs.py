"""docs/configuration.md stays true: its example loads, and it names every variable and key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.config.schema import GATEWAY, IDENTITY, PROVIDER
from gateway.providers.registry import SPECS

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_documented_example_config_loads(tmp_path: Path) -> None:
    [example] = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)
    path = tmp_path / "gateway.json"
    path.write_text(example)

    settings = load_settings({}, config_file=path)

    assert [p.name for p in settings.enabled()] == ["stripe", "lago"]
    assert (
        settings.providers["lago"].max_concurrency
        == json.loads(example)["providers"]["lago"]["max_concurrency"]
    )


@pytest.mark.parametrize(
    "name",
    sorted(
        {f"P_{s.env}" for s in PROVIDER if s.env}
        | {s.env for s in (*GATEWAY, *IDENTITY) if s.env}
        | {f"`{s.key}`" for s in (*PROVIDER, *GATEWAY, *IDENTITY)}
        | {f"`{spec.env_prefix}`" for spec in SPECS}
    ),
)
def test_every_variable_and_file_key_is_documented(name: str) -> None:
    assert name in DOC.read_text()
