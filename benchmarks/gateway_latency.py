"""Gateway benchmark: upstream calls per query shape, latency over the hop floor, throughput.

Starts ``customer-gateway sandbox`` and ``customer-gateway serve`` as child processes on
127.0.0.1 (the gateway configured to talk to the sandbox like real providers), injects a fixed
latency into every simulator, and measures from a client in this process. Prints figures; it
asserts nothing (targets are judged by a person, in docs/benchmarks.md).

    python benchmarks/gateway_latency.py                  # 50 ms per provider call
    python benchmarks/gateway_latency.py --latency-ms 20 --requests 100

The hop floor of one request is the number of sequential upstream "waves" it caused (requests
the simulators answered within half a latency of each other) times the injected latency: no
gateway can answer faster. Overhead = measured latency - floor. The gateway's pid is printed
before measuring, so a sampling profiler (py-spy) can be attached to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from gateway.config import IdentitySettings
from gateway.identity import normalise_email
from gateway.providers.registry import BY_NAME, PROVIDERS
from gateway.sandbox.dataset import SHOWCASE_COMPANY_ID, SHOWCASE_EMAIL, generate

ROOT = Path(__file__).resolve().parent.parent

CUSTOMER = "id name email emails company currency metrics { mrr { amount } currentMrr { amount } balance { amount } } stripe { id } chartmogul { uuid } firstOfficer { id } lago { externalId } tofupay { id } identity { edges { rule } }"  # noqa: E501

SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "customerByEmail (showcase)": (
        f"query($e: String!) {{ customerByEmail(email: $e) {{ {CUSTOMER} }} }}",
        {"e": SHOWCASE_EMAIL},
    ),
    "customerByProviderId (Lago)": (
        f"query($i: String!) {{ customerByProviderId(provider: LAGO, id: $i) {{ {CUSTOMER} }} }}",
        {"i": SHOWCASE_COMPANY_ID},
    ),
    "customers(first: 50)": (
        f"{{ customers(first: 50) {{ edges {{ cursor node {{ {CUSTOMER} }} }} }} }}",
        {},
    ),
}


def wait_cost(waits: int = 100, seconds: float = 0.02) -> tuple[float, float]:
    """This machine's cost of one blocked event-loop wait: (extra wall ms, CPU ms).

    On a plain Linux host both are a few microseconds. Where syscalls are costly (sandboxed
    kernels), every wait a request makes for its providers adds to the figures below.
    """

    async def run() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(waits):
            await asyncio.sleep(seconds)
        extra = (time.perf_counter() - wall - waits * seconds) * 1000 / waits
        return extra, (time.process_time() - cpu) * 1000 / waits

    return asyncio.run(run())


def free_port_block(count: int) -> int:
    """A first port such that ``count`` consecutive ports are free on 127.0.0.1."""
    for base in range(20100, 60000, 10):
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port block")


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s: every process a benchmark starts ends with it."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"child exited early: {err[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sandbox:
    def __init__(self, base_port: int) -> None:
        self.urls = {name: f"http://127.0.0.1:{base_port + i}" for i, name in enumerate(PROVIDERS)}

    def set_latency(self, ms: float) -> None:
        for url in self.urls.values():
            httpx.post(f"{url}/__sandbox/faults", json={"reset": True, "latency_ms": ms})

    async def drain(self, client: httpx.AsyncClient) -> list[tuple[str, float]]:
        """(provider, answered-at) of every logged request, and clears the logs."""
        entries: list[tuple[str, float]] = []
        for name, url in self.urls.items():
            log = (await client.get(f"{url}/__sandbox/requests")).json()
            entries += [(name, r["at"]) for r in log["requests"]]
            await client.delete(f"{url}/__sandbox/requests")
        return entries


def live_env(sandbox: Sandbox, max_concurrency: int, *, rate_limits: str) -> dict[str, str]:
    """The environment of a ``serve --mode live`` (or ``sync``) child configured against every
    simulator of ``sandbox`` like real providers; ``rate_limits``: ``off`` lifts the client-side
    limits, ``documented`` keeps each provider's documented one."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)  # this checkout's gateway in the children too
    # Live mode on loopback, measured without credentials (access control has its own tests).
    env["CUSTOMER_GATEWAY_AUTH_OPEN"] = "1"
    env.setdefault("CUSTOMER_GATEWAY_LOG_FORMAT", "json")
    for name, url in sandbox.urls.items():
        prefix = name.upper()
        env[f"{prefix}_BASE_URL"] = url
        env[f"{prefix}_API_KEY"] = BY_NAME[name].sandbox_key
        env[f"{prefix}_MAX_CONCURRENCY"] = str(max_concurrency)
        if rate_limits == "off":
            env[f"{prefix}_RATE_LIMIT"] = "0"
    return env


