"""``customer-gateway migrate`` and the index settings, as a user meets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_settings
from gateway.config.check import describe
from gateway.index import head_revision

SECRET = "pw-Zq81x"


def test_migrate_creates_the_default_index_in_the_data_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CUSTOMER_GATEWAY_DATA_DIR", str(tmp_path / "data"))

    assert main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert main(["migrate"]) == 0
    again = capsys.readouterr().out

    assert (tmp_path / "data" / "index.sqlite3").is_file()
    assert f"revision {head_revision()} (head)" in first
    assert first == again


def test_migrate_url_overrides_the_configured_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere.sqlite3"

    assert main(["migrate", "--url", f"sqlite:///{target}"]) == 0

    assert target.is_file()
    assert str(target) in capsys.readouterr().out


def test_migrate_failure_exits_1_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+asyncpg://gateway:{SECRET}@127.0.0.1:1/gateway"

    assert main(["migrate", "--url", url]) == 1

    err = capsys.readouterr().err
    assert "cannot migrate the identity index at postgresql+asyncpg://gateway:***@" in err
    assert SECRET not in err


def test_an_unsupported_index_url_is_a_configuration_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"mysql://gateway:{SECRET}@db/gateway"
    with pytest.raises(ConfigError) as caught:
        load_settings({"CUSTOMER_GATEWAY_INDEX_URL": url})
    assert "CUSTOMER_GATEWAY_INDEX_URL" in str(caught.value)
    assert SECRET not in str(caught.value)

    monkeypatch.setenv("CUSTOMER_GATEWAY_INDEX_URL", url)
    assert main(["migrate"]) == 2
    assert SECRET not in capsys.readouterr().err


def test_config_check_shows_the_index_url_masked() -> None:
    url = f"postgresql+asyncpg://gateway:{SECRET}@db/gateway"
    settings = load_settings({"CUSTOMER_GATEWAY_INDEX_URL": url, "CUSTOMER_GATEWAY_DATA_DIR": "/d"})

    lines = describe(settings)

    assert "index_url = postgresql+asyncpg://gateway:***@db/gateway" in lines
    assert "data_dir = /d" in lines
    assert not any(SECRET in line for line in lines)
    assert SECRET not in repr(settings)
    assert (settings.index_url, settings.data_dir) == (url, "/d")
