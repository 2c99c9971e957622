"""The outbox worker: claims due messages from the database, sends them, records every outcome.

Rows are claimed ('sending') before their requests and settled after them in one transaction per
batch, so a crash or restart resumes where the fan-out stopped; a graceful stop finishes the batch on the
wire and gives back one claimed but not yet sent, so no subscription gets the same message twice.

Every worker of every server on the database works the same outbox. A claim names its worker and holds for a lease
(``LEASE``), which the worker renews while it holds the messages, so no other worker takes them while it lives; it
settles or gives back only what it still holds. The messages of a worker that died mid-send are claimed again by
whichever worker comes after their lease ran out, and sent once more.

Work is a pipeline of two batches: while one batch is on the wire, the next is claimed and encrypted,
so the connections never wait for the database or the cipher. A batch waits for its answers until they
stop coming (``SETTLE_QUIET``, at most ``SETTLE_WAIT``): what has come back is settled, and answers still
awaited from a slow or hanging push service settle by themselves when they come (or time out), so one push
service holds up no other.

Outcomes that cannot be recorded (the disk is full) are kept and recorded before anything else is
claimed, so a message a push service accepted is never sent again by this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.push import payloads
from server.push.sender import Message, Outcome, Posting, Prepared, Push, PushSender
from server.services.live import raise_if_cancelled
from server.storage import push as store
from server.storage.db import Connection, Database, transient
from server.storage.push import OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 3600.0
#: Messages claimed, encrypted and settled together: large enough that the two transactions and the hand-off to
#: the cipher thread cost little per message, small enough that a stop finishes quickly.
BATCH = 256
#: Longest a batch waits for its answers before the next batch goes; later answers settle on their own.
SETTLE_WAIT = 1.0
#: A batch stops waiting sooner when no answer came for this long while some are still awaited (a service hangs).
SETTLE_QUIET = 0.2
#: Messages at most awaiting late answers (a push service that hangs) before no further batch is claimed.
MAX_STRAGGLING = 4 * BATCH
#: Longest pause between rounds after a failed one (a full disk, a busy database).
MAX_FAILURE_PAUSE = 30.0
#: Seconds a claim holds its messages for the worker that made it. The worker renews it every third of it while it
#: holds any, so it never runs out under a live worker, however long a push service takes to answer; after a worker
#: died (or lost the database for longer), its messages go again this much later.
LEASE = 30.0

#: A reminder due this soon goes now rather than back to the queue.
REMINDER_EARLY = timedelta(seconds=1)

Settled = tuple[int, int, str, int | None, str | None]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def worker_name() -> str:
    """A name for one worker's claims: its host and process, for whoever reads the outbox, and a random part, so
    two workers never share one (in one process, or a pid reused after a restart)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


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
        settle_wait: float = SETTLE_WAIT,
        lease: float = LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        #: The current time (tests move it): what is due, and when retries and reminders go. Leases run on the
        #: database's clock, which every server shares.
        self.clock = clock
        #: Whose claims are this worker's (``claimed_by``).
        self.owner = worker_name()
        self.lease = lease
        self.sender = sender
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.settle_wait = settle_wait
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._stragglers: set[asyncio.Task[None]] = set()
        self._straggling = 0
        self._unsettled: list[tuple[list[Settled], list[int]]] = []
        #: Batches claimed and not yet sent and settled (or given back).
        self._in_hand = 0
        self._renewing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the encryption process (when anyone is subscribed), then start working.

        Nothing is requeued here: what a stopped worker left mid-send is claimed again once its lease has run out,
        by this worker or any other, and the claims of workers still running are theirs.
        """
        async with self.db.read() as conn:
            someone_to_push_to = await store.has_subscriptions(conn)
        if someone_to_push_to:
            # Otherwise the encryption process starts with the first batch.
            await self.sender.start()
        self._task = asyncio.create_task(self._run(), name="kumpul-push-outbox")

    async def stop(self) -> None:
        """Record the answers to the requests on the wire, return everything unsent to the queue, then stop."""
        self._stopping = True
        self._wake.set()
        withdrawn = self.sender.withdraw_unsent()
        if withdrawn:
            log.info("stopping: %d push messages not yet sent go back to the queue", withdrawn)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.drain()
        if self._unsettled:
            try:
                await self._record_unsettled()
            except Exception as error:
                # They stay 'sending' until their lease runs out, then go once more.
                log.error("could not record the outcome of %d push messages: %s", self.unsettled, error)
        await self._stop_renewing()

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next poll."""
        self._wake.set()

    @property
    def unsettled(self) -> int:
        """Messages sent whose outcome could not be recorded yet (the disk was full); recorded before new work."""
        return sum(len(settled) for settled, _ in self._unsettled)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                worked = await self._round()
                failures = 0
            except Exception as error:
                failures += 1
                if transient(error):
                    log.warning("the push outbox could not use the database (%s); retrying", error)
                else:
                    log.exception("the push outbox failed a round; retrying")
                worked = 0
            if worked == 0 and not self._stopping:
                self._wake.clear()
                pause = min(MAX_FAILURE_PAUSE, self.poll_seconds * 2 ** min(failures, 8)) if failures else None
                raise_if_cancelled()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause or self.poll_seconds):
                        await self._wake.wait()

    async def work(self) -> int:
        """Send every due message, a batch at a time, and wait until every answer is recorded.

        Returns:
            How many messages it handled. When the worker is stopping it claims nothing more, sends the batch on
            the wire and gives a batch claimed meanwhile back to the queue.

        Raises:
            Exception: The first error of a round (after the batches already claimed have been sent).
        """
        try:
            return await self._round()
        finally:
            await self.drain()
            await self._stop_renewing_unless_holding()

    async def drain(self) -> None:
        """Wait until the answers still awaited from slow push services are in and recorded (or timed out)."""
        while self._stragglers:
            await asyncio.gather(*self._stragglers, return_exceptions=True)

    async def _round(self) -> int:
        """Send every due message, claiming and encrypting the next batch while one is sent.

        Answers a push service is slow to give are left to settle by themselves, so one round never waits
        for a service that hangs (see ``SETTLE_WAIT``).
        """
        await self._record_unsettled()
        handled = 0
        error: BaseException | None = None
        batch = await self._claim_more()
        while batch is not None:
            if self._stopping:
                # Claimed but not sent when the stop came: back to the queue, so a stop waits only for the answers
                # on the wire (a slow stop is killed, and what it had sent would go again once its lease ran out).
                await self._let_go(batch.rows)
                break
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
        if self._stopping:
            return None
        while self._straggling >= MAX_STRAGGLING and self._stragglers:
            await asyncio.wait(self._stragglers, return_when=asyncio.FIRST_COMPLETED)
        return None if self._stopping else await self._claim()

    async def work_once(self) -> int:
        """Claim, send and settle one batch; returns how many messages it handled."""
        await self._record_unsettled()
        batch = await self._claim()
        handled = 0 if batch is None else await self._send(batch)
        await self.drain()
        await self._stop_renewing_unless_holding()
        return handled

    async def _claim(self) -> _Batch | None:
        """Claim up to ``batch`` due messages and encrypt them; None when nothing is due."""
        now = self.clock()
        async with self.db.write() as conn:
            rows = await store.claim_due(conn, iso(now), self.batch, self.owner, self.lease)
            # Each announcement is read once per batch and its message built once per language (not per device).
            announcements: dict[str, payloads.AnnouncementMessages | None] = {}
            alerts: dict[str, Message | None] = {}
            for row in rows:
                if row.kind == "announcement":
                    if row.ref not in announcements:
                        announcements[row.ref] = await payloads.announcement_messages(conn, row.ref)
                elif row.kind == "alert" and row.ref not in alerts:
                    alerts[row.ref] = await payloads.alert_message(conn, row.ref)
            rows, reminders = await self._reminders(conn, rows, now)
        if not rows:
            return None
        pushes: list[Push] = []
        positions: list[int | None] = []
        for row in rows:
            if row.kind == "announcement":
                texts = announcements[row.ref]
                message = texts.for_language(row.subscription.lang) if texts is not None else None
            elif row.kind == "reminder":
                message = reminders[row.id]
            else:
                message = alerts[row.ref]
            if message is None:
                positions.append(None)
                continue
            sub = row.subscription
            positions.append(len(pushes))
            pushes.append(Push(sub.endpoint, sub.p256dh, sub.auth, message))
        self._hold()
        try:
            prepared = await self.sender.prepare(pushes)
        except Exception:
            # Nothing was sent: give the rows back rather than leave them claimed until their lease runs out.
            await self._let_go(rows)
            raise
        return _Batch(rows, positions, prepared)

    async def _reminders(
        self, conn: Connection, rows: list[OutboxRow], now: datetime
    ) -> tuple[list[OutboxRow], dict[int, Message]]:
        """Look at each claimed reminder's session as it is now, in the claim's transaction.

        A reminder about a session cancelled, deleted or long started, or that the device no longer follows
        (reminders turned off, the bookmark removed), is cancelled; one whose session moved
        later (or whose device now wants it nearer the start) goes back to the queue, due at the new time.
        A reminder that goes takes the place of the change alert still waiting for the same device and session:
        one message, saying the session moved.

        Returns:
            The rows to send (the reminders' messages by outbox id), without those settled here.
        """
        claimed = [row for row in rows if row.kind == "reminder"]
        if not claimed:
            return rows, {}
        sessions: dict[str, payloads.ReminderSession | None] = {}
        cancelled: list[int] = []
        later: dict[str, list[int]] = {}
        going: dict[str, list[OutboxRow]] = {}
        for row in claimed:
            if row.ref not in sessions:
                sessions[row.ref] = await payloads.reminder_session(conn, row.ref)
            session = sessions[row.ref]
            minutes = row.subscription.reminder_minutes
            if session is None or minutes is None or not row.following or session.over(now):
                cancelled.append(row.id)
            elif session.due(minutes) > now + REMINDER_EARLY:
                later.setdefault(iso(session.due(minutes)), []).append(row.id)
            else:
                going.setdefault(row.ref, []).append(row)
        await store.mark(conn, self.owner, cancelled, "cancelled")
        for at, ids in later.items():
            await store.reschedule(conn, self.owner, ids, at)
        messages: dict[int, Message] = {}
        merged: set[tuple[str, int]] = set()
        for ref, going_rows in going.items():
            session = sessions[ref]
            assert session is not None
            pairs = {(ref, row.subscription.id) for row in going_rows}
            # An alert claimed in this very batch is merged too (it is 'sending', so merge_alerts leaves it).
            alerted = await store.merge_alerts(conn, ref, [row.subscription.id for row in going_rows])
            alerted |= {r.subscription.id for r in rows if r.kind == "alert" and (r.ref, r.subscription.id) in pairs}
            merged |= {(ref, sub) for sub in alerted}
            for row in going_rows:
                messages[row.id] = session.message(row.subscription.lang, row.subscription.id in alerted, now)
        merged_alerts = [row.id for row in rows if row.kind == "alert" and (row.ref, row.subscription.id) in merged]
        await store.mark(conn, self.owner, merged_alerts, "merged")
        settled = set(cancelled) | {i for ids in later.values() for i in ids} | set(merged_alerts)
        return [row for row in rows if row.id not in settled], messages

    async def _let_go(self, rows: list[OutboxRow]) -> None:
        """Return a claimed batch that will not be sent to the queue, due at once."""
        try:
            async with self.db.write() as conn:
                await store.give_back(conn, self.owner, [row.id for row in rows])
        finally:
            self._in_hand -= 1

    def _hold(self) -> None:
        """Count one more batch claimed, and keep renewing the claims while this worker holds any."""
        self._in_hand += 1
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name="kumpul-push-leases")

    @property
    def _holding(self) -> bool:
        """Whether this worker holds claimed messages: in hand, awaiting late answers, or with outcomes unrecorded."""
        return self._in_hand > 0 or bool(self._stragglers) or bool(self._unsettled)

    async def _renew(self) -> None:
        """Renew this worker's claims every third of the lease, for as long as it holds any."""
        while self._holding:
            await asyncio.sleep(self.lease / 3)
            if not self._holding:
                return
            try:
                async with self.db.write() as conn:
                    await store.renew_claims(conn, self.owner, self.lease)
            except Exception as error:
                # Two thirds of the lease are left: the next renewal comes before it runs out.
                log.warning("could not renew the claims of the push outbox (%s); retrying", error)

    async def _stop_renewing(self) -> None:
        """Renew no more: claims still held (outcomes never recorded) go again once their lease runs out."""
        task, self._renewing = self._renewing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _stop_renewing_unless_holding(self) -> None:
        """After a round run by hand, when it left nothing claimed: no renewal waits in the background."""
        if not self._holding:
            await self._stop_renewing()

    async def _send(self, batch: _Batch) -> int:
        """Send a claimed batch (:meth:`_post`); then it is no longer in hand (late answers are stragglers)."""
        try:
            return await self._post(batch)
        finally:
            self._in_hand -= 1

    async def _post(self, batch: _Batch) -> int:
        """Post a prepared batch and record its outcomes: those in within ``settle_wait`` at once, the rest later."""
        posting = self.sender.submit(batch.prepared)
        await self._answers_or_silence(posting)
        answered: list[int] = []
        late: list[int] = []
        for index, at in enumerate(batch.positions):
            (late if at is not None and posting.outcomes[at] is None else answered).append(index)
        if late:
            self._straggling += len(late)
            task = asyncio.create_task(self._settle_late(batch, posting, late), name="kumpul-push-late-answers")
            self._stragglers.add(task)
            task.add_done_callback(self._stragglers.discard)
        await self._settle(batch, posting, answered)
        return len(batch.rows)

    async def _answers_or_silence(self, posting: Posting) -> None:
        """Wait until every answer is in, or no answer came for ``SETTLE_QUIET``, or ``settle_wait`` passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_wait
        answered = -1
        while not posting.done.done():
            now = sum(outcome is not None for outcome in posting.outcomes)
            if now == answered or loop.time() >= deadline:
                return
            answered = now
            await asyncio.wait([posting.done], timeout=min(SETTLE_QUIET, max(0.0, deadline - loop.time())))

    async def _settle_late(self, batch: _Batch, posting: Posting, late: list[int]) -> None:
        try:
            await posting.done
            await self._settle(batch, posting, late)
        except Exception as error:
            log.warning("could not record the late answers of %d push messages yet: %s", len(late), error)
        finally:
            self._straggling -= len(late)

    async def _settle(self, batch: _Batch, posting: Posting, indexes: list[int]) -> None:
        """Record the outcomes of ``batch.rows[i]`` for ``indexes``; kept for later if the database refuses."""
        now = self.clock()
        settled: list[Settled] = []
        gone: list[int] = []
        unsent: list[int] = []
        for index in indexes:
            row = batch.rows[index]
            at = batch.positions[index]
            if at is None:
                settled.append((row.id, row.version, "cancelled", None, None))
                continue
            outcome: Outcome | None = posting.outcomes[at]
            assert outcome is not None
            if outcome.result == "unsent":
                unsent.append(row.id)
            elif outcome.result == "retry" and row.attempts < MAX_ATTEMPTS:
                next_at = now + timedelta(seconds=backoff(row.attempts, outcome.retry_after))
                settled.append((row.id, row.version, "pending", outcome.status, iso(next_at)))
            elif outcome.result == "retry":
                settled.append((row.id, row.version, "failed", outcome.status, None))
            else:
                settled.append((row.id, row.version, outcome.result, outcome.status, None))
                if outcome.result == "gone":
                    gone.append(row.subscription.id)
        if not settled and not unsent:
            return
        try:
            async with self.db.write() as conn:
                await store.give_back(conn, self.owner, unsent)
                await store.settle(conn, self.owner, settled)
                await store.delete_subscriptions_by_id(conn, gone)
        except Exception as error:
            if transient(error):
                # The messages went out: record their outcome before claiming anything else, or they would
                # stay 'sending' and a restart would send them again.
                self._unsettled.append((settled, gone))
            raise

    async def _record_unsettled(self) -> None:
        """Record outcomes kept while the database refused writes, in one transaction."""
        if not self._unsettled:
            return
        pending, self._unsettled = self._unsettled, []
        try:
            async with self.db.write() as conn:
                for settled, gone in pending:
                    await store.settle(conn, self.owner, settled)
                    await store.delete_subscriptions_by_id(conn, gone)
        except Exception as error:
            if not transient(error):
                # Not a condition that passes: keeping them would stop every later push. They stay claimed
                # ('sending') until their lease runs out, then go once more.
                log.exception("could not record the outcome of %d push messages", sum(len(s) for s, _ in pending))
                return
            self._unsettled = pending + self._unsettled
            raise
        except BaseException:
            self._unsettled = pending + self._unsettled
            raise
        count = sum(len(settled) for settled, _ in pending)
        log.info("recorded the outcome of %d push messages kept while the database refused writes", count)


@dataclass(frozen=True, slots=True)
class _Batch:
    """Claimed rows, where each row's push is among the prepared requests (None: no longer to send), and those."""

    rows: list[OutboxRow]
    positions: list[int | None]
    prepared: Prepared
