"""Reminders before bookmarked sessions: queued when due, once per device, merged with change alerts, never for
a cancelled session, at the new time for a moved one, and neither lost nor doubled by a restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.demo import demo_programme, today_at_the_event
from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker, iso
from server.push.reminders import ReminderScheduler
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from server.schemas.programme import Session, SessionUpdate
from server.services.programme import ProgrammeService
from server.storage import push as store
from server.storage.db import Database, SqliteDatabase, _statements, migration_files
from tests.push_service import BrowserSubscription, PushService


class Clock:
    """The server's time, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[PushSender]:
    keys = load_or_create_keys(tmp_path)
    running = PushSender(PayloadCipher(keys), VapidSigner(keys, "mailto:o@arat.example"), allow_insecure_loopback=True)
    yield running
    await running.close()


@pytest.fixture
async def service(sender: PushSender) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=sender.signer.keys.application_server_key) as running:
        yield running


async def _written(seq: int) -> None:
    return None


@pytest.fixture
async def programme(db: Database) -> ProgrammeService:
    """The demo programme moved so that its first day is tomorrow at the event: every session is hours ahead."""
    service = ProgrammeService(db, on_write=_written, alert_delay=0)
    await service.import_programme(demo_programme(today_at_the_event() + timedelta(days=2)))
    return service


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def session(db: Database, index: int = 12) -> dict[str, Any]:
    """The ``index``-th scheduled session by its start."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT id, data FROM entities WHERE kind = 'session' ORDER BY id")
    sessions = [json.loads(row[1]) for row in rows]
    scheduled = sorted((s for s in sessions if s["status"] == "scheduled"), key=lambda s: (s["start"], s["id"]))
    data: dict[str, Any] = scheduled[index]
    return data


async def subscribe(
    db: Database, sub: BrowserSubscription, sessions: list[str], minutes: int | None, lang: str | None = None
) -> None:
    async with db.write() as conn:
        await store.upsert_subscription(
            conn, sub.endpoint, sub.p256dh, sub.auth, None, None, json.dumps(sessions), lang, minutes
        )


def start_of(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(data["start"])


async def outbox_states(db: Database, kind: str, ref: str) -> dict[str, int]:
    async with db.read() as conn:
        return await store.counts(conn, kind, ref)


def received(service: PushService) -> dict[str, int]:
    """How many messages each device that received any received."""
    return {sub_id: n for sub_id, n in service.counts().items() if n}


def local_time(moment: datetime, zone: str = "Asia/Makassar") -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


async def test_each_device_is_reminded_once_at_its_own_lead_time(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    ten, ten_id, thirty, off, elsewhere = service.subscriptions(5)
    await subscribe(db, ten, [talk["id"]], 10)
    await subscribe(db, ten_id, [talk["id"]], 10, lang="id-ID")
    await subscribe(db, thirty, [talk["id"]], 30)
    await subscribe(db, off, [talk["id"]], None)
    other = await session(db, 3)
    await subscribe(db, elsewhere, [other["id"]], 30)
    scheduler = ReminderScheduler(db, clock=clock)
    worker = OutboxWorker(db, sender, clock=clock)

    clock.now = start_of(talk) - timedelta(minutes=31)
    assert await scheduler.queue_due() == 0
    clock.now = start_of(talk) - timedelta(minutes=30)
    assert await scheduler.queue_due() == 1
    assert await worker.work() == 1
    assert [d.sub_id for d in service.deliveries()] == [thirty.sub_id]

    clock.now = start_of(talk) - timedelta(minutes=9, seconds=58)
    assert await scheduler.queue_due() == 2
    assert await worker.work() == 2
    clock.now += timedelta(minutes=5)
    assert await scheduler.queue_due() == 0
    assert await ReminderScheduler(db, clock=clock).queue_due() == 0, "a fresh worker finds them queued already"
    assert await worker.work() == 0
    assert received(service) == {ten.sub_id: 1, ten_id.sub_id: 1, thirty.sub_id: 1}

    english = service.deliveries(ten)[0]
    message = english.json()
    assert message["type"] == "reminder"
    assert message["sessionId"] == talk["id"]
    assert message["title"] == talk["title"]
    assert message["body"].startswith(f"Starts at {local_time(start_of(talk))} in ")
    assert message["changed"] is False
    assert message["url"] == f"/sessions/{talk['id']}"
    assert english.urgency == "high"
    assert 60 <= english.ttl <= 30 * 60
    indonesian = service.deliveries(ten_id)[0].json()
    assert indonesian["lang"] == "id"
    assert indonesian["body"].startswith(f"Mulai pukul {local_time(start_of(talk))} di ")
    title_id = (talk.get("translations") or {}).get("id", {}).get("title")
    assert indonesian["title"] == (title_id or talk["title"])
    assert await outbox_states(db, "reminder", talk["id"]) == {"sent": 3}


async def test_a_cancelled_session_is_never_reminded_of(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    queued, late = service.subscriptions(2)
    await subscribe(db, queued, [talk["id"]], 30)
    await subscribe(db, late, [talk["id"]], 10)
    scheduler = ReminderScheduler(db, clock=clock)
    worker = OutboxWorker(db, sender, clock=clock)
    clock.now = start_of(talk) - timedelta(minutes=30)
    assert await scheduler.queue_due() == 1, "queued, then the session is cancelled before it is sent"
    await programme.update("session", talk["id"], SessionUpdate(status="cancelled"))
    clock.now = start_of(talk) - timedelta(minutes=10)
    assert await scheduler.queue_due() == 0
    await worker.work()
    # Each device hears of the cancellation (its change alert), and no reminder comes.
    assert sorted(d.json()["type"] for d in service.deliveries()) == ["alert", "alert"]
    assert all(d.json()["status"] == "cancelled" for d in service.deliveries())
    assert await outbox_states(db, "reminder", talk["id"]) == {"cancelled": 1}


async def test_a_moved_session_is_reminded_of_at_its_new_time(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    (device,) = service.subscriptions(1)
    await subscribe(db, device, [talk["id"]], 10)
    scheduler = ReminderScheduler(db, clock=clock)
    worker = OutboxWorker(db, sender, clock=clock)
    clock.now = start_of(talk) - timedelta(minutes=10)
    assert await scheduler.queue_due() == 1
    later = start_of(talk) + timedelta(hours=1)
    end = datetime.fromisoformat(talk["end"]) + timedelta(hours=1)
    await programme.update("session", talk["id"], SessionUpdate(start=later, end=end))
    await worker.work()
    # The move itself is news: its alert goes now (its own message); the reminder waits for the new time.
    assert [d.json()["type"] for d in service.deliveries()] == ["alert"]
    assert await outbox_states(db, "reminder", talk["id"]) == {"pending": 1}
    clock.now = later - timedelta(minutes=10, seconds=1)
    assert await worker.work() == 0
    clock.now = later - timedelta(minutes=10)
    await scheduler.queue_due()
    assert await worker.work() == 1
    reminder = service.deliveries()[-1].json()
    assert reminder["type"] == "reminder"
    assert reminder["start"] == later.isoformat() or datetime.fromisoformat(reminder["start"]) == later
    assert local_time(later) in reminder["body"]
    assert received(service) == {device.sub_id: 2}


async def test_a_change_waiting_to_be_sent_goes_in_the_reminder(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    moved, other = service.subscriptions(2)
    await subscribe(db, moved, [talk["id"]], 10)
    await subscribe(db, other, [talk["id"]], None)
    programme.alert_delay = 60  # the alert gathers edits for a minute: the reminder falls due meanwhile
    programme.clock = clock
    clock.now = start_of(talk) - timedelta(minutes=10)
    async with db.read() as conn:
        rooms = [row[0] for row in await conn.execute_fetchall("SELECT id FROM entities WHERE kind = 'room'")]
        room_id = next(r for r in rooms if r != talk["roomId"])
        room = json.loads((await conn.execute_fetchall("SELECT data FROM entities WHERE id = ?", (room_id,)))[0][0])
    updated: Session = await programme.update("session", talk["id"], SessionUpdate(room_id=room_id))
    assert updated.room_id == room_id
    assert await ReminderScheduler(db, clock=clock).queue_due() == 1
    worker = OutboxWorker(db, sender, clock=clock)
    assert await worker.work() == 1
    (message,) = [d.json() for d in service.deliveries(moved)]
    assert message["type"] == "reminder"
    assert message["changed"] is True
    assert message["body"] == f"Moved: now starts at {local_time(start_of(talk))} in {room['name']}"
    assert await outbox_states(db, "alert", talk["id"]) == {"merged": 1, "pending": 1}
    clock.now += timedelta(seconds=61)
    await worker.work()
    assert received(service) == {moved.sub_id: 1, other.sub_id: 1}, "one message to each, the alert to the other"
    assert [d.json()["type"] for d in service.deliveries(other)] == ["alert"]


async def test_a_restart_between_claim_and_send_neither_skips_nor_doubles(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    subs = service.subscriptions(300)
    async with db.write() as conn:
        for sub in subs:
            await store.upsert_subscription(
                conn, sub.endpoint, sub.p256dh, sub.auth, None, None, json.dumps([talk["id"]]), None, 10
            )
    clock.now = start_of(talk) - timedelta(minutes=10)
    assert await ReminderScheduler(db, clock=clock).queue_due() == 300
    # A worker claims a batch and is killed before sending it: the rows stay 'sending' until its lease runs out.
    async with db.write() as conn:
        claimed = await store.claim_due(conn, iso(clock.now), 100, "killed", 0.5)
    assert len(claimed) == 100
    # The restart at the due time: the scheduler runs again from nothing, the worker sends (the killed worker's
    # batch once its lease has run out).
    clock.now += timedelta(seconds=3)
    assert await ReminderScheduler(db, clock=clock).queue_due() == 0
    worker = OutboxWorker(db, sender, batch=64, clock=clock)
    await worker.start()
    await service.wait_for(300, timeout=30)
    await worker.stop()
    assert sorted(set(service.counts().values())) == [1], "every device exactly once"
    assert len(received(service)) == 300
    assert await outbox_states(db, "reminder", talk["id"]) == {"sent": 300}


async def test_a_stop_mid_fan_out_and_a_restart_send_each_reminder_once(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    subs = service.subscriptions(400)
    async with db.write() as conn:
        for sub in subs:
            await store.upsert_subscription(
                conn, sub.endpoint, sub.p256dh, sub.auth, None, None, json.dumps([talk["id"]]), None, 5
            )
    clock.now = start_of(talk) - timedelta(minutes=5)
    assert await ReminderScheduler(db, clock=clock).queue_due() == 400
    service.delay = 0.02
    worker = OutboxWorker(db, sender, batch=32, clock=clock)
    await worker.start()
    await service.wait_for(40, timeout=20)
    await worker.stop()
    assert service.delivered < 400
    service.delay = 0.0
    assert await ReminderScheduler(db, clock=clock).queue_due() == 0
    again = OutboxWorker(db, sender, batch=32, clock=clock)
    await again.start()
    await service.wait_for(400, timeout=20)
    await again.stop()
    assert sorted(set(service.counts().values())) == [1]
    assert await outbox_states(db, "reminder", talk["id"]) == {"sent": 400}


async def test_servers_sharing_the_database_queue_and_send_each_reminder_once(
    db: Database,
    other_db: Database,
    programme: ProgrammeService,
    sender: PushSender,
    service: PushService,
    clock: Clock,
) -> None:
    talk = await session(db)
    subs = service.subscriptions(200)
    async with db.write() as conn:
        for sub in subs:
            await store.upsert_subscription(
                conn, sub.endpoint, sub.p256dh, sub.auth, None, None, json.dumps([talk["id"]]), None, 10
            )
    clock.now = start_of(talk) - timedelta(minutes=10)
    # Each server runs its own scheduler: at the due time both look at once, and every device is queued by one.
    queued = await asyncio.gather(
        ReminderScheduler(db, clock=clock).queue_due(), ReminderScheduler(other_db, clock=clock).queue_due()
    )
    assert sum(queued) == 200
    assert await outbox_states(db, "reminder", talk["id"]) == {"pending": 200}
    one = OutboxWorker(db, sender, batch=16, clock=clock)
    two = OutboxWorker(other_db, sender, batch=16, clock=clock)
    assert sum(await asyncio.gather(one.work(), two.work())) == 200
    assert sorted(set(service.counts().values())) == [1], "every device exactly once"
    assert await outbox_states(db, "reminder", talk["id"]) == {"sent": 200}


async def test_a_device_that_bookmarks_late_is_still_reminded(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    early, late, unrelated = service.subscriptions(3)
    await subscribe(db, early, [talk["id"]], 10)
    scheduler = ReminderScheduler(db, clock=clock)
    clock.now = start_of(talk) - timedelta(minutes=8)
    assert await scheduler.queue_due() == 1
    assert await scheduler.queue_due() == 0, "nothing changed: nothing is looked at again"
    await subscribe(db, unrelated, [], 10)
    await subscribe(db, late, [talk["id"]], 10)
    clock.now += timedelta(minutes=1)
    assert await scheduler.queue_due() == 1, "the device that bookmarked it since"
    assert await OutboxWorker(db, sender, clock=clock).work() == 2
    assert received(service) == {early.sub_id: 1, late.sub_id: 1}


async def test_a_reminder_queued_before_the_bookmark_was_removed_is_not_sent(
    db: Database, programme: ProgrammeService, sender: PushSender, service: PushService, clock: Clock
) -> None:
    talk = await session(db)
    dropped, off, kept = service.subscriptions(3)
    for sub in (dropped, off, kept):
        await subscribe(db, sub, [talk["id"]], 10)
    clock.now = start_of(talk) - timedelta(minutes=10)
    assert await ReminderScheduler(db, clock=clock).queue_due() == 3
    await subscribe(db, dropped, [], 10)
    await subscribe(db, off, [talk["id"]], None)
    assert await OutboxWorker(db, sender, clock=clock).work() == 1
    assert received(service) == {kept.sub_id: 1}
    assert await outbox_states(db, "reminder", talk["id"]) == {"sent": 1, "cancelled": 2}


@pytest.mark.sqlite_only
async def test_the_outbox_keeps_its_messages_across_the_migration(tmp_path: Path) -> None:
    """0018 rebuilds push_outbox (SQLite cannot change a CHECK): a database with messages queued keeps them."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in migration_files():
        if version >= 18:
            break
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, name))
    conn.execute(
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, alert_sessions, created_at, updated_at, lang)"
        " VALUES ('https://push.example/1', 'k', 'a', '[\"s1\"]', 'now', 'now', 'id')"
    )
    conn.execute(
        "INSERT INTO push_outbox (kind, ref, subscription_id, state, version, attempts, next_attempt_at,"
        " last_status, updated_at, lang) VALUES ('alert', 's1', 1, 'sent', 3, 1, '2026-01-01', 201, 'now', 'id')"
    )
    conn.close()
    async with SqliteDatabase(path) as db, db.write() as conn_:
        rows = await conn_.execute_fetchall(
            "SELECT kind, ref, subscription_id, state, version, attempts, last_status, lang FROM push_outbox"
        )
        assert [tuple(row) for row in rows] == [("alert", "s1", 1, "sent", 3, 1, 201, "id")]
        settings = await conn_.execute_fetchall("SELECT reminder_minutes, change_alerts FROM push_subscriptions")
        assert [tuple(row) for row in settings] == [(None, 1)], "reminders off, change alerts as before"
        await store.enqueue(conn_, "alert", "s2", [1], "2026-01-01", 1)
        await conn_.execute(
            "INSERT INTO push_outbox (kind, ref, subscription_id, state, next_attempt_at, updated_at)"
            " VALUES ('reminder', 's1', 1, 'merged', 'now', 'now')"
        )
        indexes = {row[1] for row in await conn_.execute_fetchall("PRAGMA index_list(push_outbox)")}
        assert {"push_outbox_due", "push_outbox_ref"} <= indexes
