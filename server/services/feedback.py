"""Session feedback: attendees rate sessions that have started; organisers see counts, means and comments.

An attendee's feedback is stored under a keyed hash of their id (``rater``): one per attendee per session,
replaced when they send again, found again when they erase their data, and never shown to organisers, whose
views carry no attendee and no time (a time could be matched with the door or the network logs).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from server.errors import Conflict, NotFound
from server.schemas.feedback import (
    FeedbackComment,
    FeedbackIn,
    FeedbackSummary,
    MyFeedback,
    SessionFeedback,
)
from server.services.ratelimit import Limit, RateLimiter
from server.storage import feedback as store
from server.storage import programme as programme_store
from server.storage.attendees import AttendeeRow
from server.storage.db import Connection, Database

#: Rating every session of a long day at once, from a queue sent when the phone is back online, fits the burst.
FEEDBACK_LIMIT = Limit("feedback from one attendee", per_minute=20, burst=60)
#: A whole venue behind one address rating the session that just ended.
FEEDBACK_BY_ADDRESS = Limit("feedback from one address", per_minute=600, burst=2000)
#: Cells a spreadsheet would run as a formula (and the tab and carriage return that hide one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _SessionFacts(msgspec.Struct):
    title: str = ""
    start: str = ""
    status: str = "scheduled"
    recording: str = "public"


_facts = msgspec.json.Decoder(_SessionFacts)


def rater_of(key: bytes, attendee_id: str) -> bytes:
    """The keyed hash feedback is stored under: the same attendee gives the same value, and it names nobody."""
    return hmac.new(key, attendee_id.encode(), hashlib.sha256).digest()


async def forget_attendee(conn: Connection, attendee_id: str) -> int:
    """Delete an attendee's feedback inside the erasing transaction; how many ratings went."""
    return await store.delete_rater(conn, rater_of(await store.rater_key(conn), attendee_id))


async def unlink_raters(conn: Connection) -> None:
    """A new key for the raters' hashes: ratings stay for the organisers, tied to no attendee that was."""
    await store.new_rater_key(conn, secrets.token_bytes(32))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it and never runs it: a leading ``= + - @`` gets a quote before it."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _summary(session_id: str, facts: _SessionFacts | None, counts: tuple[int, ...], comments: int) -> FeedbackSummary:
    total = sum(counts)
    mean = round(sum(rating * n for rating, n in zip(range(1, 6), counts, strict=True)) / total, 2) if total else None
    return FeedbackSummary(
        session_id=session_id,
        title=facts.title if facts else "",
        start=facts.start if facts else "",
        count=total,
        mean=mean,
        distribution=list(counts),
        comments=comments,
        off_the_record=facts is not None and facts.recording == "off-the-record",
        cancelled=facts is not None and facts.status == "cancelled",
    )


