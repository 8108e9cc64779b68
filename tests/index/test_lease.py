"""The sync lease (gateway/index/lease.py): one holder per index, per backend, and a holder that
goes away lets go of it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from gateway.config import IdentitySettings
from gateway.index import SQLIndex, open_index
from gateway.index.engine import MEMORY_URL, make_engine
from gateway.index.lease import (
    SYNC_LOCK_KEY,
    FileLease,
    LocalLease,
    PostgresLease,
    index_lease,
    lease_for,
)
from tests.servers import PostgresServer, reset_postgres
from tests.sync.helpers import RecordingIndex


async def test_two_indexes_on_one_database_one_takes_the_lease_until_it_hands_it_back(
    index_url: str,
) -> None:
    first = await open_index(index_url, IdentitySettings())
    second = await open_index(index_url, IdentitySettings())
    one, other = index_lease(first), index_lease(second)
    try:
        assert await one.acquire()
        assert await one.acquire()  # already held: still held
        assert not await other.acquire()
        assert await one.held() and not await other.held()

        await one.release()

        assert await other.acquire()
        assert not await one.acquire()
    finally:
        await one.release()
        await other.release()
        await first.aclose()
        await second.aclose()


def test_each_kind_of_index_gets_its_lease(tmp_path: Path) -> None:
    assert isinstance(lease_for(MEMORY_URL), LocalLease)
    assert isinstance(index_lease(RecordingIndex()), LocalLease)  # not a SQLIndex: one process
    file_lease = lease_for(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    assert isinstance(file_lease, FileLease)
    assert file_lease.path == tmp_path / "index.sqlite3.sync-lock"
    postgres = lease_for("postgresql://gateway:s3cret@db/gateway")
    assert isinstance(postgres, PostgresLease)
    assert "s3cret" not in postgres.where and "***" in postgres.where


async def test_the_in_memory_index_always_leads() -> None:
    index = await open_index(MEMORY_URL, IdentitySettings())
    try:
        assert isinstance(index, SQLIndex)
        assert await index_lease(index).acquire() and await index_lease(index).acquire()
    finally:
        await index.aclose()


HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_lock_file_held_by_a_process_is_free_once_it_exits(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3.sync-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lease = FileLease(path)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert not asyncio.run(lease.acquire())

        holder.communicate(timeout=10)  # end of its stdin: it exits, and the kernel unlocks

        assert asyncio.run(lease.acquire())
        assert path.read_text() == f"{os.getpid()}\n"  # the leader's pid
    finally:
        asyncio.run(lease.release())
        if holder.poll() is None:
            holder.kill()
            holder.wait()


async def test_an_advisory_lock_whose_connection_dies_is_free(
    postgres_server: PostgresServer,
) -> None:
    await reset_postgres(postgres_server.url)
    holder = lease_for(postgres_server.url)
    taker = lease_for(postgres_server.url)
    admin = make_engine(postgres_server.url)
    try:
        assert await holder.acquire()
        assert not await taker.acquire()

        # The holder's connection dies (its process crashed, the network dropped it).
        async with admin.begin() as conn:
            await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND (classid::bigint << 32) | objid::bigint = :key"
                ),
                {"key": SYNC_LOCK_KEY},
            )

        assert not await holder.held()
        taken = False
        for _ in range(200):  # the server ends the backend asynchronously: a bounded wait
            if taken := await taker.acquire():
                break
            await asyncio.sleep(0.025)
        assert taken
    finally:
        await holder.release()
        await taker.release()
        await admin.dispose()
