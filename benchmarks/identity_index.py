"""Identity index: backfill time and index size, then lookup latency answered from the index.

Starts the sandbox (``--customers``, default 20000) as a child process and, for each backend
(a SQLite file, and a throw-away PostgreSQL from Debian's binaries, tests/servers.py), runs
``customer-gateway sync --mode live`` against it into an empty index, then prints the backfill's
wall time, records/s, upstream calls per provider and the index size. Then ``serve --mode live``
on that index (``CUSTOMER_GATEWAY_INDEX_URL``, background sync off so the measured calls are the
lookups' own) is loaded with ``wrk`` per lookup (customerByEmail, customerByProviderId,
customer(id)) over random customers, at each provider latency; and the index reads alone are
timed in this process. Prints figures; asserts nothing. Every process it starts is stopped.

    python benchmarks/identity_index.py                      # 20000 customers, both backends
    python benchmarks/identity_index.py --customers 2000 --backends sqlite --rounds 1 --seconds 3

Needs ``wrk`` (Debian: ``apt-get install wrk``); PostgreSQL's ``initdb``/``pg_ctl`` for the
PostgreSQL backend (Debian: ``apt-get install postgresql``), which is skipped when they are
missing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's gateway, also when run as a plain script

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from benchmarks.gateway_latency import (  # noqa: E402
    CUSTOMER,
    Sandbox,
    child,
    cpu_seconds,
    free_port_block,
    live_env,
    pct,
    wait_for,
)
from benchmarks.index_probe import Key, sample, time_reads  # noqa: E402
from benchmarks.load import Run, check, measure, med, upstream_count  # noqa: E402
from benchmarks.peer_install import default_harness  # noqa: E402
from gateway.providers.registry import BY_NAME, PROVIDERS  # noqa: E402
from gateway.sandbox.dataset import generate  # noqa: E402
from tests.servers import PostgresServer, ServerUnavailable  # noqa: E402

SHAPES = {
    "customerByEmail": f"query($e: String!) {{ customerByEmail(email: $e) {{ {CUSTOMER} }} }}",
    "customerByProviderId": (
        "query($p: Provider!, $i: String!) "
        f"{{ customerByProviderId(provider: $p, id: $i) {{ {CUSTOMER} }} }}"
    ),
    "customer(id)": f"query($i: ID!) {{ customer(id: $i) {{ {CUSTOMER} }} }}",
}


# ------------------------------------------------------------------ backfill


def backfill(
    url: str, env: dict[str, str], sandbox: Sandbox, sandbox_pid: int, timeout: float
) -> dict[str, float]:
    """``customer-gateway sync`` into ``url``: wall time, CPU and upstream calls per provider.
    A run longer than ``timeout`` is killed (and reported as such by the caller)."""
    upstream_count(sandbox, clear=True, providers=PROVIDERS)
    sandbox_cpu = cpu_seconds(sandbox_pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "sync", "--mode", "live", "--log-level", "warning"],
        env={**env, "CUSTOMER_GATEWAY_INDEX_URL": url},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"sync failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out: dict[str, float] = {
        "wall_s": wall,
        "sync_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "sandbox_cpu_s": cpu_seconds(sandbox_pid) - sandbox_cpu,
    }
    for name in PROVIDERS:
        out[f"calls:{name}"] = upstream_count(sandbox, clear=False, providers=[name])
    return out


def index_bytes(url: str, sqlite_path: Path | None) -> int:
    """The SQLite file with its WAL and shared-memory files, or ``pg_database_size``."""
    if sqlite_path is not None:
        files = [sqlite_path, *(Path(f"{sqlite_path}{s}") for s in ("-wal", "-shm"))]
        return sum(f.stat().st_size for f in files if f.exists())

    async def size() -> int:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = text("SELECT pg_database_size(current_database())")
                return int(await conn.scalar(query) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(size())


# ------------------------------------------------------------------ lookups through the gateway


def bodies(keys: list[Key], tmp: Path) -> dict[str, Path]:
    variables = {
        "customerByEmail": lambda k: {"e": k.email},
        "customerByProviderId": lambda k: {"p": k.ref.provider.upper(), "i": k.ref.id},
        "customer(id)": lambda k: {"i": k.customer_id},
    }
    files = {}
    for name, query in SHAPES.items():
        path = tmp / f"{name.replace('(', '-').replace(')', '')}.jsonl"
        lines = [json.dumps({"query": query, "variables": variables[name](k)}) for k in keys]
        path.write_text("\n".join(lines) + "\n")
        files[name] = path
    return files


def found(url: str, body_file: Path, sandbox: Sandbox) -> None:
    """The first body finds its customer (an answer of ``null`` would make the figures moot)."""
    check(url, body_file, sandbox)
    import httpx

    body = json.loads(body_file.read_text().splitlines()[0])
    data = httpx.post(url, json=body, timeout=60).json()["data"]
    if not any(data.values()):
        raise RuntimeError(f"{url}: no customer for {body['variables']}")


def lookups(
    url: str, pid: int, files: dict[str, Path], sandbox: Sandbox, args: argparse.Namespace
) -> dict[tuple[float, int, str], list[Run]]:
    """Per (provider latency, wrk connections, query), ``args.rounds`` wrk runs."""
    lua = default_harness() / "wrk_graphql.lua"
    runs: dict[tuple[float, int, str], list[Run]] = {}
    for latency in args.latencies:
        sandbox.set_latency(latency)
        for body in files.values():
            found(url, body, sandbox)
        for round_, conns, (name, body) in itertools.product(
            range(args.rounds), args.connections, files.items()
        ):
            wrk_args = argparse.Namespace(**{**vars(args), "connections": conns})
            run = measure(url, pid, body, lua, sandbox, wrk_args, providers=PROVIDERS)
            runs.setdefault((latency, conns, name), []).append(run)
            print(
                f"  {latency:g} ms -c{conns} {name} round {round_ + 1}: {run.rps:.1f} req/s, "
                f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
                f"{run.upstream:.2f} upstream/req, bad {run.bad}",
                flush=True,
            )
    sandbox.set_latency(0)
    return runs


@contextmanager
def serving(env: dict[str, str], url: str, port: int) -> Iterator[tuple[str, int]]:
    """``serve --mode live`` on the index at ``url``; yields (GraphQL URL, pid)."""
    env = {**env, "CUSTOMER_GATEWAY_INDEX_URL": url, "CUSTOMER_GATEWAY_SYNC": "0"}
    serve = ["serve", "--mode", "live", "--port", str(port), "--no-graphiql"]
    with child([*serve, "--log-level", "warning"], env) as proc:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc, timeout=60)
        yield f"http://127.0.0.1:{port}/graphql", proc.pid


# ------------------------------------------------------------------ one backend


@contextmanager
def backend(name: str, tmp: Path) -> Iterator[tuple[str, Path | None]]:
    """The index URL (and SQLite file) of an empty index on ``name``; PostgreSQL is stopped
    and removed on exit."""
    if name == "sqlite":
        path = tmp / "index.sqlite3"
        yield f"sqlite+aiosqlite:///{path}", path
        return
    server = PostgresServer()
    try:
        server.start()
        yield server.url, None
    finally:
        server.stop()


def run_backend(
    name: str, sandbox: Sandbox, sandbox_pid: int, tmp: Path, port: int, args: argparse.Namespace
) -> dict[str, object]:
    result: dict[str, object] = {"backend": name}
    sync_env = live_env(sandbox, args.max_concurrency, rate_limits=args.backfill_rate_limits)
    serve_env = live_env(sandbox, args.max_concurrency, rate_limits="off")
    with backend(name, tmp) as (url, sqlite_path):
        print(f"\n# {name}: backfill of {args.customers} customers", flush=True)
        try:
            result["backfill"] = backfill(
                url, sync_env, sandbox, sandbox_pid, args.backfill_timeout
            )
        except subprocess.TimeoutExpired:
            print(f"  backfill did not finish within {args.backfill_timeout:g} s (killed)")
            result["backfill_timeout"] = args.backfill_timeout
            return result
        result["bytes"] = index_bytes(url, sqlite_path)
        per_provider, customers, keys = asyncio.run(sample(url, args.keys, args.seed))
        result["records"], result["customers"], result["keys"] = per_provider, customers, keys
        print(f"  {result['backfill']}\n  {per_provider}, {customers} customers", flush=True)
        result["reads"] = asyncio.run(time_reads(url, keys))
        with serving(serve_env, url, port) as (graphql, pid):
            result["lookups"] = lookups(graphql, pid, bodies(keys, tmp), sandbox, args)
    return result


# ------------------------------------------------------------------ report


def report(results: list[dict[str, object]], args: argparse.Namespace) -> None:
    print(
        f"\n## Backfill of {args.customers} customers (rate limits {args.backfill_rate_limits})\n"
    )
    print(
        "| backend | records | customers | wall s | records/s | upstream calls | "
        "sync CPU s | sandbox CPU s | index size MiB | bytes/record |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "backfill_timeout" in r:
            print(f"| {r['backend']} | did not finish in {r['backfill_timeout']:g} s |")
            continue
        b = r["backfill"]
        assert isinstance(b, dict) and isinstance(r["records"], dict)
        records = sum(r["records"].values())
        calls = sum(int(b[f"calls:{p}"]) for p in PROVIDERS)
        size = int(str(r["bytes"]))
        print(
            f"| {r['backend']} | {records} | {r['customers']} | {b['wall_s']:.1f} "
            f"| {records / b['wall_s']:.0f} | {calls} | {b['sync_cpu_s']:.1f} "
            f"| {b['sandbox_cpu_s']:.1f} | {size / 2**20:.1f} | {size / max(1, records):.0f} |"
        )
    done = [r for r in results if "backfill" in r]
    if not done:
        return
    b = done[0]["backfill"]
    assert isinstance(b, dict)
    print("\nupstream calls (listing pages) per provider, and the floor under documented limits:")
    for p in PROVIDERS:
        rate = BY_NAME[p].rate_limit
        floor = f"{b[f'calls:{p}'] / rate:.1f} s at {rate:g}/s" if rate else "no limit"
        print(f"- {p}: {int(b[f'calls:{p}'])} calls ({floor})")

    print("\n## Index reads in-process (ms, each of the sampled keys in turn, gateway idle)\n")
    print("| backend | read | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for r in done:
        reads = r["reads"]
        assert isinstance(reads, dict)
        for name, ms in reads.items():
            print(f"| {r['backend']} | `{name}` | {pct(ms, 0.5):.2f} | {pct(ms, 0.99):.2f} |")

    keys = done[0]["keys"]
    assert isinstance(keys, list)
    members = statistics.mean(k.members for k in keys)
    print(
        f"\n## Lookups through the gateway: wrk {args.seconds:g} s, medians of {args.rounds}; "
        f"{len(keys)} random customers, {members:.2f} records each\n"
    )
    print(
        "| backend | provider latency | connections | query | req/s | p50 ms | p99 ms "
        "| upstream/req | bad |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in done:
        runs = r["lookups"]
        assert isinstance(runs, dict)
        for (latency, conns, name), measured in sorted(runs.items()):
            print(
                f"| {r['backend']} | {latency:g} ms | {conns} | `{name}` "
                f"| {med(measured, 'rps'):.1f} "
                f"| {med(measured, 'p50_ms'):.1f} | {med(measured, 'p99_ms'):.1f} "
                f"| {med(measured, 'upstream'):.2f} | {sum(m.bad for m in measured)} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20000, help="sandbox dataset size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--backends", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--backfill-rate-limits",
        choices=("documented", "off"),
        default="documented",
        help="client-side rate limits of the backfill (lookups always run with them off)",
    )
    parser.add_argument("--backfill-timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--keys", type=int, default=500, help="random customers looked up")
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per figure (median)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured wrk run length")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured wrk run before each")
    parser.add_argument("--max-requests", type=int, default=100_000, help="wrk count bound")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[1, 16], help="wrk -c: latency, load"
    )
    parser.add_argument("--max-concurrency", type=int, default=64, help="per-provider cap")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")

    dataset = generate(seed=args.seed, customers=args.customers)
    counts = {p: len(dataset.for_provider(p)) for p in PROVIDERS}
    print(f"# sandbox --customers {args.customers}: {sum(counts.values())} records, {counts}")
    print(
        f"# {os.cpu_count()} CPUs shared by the sandbox, the sync or gateway, wrk and this script"
    )
    base = free_port_block(6)
    sandbox = Sandbox(base)
    sandbox_args = ["sandbox", "--base-port", str(base), "--customers", str(args.customers)]
    sandbox_args += ["--seed", str(args.seed), "--log-level", "warning"]
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="identity-index-") as tmp,
        child(sandbox_args, live_env(sandbox, args.max_concurrency, rate_limits="off")) as proc,
    ):
        wait_for(f"{sandbox.urls['stripe']}/__sandbox/faults", proc, timeout=300)
        for name in args.backends:
            try:
                results.append(run_backend(name, sandbox, proc.pid, Path(tmp), base + 5, args))
            except ServerUnavailable as exc:
                print(f"\n# {name} skipped: {exc}")
    report(results, args)


if __name__ == "__main__":
    main()
