"""The outbox worker: claims due messages from SQLite, sends them, records every outcome.

Rows are claimed ('sending') before their requests and settled after them in one transaction per
batch, so a crash or restart resumes where the fan-out stopped; a graceful stop finishes the batches
claimed so far first, so no subscription gets the same message twice.

Work is a pipeline of two batches: while one batch is on the wire, the next is claimed and encrypted,
so the connections never wait for the database or the cipher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.push import payloads
from server.push.sender import Message, Prepared, Push, PushSender
from server.storage import push as store
from server.storage.db import Database
from server.storage.push import OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 3600.0
#: Messages claimed, encrypted and settled together: large enough that the two transactions and the hand-off to
#: the cipher thread cost little per message, small enough that a stop finishes quickly.
BATCH = 256


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the service's Retry-After, else exponential with jitter."""
    if retry_after is not None:
        return min(MAX_BACKOFF, max(1.0, retry_after))
    return min(MAX_BACKOFF, 2.0**attempts * random.uniform(1.0, 1.5))  # noqa: S311 -- jitter, not secrecy


class OutboxWorker:
    """Works the push outbox in the background of a running server."""

    def __init__(
        self,
        db: Database,
        sender: PushSender,
        *,
        batch: int = BATCH,
        poll_seconds: float = 1.0,
        release_claims: bool = True,
    ) -> None:
        self.db = db
        self._release_claims = release_claims
        self.sender = sender
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Requeue what a stopped process left mid-send, start the encryption process, then start working.

        A worker started beside others must not requeue: their claims are in flight. ``kumpul serve``
        requeues once before its workers start (:func:`server.serving.prepare`) and starts them without.
        """
        if self._release_claims:
            async with self.db.write() as conn:
                released = await store.release_claims(conn)
            if released:
                log.info("requeued %d push messages left in flight by a stopped server", released)
        async with self.db.read() as conn:
            someone_to_push_to = await store.has_subscriptions(conn)
        if someone_to_push_to:
            # Otherwise the encryption process starts with the first batch.
            await self.sender.start()
        self._task = asyncio.create_task(self._run(), name="kumpul-push-outbox")

    async def stop(self) -> None:
        """Finish the batches claimed so far, then stop."""
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
                worked = await self.work()
            except Exception:
                log.exception("the push outbox failed a round; retrying")
                worked = 0
            if worked == 0 and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def work(self) -> int:
        """Send every due message, a batch at a time, claiming and encrypting the next batch while one is sent.

        Returns:
            How many messages it handled. Stops claiming when the worker is stopping, but sends what it claimed.

        Raises:
            Exception: The first error of a round (after the batches already claimed have been sent).
        """
        handled = 0
        error: BaseException | None = None
        batch = await self._claim()
        while batch is not None:
            sent, following = await asyncio.gather(self._send(batch), self._claim_more(), return_exceptions=True)
            for result in (sent, following):
                if isinstance(result, BaseException) and error is None:
                    error = result
            handled += sent if isinstance(sent, int) else 0
            batch = following if isinstance(following, _Batch) else None
        if error is not None:
            raise error
        return handled

    async def _claim_more(self) -> _Batch | None:
        return None if self._stopping else await self._claim()

    async def work_once(self) -> int:
        """Claim, send and settle one batch; returns how many messages it handled."""
        batch = await self._claim()
        return 0 if batch is None else await self._send(batch)

    async def _claim(self) -> _Batch | None:
        """Claim up to ``batch`` due messages and encrypt them; None when nothing is due."""
        async with self.db.write() as conn:
            rows = await store.claim_due(conn, iso(datetime.now(UTC)), self.batch)
            messages: dict[tuple[str, str], Message | None] = {}
            for row in rows:
                key = (row.kind, row.ref)
                if key not in messages:
                    if row.kind == "announcement":
                        messages[key] = await payloads.announcement_message(conn, row.ref)
                    else:
                        messages[key] = await payloads.alert_message(conn, row.ref)
        if not rows:
            return None
        pushes: list[Push] = []
        for row in rows:
            message = messages[(row.kind, row.ref)]
            if message is not None:
                sub = row.subscription
                pushes.append(Push(sub.endpoint, sub.p256dh, sub.auth, message))
        try:
            prepared = await self.sender.prepare(pushes)
        except Exception:
            # Nothing was sent: give the rows back rather than leave them claimed until a restart.
            async with self.db.write() as conn:
                await store.settle(conn, [(row.id, row.version, "pending", None, None) for row in rows])
            raise
        return _Batch(rows, messages, prepared)

    async def _send(self, batch: _Batch) -> int:
        """Post a prepared batch and record every outcome in one transaction."""
        sent = iter(await self.sender.post(batch.prepared))
        now = datetime.now(UTC)
        settled: list[tuple[int, int, str, int | None, str | None]] = []
        gone: list[int] = []
        for row in batch.rows:
            if batch.messages[(row.kind, row.ref)] is None:
                settled.append((row.id, row.version, "cancelled", None, None))
                continue
            outcome = next(sent)
            if outcome.result == "retry" and row.attempts < MAX_ATTEMPTS:
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
            await store.delete_subscriptions_by_id(conn, gone)
        return len(batch.rows)


@dataclass(frozen=True, slots=True)
class _Batch:
    """Claimed rows, the message of each (kind, ref) (None: no longer to send) and their prepared requests."""

    rows: list[OutboxRow]
    messages: dict[tuple[str, str], Message | None]
    prepared: Prepared
