"""Driving a gateway with wrk and counting what it cost: CPU (the process and its children,
from /proc), upstream calls (the sandbox simulators' request logs) and wrk's own figures.

Shared by the benchmark scripts (peer_comparison.py, identity_index.py, replicas.py). Every
wrk run is bounded by time and by count.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.gateway_latency import Sandbox, cpu_seconds

COMPARED_PROVIDERS = ("stripe", "chartmogul", "firstofficer")
"""The simulators both gateways of the comparison use, and whose calls are counted by default."""


@dataclass
class Run:
    rps: float
    p50_ms: float
    cpu_ms: float  # gateway process CPU per request
    upstream: float  # simulator requests per request
    bad: int
    p99_ms: float = float("nan")


def med(runs: list[Run], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in (pid, *children_of(pid)):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += cpu_seconds(p)
    return total


def settle(
    sandbox: Sandbox, limit: float = 30.0, providers: Iterable[str] = COMPARED_PROVIDERS
) -> None:
    """Wait until the requests still in flight after a warm-up have finished upstream, then clear
    the logs, so the measured run counts only its own calls and CPU."""
    quiet(sandbox, limit, providers)
    upstream_count(sandbox, clear=True, providers=providers)


def quiet(
    sandbox: Sandbox, limit: float = 30.0, providers: Iterable[str] = COMPARED_PROVIDERS
) -> int:
    """The upstream call count once it stops moving (bounded by ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    last = -1
    while time.monotonic() < deadline:
        count = upstream_count(sandbox, clear=False, providers=providers)
        if count == last:
            break
        last = count
        time.sleep(0.5)
    return last


def upstream_count(
    sandbox: Sandbox, clear: bool, providers: Iterable[str] = COMPARED_PROVIDERS
) -> int:
    """Requests the simulators of ``providers`` logged (or clear their logs)."""
    total = 0
    for name in providers:
        url = f"{sandbox.urls[name]}/__sandbox/requests"
        if clear:
            httpx.delete(url, timeout=30)
        else:
            total += httpx.get(url, timeout=60).json()["count"]
    return total


def wrk(
    url: str, body_file: Path, lua: Path, seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    env = dict(
        os.environ, GQL_BODIES=str(body_file), MAX_REQUESTS_PER_THREAD=str(args.max_requests)
    )
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    cmd += ["-s", str(lua), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 30)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return dict(json.loads(line[len("WRK_JSON ") :]))
    raise RuntimeError(f"wrk output not understood:\n{out.stdout}{out.stderr}")


def measure(
    url: str,
    pid: int,
    body_file: Path,
    lua: Path,
    sandbox: Sandbox,
    args: argparse.Namespace,
    providers: Iterable[str] = COMPARED_PROVIDERS,
) -> Run:
    """One warm-up, then one measured wrk run; upstream calls counted over ``providers``."""
    if args.warmup:
        wrk(url, body_file, lua, args.warmup, args)
    settle(sandbox, providers=providers)
    cpu = tree_cpu(pid)
    result = wrk(url, body_file, lua, args.seconds, args)
    cpu = tree_cpu(pid) - cpu
    calls = upstream_count(sandbox, clear=False, providers=providers)
    n = max(1, int(result["requests"]))
    bad = int(result["bad"]) + int(result["sock_errors"]) + int(result["timeouts"])
    return Run(result["rps"], result["p50_ms"], cpu * 1000 / n, calls / n, bad, result["p99_ms"])


def check(url: str, body_file: Path, sandbox: Sandbox) -> float:
    """One request first: a gateway that answers with errors would make the load figures moot.
    Returns the upstream calls that one request made (exact, unlike the load's average)."""
    body = json.loads(body_file.read_text().splitlines()[0])
    settle(sandbox)
    answer = httpx.post(url, json=body, timeout=60).json()
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{url} answered {json.dumps(answer)[:500]}")
    return float(quiet(sandbox))  # the calls still in flight (none expected) counted too
