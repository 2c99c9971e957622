"""Attendees' ratings and comments on sessions, keyed by a hash of the attendee that names nobody."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    session_id: str
    rating: int
    comment: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Tally:
    """One session's ratings: how many of each, 1 to 5, and how many came with a comment."""

    session_id: str
    counts: tuple[int, int, int, int, int]
    comments: int


async def rater_key(conn: Connection) -> bytes:
    """The secret the raters' hashes are made with (the migration creates it)."""
    async with conn.execute("SELECT secret FROM feedback_key WHERE id = 1") as cur:
        row = await cur.fetchone()
    assert row is not None, "migration 0015 creates the feedback key"
    return bytes(row[0])


async def upsert(conn: Connection, rater: bytes, row: FeedbackRow) -> None:
    """Store ``row`` as this rater's feedback on its session, replacing what they gave before."""
    await conn.execute(
        "INSERT INTO session_feedback (session_id, rater, rating, comment, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (session_id, rater) DO UPDATE SET rating = excluded.rating, comment = excluded.comment,"
        " updated_at = excluded.updated_at",
        (row.session_id, rater, row.rating, row.comment, row.updated_at),
    )


async def delete(conn: Connection, rater: bytes, session_id: str) -> bool:
    """Withdraw this rater's feedback on one session; False when there was none."""
    cur = await conn.execute("DELETE FROM session_feedback WHERE session_id = ? AND rater = ?", (session_id, rater))
    return cur.rowcount > 0


async def delete_rater(conn: Connection, rater: bytes) -> int:
    """Delete everything this rater gave; how many rows went."""
    cur = await conn.execute("DELETE FROM session_feedback WHERE rater = ?", (rater,))
    return cur.rowcount


async def of_rater(conn: Connection, rater: bytes) -> list[FeedbackRow]:
    """This rater's feedback, newest first."""
    async with conn.execute(
        "SELECT session_id, rating, comment, updated_at FROM session_feedback WHERE rater = ?"
        " ORDER BY updated_at DESC, session_id",
        (rater,),
    ) as cur:
        return [FeedbackRow(*row) for row in await cur.fetchall()]


async def of_session(conn: Connection, session_id: str) -> list[FeedbackRow]:
    """Every rating of one session, newest first."""
    async with conn.execute(
        "SELECT session_id, rating, comment, updated_at FROM session_feedback WHERE session_id = ?"
        " ORDER BY updated_at DESC",
        (session_id,),
    ) as cur:
        return [FeedbackRow(*row) for row in await cur.fetchall()]


async def every_row(conn: Connection) -> list[FeedbackRow]:
    """All feedback, by session, newest first within each."""
    async with conn.execute(
        "SELECT session_id, rating, comment, updated_at FROM session_feedback ORDER BY session_id, updated_at DESC"
    ) as cur:
        return [FeedbackRow(*row) for row in await cur.fetchall()]


async def tallies(conn: Connection) -> list[Tally]:
    """Each rated session's count of every rating and of comments."""
    async with conn.execute(
        "SELECT session_id,"
        " sum(CASE WHEN rating = 1 THEN 1 ELSE 0 END), sum(CASE WHEN rating = 2 THEN 1 ELSE 0 END),"
        " sum(CASE WHEN rating = 3 THEN 1 ELSE 0 END), sum(CASE WHEN rating = 4 THEN 1 ELSE 0 END),"
        " sum(CASE WHEN rating = 5 THEN 1 ELSE 0 END), sum(CASE WHEN comment <> '' THEN 1 ELSE 0 END)"
        " FROM session_feedback GROUP BY session_id ORDER BY session_id"
    ) as cur:
        return [Tally(row[0], (row[1], row[2], row[3], row[4], row[5]), row[6]) for row in await cur.fetchall()]


async def count(conn: Connection) -> int:
    async with conn.execute("SELECT count(*) FROM session_feedback") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def new_rater_key(conn: Connection, secret: bytes) -> None:
    """Replace the raters' key: feedback already given can no longer be tied to anyone, not even to erase it."""
    await conn.execute("UPDATE feedback_key SET secret = ? WHERE id = 1", (secret,))
