"""Loading settings from a config file written for the test."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings, load_settings

Load = Callable[..., Settings]


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """``load(file_data, env)``: settings from that JSON file (if any) and environment."""

    def load(
        data: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        if data is None:
            return load_settings(dict(env or {}))
        path = tmp_path / "gateway.json"
        path.write_text(json.dumps(data))
        return load_settings(dict(env or {}), config_file=path)

    return load
