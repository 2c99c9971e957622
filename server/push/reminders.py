"""Reminders before bookmarked sessions: queued in the push outbox when they fall due, sent by its workers.

Every worker runs a scheduler. Each round it looks for sessions starting within the longest lead time a device
may choose, and queues a ``reminder`` row (ref: the session id) for each device that follows the session and
whose lead time has come. The outbox's UNIQUE (kind, ref, subscription) makes this safe to repeat: a device
gets one reminder per session however many workers, of however many servers on the database, queue it (each
queues with one INSERT ... ON CONFLICT, in a write transaction serialised with every other), and a restart at the
due time queues again only what was never queued. Whether a reminder still goes, and when, is decided again when
the outbox claims it (:meth:`server.push.outbox.OutboxWorker._reminders`): a session cancelled since is never
reminded of, one that moved is reminded of at its new time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from server.push.outbox import iso
from server.services.live import raise_if_cancelled
from server.storage import push as store
from server.storage.db import Database, transient

log = logging.getLogger(__name__)

#: The lead times a device may choose, in minutes before the session starts.
REMINDER_MINUTES = (5, 10, 15, 30)
LONGEST_LEAD = timedelta(minutes=max(REMINDER_MINUTES))
POLL_SECONDS = 5.0


class ReminderScheduler:
    """Queues reminders as they fall due, every ``poll_seconds``.

    Args:
        db: The database.
        wake: Called after reminders were queued (wakes the push outbox).
        clock: The current time (tests move it).
        poll_seconds: How often it looks; a reminder goes at most this late.
    """

    def __init__(
        self,
        db: Database,
        *,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.db = db
        self.wake = wake
        self.clock = clock
        self.poll_seconds = poll_seconds
        #: ``(session, start, lead minutes)`` this process queued, with the subscriptions as they were then:
        #: queued again only when a subscription changed (queuing thousands of rows again would find them there).
        self._queued: dict[tuple[str, str, int], tuple[str | None, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kumpul-reminders")

    async def stop(self) -> None:
        """Stop after the round under way (never in the middle of its transaction)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.queue_due()
            except Exception as error:
                if transient(error):
                    log.warning("reminders could not use the database (%s); retrying", error)
                else:
                    log.exception("reminders failed a round; retrying")
            raise_if_cancelled()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._stopping.wait()

    async def queue_due(self) -> int:
        """Queue every reminder due now; returns how many were queued (or brought forward)."""
        now = self.clock()
        async with self.db.read() as conn:
            sessions = await store.session_times(conn)
            changed = await store.subscriptions_changed(conn)
        work: list[tuple[str, str, float, int, str | None]] = []
        for session_id, start_text, status in sessions:
            if status == "cancelled" or not start_text:
                continue
            try:
                start = datetime.fromisoformat(start_text)
            except ValueError:
                continue
            left = start - now
            if not timedelta(0) < left <= LONGEST_LEAD:
                continue
            lead = min(m for m in REMINDER_MINUTES if timedelta(minutes=m) >= left)
            key = (session_id, start_text, lead)
            before = self._queued.get(key)
            if before == changed:
                continue
            # Queued already for the subscriptions as they were then: look only at those changed since.
            work.append((session_id, start_text, left.total_seconds(), lead, before[0] if before else None))
        if not work:
            return 0
        queued = 0
        async with self.db.write() as conn:
            for session_id, _start, seconds, _lead, since in work:
                queued += await store.enqueue_reminders(conn, session_id, seconds, iso(now), since)
        for session_id, start_text, _seconds, lead, _since in work:
            self._queued[session_id, start_text, lead] = changed
        if len(self._queued) > 10_000:
            self._queued.clear()
        if queued:
            log.info("queued %d session reminders", queued)
            self.wake()
        return queued
