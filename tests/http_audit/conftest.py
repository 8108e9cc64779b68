"""graphql-http's GraphQL-over-HTTP audit, on Node.

``graphql-http`` is pinned in ``package.json`` here, installed once into ``.cache/http-audit``
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
AUDIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Auditor:
    """Runs ``audit.mjs``: ``auditServer({url})`` in one Node process."""

    node: str
    prefix: Path

    def audit(self, url: str) -> dict[str, Any]:
        """``version`` of graphql-http and ``results``: ``id``, ``name`` (starting with MUST,
        SHOULD or MAY), ``status`` (``ok``, else ``error``/``warn``/``notice`` by level) and
        ``reason``."""
        result = subprocess.run(
            [self.node, str(HERE / "audit.mjs"), str(self.prefix), url],
            capture_output=True,
            text=True,
            timeout=AUDIT_TIMEOUT,
        )
        assert result.returncode == 0, f"audit.mjs failed:\n{result.stderr}"
        out: dict[str, Any] = json.loads(result.stdout)
        return out


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    packages = install_pinned(HERE, "http-audit")
    return Auditor(node=packages.node, prefix=packages.prefix)
