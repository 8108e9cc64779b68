"""npm packages the tests run on Node, pinned in a test directory's ``package.json``.

Each set is installed once into ``.cache/<name>`` under the repository (``npm install`` from the
committed ``package.json`` and ``package-lock.json``); later sessions reuse that install while
its versions match the pins. Without node and npm the tests skip, or fail in CI
(:func:`tests.conftest.skip_or_fail`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, skip_or_fail

INSTALL_TIMEOUT = 300.0


@dataclass(frozen=True)
class NodePackages:
    """``node`` and the npm prefix holding the pinned ``node_modules``."""

    node: str
    prefix: Path


def pinned(pins: Path) -> dict[str, str]:
    """The exact versions ``pins/package.json`` asks for."""
    dependencies: dict[str, str] = json.loads((pins / "package.json").read_text())["dependencies"]
    return dependencies


def installed(pins: Path, prefix: Path) -> bool:
    """Whether ``prefix`` holds every package pinned in ``pins`` at its pinned version."""
    for name, version in pinned(pins).items():
        manifest = prefix / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return True


def install_pinned(pins: Path, name: str) -> NodePackages:
    """The packages pinned in directory ``pins``, installed into ``.cache/<name>`` if needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail(f"{pins.name} needs node and npm on PATH (its tools are npm packages)")
    prefix = REPO / ".cache" / name
    if not installed(pins, prefix):
        prefix.mkdir(parents=True, exist_ok=True)
        for file in ("package.json", "package-lock.json"):
            shutil.copyfile(pins / file, prefix / file)
        command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix)]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=prefix
            )
        except subprocess.TimeoutExpired:
            skip_or_fail(f"{' '.join(command)} took over {INSTALL_TIMEOUT:.0f} s")
        if result.returncode != 0 or not installed(pins, prefix):
            skip_or_fail(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return NodePackages(node=node, prefix=prefix)
