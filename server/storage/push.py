"""Web Push subscriptions and the durable outbox of messages to them.

Several workers (processes, and nodes on one PostgreSQL database) share the outbox. A worker claims messages for
itself (``claimed_by``) until its lease runs out (``lease_until``, database time), renews the lease while it holds
them, and settles only what it still holds; messages whose lease ran out (their worker died mid-send) are claimed
again by whichever worker comes next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from server.storage.db import Connection, each, json_field, json_items, listed, postgres

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    endpoint: str
    p256dh: str
    auth: str
    attendee_id: str | None
    participation: str | None
    #: The attendee's language (a BCP 47 tag), or None when the device did not say.
    lang: str | None = None
    #: Minutes before each bookmarked session a reminder comes, or None when reminders are off.
    reminder_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A claimed message: what to send and to whom."""

    id: int
    kind: str
    ref: str
    version: int
    attempts: int
    subscription: SubscriptionRow
    #: A reminder's subscription still follows its session (it may have dropped the bookmark since).
    following: bool = True


@dataclass(frozen=True, slots=True)
class SubscriptionOwner:
    """Who may change a stored subscription: its attendee (None when made without a token), or whoever holds its
    auth secret (the browser that made it)."""

    attendee_id: str | None
    auth: str


async def subscription_owner(conn: Connection, endpoint: str) -> SubscriptionOwner | None:
    """The owner of the subscription with ``endpoint``, or None when there is none."""
    async with conn.execute("SELECT attendee_id, auth FROM push_subscriptions WHERE endpoint = ?", (endpoint,)) as cur:
        row = await cur.fetchone()
    return SubscriptionOwner(row[0], row[1]) if row else None


async def upsert_subscription(
    conn: Connection,
    endpoint: str,
    p256dh: str,
    auth: str,
    attendee_id: str | None,
    participation: str | None,
    alert_sessions: str,
    lang: str | None = None,
    reminder_minutes: int | None = None,
    change_alerts: bool = True,
) -> bool:
    """Store a subscription, replacing the keys and preferences of the same endpoint.

    Returns:
        True when the endpoint was new.
    """
    async with conn.execute("SELECT 1 FROM push_subscriptions WHERE endpoint = ?", (endpoint,)) as cur:
        existed = await cur.fetchone() is not None
    await conn.execute(
        "INSERT INTO push_subscriptions"
        " (endpoint, p256dh, auth, attendee_id, participation, alert_sessions, lang, reminder_minutes,"
        " change_alerts, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, kumpul_now(), kumpul_now())"
        " ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth,"
        " attendee_id = excluded.attendee_id, participation = excluded.participation,"
        " alert_sessions = excluded.alert_sessions, lang = excluded.lang,"
        " reminder_minutes = excluded.reminder_minutes, change_alerts = excluded.change_alerts,"
        " updated_at = excluded.updated_at",
        (
            endpoint,
            p256dh,
            auth,
            attendee_id,
            participation,
            alert_sessions,
            lang,
            reminder_minutes,
            int(change_alerts),
        ),
    )
    return not existed


async def delete_subscription(conn: Connection, endpoint: str) -> bool:
    async with conn.execute("DELETE FROM push_subscriptions WHERE endpoint = ? RETURNING id", (endpoint,)) as cur:
        return await cur.fetchone() is not None


async def delete_subscription_by_id(conn: Connection, subscription_id: int) -> None:
    await conn.execute("DELETE FROM push_subscriptions WHERE id = ?", (subscription_id,))


async def delete_subscriptions_by_id(conn: Connection, subscription_ids: list[int]) -> None:
    """Forget subscriptions the push services called gone, in one call."""
    if subscription_ids:
        await conn.executemany("DELETE FROM push_subscriptions WHERE id = ?", [(sid,) for sid in subscription_ids])


async def has_subscriptions(conn: Connection) -> bool:
    """Whether anyone is subscribed to push at all."""
    async with conn.execute("SELECT EXISTS (SELECT 1 FROM push_subscriptions)") as cur:
        row = await cur.fetchone()
    return bool(row and row[0])


