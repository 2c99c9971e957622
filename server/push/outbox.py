"""The outbox worker: claims due messages from SQLite, sends them, records every outcome.

Rows are claimed ('sending') before their requests and settled after them in one transaction per
batch, so a crash or restart resumes where the fan-out stopped; a graceful stop finishes the batch
in flight first, so no subscription gets the same message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta

from server.push import payloads
from server.push.sender import Message, Outcome, PushSender
from server.storage import push as store
from server.storage.db import Database
from server.storage.push import OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 3600.0


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the service's Retry-After, else exponential with jitter."""
    if retry_after is not None:
        return min(MAX_BACKOFF, max(1.0, retry_after))
    return min(MAX_BACKOFF, 2.0**attempts * random.uniform(1.0, 1.5))  # noqa: S311 -- jitter, not secrecy


class OutboxWorker:
    """Works the push outbox in the background of a running server."""

    def __init__(self, db: Database, sender: PushSender, *, batch: int = 32, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.sender = sender
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Requeue what a stopped process left mid-send, then start working."""
        async with self.db.write() as conn:
            released = await store.release_claims(conn)
        if released:
            log.info("requeued %d push messages left in flight by a stopped server", released)
        self._task = asyncio.create_task(self._run(), name="kumpul-push-outbox")

    async def stop(self) -> None:
        """Finish the batch in flight, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                worked = await self.work_once()
            except Exception:
                log.exception("the push outbox failed a round; retrying")
                worked = 0
            if worked == 0 and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def work_once(self) -> int:
        """Claim, send and settle one batch; returns how many messages it handled."""
        now = datetime.now(UTC)
        async with self.db.write() as conn:
            rows = await store.claim_due(conn, iso(now), self.batch)
            messages: dict[tuple[str, str], Message | None] = {}
            for row in rows:
                key = (row.kind, row.ref)
                if key not in messages:
                    if row.kind == "announcement":
                        messages[key] = await payloads.announcement_message(conn, row.ref)
                    else:
                        messages[key] = await payloads.alert_message(conn, row.ref)
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(row, messages[(row.kind, row.ref)]) for row in rows))
        settled: list[tuple[int, int, str, int | None, str | None]] = []
        gone: list[int] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                settled.append((row.id, row.version, "cancelled", None, None))
            elif outcome.result == "retry" and row.attempts < MAX_ATTEMPTS:
                next_at = now + timedelta(seconds=backoff(row.attempts, outcome.retry_after))
                settled.append((row.id, row.version, "pending", outcome.status, iso(next_at)))
            elif outcome.result == "retry":
                settled.append((row.id, row.version, "failed", outcome.status, None))
            else:
                settled.append((row.id, row.version, outcome.result, outcome.status, None))
                if outcome.result == "gone":
                    gone.append(row.subscription.id)
        async with self.db.write() as conn:
            await store.settle(conn, settled)
            for subscription_id in gone:
                await store.delete_subscription_by_id(conn, subscription_id)
        return len(rows)

    async def _deliver(self, row: OutboxRow, message: Message | None) -> Outcome | None:
        if message is None:
            return None
        sub = row.subscription
        return await self.sender.send(sub.endpoint, sub.p256dh, sub.auth, message)
