"""Announcements: stored once, then published to the feed (and SSE) and queued for Web Push.

A scheduled announcement waits in the ``announcements`` table until its send time; publishing puts
it into the programme feed and queues one push message per matching subscription, in the same
transaction. Corrections replace the message on devices; retraction leaves a tombstone. Each of
these is noted in the change history (who, what, when) in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET

from server.errors import Invalid, NotFound
from server.push.payloads import translation_for
from server.schemas.announcements import (
    Announcement,
    AnnouncementCreate,
    AnnouncementRecord,
    AnnouncementTranslation,
    AnnouncementUpdate,
    Delivery,
    LanguageDelivery,
)
from server.services.live import raise_if_cancelled
from server.services.programme import SYSTEM
from server.storage import announcements as store
from server.storage import history
from server.storage import programme as programme_store
from server.storage import push as push_store
from server.storage.announcements import AnnouncementRow
from server.storage.db import Connection, Database, transient
from sync import bookmarked

log = logging.getLogger(__name__)

_record_decoder = msgspec.json.Decoder(AnnouncementRecord)
_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()
OnWrite = Callable[[int], Awaitable[None]]
Wake = Callable[[], None]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _log_published(published: list[str]) -> None:
    for what in published:
        log.info("published announcement %s", what)


def _tally(states: dict[str, int]) -> dict[str, int]:
    """Delivery counts from the outbox states of a fan-out (cancelled messages were never meant to go)."""
    return {
        "targeted": sum(states.values()) - states.get("cancelled", 0),
        "sent": states.get("sent", 0),
        "failed": states.get("failed", 0),
        "gone": states.get("gone", 0),
        "pending": states.get("pending", 0) + states.get("sending", 0),
    }


def _public(record: AnnouncementRecord) -> Announcement:
    fields = {name: getattr(record, name) for name in Announcement.__struct_fields__}
    return Announcement(**fields)


def _row(record: AnnouncementRecord) -> AnnouncementRow:
    return AnnouncementRow(
        id=record.id,
        data=_encoder.encode(record),
        state=record.state,
        send_at=iso(record.send_at),
        expires_at=iso(record.expires_at) if record.expires_at else None,
        version=record.version,
        created_by=record.created_by,
    )


class AnnouncementService:
    """Creates, corrects, retracts and publishes announcements.

    Args:
        db: The database.
        on_write: Awaited with the change sequence after a write to the programme feed.
        wake_outbox: Called after messages were queued.
    """

    def __init__(self, db: Database, on_write: OnWrite, wake_outbox: Wake) -> None:
        self.db = db
        self._on_write = on_write
        self._wake_outbox = wake_outbox
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def create(self, data: AnnouncementCreate, author: str) -> AnnouncementRecord:
        """Store an announcement; publish it now unless ``sendAt`` is in the future.

        Raises:
            Invalid: A session audience without a session, an unknown session, an expiry before sending.
        """
        now = datetime.now(UTC)
        send_at = data.send_at or now
        if data.audience == "session" and data.session_id is None:
            raise Invalid("audience 'session' needs the sessionId whose attendees to reach", field="sessionId")
        if data.expires_at is not None and data.expires_at <= max(send_at, now):
            raise Invalid("expiresAt must be after the time the announcement is sent", field="expiresAt")
        record = AnnouncementRecord(
            id=f"ann-{secrets.token_hex(6)}",
            title=data.title,
            body=data.body,
            priority=data.priority,
            audience=data.audience,
            session_id=data.session_id,
            published_at=send_at,
            updated_at=now,
            expires_at=data.expires_at,
            state="scheduled",
            send_at=send_at,
            version=1,
            created_by=author,
            translations=dict(data.translations),
        )
        seq = 0
        published: list[str] = []
        async with self.db.write() as conn:
            await self._check_session(conn, data.session_id)
            await self._check_languages(conn, data.translations)
            await store.insert(conn, _row(record))
            if send_at <= now and (made := await self._publish(conn, record, now, published)):
                record, seq = made
            summary = record.title if send_at <= now else f"{record.title} (to be sent at {iso(send_at)})"
            await history.record(conn, author, "announced", "announcement", record.id, summary)
        _log_published(published)
        await self._after_write(seq)
        self._wake.set()
        return record

    async def update(
        self, announcement_id: str, patch: AnnouncementUpdate, *, actor: str = SYSTEM
    ) -> AnnouncementRecord:
        """Correct an announcement; devices that got it get the correction under the same topic.

        ``actor`` names who corrected it, for the history.

        Raises:
            NotFound: No such announcement, or it was retracted.
            Invalid: A new send time for an announcement already sent, or an expiry before sending.
        """
        now = datetime.now(UTC)
        seq = 0
        async with self.db.write() as conn:
            record = await self._get(conn, announcement_id)
            if record.state in ("retracted", "expired"):
                raise NotFound(f"announcement {announcement_id!r} was {record.state}")
            changes = {f: v for f in patch.__struct_fields__ if (v := getattr(patch, f)) is not UNSET}
            if "translations" in changes:
                await self._check_languages(conn, changes["translations"])
            if "send_at" in changes and record.state != "scheduled":
                raise Invalid("sendAt can only change before the announcement is sent", field="sendAt")
            record = msgspec.structs.replace(record, **changes, updated_at=now, version=record.version + 1)
            if "send_at" in changes:
                record = msgspec.structs.replace(record, published_at=record.send_at)
            if record.expires_at is not None and record.expires_at <= max(record.send_at, now):
                raise Invalid("expiresAt must be after the time the announcement is sent", field="expiresAt")
            await store.update(conn, _row(record))
            await history.record(conn, actor, "corrected", "announcement", record.id, record.title)
            if record.state == "published":
                seq = await programme_store.put_entity(
                    conn, "announcement", record.id, _encoder.encode(_public(record))
                )
                await push_store.requeue_delivered(conn, "announcement", record.id, iso(now), record.version)
        await self._after_write(seq)
        self._wake.set()
        return record

    async def retract(self, announcement_id: str, *, actor: str = SYSTEM) -> None:
        """Withdraw an announcement: it leaves the feed and unsent pushes are cancelled.

        ``actor`` names who retracted it, for the history.

        Raises:
            NotFound: No such announcement, or it was already retracted.
        """
        seq: int | None = 0
        async with self.db.write() as conn:
            record = await self._get(conn, announcement_id)
            if record.state == "retracted":
                raise NotFound(f"announcement {announcement_id!r} was already retracted")
            record = msgspec.structs.replace(record, state="retracted", updated_at=datetime.now(UTC))
            await store.update(conn, _row(record))
            seq = await programme_store.delete_entity(conn, "announcement", announcement_id)
            await push_store.cancel(conn, "announcement", announcement_id)
            await history.record(conn, actor, "retracted", "announcement", announcement_id, record.title)
        await self._after_write(seq or 0)

    async def get(self, announcement_id: str) -> AnnouncementRecord:
        async with self.db.read() as conn:
            return await self._get(conn, announcement_id)

    async def list_all(self) -> list[AnnouncementRecord]:
        async with self.db.read() as conn:
            return [_record_decoder.decode(row.data) for row in await store.list_all(conn)]

    async def delivery(self, announcement_id: str) -> Delivery:
        """Counts of the push fan-out, live while it runs, in all and by the language of the text sent."""
        async with self.db.read() as conn:
            record = await self._get(conn, announcement_id)
            rows = await push_store.counts_by_language(conn, "announcement", announcement_id)
            main = await self._main_language(conn)
        counts: dict[str, int] = {}
        by_language: dict[str, dict[str, int]] = {}
        for lang, state, count in rows:
            shown = translation_for(lang, record.translations) or main
            counts[state] = counts.get(state, 0) + count
            language = by_language.setdefault(shown, {})
            language[state] = language.get(state, 0) + count
        languages = [
            LanguageDelivery(language=lang, **_tally(states))
            for lang, states in sorted(by_language.items(), key=lambda item: (item[0] != main, item[0]))
        ]
        return Delivery(**_tally(counts), languages=[entry for entry in languages if entry.targeted])

    # -- scheduling -------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._schedule(), name="kumpul-announcement-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_due(self, now: datetime | None = None) -> int:
        """Publish scheduled announcements whose time has come and expire old ones."""
        now = now or datetime.now(UTC)
        seq = 0
        done = 0
        published: list[str] = []
        async with self.db.write() as conn:
            for row in await store.due_to_publish(conn, iso(now)):
                if made := await self._publish(conn, _record_decoder.decode(row.data), now, published):
                    seq = made[1]
                    done += 1
            for row in await store.due_to_expire(conn, iso(now)):
                record = msgspec.structs.replace(_record_decoder.decode(row.data), state="expired")
                await store.update(conn, _row(record))
                seq = await programme_store.delete_entity(conn, "announcement", record.id) or seq
                await push_store.cancel(conn, "announcement", record.id)
                done += 1
        _log_published(published)
        await self._after_write(seq)
        return done

    async def _schedule(self) -> None:
        failures = 0
        while True:
            try:
                await self.run_due()
                async with self.db.read() as conn:
                    next_due = await store.next_due(conn)
                failures = 0
            except Exception as error:
                failures += 1
                if transient(error):
                    log.warning("the announcement scheduler could not write (%s); retrying", error)
                else:
                    log.exception("the announcement scheduler failed a round")
                next_due = None
            # After a failed round (a full disk, a busy database) try again soon, then less and less often.
            wait = min(30.0, 0.5 * 2**failures) if failures else 30.0
            if next_due:
                wait = min(wait, max(0.05, (datetime.fromisoformat(next_due) - datetime.now(UTC)).total_seconds()))
            raise_if_cancelled()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    # -- inside a write transaction ---------------------------------------------------------

    async def _publish(
        self, conn: Connection, record: AnnouncementRecord, now: datetime, published: list[str]
    ) -> tuple[AnnouncementRecord, int] | None:
        """Publish ``record`` in the open transaction, with its feed sequence; what to log once it commits goes to
        ``published``. None when it is no longer scheduled: it is published (and its pushes queued) only once."""
        record = msgspec.structs.replace(record, state="published", published_at=min(record.send_at, now))
        if not await store.publish(conn, _row(record)):
            return None
        seq = await programme_store.put_entity(conn, "announcement", record.id, _encoder.encode(_public(record)))
        targets = await self._audience(conn, record)
        await push_store.enqueue(conn, "announcement", record.id, targets, iso(now), record.version)
        published.append(f"{record.id} to {len(targets)} push subscriptions")
        return record, seq

    async def _audience(self, conn: Connection, record: AnnouncementRecord) -> list[int]:
        if record.audience in ("onsite", "online"):
            return [sid for sid, _ in await push_store.subscriptions_for(conn, record.audience)]
        everyone = await push_store.subscriptions_for(conn, None)
        if record.audience == "everyone":
            return [sid for sid, _ in everyone]
        attendees = {attendee for _, attendee in everyone if attendee}
        profiles = await push_store.profile_states(conn, sorted(attendees))
        interested = {a for a, state in profiles.items() if record.session_id in bookmarked(state)}
        return [sid for sid, attendee in everyone if attendee in interested]

    async def _main_language(self, conn: Connection) -> str:
        raw = await programme_store.get_entity(conn, "event", "event")
        return str(_decoder.decode(raw).get("language") or "en") if raw else "en"

    async def _check_languages(self, conn: Connection, translations: dict[str, AnnouncementTranslation]) -> None:
        """Translations only in the event's other languages (its ``languages``, but not its main one)."""
        if not translations:
            return
        raw = await programme_store.get_entity(conn, "event", "event")
        event = _decoder.decode(raw) if raw else {}
        main = str(event.get("language") or "en")
        offered = [lang for lang in event.get("languages") or [] if lang != main]
        for lang in translations:
            if lang == main:
                raise Invalid(
                    f"translations: {lang!r} is the event's main language; its text goes in title and body",
                    field=f"translations.{lang}",
                )
            if lang not in offered:
                others = ", ".join(offered) if offered else "none besides its main language"
                raise Invalid(
                    f"translations: {lang!r} is not one of the event's languages (offered: {others})",
                    field=f"translations.{lang}",
                )

    async def _check_session(self, conn: Connection, session_id: str | None) -> None:
        if session_id is not None and await programme_store.get_entity(conn, "session", session_id) is None:
            raise Invalid(f"sessionId: there is no session with id {session_id!r}", field="sessionId")

    async def _get(self, conn: Connection, announcement_id: str) -> AnnouncementRecord:
        row = await store.get(conn, announcement_id)
        if row is None:
            raise NotFound(f"no announcement with id {announcement_id!r}")
        return _record_decoder.decode(row.data)

    async def _after_write(self, seq: int) -> None:
        if seq:
            await self._on_write(seq)
        self._wake_outbox()