async def subscriptions_for(conn: Connection, participation: str | None) -> list[tuple[int, str | None]]:
    """``(id, attendee_id)`` of subscriptions for an audience; ``participation`` None means everyone.

    A subscription whose participation is unknown hears both onsite and online announcements.
    """
    async with conn.execute(
        "SELECT s.id, s.attendee_id FROM push_subscriptions s LEFT JOIN attendees a ON a.id = s.attendee_id"
        " WHERE CAST(:p AS TEXT) IS NULL OR coalesce(s.participation, a.participation) IS NULL"
        " OR coalesce(s.participation, a.participation) = :p",
        {"p": participation},
    ) as cur:
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def subscriptions_alerting(conn: Connection, session_id: str) -> list[int]:
    """Subscriptions that asked for alerts about ``session_id`` (a device may follow it for reminders only)."""
    async with conn.execute(
        "SELECT id FROM push_subscriptions WHERE change_alerts = 1"
        f" AND EXISTS (SELECT 1 FROM {json_items(conn, 'alert_sessions')} WHERE value = ?)",
        (session_id,),
    ) as cur:
        return [row[0] for row in await cur.fetchall()]


async def enqueue(conn: Connection, kind: str, ref: str, subscription_ids: list[int], at: str, version: int) -> None:
    """Queue a message for each subscription, noting the language each subscription reads.

    A row that is still pending keeps its time, so a burst of changes becomes one message; a row
    already sent is queued again as a new message.
    """
    # One statement over a JSON array rather than one per subscription: a fan-out queues thousands of rows.
    await conn.execute(
        "INSERT INTO push_outbox (kind, ref, subscription_id, state, version, next_attempt_at, updated_at, lang)"
        " SELECT ?, ?, value, 'pending', ?, ?, (SELECT kumpul_now()),"
        f" (SELECT s.lang FROM push_subscriptions s WHERE s.id = value) FROM {each(conn, 'bigint')} WHERE true"
        " ON CONFLICT (kind, ref, subscription_id) DO UPDATE SET version = excluded.version, attempts = 0,"
        " lang = excluded.lang,"
        " next_attempt_at = CASE WHEN push_outbox.state = 'pending' THEN push_outbox.next_attempt_at"
        " ELSE excluded.next_attempt_at END,"
        " state = 'pending', updated_at = excluded.updated_at",
        (kind, ref, version, at, listed(conn, subscription_ids)),
    )


async def requeue_delivered(conn: Connection, kind: str, ref: str, at: str, version: int) -> None:
    """Queue a correction to the subscriptions that already received ``ref``."""
    await conn.execute(
        "UPDATE push_outbox SET state = 'pending', version = ?, attempts = 0, next_attempt_at = ?,"
        " updated_at = kumpul_now() WHERE kind = ? AND ref = ? AND state = 'sent'",
        (version, at, kind, ref),
    )
    await conn.execute(
        "UPDATE push_outbox SET version = ? WHERE kind = ? AND ref = ? AND state IN ('pending', 'sending')",
        (version, kind, ref),
    )


async def cancel(conn: Connection, kind: str, ref: str) -> None:
    """Stop messages not yet sent."""
    await conn.execute(
        "UPDATE push_outbox SET state = 'cancelled', updated_at = kumpul_now()"
        " WHERE kind = ? AND ref = ? AND state = 'pending'",
        (kind, ref),
    )


async def claim_due(conn: Connection, now: str, limit: int, owner: str, lease: float) -> list[OutboxRow]:
    """Claim up to ``limit`` due messages for ``owner`` for ``lease`` seconds, and return them with their subscription.

    Due are pending messages whose time has come, and messages whose claim's lease ran out: the worker that claimed
    them died mid-send, and they go again (the push service may or may not have had them). Run inside a write
    transaction. On PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED``, so a claimer on another node neither
    waits for nor takes them; on SQLite the write transaction holds the whole file. A few statements whatever
    ``limit`` is (a fan-out claims hundreds at a time): lapsed claims go back to the queue (an index probe that
    finds nothing unless a worker died), one statement reads the due rows with their subscriptions, one marks them.
    A message whose subscription is gone is marked gone instead.
    """
    locked = postgres(conn)
    lapsed = await conn.execute(
        "UPDATE push_outbox SET state = 'pending' WHERE id IN (SELECT id FROM push_outbox"
        " WHERE state = 'sending' AND lease_until <= (SELECT kumpul_now())"
        + (" FOR UPDATE SKIP LOCKED)" if locked else ")")
    )
    if lapsed.rowcount > 0:
        log.info("%d push messages go again: the worker that claimed them stopped mid-send", lapsed.rowcount)
    claimed = await conn.execute_fetchall(
        "SELECT o.id, o.kind, o.ref, o.version, o.attempts + 1,"
        f" o.kind != 'reminder' OR EXISTS (SELECT 1 FROM {json_items(conn, 's.alert_sessions')} WHERE value = o.ref),"
        " s.id, s.endpoint, s.p256dh, s.auth, s.attendee_id, s.participation, s.lang, s.reminder_minutes"
        " FROM push_outbox o LEFT JOIN push_subscriptions s ON s.id = o.subscription_id"
        " WHERE o.state = 'pending' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?"
        + (" FOR UPDATE OF o SKIP LOCKED" if locked else ""),
        (now, limit),
    )
    if not claimed:
        return []
    rows: list[OutboxRow] = []
    sending: list[int] = []
    gone: list[int] = []
    for outbox_id, kind, ref, version, attempts, following, *sub in claimed:
        if sub[0] is None:
            gone.append(outbox_id)
            continue
        sending.append(outbox_id)
        rows.append(OutboxRow(outbox_id, kind, ref, version, attempts, SubscriptionRow(*sub), bool(following)))
    # The language it goes out in is the subscription's now (it may have changed since the message was queued).
    await conn.execute(
        "UPDATE push_outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?,"
        " lease_until = (SELECT kumpul_now(?)),"
        " lang = (SELECT s.lang FROM push_subscriptions s WHERE s.id = push_outbox.subscription_id)"
        f" WHERE id IN (SELECT value FROM {each(conn, 'bigint')})",
        (owner, float(lease), listed(conn, sending)),
    )
    if gone:
        await conn.execute(
            "UPDATE push_outbox SET state = 'gone', attempts = attempts + 1,"
            f" updated_at = (SELECT kumpul_now()) WHERE id IN (SELECT value FROM {each(conn, 'bigint')})",
            (listed(conn, gone),),
        )
    return rows


