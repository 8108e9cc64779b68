"""``serve`` as a process manager sees it: drain on SIGTERM, SIGHUP ignored, several workers.

Each test starts the real CLI on free ports (``tests.test_cli.running``, which also kills it in
the end), bounds every wait, and checks the exit status.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.cli import main
from tests.test_cli import running

QUERY = '{ customerByEmail(email: "ada@lovelace.example") { name } }'
ANSWER = {"data": {"customerByEmail": {"name": "Ada Lovelace"}}}
SLOW_STRIPE = json.dumps({"stripe": {"latency_ms": 1500}})
PROVIDERS = ("chartmogul", "firstofficer", "lago", "stripe", "tofupay")
WAIT = 20.0
"""Seconds any one wait in these tests may take before it fails."""


def endpoint(lines: list[str]) -> str:
    return next(m.group(1) for line in lines if (m := re.search(r"GraphQL endpoint: (\S+)", line)))


def simulator(lines: list[str], name: str) -> str:
    return next(m.group(1) for line in lines if (m := re.search(rf"sandbox {name}\s+(\S+)", line)))


def wait_until_in_flight(lines: list[str]) -> None:
    """Until the gateway's fan-out has reached Lago: the slow Stripe call is then under way."""
    lago = simulator(lines, "lago")
    deadline = time.monotonic() + WAIT
    while httpx.get(f"{lago}/__sandbox/requests", timeout=WAIT).json()["count"] == 0:
        assert time.monotonic() < deadline, "the query never reached the providers"
        time.sleep(0.02)


def slow_query_then_sigterm(proc: subprocess.Popen[str], lines: list[str]) -> httpx.Response:
    with ThreadPoolExecutor(1) as pool:
        answer: Future[httpx.Response] = pool.submit(
            httpx.post, endpoint(lines), json={"query": QUERY}, timeout=WAIT
        )
        wait_until_in_flight(lines)
        proc.send_signal(signal.SIGTERM)
        return answer.result(timeout=WAIT)


def test_sigterm_lets_a_request_in_flight_finish() -> None:
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--faults", SLOW_STRIPE)
    with running(*args) as (proc, lines):
        response = slow_query_then_sigterm(proc, lines)

        assert response.status_code == 200
        assert response.json() == ANSWER
        assert proc.wait(timeout=WAIT) == 0


def test_a_request_outlasting_the_drain_gets_a_graphql_503() -> None:
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--faults", SLOW_STRIPE)
    with running(*args, "--drain", "0.5") as (proc, lines):
        response = slow_query_then_sigterm(proc, lines)

        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "data": None,
            "errors": [
                {
                    "message": "the gateway is shutting down; retry the request",
                    "extensions": {"code": "SHUTTING_DOWN"},
                }
            ],
        }
        assert proc.wait(timeout=WAIT) == 0


def test_sighup_is_logged_and_ignored() -> None:
    with running("serve", "--port", "0", "--sandbox-base-port", "0") as (proc, lines):
        proc.send_signal(signal.SIGHUP)
        # Still serving afterwards (the request also orders it after the signal's handling).
        assert httpx.post(endpoint(lines), json={"query": QUERY}, timeout=WAIT).json() == ANSWER

        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT)

    assert proc.returncode == 0
    assert "SIGHUP ignored" in stderr


def worker_pids(parent: int) -> list[int]:
    """The parent's multiprocessing workers (Linux: /proc), not its resource tracker. Any
    thread may have started them, so every thread's children count."""
    children = [
        pid
        for task in Path(f"/proc/{parent}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_workers_share_the_port_and_stop_on_sigterm() -> None:
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--workers", "2")
    with running(*args) as (proc, lines):
        assert "(2 worker processes)" in lines[0]
        url = endpoint(lines)
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(lambda _: httpx.post(url, json={"query": QUERY}, timeout=WAIT), range(8))
            )
        assert [a.json() for a in answers] == [ANSWER] * 8
        workers = worker_pids(proc.pid)
        assert len(workers) == 2

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0

    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


LISTEN, ESTABLISHED = "0A", "01"
"""TCP states as /proc/net/tcp writes them."""


def tcp_sockets(port: int, state: str) -> set[int]:
    """Inodes of this machine's TCP sockets in ``state`` whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(int(fields[9]))
    return inodes


def sockets_held(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` has open."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            if (m := re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))) is not None:
                held.add(int(m.group(1)))
    return held


def test_each_worker_listens_on_its_own_socket_and_connections_spread() -> None:
    """One socket shared by the workers let the first loop to wake accept every connection
    waiting (16 of 16 on one worker under a benchmark); each worker now has its own."""
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--workers", "2")
    with running(*args) as (proc, lines):
        port = urlsplit(endpoint(lines)).port
        assert port is not None
        deadline = time.monotonic() + WAIT
        while len(workers := worker_pids(proc.pid)) < 2 or not all(
            sockets_held(pid) & tcp_sockets(port, LISTEN) for pid in workers
        ):
            assert time.monotonic() < deadline, "a worker never listened"
            time.sleep(0.05)
        listening = tcp_sockets(port, LISTEN)
        own = [sockets_held(pid) & listening for pid in workers]
        assert [len(inodes) for inodes in own] == [1, 1]
        assert own[0] != own[1]
        assert not sockets_held(proc.pid) & listening

        # Opened together, as a client pool does: the kernel deals them to both workers (by a
        # hash of the addresses; all 16 to one worker has a chance of 2 in 65536).
        clients = [socket.create_connection(("127.0.0.1", port), timeout=WAIT) for _ in range(16)]
        try:
            while True:
                accepted = tcp_sockets(port, ESTABLISHED)
                per_worker = [len(sockets_held(pid) & accepted) for pid in workers]
                if sum(per_worker) == 16:
                    break
                assert time.monotonic() < deadline, per_worker
                time.sleep(0.05)
            assert min(per_worker) > 0, per_worker
        finally:
            for client in clients:
                client.close()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers: must be at least 1"),
        (["--drain", "-1"], "--drain: must be at least 0"),
        (["--drain", "soon"], "--drain: not a number"),
    ],
)
def test_bad_process_options_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def listings(lines: list[str], name: str) -> int:
    """Listing requests (GET of the customers collection) a sandbox simulator has answered."""
    log = httpx.get(f"{simulator(lines, name)}/__sandbox/requests", timeout=WAIT).json()
    return sum(
        1
        for call in log["requests"]
        if call["method"] == "GET" and call["path"].rstrip("/").endswith("customers")
    )


def test_workers_on_one_index_list_the_providers_once() -> None:
    """Both workers up, one leads the sync (the other reports standby) and each provider is
    listed by one backfill only: one page each, at the providers' page size."""
    args = ("serve", "--port", "0", "--sandbox-base-port", "0", "--workers", "2")
    with running(*args, "--customers", "12") as (proc, lines):
        health = endpoint(lines).replace("/graphql", "/healthz")
        roles: set[str] = set()
        synced = False
        deadline = time.monotonic() + WAIT
        # Each request is a new connection, which either worker may accept: ask until both
        # have answered (bounded), and the sync is done.
        while roles != {"leader", "standby"} or not synced:
            assert time.monotonic() < deadline, (roles, synced)
            sync = httpx.get(health, timeout=WAIT).json()["sync"]
            roles.add(sync["role"])
            synced = sync["synced"]

        assert {name: listings(lines, name) for name in PROVIDERS} == dict.fromkeys(PROVIDERS, 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
