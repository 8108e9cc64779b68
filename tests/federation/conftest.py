"""The two federation composers, Apollo's and The Guild's (the one Hive Gateway uses), on Node.

They are npm packages pinned in ``package.json`` here and installed once into ``.cache/composers``
under the repository; later sessions reuse that install while its versions match the pins.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, skip_or_fail

HERE = Path(__file__).resolve().parent
CACHE = REPO / ".cache" / "composers"
INSTALL_TIMEOUT = 300.0
COMPOSE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Subgraph:
    name: str
    url: str
    sdl: str


@dataclass(frozen=True)
class Composers:
    """Runs ``compose.mjs``: every subgraph through both composers in one Node process."""

    node: str
    prefix: Path

    def compose(self, subgraphs: list[Subgraph]) -> dict[str, dict[str, Any]]:
        """Per composer (``apollo``, ``guild``): ``package``, ``version``, ``errors``
        (``message``, ``code``) and ``supergraphSdl`` (``None`` when composition failed)."""
        payload = {"subgraphs": [vars(s) for s in subgraphs]}
        result = subprocess.run(
            [self.node, str(HERE / "compose.mjs"), str(self.prefix)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=COMPOSE_TIMEOUT,
        )
        assert result.returncode == 0, f"compose.mjs failed:\n{result.stderr}"
        out: dict[str, dict[str, Any]] = json.loads(result.stdout)
        return out


def pinned() -> dict[str, str]:
    dependencies: dict[str, str] = json.loads((HERE / "package.json").read_text())["dependencies"]
    return dependencies


def installed(prefix: Path) -> bool:
    """Whether ``prefix`` holds every pinned package at its pinned version."""
    for name, version in pinned().items():
        manifest = prefix / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return True


@pytest.fixture(scope="session")
def composers() -> Composers:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("composing needs node and npm on PATH (the composers are npm packages)")
    if not installed(CACHE):
        CACHE.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / name, CACHE / name)
        command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=CACHE
            )
        except subprocess.TimeoutExpired:
            skip_or_fail(f"{' '.join(command)} took over {INSTALL_TIMEOUT:.0f} s")
        if result.returncode != 0 or not installed(CACHE):
            skip_or_fail(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return Composers(node=node, prefix=CACHE)