async def renew_claims(conn: Connection, owner: str, lease: float) -> None:
    """Extend the claims ``owner`` holds to ``lease`` seconds from now."""
    await conn.execute(
        "UPDATE push_outbox SET lease_until = (SELECT kumpul_now(?)) WHERE state = 'sending' AND claimed_by = ?",
        (float(lease), owner),
    )


async def settle(conn: Connection, owner: str, outcomes: list[tuple[int, int, str, int | None, str | None]]) -> None:
    """Record ``(outbox id, version sent, new state, HTTP status, next attempt)`` of messages ``owner`` holds.

    A retry goes back to pending. A message corrected while it was being sent (its version moved on)
    goes back to pending too, so the correction follows. A message ``owner`` no longer holds (its lease ran out and
    another worker claimed it) is left to that worker. Rows with the same outcome (in a fan-out, nearly all of a
    batch: sent, 201) are settled by one statement.
    """
    groups: dict[tuple[int, str, int | None, str | None], list[int]] = {}
    for outbox_id, version, state, status, next_at in outcomes:
        groups.setdefault((version, state, status, next_at), []).append(outbox_id)
    for (version, state, status, next_at), ids in groups.items():
        # The list parameter is ?5: a bare ? takes the number after the largest before it.
        await conn.execute(
            "UPDATE push_outbox SET state = CASE WHEN version = ?1 OR ?2 != 'sent' THEN ?2 ELSE 'pending' END,"
            " attempts = CASE WHEN version = ?1 THEN attempts ELSE 0 END, last_status = ?3,"
            " next_attempt_at = coalesce(?4, next_attempt_at), updated_at = (SELECT kumpul_now())"
            f" WHERE id IN (SELECT value FROM {each(conn, 'bigint')}) AND state = 'sending' AND claimed_by = ?6",
            (version, state, status, next_at, listed(conn, ids), owner),
        )


async def give_back(conn: Connection, owner: str, ids: list[int]) -> None:
    """Return claimed messages that were never sent to the queue, due at once, the claim's attempt undone."""
    if not ids:
        return
    await conn.execute(
        "UPDATE push_outbox SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
        f" WHERE id IN (SELECT value FROM {each(conn, 'bigint')}) AND state = 'sending' AND claimed_by = ?",
        (listed(conn, ids), owner),
    )


# -- reminders before bookmarked sessions ------------------------------------------------------------------


