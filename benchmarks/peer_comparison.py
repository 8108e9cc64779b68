"""Side by side: this gateway against GraphQL Mesh + Hive Gateway (the peer) on the same providers.

Starts the sandbox (its Stripe, ChartMogul and FirstOfficer simulators are the common backend),
our gateway in live mode over those three providers, and the peer composed over the same three
(the harness in ../shared/peer, installed from npm into PEER_DIR, default /tmp/peer). Ours starts
on an empty identity index of its own and is measured once its background sync has listed every
provider (``/healthz`` ``sync.synced``, waited on with a bound): reads then come from the index,
every member record fetched by id in one wave. For each process count (ours ``serve --workers N``,
the peer ``hive-gateway --fork N``, peer/README.md), provider latency and query, it loads the two
gateways in alternating runs (ours, peer, ours, peer, ...) with ``wrk -c16`` bounded by time and
count, and prints the medians and the ratio table (issue 11). Prints figures; asserts nothing.
Every process it starts is stopped by PID.

The page query differs in one respect: the peer lists Stripe's first 50 customers (newest first)
and joins each; ours lists the index's customers holding a Stripe record (``filter: {providers:
[STRIPE]}``), newest first by the customer's earliest record, so both pages hold the same Stripe
customers. Ours also resolves who each customer is (the identity index, read-repair) where the
peer joins on the Stripe id alone.

    python benchmarks/peer_comparison.py  # 1 and 2 processes each, 0/50 ms, 3 rounds
    python benchmarks/peer_comparison.py --rounds 1 --seconds 5 --processes 1  # quick look
    python benchmarks/peer_comparison.py --cache-ttl 30 --queries single --latencies 50

Needs ``wrk`` (Debian: ``apt-get install wrk``) and node + npm. The peer's files are read from
PEER_HARNESS (default ../shared/peer next to this checkout's parent) and never copied into the repo.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's gateway, also when run as a plain script

import httpx  # noqa: E402

from benchmarks.gateway_latency import (  # noqa: E402
    Sandbox,
    child,
    free_port_block,
    stop,
    wait_for,
)
from benchmarks.load import COMPARED_PROVIDERS, Run, check, measure, med, wrk  # noqa: E402
from benchmarks.peer_install import (  # noqa: E402
    PeerSide,
    compose_peer,
    default_harness,
    install_peer,
    peer_gateway,
)
from gateway.config import IdentitySettings  # noqa: E402
from gateway.core.graph import _SYNCED_TTL  # noqa: E402
from gateway.identity import normalise_email  # noqa: E402
from gateway.providers.registry import BY_NAME  # noqa: E402

METRICS = "metrics { mrr { amount } arr { amount } totalContractValue { amount } }"
OURS = {
    "single": f"query($e: String!) {{ customerByEmail(email: $e) {{ id email name {METRICS} }} }}",
    # The index's customers holding a Stripe record: the peer's page is Stripe's listing.
    "list": (
        "{ customers(first: 50, filter: {providers: [STRIPE]}) "
        f"{{ nodes {{ id email name {METRICS} }} }} }}"
    ),
}
# The peer harness's two queries (peer/README.md), in the sandbox variant of its schema
# (side_by_side/peer: a FirstOfficer 404 is a union member, not an error).
PEER_JOIN = (
    "id email name chartmogul { mrr arr } "
    "firstOfficer { ... on FirstOfficerCustomer { totalContractValue } }"
)
PEER = {
    "single": f"query($e: String!) {{ customerByEmail(email: $e) {{ {PEER_JOIN} }} }}",
    "list": f"{{ customers(limit: 50) {{ {PEER_JOIN} }} }}",
}


# ------------------------------------------------------------------ the queries' bodies


def bodies(sandbox: Sandbox, tmp: Path) -> dict[tuple[str, str], Path]:
    """One JSON body per line for each (gateway, query): single rotates over 100 Stripe emails."""
    stripe = sandbox.urls["stripe"]
    listed = httpx.get(
        f"{stripe}/v1/customers?limit=100", auth=(BY_NAME["stripe"].sandbox_key, ""), timeout=10
    ).json()["data"]
    placeholders = IdentitySettings().placeholder_emails  # ours refuses them: both skip them
    emails = [c["email"] for c in listed if normalise_email(c.get("email"), placeholders)]
    files: dict[tuple[str, str], Path] = {}
    for side, queries in (("ours", OURS), ("peer", PEER)):
        for name, query in queries.items():
            path = tmp / f"{side}-{name}.jsonl"
            if name == "single":
                lines = [json.dumps({"query": query, "variables": {"e": e}}) for e in emails]
            else:
                lines = [json.dumps({"query": query})]
            path.write_text("\n".join(lines) + "\n")
            files[side, name] = path
    return files


# ------------------------------------------------------------------ ours


@contextlib.contextmanager
def our_gateway(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``customer-gateway serve`` with its output in a file (a pipe nobody reads would fill up
    and stall it)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *args], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        stop(proc)


def wait_synced(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 180) -> float:
    """Wait (bounded) until ``/healthz`` says every provider is synced into the index, several
    answers in a row (with ``--workers`` each answer comes from some worker), then out the
    interval a worker reuses its own "synced?" answer for; returns the seconds waited."""
    started = time.monotonic()
    deadline = started + limit
    in_a_row = 0
    while in_a_row < 6:
        if proc.poll() is not None:
            raise RuntimeError(f"ours exited early: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"ours not synced after {limit:g} s: {httpx.get(url).text[:800]}")
        with contextlib.suppress(httpx.HTTPError):
            sync = httpx.get(url, timeout=5).json().get("sync") or {}
            in_a_row = in_a_row + 1 if sync.get("synced") else 0
        time.sleep(0.2)
    time.sleep(_SYNCED_TTL + 0.5)
    return time.monotonic() - started


# ------------------------------------------------------------------ report


SEP = " · "  # between the process counts in one cell
Results = dict[tuple[int, str, float, str], list[Run]]


def report(results: Results, args: argparse.Namespace) -> None:
    cache = f", our record cache TTL {args.cache_ttl:g} s" if args.cache_ttl else ""
    print(
        f"\n## Medians of {args.rounds} alternating runs, wrk -c{args.connections}, "
        f"{args.seconds:g} s each{cache}\n"
    )
    print(
        "| processes | query | latency | gateway | req/s | p50 ms | CPU ms/request "
        "| upstream/request | bad |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for processes in args.processes:
        for query in args.queries:
            for latency in args.latencies:
                for side in ("ours", "peer"):
                    runs = results[processes, query, latency, side]
                    print(
                        f"| {processes} | {query} | {latency:g} ms | {side} "
                        f"| {med(runs, 'rps'):.1f} | {med(runs, 'p50_ms'):.1f} "
                        f"| {med(runs, 'cpu_ms'):.1f} | {med(runs, 'upstream'):.2f} "
                        f"| {sum(r.bad for r in runs)} |"
                    )
    print("\n## Ours / peer\n")
    counts = args.processes
    head = SEP.join(f"{n} process{'es' if n > 1 else ''}" for n in counts)
    print(
        f"| query | provider latency | req/s ours/peer ({head}) | p50 ours/peer ({head}) "
        f"| CPU per request ours / peer ({head}) | upstream calls ours / peer |"
    )
    print("|---|---|---|---|---|---|")
    for query in args.queries:
        for latency in args.latencies:
            rps, p50, cpu = [], [], []
            for n in counts:
                ours, peer = results[n, query, latency, "ours"], results[n, query, latency, "peer"]
                rps.append(f"{med(ours, 'rps') / med(peer, 'rps'):.2f}")
                p50.append(f"{med(ours, 'p50_ms') / med(peer, 'p50_ms'):.2f}")
                cpu.append(f"{med(ours, 'cpu_ms'):.1f} / {med(peer, 'cpu_ms'):.1f} ms")
            ours, peer = (
                results[counts[0], query, latency, "ours"],
                results[counts[0], query, latency, "peer"],
            )
            print(
                f"| {query} | {latency:g} ms | {SEP.join(rps)} | {SEP.join(p50)} "
                f"| {SEP.join(cpu)} "
                f"| {med(ours, 'upstream'):.2f} / {med(peer, 'upstream'):.2f} |"
            )


# ------------------------------------------------------------------ main


def our_env(sandbox: Sandbox, args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAGO_", "TOFUPAY_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["CUSTOMER_GATEWAY_AUTH_OPEN"] = "1"  # loopback, measured without credentials
    env.setdefault("CUSTOMER_GATEWAY_LOG_FORMAT", "json")
    env["CUSTOMER_GATEWAY_DATA_DIR"] = str(data_dir)  # an identity index of this run's own
    env.pop("CUSTOMER_GATEWAY_INDEX_URL", None)
    env.pop("CUSTOMER_GATEWAY_REDIS_URL", None)
    for name in COMPARED_PROVIDERS:
        prefix = name.upper()
        env[f"{prefix}_BASE_URL"] = sandbox.urls[name]
        env[f"{prefix}_API_KEY"] = BY_NAME[name].sandbox_key
        env[f"{prefix}_MAX_CONCURRENCY"] = str(args.max_concurrency)
        env[f"{prefix}_RATE_LIMIT"] = "0"  # the peer has no client-side limit either
        if args.cache_ttl:
            env[f"{prefix}_CACHE_TTL"] = f"{args.cache_ttl:g}"
        else:
            env.pop(f"{prefix}_CACHE_TTL", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternations (median of N)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured wrk run length")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured wrk run before each")
    parser.add_argument(
        "--first-warmup",
        type=float,
        default=10.0,
        help="unmeasured wrk run of each gateway before a (latency, query)'s first round: the "
        "peer's JIT needs more than --warmup (its first round measured ~20 %% low without)",
    )
    parser.add_argument("--max-requests", type=int, default=200_000, help="wrk count bound")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=[1, 2],
        help="gateway processes each: ours serve --workers N, the peer hive-gateway --fork N",
    )
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument(
        "--queries", nargs="+", choices=("single", "list"), default=["single", "list"]
    )
    parser.add_argument(
        "--cache-ttl", type=float, default=0.0, help="our <P>_CACHE_TTL (warm path)"
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=256, help="our per-provider cap (the peer has none)"
    )
    parser.add_argument("--customers", type=int, default=200, help="sandbox dataset size")
    parser.add_argument(
        "--sync-timeout", type=float, default=180.0, help="bound on waiting for our index sync"
    )
    parser.add_argument(
        "--peer-harness",
        type=Path,
        default=Path(os.environ.get("PEER_HARNESS", default_harness())),
    )
    parser.add_argument(
        "--peer-dir", type=Path, default=Path(os.environ.get("PEER_DIR", "/tmp/peer"))
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    harness = args.peer_harness.resolve()
    lua = harness / "wrk_graphql.lua"

    base = free_port_block(7)
    sandbox = Sandbox(base)
    ours_port, peer_port = base + 5, base + 6
    node_env = install_peer(harness, args.peer_dir)
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="peer-comparison-") as tmp_dir:
        tmp = Path(tmp_dir)
        sandbox_env = our_env(sandbox, args, tmp / "sandbox-data")
        sandbox_args = ["sandbox", "--base-port", str(base), "--customers", str(args.customers)]
        with child(sandbox_args, sandbox_env) as sandbox_proc:
            wait_for(f"{sandbox.urls['stripe']}/__sandbox/faults", sandbox_proc)
            serve = compose_peer(harness, args.peer_dir, node_env, sandbox)
            files = bodies(sandbox, tmp)
            peer = PeerSide(args.peer_dir, serve, node_env, peer_port)
            for processes in args.processes:
                compare(processes, ours_port, peer, sandbox, files, lua, tmp, args, results)
    report(results, args)


def compare(
    processes: int,
    ours_port: int,
    peer_side: PeerSide,
    sandbox: Sandbox,
    files: dict[tuple[str, str], Path],
    lua: Path,
    tmp: Path,
    args: argparse.Namespace,
    results: Results,
) -> None:
    """Both gateways with ``processes`` processes each, every latency and query alternately."""
    sandbox.set_latency(0)
    env = our_env(sandbox, args, tmp / f"ours-data-{processes}")
    serve_args = ["serve", "--mode", "live", "--port", str(ours_port), "--no-graphiql"]
    serve_args += ["--log-level", "warning", "--workers", str(processes)]
    log = tmp / f"ours-{processes}.log"
    with (
        our_gateway(serve_args, env, log) as ours,
        peer_gateway(
            peer_side.peer_dir, peer_side.serve, peer_side.env, peer_side.port, processes
        ) as peer,
    ):
        urls = {
            "ours": f"http://127.0.0.1:{ours_port}",
            "peer": f"http://127.0.0.1:{peer_side.port}",
        }
        wait_for(f"{urls['ours']}/healthz", ours, timeout=60)
        waited = wait_synced(f"{urls['ours']}/healthz", ours, log, args.sync_timeout)
        wait_for(f"{urls['peer']}/healthcheck", peer, timeout=60)
        pids = {"ours": ours.pid, "peer": peer.pid}
        version = subprocess.run(
            ["node", "--version"], env=peer_side.env, capture_output=True, text=True
        ).stdout.strip()
        print(
            f"# {processes} process(es) each: ours pid {ours.pid} (index synced after "
            f"{waited:.0f} s) vs Hive Gateway pid {peer.pid} (node {version}); "
            f"{os.cpu_count()} CPUs shared by both gateways, wrk, the sandbox and whatever "
            "else runs on this machine",
            flush=True,
        )
        for latency in args.latencies:
            sandbox.set_latency(latency)
            for query in args.queries:
                calls = {
                    side: check(f"{urls[side]}/graphql", files[side, query], sandbox)
                    for side in ("ours", "peer")
                }
                print(
                    f"  {query} {latency:g} ms: one request alone makes "
                    f"{calls['ours']:g} upstream calls ours, {calls['peer']:g} the peer's",
                    flush=True,
                )
                if args.first_warmup:
                    for side in ("ours", "peer"):
                        url = f"{urls[side]}/graphql"
                        wrk(url, files[side, query], lua, args.first_warmup, args)
                for round_ in range(args.rounds):
                    for side in ("ours", "peer"):
                        run = measure(
                            f"{urls[side]}/graphql", pids[side], files[side, query], lua,
                            sandbox, args,
                        )  # fmt: skip
                        results.setdefault((processes, query, latency, side), []).append(run)
                        print(
                            f"  {processes}p {query} {latency:g} ms round {round_ + 1} {side}: "
                            f"{run.rps:.1f} req/s, p50 {run.p50_ms:.1f} ms, "
                            f"{run.cpu_ms:.1f} ms CPU/req, {run.upstream:.2f} upstream/req, "
                            f"bad {run.bad}",
                            flush=True,
                        )
        sandbox.set_latency(0)


if __name__ == "__main__":
    main()
