"""A property: whatever happens around a session (moves, a cancellation, crashes between claim and send, time
passing in uneven steps, schedulers started afresh), each device gets at most one reminder about it, never one
about a cancelled session, never before its due time at the session's start as it was when sent, and, unless
the session was cancelled, exactly one by the time it starts."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.demo import demo_programme
from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker, iso
from server.push.reminders import ReminderScheduler
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from server.schemas.programme import SessionUpdate
from server.services.programme import ProgrammeService
from server.storage import push as store
from server.storage.db import Database, open_database
from tests.postgres import NewDatabase
from tests.push_service import PushService
from tests.server.push.test_reminders import Clock

SESSION = "plenary-opening"

Step = tuple[Any, ...]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.integers(min_value=1, max_value=300)),
        st.tuples(st.just("schedule"), st.booleans()),
        st.tuples(st.just("work")),
        st.tuples(st.just("crash"), st.integers(min_value=1, max_value=4)),
        st.tuples(st.just("move"), st.integers(min_value=-20, max_value=20)),
        st.tuples(st.just("cancel")),
    ),
    max_size=14,
)
devices = st.lists(
    st.tuples(st.sampled_from([None, 5, 10, 15, 30]), st.booleans(), st.booleans()), min_size=1, max_size=4
)


async def _written(seq: int) -> None:
    return None


async def play(folder: Path, url: str | None, leads: list[tuple[int | None, bool, bool]], script: list[Step]) -> None:
    keys = load_or_create_keys(folder)
    sender = PushSender(PayloadCipher(keys), VapidSigner(keys, "mailto:o@arat.example"), allow_insecure_loopback=True)
    try:
        async with (
            open_database(folder / "kumpul.db", url) as db,
            PushService(vapid_public_key=keys.application_server_key) as service,
        ):
            await run(db, sender, service, leads, script)
    finally:
        await sender.close()


async def run(
    db: Database,
    sender: PushSender,
    service: PushService,
    leads: list[tuple[int | None, bool, bool]],
    script: list[Step],
) -> None:
    demo = demo_programme(date.today() + timedelta(days=1))
    programme = ProgrammeService(db, on_write=_written, alert_delay=60)
    await programme.import_programme(
        msgspec.structs.replace(demo, sessions=[s for s in demo.sessions if s.id == SESSION])
    )
    subs = service.subscriptions(len(leads))
    async with db.write() as conn:
        for sub, (minutes, following, alerts) in zip(subs, leads, strict=True):
            await store.upsert_subscription(
                conn,
                sub.endpoint,
                sub.p256dh,
                sub.auth,
                None,
                None,
                json.dumps([SESSION] if following else []),
                None,
                minutes,
                alerts,
            )
    start: datetime = (await programme.get("session", SESSION)).start
    clock = Clock()
    clock.now = start - timedelta(minutes=31)
    programme.clock = clock
    scheduler = ReminderScheduler(db, clock=clock)
    worker = OutboxWorker(db, sender, clock=clock)
    cancelled = False
    sent_before_cancel = 0

    def reminders() -> list[tuple[str, dict[str, Any]]]:
        return [(d.sub_id, d.json()) for d in service.deliveries() if d.json()["type"] == "reminder"]

    async def work() -> None:
        before = len(reminders())
        await worker.work()
        for sub_id, message in reminders()[before:]:
            lead = leads[[s.sub_id for s in subs].index(sub_id)][0]
            assert lead is not None, "a device without reminders got one"
            assert message["start"] == start.isoformat() or datetime.fromisoformat(message["start"]) == start
            assert clock.now >= start - timedelta(minutes=lead) - timedelta(seconds=1), "sent before its due time"

    for step in script:
        match step:
            case ("tick", seconds):
                clock.now += timedelta(seconds=seconds)
            case ("schedule", fresh):
                await (ReminderScheduler(db, clock=clock) if fresh else scheduler).queue_due()
            case ("work",):
                await work()
            case ("crash", batch):
                # A worker claims and is killed before sending: its claims go again once their lease runs out (at
                # once, here).
                async with db.write() as conn:
                    await store.claim_due(conn, iso(clock.now), batch, "killed", 0.0)
            case ("move", minutes):
                if not cancelled:
                    start = start + timedelta(minutes=minutes)
                    await programme.update(
                        "session", SESSION, SessionUpdate(start=start, end=start + timedelta(minutes=45))
                    )
            case ("cancel",):
                if not cancelled:
                    await programme.update("session", SESSION, SessionUpdate(status="cancelled"))
                    cancelled = True
                    sent_before_cancel = len(reminders())
    # Time runs on to a minute before the start (or stays, if past it), with the scheduler and outbox working.
    ahead = clock.now <= start - timedelta(minutes=1)
    if ahead:
        clock.now = start - timedelta(minutes=1)
    await scheduler.queue_due()
    await work()
    counts: dict[str, int] = {}
    for sub_id, _ in reminders():
        counts[sub_id] = counts.get(sub_id, 0) + 1
    assert all(n == 1 for n in counts.values()), f"a device got two reminders: {counts}"
    if cancelled:
        assert len(reminders()) == sent_before_cancel, "a reminder after the cancellation"
    elif ahead:
        wanted = {sub.sub_id for sub, (minutes, following, _) in zip(subs, leads, strict=True) if minutes and following}
        assert set(counts) == wanted


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leads=devices, script=steps)
@example(leads=[(30, True, True)], script=[("tick", 90), ("schedule", False), ("cancel",), ("work",)])
@example(leads=[(30, True, False), (5, True, True)], script=[("tick", 90), ("schedule", True), ("crash", 1), ("work",)])
@example(leads=[(30, True, True)], script=[("tick", 90), ("schedule", False), ("move", 20), ("work",), ("tick", 300)])
@example(leads=[(15, True, True)], script=[("tick", 960), ("schedule", False), ("move", -10), ("work",)])
def test_each_device_gets_one_reminder_at_most_and_one_unless_cancelled(
    new_database: NewDatabase,
    leads: list[tuple[int | None, bool, bool]],
    script: list[Step],
) -> None:
    with tempfile.TemporaryDirectory() as folder, new_database() as url:
        asyncio.run(play(Path(folder), url, leads, script))