async def session_times(conn: Connection) -> list[tuple[str, str, str]]:
    """``(id, start, status)`` of every session; the start as stored (ISO 8601 with its offset)."""
    rows = await conn.execute_fetchall(
        f"SELECT id, {json_field(conn, 'data', 'start')}, {json_field(conn, 'data', 'status')}"
        " FROM entities WHERE kind = 'session'"
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def subscriptions_changed(conn: Connection) -> tuple[str | None, int]:
    """What moves whenever a subscription is made, changed or forgotten: ``(latest change, how many)``."""
    async with conn.execute("SELECT max(updated_at), count(*) FROM push_subscriptions") as cur:
        row = await cur.fetchone()
    return (row[0], row[1]) if row else (None, 0)


async def enqueue_reminders(
    conn: Connection, session_id: str, lead_seconds: float, at: str, changed_since: str | None = None
) -> int:
    """Queue a reminder about ``session_id`` for every device that bookmarked it and wants reminders at least
    ``lead_seconds`` ahead (the time left until it starts), due at ``at``.

    A device that has a reminder about the session already, queued or sent, gets no second one (UNIQUE on
    kind, ref and subscription): that makes a reminder go once per device however often this runs, in however
    many workers and nodes (the insert and its conflict check are one statement, in a write transaction that
    writes of every node wait for). A pending one due later (the session moved earlier) becomes due at ``at``. With
    ``changed_since``, only subscriptions made or changed since then are looked at (the others were already).

    Returns:
        How many reminders were queued or brought forward.
    """
    cursor = await conn.execute(
        "INSERT INTO push_outbox (kind, ref, subscription_id, state, version, next_attempt_at, updated_at, lang)"
        " SELECT 'reminder', ?1, s.id, 'pending', 1, ?3, (SELECT kumpul_now()), s.lang"
        " FROM push_subscriptions s WHERE s.reminder_minutes IS NOT NULL AND s.reminder_minutes * 60 >= ?2"
        " AND (CAST(?4 AS TEXT) IS NULL OR s.updated_at >= ?4)"
        f" AND EXISTS (SELECT 1 FROM {json_items(conn, 's.alert_sessions')} WHERE value = ?1)"
        " ON CONFLICT (kind, ref, subscription_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at"
        " WHERE push_outbox.state = 'pending' AND push_outbox.next_attempt_at > excluded.next_attempt_at",
        (session_id, lead_seconds, at, changed_since),
    )
    return max(0, cursor.rowcount)


async def merge_alerts(conn: Connection, session_id: str, subscription_ids: list[int]) -> set[int]:
    """Fold the change alerts about ``session_id`` still waiting for these subscriptions into their reminders.

    Returns:
        The subscriptions that had one: their reminder says what changed.
    """
    if not subscription_ids:
        return set()
    async with conn.execute(
        "UPDATE push_outbox SET state = 'merged', updated_at = kumpul_now()"
        " WHERE kind = 'alert' AND ref = ? AND state = 'pending'"
        f" AND subscription_id IN (SELECT value FROM {each(conn, 'bigint')}) RETURNING subscription_id",
        (session_id, listed(conn, subscription_ids)),
    ) as cur:
        return {row[0] for row in await cur.fetchall()}


async def mark(conn: Connection, owner: str, ids: list[int], state: str) -> None:
    """Settle messages ``owner`` claimed that will not be sent: ``cancelled``, or ``merged`` into a reminder."""
    if ids:
        await conn.execute(
            "UPDATE push_outbox SET state = ?, updated_at = kumpul_now()"
            f" WHERE id IN (SELECT value FROM {each(conn, 'bigint')}) AND state = 'sending' AND claimed_by = ?",
            (state, listed(conn, ids), owner),
        )


async def reschedule(conn: Connection, owner: str, ids: list[int], at: str) -> None:
    """Return messages ``owner`` claimed to the queue, due at ``at`` (a reminder whose session moved later)."""
    if ids:
        await conn.execute(
            "UPDATE push_outbox SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,"
            " next_attempt_at = ?"
            f" WHERE id IN (SELECT value FROM {each(conn, 'bigint')}) AND state = 'sending' AND claimed_by = ?",
            (at, listed(conn, ids), owner),
        )


async def counts(conn: Connection, kind: str, ref: str) -> dict[str, int]:
    async with conn.execute(
        "SELECT state, count(*) FROM push_outbox WHERE kind = ? AND ref = ? GROUP BY state", (kind, ref)
    ) as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def counts_by_language(conn: Connection, kind: str, ref: str) -> list[tuple[str | None, str, int]]:
    """``(language, state, count)`` of the messages about ``ref``; language None where the device did not say."""
    async with conn.execute(
        "SELECT lang, state, count(*) FROM push_outbox WHERE kind = ? AND ref = ? GROUP BY lang, state", (kind, ref)
    ) as cur:
        return [(row[0], row[1], row[2]) for row in await cur.fetchall()]


async def next_attempt(conn: Connection) -> str | None:
    async with conn.execute("SELECT min(next_attempt_at) FROM push_outbox WHERE state = 'pending'") as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def profile_states(conn: Connection, attendee_ids: list[str]) -> dict[str, bytes]:
    """The ``profile`` document state of each attendee that has one."""
    states: dict[str, bytes] = {}
    for attendee_id in attendee_ids:
        async with conn.execute(
            "SELECT state FROM documents WHERE attendee_id = ? AND doc_id = 'profile'", (attendee_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            states[attendee_id] = row[0]
    return states
