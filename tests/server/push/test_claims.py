"""Several workers share one push outbox (servers on one PostgreSQL database, worker processes on one SQLite file):
each message goes once, a live worker keeps its claims however slow its push service, and the batch of a worker that
died goes once more, by another, when its lease has run out."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker, iso
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from server.settings import settings_from_env
from server.storage import push as store
from server.storage.db import Database, SqliteDatabase, _statements, migration_files
from tests.push_service import PushService
from tests.server.push.test_outbox import queue_announcement, states


def new_sender(folder: Path) -> PushSender:
    keys = load_or_create_keys(folder)
    return PushSender(PayloadCipher(keys), VapidSigner(keys, "mailto:o@arat.example"), allow_insecure_loopback=True)


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[PushSender]:
    running = new_sender(tmp_path)
    yield running
    await running.close()


@pytest.fixture
async def other_sender(tmp_path: Path) -> AsyncIterator[PushSender]:
    """The sender of another server: its own connections and encryption process, the same VAPID key."""
    running = new_sender(tmp_path)
    yield running
    await running.close()


@pytest.fixture
async def service(sender: PushSender) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=sender.signer.keys.application_server_key) as running:
        yield running


async def owners(db: Database) -> dict[str, int]:
    """How many messages each worker claimed last."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT claimed_by, count(*) FROM push_outbox GROUP BY claimed_by")
    return {row[0]: row[1] for row in rows}


async def test_two_workers_share_a_fan_out_and_send_each_message_once(
    db: Database, other_db: Database, sender: PushSender, other_sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(1000)
    await queue_announcement(db, subs)
    service.delay = 0.01  # the fan-out lasts long enough for both to take part
    one = OutboxWorker(db, sender, batch=32, poll_seconds=0.05)
    two = OutboxWorker(other_db, other_sender, batch=32, poll_seconds=0.05)
    assert one.owner != two.owner
    await asyncio.gather(one.start(), two.start())
    try:
        await service.wait_for(1000, timeout=60)
    finally:
        await asyncio.gather(one.stop(), two.stop())
    assert sorted(set(service.counts().values())) == [1], "every subscription exactly once"
    assert await states(db) == {"sent": 1000}
    shares = await owners(db)
    assert set(shares) == {one.owner, two.owner}, f"both workers sent: {shares}"


async def test_a_worker_keeps_its_claims_while_a_slow_push_service_answers(
    db: Database, other_db: Database, sender: PushSender, other_sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(64)
    await queue_announcement(db, subs)
    lease = 1.0
    service.delay = 2.5 * lease  # each answer comes long after the lease its claim began with
    one = OutboxWorker(db, sender, batch=16, poll_seconds=0.05, lease=lease)
    two = OutboxWorker(other_db, other_sender, batch=16, poll_seconds=0.05, lease=lease)
    await asyncio.gather(one.start(), two.start())
    try:
        await service.wait_for(64, timeout=60)
        # Were a claim taken over, its second sending would arrive within this.
        await asyncio.sleep(2 * lease)
    finally:
        await asyncio.gather(one.stop(), two.stop())
    assert sorted(set(service.counts().values())) == [1], "renewed claims are taken by no other worker"
    assert service.failures == []
    assert await states(db) == {"sent": 64}


async def test_the_batch_of_a_worker_that_died_is_sent_by_another_once_its_lease_runs_out(
    db: Database, other_db: Database, sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(300)
    await queue_announcement(db, subs)
    await sender.start()  # the encryption process is up before the lease starts running
    # A worker claims a batch and dies before sending any of it: nothing settles or gives the rows back.
    lease = 5.0
    async with db.write() as conn:
        abandoned = await store.claim_due(conn, iso(datetime.now(UTC)), 100, "dead-worker", lease)
    claimed_at = asyncio.get_running_loop().time()
    assert len(abandoned) == 100
    endpoints = {row.subscription.endpoint for row in abandoned}
    waiting = {sub.sub_id for sub in subs if sub.endpoint in endpoints}

    live = OutboxWorker(other_db, sender, batch=64)
    sent = await live.work()
    assert asyncio.get_running_loop().time() - claimed_at < lease, "the machine is too slow for the lease"
    assert sent == 200, "the dead worker's batch is still its own"
    assert await states(db) == {"sent": 200, "sending": 100}
    assert not waiting & {d.sub_id for d in service.deliveries()}

    await asyncio.sleep(lease - (asyncio.get_running_loop().time() - claimed_at) + 0.05)
    assert await live.work() == 100, "its lease ran out: another worker sends the batch"
    assert await live.work() == 0
    assert sorted(set(service.counts().values())) == [1], "every subscription exactly once"
    assert await states(db) == {"sent": 300}
    assert await owners(db) == {live.owner: 300}

    # Were the dead worker to come back, what it settles or gives back is no longer its own: nothing changes.
    async with db.write() as conn:
        await store.settle(conn, "dead-worker", [(row.id, row.version, "failed", 500, None) for row in abandoned])
        await store.give_back(conn, "dead-worker", [row.id for row in abandoned])
    assert await states(db) == {"sent": 300}


@pytest.mark.sqlite_only
async def test_messages_left_in_flight_before_claims_had_leases_go_again(tmp_path: Path) -> None:
    """0020 gives what an older server left 'sending' a lease that has run out: the next claim takes it."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in migration_files():
        if version >= 20:
            break
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, name))
    conn.execute(
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at)"
        " VALUES ('https://push.example/1', 'k', 'a', 'now', 'now')"
    )
    conn.execute(
        "INSERT INTO push_outbox (kind, ref, subscription_id, state, attempts, next_attempt_at, updated_at)"
        " VALUES ('announcement', 'a1', 1, 'sending', 1, '2026-01-01T00:00:00.000Z', 'now')"
    )
    conn.close()
    async with SqliteDatabase(path) as db, db.write() as migrated:
        claimed = await store.claim_due(migrated, iso(datetime.now(UTC)), 10, "a-new-worker", 30.0)
    assert [(row.ref, row.attempts) for row in claimed] == [("a1", 2)]


def test_the_lease_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from_env().push_lease_seconds == 30.0
    monkeypatch.setenv("KUMPUL_PUSH_LEASE_SECONDS", "7.5")
    assert settings_from_env().push_lease_seconds == 7.5
    for wrong in ("0", "-3", "soon", "inf", "nan"):
        monkeypatch.setenv("KUMPUL_PUSH_LEASE_SECONDS", wrong)
        with pytest.raises(ValueError, match="KUMPUL_PUSH_LEASE_SECONDS must be a number of seconds above zero"):
            settings_from_env()