def waves(entries: list[tuple[str, float]], latency_s: float) -> int:
    """Sequential rounds of upstream calls: answers more than latency/2 apart start a new one."""
    times = sorted(at for _, at in entries)
    if not times:
        return 0
    count, last = 1, times[0]
    for at in times[1:]:
        if at - last > latency_s / 2:
            count += 1
        last = at
    return count


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def post(client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post(url, json={"query": query, "variables": variables})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body


async def measure(
    args: argparse.Namespace, sandbox: Sandbox, gateway: str, pid: int, sandbox_pid: int
) -> None:
    latency_s = args.latency_ms / 1000
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        graphql = f"{gateway}/graphql"
        print(f"\n## Upstream calls per query shape (latency {args.latency_ms:g} ms per call)\n")
        print(
            "| query | "
            + " | ".join(PROVIDERS)
            + " | total | waves | gateway CPU ms | sandbox CPU ms |"
        )
        print("|---|" + "---|" * (len(PROVIDERS) + 4))
        await sandbox.drain(client)
        for name, (query, variables) in SHAPES.items():
            cpu_g, cpu_s = cpu_seconds(pid), cpu_seconds(sandbox_pid)
            await post(client, graphql, query, variables)
            cpu_g, cpu_s = cpu_seconds(pid) - cpu_g, cpu_seconds(sandbox_pid) - cpu_s
            entries = await sandbox.drain(client)
            counts = {p: sum(1 for e in entries if e[0] == p) for p in PROVIDERS}
            cells = " | ".join(str(counts[p]) for p in PROVIDERS)
            print(
                f"| {name} | {cells} | {len(entries)} | {waves(entries, latency_s)} "
                f"| {cpu_g * 1000:.0f} | {cpu_s * 1000:.0f} |"
            )

        placeholders = IdentitySettings().placeholder_emails
        emails = [
            r["email"]
            for r in generate(seed=0, customers=args.customers).for_provider("stripe")
            if normalise_email(r.get("email"), placeholders)
        ][: args.requests]
        query = f"query($e: String!) {{ customerByEmail(email: $e) {{ {CUSTOMER} }} }}"
        samples: list[tuple[float, int]] = []
        calls: list[int] = []
        cpu_before = cpu_seconds(pid)
        for email in emails:
            started = time.perf_counter()
            await post(client, graphql, query, {"e": email})
            elapsed = time.perf_counter() - started
            entries = await sandbox.drain(client)
            calls.append(len(entries))
            samples.append((elapsed, waves(entries, latency_s)))
        gateway_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / len(emails)
        report("customerByEmail", samples, latency_s)
        print(f"- upstream calls per request: mean {statistics.mean(calls):.1f}")
        print(f"- gateway CPU per request (its own overhead): {gateway_cpu_ms:.1f} ms")

        page_query = SHAPES["customers(first: 50)"][0]
        page_samples: list[tuple[float, int]] = []
        after: str | None = None
        cpu_before = cpu_seconds(pid)
        for _ in range(args.pages):
            started = time.perf_counter()
            body = await client.post(
                graphql,
                json={
                    "query": page_query.replace(
                        "customers(first: 50)", "customers(first: 50, after: $a)"
                    ).replace("{ customers", "query($a: String) { customers", 1),
                    "variables": {"a": after},
                },
            )
            elapsed = time.perf_counter() - started
            edges = body.json()["data"]["customers"]["edges"]
            after = edges[-1]["cursor"] if edges else None
            page_samples.append((elapsed, waves(await sandbox.drain(client), latency_s)))
        report("customers(first: 50)", page_samples, latency_s)
        page_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / args.pages
        print(f"- gateway CPU per page (its own overhead): {page_cpu_ms:.0f} ms")

        print(f"\n## Throughput (customerByEmail, {args.clients} concurrent clients)\n")
        done = 0
        stop_at = time.perf_counter() + args.seconds
        started = time.perf_counter()

        async def worker(offset: int) -> None:
            nonlocal done
            i = offset
            while time.perf_counter() < stop_at and done < args.max_requests:
                await post(client, graphql, query, {"e": emails[i % len(emails)]})
                done += 1
                i += args.clients

        await asyncio.gather(*(worker(i) for i in range(args.clients)))
        wall = time.perf_counter() - started
        await sandbox.drain(client)
        print(f"- {done} requests in {wall:.1f} s: **{done / wall:.0f} requests/s**")
        print(f"- gateway RSS after load: {rss_mib(pid):.0f} MiB")


def report(name: str, samples: list[tuple[float, int]], latency_s: float) -> None:
    ms = [s * 1000 for s, _ in samples]
    floors = [w * latency_s * 1000 for _, w in samples]
    overhead = [m - f for m, f in zip(ms, floors, strict=True)]
    hops = statistics.median(w for _, w in samples)
    print(f"\n## {name}: {len(samples)} sequential requests\n")
    print(f"- latency p50 {pct(ms, 0.5):.1f} ms, p99 {pct(ms, 0.99):.1f} ms")
    print(f"- sequential upstream waves: median {hops:g} (floor {hops * latency_s * 1000:.0f} ms)")
    print(
        f"- overhead over each request's own floor: p50 {pct(overhead, 0.5):.1f} ms, "
        f"p99 {pct(overhead, 0.99):.1f} ms"
    )
    if latency_s > 0:
        print(f"- p50 / provider latency: {pct(ms, 0.5) / (latency_s * 1000):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=150, help="customerByEmail samples")
    parser.add_argument("--pages", type=int, default=3, help="customers(first: 50) samples")
    parser.add_argument("--customers", type=int, default=200, help="sandbox dataset size")
    parser.add_argument("--max-concurrency", type=int, default=64, help="per-provider cap")
    parser.add_argument(
        "--rate-limits",
        choices=("off", "documented"),
        default="off",
        help="client-side rate limits: lifted, or each provider's documented limit",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=5000)
    args = parser.parse_args()

    base = free_port_block(6)
    gateway_port = base + 5
    sandbox = Sandbox(base)
    env = live_env(sandbox, args.max_concurrency, rate_limits=args.rate_limits)
    sandbox_args = ["sandbox", "--base-port", str(base), "--customers", str(args.customers)]
    print("# customer-gateway benchmark")
    extra_ms, cpu_ms = wait_cost()
    print(
        f"\nmachine calibration: one blocked event-loop wait costs {extra_ms:.2f} ms extra wall "
        f"time and {cpu_ms:.2f} ms CPU"
    )
    print(
        f"\nlatency {args.latency_ms:g} ms per provider call; per-provider concurrency cap "
        f"{args.max_concurrency}; client-side rate limits {args.rate_limits}; "
        f"{os.cpu_count()} CPUs; sandbox and gateway in separate processes"
    )
    with child(sandbox_args, env) as sandbox_proc:
        wait_for(f"{sandbox.urls['stripe']}/__sandbox/faults", sandbox_proc)
        sandbox.set_latency(args.latency_ms)
        serve_args = ["serve", "--port", str(gateway_port), "--no-graphiql"]
        serve_args += ["--log-level", "warning"]
        with child(serve_args, env) as gateway_proc:
            gateway = f"http://127.0.0.1:{gateway_port}"
            wait_for(f"{gateway}/healthz", gateway_proc)
            print(f"\ngateway pid {gateway_proc.pid}", flush=True)
            asyncio.run(measure(args, sandbox, gateway, gateway_proc.pid, sandbox_proc.pid))


if __name__ == "__main__":
    main()
