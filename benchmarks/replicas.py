"""Two ``serve`` replicas sharing one local redis-server, against one, under the same wrk load.

Starts the sandbox (its Stripe, ChartMogul and FirstOfficer, as benchmarks/peer_comparison.py
uses them), a ``redis-server`` on a free port (tests/servers.py), and two gateway processes in
live mode with ``CUSTOMER_GATEWAY_REDIS_URL`` set. For each provider latency and cache setting it
runs two ``wrk -c8`` at once (16 connections in all): first both at replica A (one replica), then
one at each (two replicas, round robin by connection), and prints req/s, p50 and upstream calls
per request. Prints figures; asserts nothing. Every process it starts is stopped.

    python benchmarks/replicas.py                              # 0 and 50 ms, cold and TTL 30 s
    python benchmarks/replicas.py --seconds 5 --latencies 50   # quick look

Needs ``wrk`` and ``redis-server`` (Debian packages of those names).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's gateway, also when run as a plain script

from benchmarks.gateway_latency import Sandbox, child, free_port_block, wait_for  # noqa: E402
from benchmarks.load import settle, tree_cpu, upstream_count, wrk  # noqa: E402
from benchmarks.peer_comparison import bodies, our_env  # noqa: E402
from benchmarks.peer_install import default_harness  # noqa: E402
from tests.servers import redis_server_binary, start_redis, stop_redis  # noqa: E402


@contextmanager
def replicas(
    sandbox: Sandbox,
    ports: list[int],
    args: argparse.Namespace,
    redis_url: str,
    ttl: float,
    data_dir: Path,
) -> Iterator[list[tuple[str, int]]]:
    """``serve`` on each port, sharing ``redis_url`` and one identity index (a SQLite file in
    ``data_dir``); yields (GraphQL URL, pid) per replica."""
    env = our_env(sandbox, argparse.Namespace(**{**vars(args), "cache_ttl": ttl}), data_dir)
    env["CUSTOMER_GATEWAY_REDIS_URL"] = redis_url
    with ExitStack() as stack:
        out = []
        for port in ports:
            serve = ["serve", "--mode", "live", "--port", str(port), "--no-graphiql"]
            proc = stack.enter_context(child([*serve, "--log-level", "warning"], env))
            wait_for(f"http://127.0.0.1:{port}/healthz", proc)
            out.append((f"http://127.0.0.1:{port}/graphql", proc.pid))
        yield out


def load(
    targets: list[str], pids: list[int], body: Path, lua: Path, sandbox: Sandbox, args: Any
) -> dict[str, float]:
    """Two wrk at once, one per target; the sums, the slower p50, and costs per request."""
    half = argparse.Namespace(**{**vars(args), "connections": args.connections // 2})
    with ThreadPoolExecutor(2) as pool:
        if args.warmup:
            list(pool.map(lambda url: wrk(url, body, lua, args.warmup, half), targets))
        settle(sandbox)
        cpu = sum(tree_cpu(pid) for pid in pids)
        runs = list(pool.map(lambda url: wrk(url, body, lua, args.seconds, half), targets))
        cpu = sum(tree_cpu(pid) for pid in pids) - cpu
    requests = max(1, sum(int(r["requests"]) for r in runs))
    return {
        "rps": sum(float(r["rps"]) for r in runs),
        "p50_ms": max(float(r["p50_ms"]) for r in runs),
        "cpu_ms": cpu * 1000 / requests,
        "upstream": upstream_count(sandbox, clear=False) / requests,
        "bad": sum(int(r["bad"]) + int(r["sock_errors"]) + int(r["timeouts"]) for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternations (median of N)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=16, help="in all, over both wrk")
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--cache-ttls", type=float, nargs="+", default=[0.0, 30.0])
    parser.add_argument("--max-concurrency", type=int, default=64)
    parser.add_argument("--customers", type=int, default=200)
    args = parser.parse_args()
    binary = redis_server_binary()
    if binary is None:
        sys.exit("redis-server not found: apt-get install redis-server")
    lua = default_harness() / "wrk_graphql.lua"
    base = free_port_block(7)
    sandbox = Sandbox(base)
    sandbox_args = ["sandbox", "--base-port", str(base), "--customers", str(args.customers)]
    redis = start_redis(binary)
    rows: list[str] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="replicas-") as tmp,
            child(
                sandbox_args,
                our_env(
                    sandbox, argparse.Namespace(**vars(args), cache_ttl=0), Path(tmp) / "sandbox"
                ),
            ) as sandbox_proc,
        ):  # fmt: skip
            wait_for(f"{sandbox.urls['stripe']}/__sandbox/faults", sandbox_proc)
            body = bodies(sandbox, Path(tmp))["ours", "single"]
            print(f"# {os.cpu_count()} CPUs shared by the replicas, redis, wrk and the sandbox")
            for ttl in args.cache_ttls:
                data_dir = Path(tmp) / f"replicas-ttl-{ttl:g}"
                ports = [base + 5, base + 6]
                with replicas(sandbox, ports, args, redis.url, ttl, data_dir) as gateways:
                    (url_a, pid_a), (url_b, pid_b) = gateways
                    for latency in args.latencies:
                        sandbox.set_latency(latency)
                        runs: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
                        for _ in range(args.rounds):
                            one = load([url_a, url_a], [pid_a], body, lua, sandbox, args)
                            two = load([url_a, url_b], [pid_a, pid_b], body, lua, sandbox, args)
                            runs["1"].append(one)
                            runs["2"].append(two)
                            print(f"  ttl {ttl:g} latency {latency:g}: 1 {one} / 2 {two}")
                        for n, measured in runs.items():
                            med = {
                                k: statistics.median(r[k] for r in measured) for k in measured[0]
                            }
                            rows.append(
                                f"| {latency:g} ms | {ttl:g} s | {n} | {med['rps']:.0f} | "
                                f"{med['p50_ms']:.1f} | {med['cpu_ms']:.1f} | "
                                f"{med['upstream']:.2f} | {med['bad']:.0f} |"
                            )
    finally:
        stop_redis(redis)
    print(
        "\none customer by email (rotating over 100), ChartMogul MRR/ARR and FirstOfficer TCV; "
        f"wrk -c{args.connections // 2} x 2, {args.seconds:g} s, medians of {args.rounds}\n"
    )
    print("| provider latency | cache TTL | replicas | req/s | p50 ms | CPU ms/req "
          "| upstream/req | bad |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
