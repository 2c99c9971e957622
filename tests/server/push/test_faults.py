"""Push services that hang or answer slowly, and a database that refuses to record outcomes: the outbox holds up no
other push service, times out, retries, and never sends a message twice to a subscription that acknowledged it."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from server.storage.db import Database, SqliteDatabase
from tests.locks import another_writer
from tests.push_service import BrowserSubscription, PushService
from tests.server.push.test_outbox import queue_announcement, states

#: Long enough that a healthy fan-out never meets it, short enough for the test to see it pass.
TIMEOUT = 5.0


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[PushSender]:
    keys = load_or_create_keys(tmp_path)
    running = PushSender(
        PayloadCipher(keys), VapidSigner(keys, "mailto:o@arat.example"), allow_insecure_loopback=True, timeout=TIMEOUT
    )
    yield running
    await running.close()


@pytest.fixture
async def healthy(sender: PushSender) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=sender.signer.keys.application_server_key) as running:
        yield running


@pytest.fixture
async def stuck(sender: PushSender) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=sender.signer.keys.application_server_key) as running:
        yield running


def interleaved(*groups: list[BrowserSubscription]) -> list[BrowserSubscription]:
    """Subscriptions of several push services in one random order, as they are stored."""
    everyone = [sub for group in groups for sub in group]
    random.shuffle(everyone)
    return everyone


async def test_a_hanging_push_service_holds_up_no_other_and_is_retried_once_it_recovers(
    db: Database, sender: PushSender, healthy: PushService, stuck: PushService
) -> None:
    fine, hanging = healthy.subscriptions(600), stuck.subscriptions(60)
    for sub in hanging:
        stuck.respond(sub, "hang")
    await queue_announcement(db, interleaved(fine, hanging))
    worker = OutboxWorker(db, sender, batch=128, poll_seconds=0.2)
    await worker.start()
    try:
        # Every batch holds some of the hanging service's messages; the others all arrive before any timeout.
        await healthy.wait_for(600, timeout=TIMEOUT * 3)
        assert stuck.arrived > 0
        assert stuck.failures == [], "no request to the hanging service has timed out yet"
        assert sorted(set(healthy.counts().values())) == [1]

        # The hanging requests time out (the connections are dropped) and are retried later.
        await stuck.wait_until(lambda: len(stuck.failures) >= 32, timeout=TIMEOUT * 3, what="timeouts")
        assert {f.reason for f in stuck.failures} == {"hang: client gave up"}
        for sub in hanging:
            stuck.respond(sub, 201)
        await stuck.wait_for(60, timeout=30)
    finally:
        await worker.stop()
    assert sorted(set(stuck.counts().values())) == [1], "each once, after the service recovered"
    assert sorted(set(healthy.counts().values())) == [1], "nothing sent twice to the healthy service"
    assert await states(db) == {"sent": 660}


async def test_a_slow_push_service_is_waited_for_and_gets_each_message_once(
    db: Database, sender: PushSender, healthy: PushService, stuck: PushService
) -> None:
    slow = stuck
    slow.delay = 1.5  # longer than a batch waits before the next goes, shorter than the timeout
    await queue_announcement(db, interleaved(healthy.subscriptions(100), slow.subscriptions(40)))
    worker = OutboxWorker(db, sender, batch=32)
    assert await worker.work() == 140
    assert await states(db) == {"sent": 140}
    assert sorted(set(slow.counts().values())) == [1]
    assert sorted(set(healthy.counts().values())) == [1]
    assert slow.failures == []
    assert await worker.work() == 0, "nothing is sent twice"


async def test_outcomes_the_database_refuses_to_record_are_kept_and_recorded_later_never_resent(
    db: Database, sender: PushSender, healthy: PushService
) -> None:
    subs = healthy.subscriptions(50)
    await queue_announcement(db, subs)
    if isinstance(db, SqliteDatabase):
        async with db.write() as conn:
            await conn.execute("PRAGMA busy_timeout = 50")  # on the server's own writer: give up quickly when locked
    # PostgreSQL gives up on the write lock after its lock timeout (5 s), for each write that waits.
    patience = 10.0 if isinstance(db, SqliteDatabase) else 30.0
    healthy.hold()  # the answers wait until the database is held by another process
    worker = OutboxWorker(db, sender, batch=64, poll_seconds=0.1)
    await worker.start()
    async with another_writer(db) as (hold, release):
        try:
            # As many requests as the sender keeps open to one service; the rest follow once these are answered.
            in_flight = min(50, sender.connections_per_origin)
            await healthy.wait_until(lambda: healthy.arrived == in_flight, what="the first requests on their way")
            await hold()  # another process holds the database while the answers come back
            healthy.release()
            await healthy.wait_for(50)
            await eventually(
                lambda: worker.unsettled == 50, "the worker keeps the outcomes it could not record", patience
            )
            assert not worker._task.done()  # type: ignore[union-attr]
            await release()
            await eventually(
                lambda: worker.unsettled == 0, "the outcomes are recorded once the database is free", patience
            )
            assert await states(db) == {"sent": 50}
        finally:
            await release()
            await worker.stop()
    assert await worker.work() == 0, "nothing is left to send"
    assert sorted(set(healthy.counts().values())) == [1], "nothing the service accepted was sent again"
    assert await states(db) == {"sent": 50}


async def test_a_stop_mid_fan_out_waits_only_for_the_answers_on_the_wire(
    db: Database, sender: PushSender, healthy: PushService
) -> None:
    subs = healthy.subscriptions(600)
    await queue_announcement(db, subs)
    healthy.hold()
    worker = OutboxWorker(db, sender, batch=256, poll_seconds=0.1)
    await worker.start()
    in_flight = sender.connections_per_origin
    await healthy.wait_until(lambda: healthy.arrived == in_flight, what="the first requests on their way")
    stopping = asyncio.create_task(worker.stop())
    # The stop takes the queued requests back before it first waits, in the same step that marks it stopping.
    await eventually(lambda: worker._stopping, "the worker stopping")
    healthy.release()
    await asyncio.wait_for(stopping, timeout=10)
    assert healthy.delivered == in_flight, "only what was on the wire went out"
    assert await states(db) == {"sent": in_flight, "pending": 600 - in_flight}, "the rest is queued, none in flight"
    async with db.read() as conn:
        (attempts,) = await (
            await conn.execute("SELECT max(attempts) FROM push_outbox WHERE state = 'pending'")
        ).fetchone()
    assert attempts == 0, "a message taken back before it was sent has not been attempted"

    again = OutboxWorker(db, sender, batch=256, poll_seconds=0.1)
    assert await again.work() == 600 - in_flight, "the next start sends the rest at once"
    assert sorted(set(healthy.counts().values())) == [1], "every subscription exactly once"


async def eventually(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.02)
