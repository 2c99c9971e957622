"""The outbox worker: batches claimed, sent and settled in the database, each message once, even across a stop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker, iso
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from server.storage import push as store
from server.storage.db import Database
from tests.push_service import BrowserSubscription, PushService

ANNOUNCEMENT = "ann-outbox-test"


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


async def queue_announcement(db: Database, subs: list[BrowserSubscription]) -> None:
    """Store a published announcement and queue it for ``subs``, as publishing does."""
    data = {"id": ANNOUNCEMENT, "title": "Plenary moved", "body": "Hall B at 10:30", "priority": "normal"}
    now = iso(datetime.now(UTC))
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO announcements (id, data, state, send_at, version, created_by, created_at)"
            " VALUES (?, ?, 'published', ?, 1, 'test', ?)",
            (ANNOUNCEMENT, json.dumps(data), now, now),
        )
        await conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [(s.endpoint, s.p256dh, s.auth, now, now) for s in subs],
        )
        ids = [row[0] for row in await conn.execute_fetchall("SELECT id FROM push_subscriptions ORDER BY id")]
        await store.enqueue(conn, "announcement", ANNOUNCEMENT, ids, now, 1)


async def states(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        return await store.counts(conn, "announcement", ANNOUNCEMENT)


async def test_a_fan_out_is_sent_in_batches_once_to_each(
    db: Database, sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(600)
    await queue_announcement(db, subs)
    worker = OutboxWorker(db, sender, batch=128)
    assert await worker.work() == 600
    assert sorted(set(service.counts().values())) == [1]
    assert service.deliveries()[0].json()["title"] == "Plenary moved"
    assert await states(db) == {"sent": 600}
    assert await worker.work() == 0, "nothing is sent twice"


async def test_outcomes_are_recorded_per_subscription(db: Database, sender: PushSender, service: PushService) -> None:
    subs = service.subscriptions(300)
    service.unsubscribe(subs[0])
    service.respond(subs[1], 429, retry_after=120)
    service.respond(subs[2], 400)
    await queue_announcement(db, subs)
    async with db.write() as conn:
        await conn.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", (subs[3].endpoint,))
    assert await OutboxWorker(db, sender, batch=64).work() == 299
    assert await states(db) == {"sent": 296, "gone": 2, "pending": 1, "failed": 1}
    async with db.read() as conn:
        endpoints = {row[0] for row in await conn.execute_fetchall("SELECT endpoint FROM push_subscriptions")}
        [(next_at,)] = await conn.execute_fetchall("SELECT next_attempt_at FROM push_outbox WHERE state = 'pending'")
    assert subs[0].endpoint not in endpoints, "a subscription the push service calls gone is forgotten"
    waited = datetime.fromisoformat(next_at.replace("Z", "+00:00")) - datetime.now(UTC)
    assert 100 < waited.total_seconds() <= 120, "a 429 waits for its Retry-After"


async def test_a_stop_finishes_what_it_claimed_and_a_restart_sends_the_rest(
    db: Database, sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(400)
    await queue_announcement(db, subs)
    service.delay = 0.02
    worker = OutboxWorker(db, sender, batch=32)
    await worker.start()
    await service.wait_for(40, timeout=20)
    await worker.stop()
    stopped = await states(db)
    assert "sending" not in stopped, "nothing is left claimed after a graceful stop"
    assert stopped["sent"] == service.delivered < 400
    service.delay = 0.0
    again = OutboxWorker(db, sender, batch=32)
    await again.start()
    await service.wait_for(400, timeout=20)
    await again.stop()
    assert sorted(set(service.counts().values())) == [1], "every subscription exactly once"
    assert await states(db) == {"sent": 400}


async def test_each_subscription_gets_the_text_in_its_language(
    db: Database, sender: PushSender, service: PushService
) -> None:
    subs = service.subscriptions(8)
    await queue_announcement(db, subs)
    translations = {
        "id": {"title": "Pleno pindah", "body": "Aula B pukul 10.30"},
        "th": {"title": "ย้ายการประชุมใหญ่", "body": "ห้องโถง B เวลา 10:30 น."},
    }
    languages = ["id", "id-ID", "th", "vi", None, "en", "id", "th"]
    async with db.write() as conn:
        [(stored,)] = await conn.execute_fetchall("SELECT data FROM announcements WHERE id = ?", (ANNOUNCEMENT,))
        data = {**json.loads(stored), "translations": translations}
        await conn.execute("UPDATE announcements SET data = ? WHERE id = ?", (json.dumps(data), ANNOUNCEMENT))
        await conn.executemany(
            "UPDATE push_subscriptions SET lang = ? WHERE endpoint = ?",
            [(lang, sub.endpoint) for sub, lang in zip(subs, languages, strict=True)],
        )
    assert await OutboxWorker(db, sender, batch=64).work() == 8
    titles = {delivery.sub_id: delivery.json()["title"] for delivery in service.deliveries()}
    expected = ["Pleno pindah", "Pleno pindah", "ย้ายการประชุมใหญ่", "Plenary moved", "Plenary moved"]
    expected += ["Plenary moved", "Pleno pindah", "ย้ายการประชุมใหญ่"]
    assert [titles[sub.sub_id] for sub in subs] == expected
    async with db.read() as conn:
        by_language = await store.counts_by_language(conn, "announcement", ANNOUNCEMENT)
    assert sorted(by_language, key=str) == sorted(
        [
            ("id", "sent", 2),
            ("id-ID", "sent", 1),
            ("th", "sent", 2),
            ("vi", "sent", 1),
            (None, "sent", 1),
            ("en", "sent", 1),
        ],
        key=str,
    )
