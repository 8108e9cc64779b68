"""The two federation composers, Apollo's and The Guild's (the one Hive Gateway uses), on Node.

They are npm packages pinned in ``package.json`` here, installed once into ``.cache/composers``
(:func:`tests.npm.install_pinned`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.npm import install_pinned

HERE = Path(__file__).resolve().parent
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


@pytest.fixture(scope="session")
def composers() -> Composers:
    packages = install_pinned(HERE, "composers")
    return Composers(node=packages.node, prefix=packages.prefix)
