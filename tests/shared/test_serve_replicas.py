"""Two real ``customer-gateway serve`` processes on one Redis, against one sandbox process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import httpx

from gateway.providers.registry import BY_NAME
from tests.conftest import REPO

WAIT = 30.0
"""Seconds any one wait here may take before the test fails."""
CREATE = """mutation($input: CustomerInput!, $key: String) {
  createCustomer(input: $input, providers: [STRIPE], idempotencyKey: $key) {
    replayed outcomes { provider status recordId }
  }
}"""


@contextmanager
def cli(*args: str, env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """``customer-gateway ARGS`` until it prints "Ctrl-C stops"; its start-up lines. Stopped
    (SIGTERM, then SIGKILL) when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + WAIT
        assert proc.stdout is not None
        while time.monotonic() < deadline and not any("Ctrl-C stops" in x for x in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
        assert any("Ctrl-C stops" in x for x in lines), lines
        yield lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sandbox_urls(lines: list[str]) -> dict[str, str]:
    return {m.group(1): m.group(2) for x in lines if (m := re.match(r"\s+(\w+)\s+(http\S+)", x))}


def live_env(urls: dict[str, str], redis_url: str) -> dict[str, str]:
    env = {
        "CUSTOMER_GATEWAY_REDIS_URL": redis_url,
        "CUSTOMER_GATEWAY_AUTH_OPEN": "1",
        "CUSTOMER_GATEWAY_LOG_FORMAT": "json",
    }
    for name, url in urls.items():
        env[f"{name.upper()}_BASE_URL"] = url
        env[f"{name.upper()}_API_KEY"] = BY_NAME[name].sandbox_key
    return env


def test_one_key_sent_to_two_serve_processes_at_once_writes_once(redis_url: str) -> None:
    with ExitStack() as stack:
        urls = sandbox_urls(stack.enter_context(cli("sandbox", "--base-port", "0")))
        env = live_env(urls, redis_url)
        endpoints = []
        for _ in range(2):
            lines = stack.enter_context(cli("serve", "--port", "0", "--mode", "live", env=env))
            endpoints.append(
                next(m.group(1) for x in lines if (m := re.search(r"GraphQL endpoint: (\S+)", x)))
            )
        stripe = urls["stripe"]
        httpx.post(f"{stripe}/__sandbox/faults", json={"latency_ms": 300}, timeout=WAIT)
        httpx.delete(f"{stripe}/__sandbox/requests", timeout=WAIT)
        body = {
            "query": CREATE,
            "variables": {"input": {"email": "both@example.com", "name": "Both"}, "key": "k-2"},
        }

        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(lambda url: httpx.post(url, json=body, timeout=WAIT).json(), endpoints)
            )

        log = httpx.get(f"{stripe}/__sandbox/requests", timeout=WAIT).json()["requests"]
        assert [r["method"] for r in log].count("POST") == 1
        payloads = [a["data"]["createCustomer"] for a in answers]
        assert sorted(p["replayed"] for p in payloads) == [False, True]
        assert payloads[0]["outcomes"] == payloads[1]["outcomes"]