class FeedbackService:
    """Takes attendees' ratings and answers organisers' questions about them.

    Args:
        now: The current time (tests move it).
    """

    def __init__(self, db: Database, limiter: RateLimiter, now: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.limiter = limiter
        self.now = now or (lambda: datetime.now(UTC))

    async def give(self, attendee: AttendeeRow, session_id: str, data: FeedbackIn, address: str) -> MyFeedback:
        """Rate a session that has started (and is not cancelled), replacing this attendee's earlier rating.

        Raises:
            NotFound: No such session.
            Conflict: The session was cancelled, or has not started yet.
            TooManyRequests: Over a rate limit.
        """
        await self.limiter.hit(FEEDBACK_LIMIT, attendee.id, (FEEDBACK_BY_ADDRESS, address))
        now = self.now()
        comment = data.comment.strip()
        async with self.db.write() as conn:
            raw = await programme_store.get_entity(conn, "session", session_id)
            if raw is None:
                raise NotFound(f"no session {session_id!r}")
            facts = _facts.decode(raw)
            if facts.status == "cancelled":
                raise Conflict("this session was cancelled, so it takes no feedback")
            if datetime.fromisoformat(facts.start) > now:
                raise Conflict(f"this session has not started yet: feedback opens when it starts ({facts.start})")
            rater = rater_of(await store.rater_key(conn), attendee.id)
            written = _iso(now)
            await store.upsert(conn, rater, store.FeedbackRow(session_id, data.rating, comment, written))
        return MyFeedback(session_id, data.rating, comment, datetime.fromisoformat(written))

    async def withdraw(self, attendee: AttendeeRow, session_id: str) -> None:
        """Take back this attendee's feedback on a session.

        Raises:
            NotFound: They gave none.
        """
        async with self.db.write() as conn:
            if not await store.delete(conn, rater_of(await store.rater_key(conn), attendee.id), session_id):
                raise NotFound(f"no feedback of yours on session {session_id!r}")

    async def mine(self, attendee: AttendeeRow) -> list[MyFeedback]:
        """Everything this attendee gave, newest first (a new device of theirs shows it again)."""
        async with self.db.read() as conn:
            rows = await store.of_rater(conn, rater_of(await store.rater_key(conn), attendee.id))
        return [MyFeedback(r.session_id, r.rating, r.comment, datetime.fromisoformat(r.updated_at)) for r in rows]

    async def summaries(self) -> list[FeedbackSummary]:
        """Every session (and any removed one that was rated), in programme order, with its ratings counted."""
        async with self.db.read() as conn:
            tallies = {tally.session_id: tally for tally in await store.tallies(conn)}
            sessions = await programme_store.list_entities(conn, "session")
        found: list[FeedbackSummary] = []
        for raw in sessions:
            session_id = msgspec.json.decode(raw, type=dict[str, object]).get("id")
            if not isinstance(session_id, str):
                continue
            tally = tallies.pop(session_id, None)
            found.append(
                _summary(
                    session_id, _facts.decode(raw), tally.counts if tally else (0,) * 5, tally.comments if tally else 0
                )
            )
        found.sort(key=lambda item: (item.start, item.title))
        found += [_summary(gone.session_id, None, gone.counts, gone.comments) for gone in tallies.values()]
        return found

    async def of_session(self, session_id: str) -> SessionFeedback:
        """One session's summary and comments, newest first.

        Raises:
            NotFound: No such session, and no feedback on one of that id.
        """
        async with self.db.read() as conn:
            raw = await programme_store.get_entity(conn, "session", session_id)
            rows = await store.of_session(conn, session_id)
        if raw is None and not rows:
            raise NotFound(f"no session {session_id!r}")
        counts = [0] * 5
        for row in rows:
            counts[row.rating - 1] += 1
        comments = [FeedbackComment(row.rating, row.comment) for row in rows if row.comment]
        summary = _summary(session_id, _facts.decode(raw) if raw else None, tuple(counts), len(comments))
        return SessionFeedback(summary, comments)

    async def csv(self) -> str:
        """Every rating as a CSV row (session, title, start, rating, comment), safe to open in a spreadsheet."""
        async with self.db.read() as conn:
            rows = await store.every_row(conn)
            facts = {
                session_id: _facts.decode(raw)
                for session_id in {row.session_id for row in rows}
                if (raw := await programme_store.get_entity(conn, "session", session_id)) is not None
            }
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["session_id", "title", "start", "off_the_record", "rating", "comment"])
        ordered = sorted(rows, key=lambda row: facts[row.session_id].start if row.session_id in facts else "~")
        for row in ordered:
            fact = facts.get(row.session_id)
            writer.writerow(
                [
                    spreadsheet_safe(row.session_id),
                    spreadsheet_safe(fact.title if fact else ""),
                    fact.start if fact else "",
                    "yes" if fact and fact.recording == "off-the-record" else "no",
                    row.rating,
                    spreadsheet_safe(row.comment),
                ]
            )
        return out.getvalue()
