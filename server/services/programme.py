"""Programme writes: validation across entities, then one transaction per write.

Every write bumps the global change sequence, so it shows in ``/api/changes`` and moves the
programme's ETag. Reads of the whole programme go through :mod:`server.services.feed`.
"""

from __future__ import annotations

import functools
import secrets
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec
from msgspec import UNSET

from server.errors import Conflict, Invalid, NotFound
from server.schemas.programme import Event, ProgrammeImport, Recording, Session, Speaker
from server.services import kinds, safety, translations
from server.services.kinds import EVENT_DECODER, EVENT_ID, KINDS, KindSpec
from server.storage import history, privacy
from server.storage import programme as store
from server.storage import push as push_store
from server.storage.db import Connection, Database

#: Speaker fields that an anonymous speaker must never expose.
ANONYMOUS_HIDDEN = ("organisation", "role", "country", "photo_url", "links")
_CAMEL = {"photo_url": "photoUrl", "room_id": "roomId", "track_id": "trackId", "speaker_ids": "speakerIds"}

#: For each kind, the session field that refers to it.
_REFERRING_FIELD = {"room": "roomId", "track": "trackId", "format": "format", "speaker": "speakerIds"}

OnWrite = Callable[[int], Awaitable[None]]

#: Who the history names for changes not made by a signed-in organiser.
SYSTEM = "command line"


def _camel(field: str) -> str:
    return _CAMEL.get(field, field)


def _spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise NotFound(f"unknown kind {kind!r}") from None


class ProgrammeService:
    """Creates, changes and deletes programme entities.

    Args:
        db: The database.
        on_write: Awaited with the new change sequence after every committed write.
        on_alert: Called after session change alerts were queued.
        alert_delay: Seconds during which edits of one session become one alert.
    """

    def __init__(
        self, db: Database, on_write: OnWrite, on_alert: Callable[[], None] | None = None, alert_delay: float = 60.0
    ) -> None:
        self.db = db
        self._on_write = on_write
        self._on_alert = on_alert
        self.alert_delay = alert_delay
        #: The current time (tests move it): when a queued change alert falls due.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # -- reads -------------------------------------------------------------------------------

    async def get_raw(self, kind: str, entity_id: str) -> bytes:
        """The JSON of one entity.

        Raises:
            NotFound: No such entity.
        """
        async with self.db.read() as conn:
            data = await store.get_entity(conn, kind, entity_id)
        if data is None:
            raise NotFound(f"no {kind} with id {entity_id!r}")
        return data

    async def get(self, kind: str, entity_id: str) -> Any:
        """One entity as its Struct."""
        return _spec(kind).decoder.decode(await self.get_raw(kind, entity_id))

    async def get_event(self) -> Event:
        """The event.

        Raises:
            NotFound: No event is configured yet.
        """
        async with self.db.read() as conn:
            data = await store.get_entity(conn, "event", EVENT_ID)
        if data is None:
            raise NotFound("no event is configured yet: import a programme or PUT /api/admin/event")
        return EVENT_DECODER.decode(data)

    async def translation_gaps(self) -> tuple[str, list[str], list[translations.Gap]]:
        """The event's language, the languages it offers besides, and every missing or stale translation."""
        async with self.db.snapshot() as conn:
            return await translations.all_gaps(conn)

    # -- writes ------------------------------------------------------------------------------

    async def put_event(self, event: Event, *, actor: str = SYSTEM) -> Event:
        """Create or replace the event."""
        check_event(event)
        async with self.db.write() as conn:
            stored = await store.get_entity(conn, "event", EVENT_ID)
            before = EVENT_DECODER.decode(stored) if stored is not None else None
            event = await translations.track(conn, "event", EVENT_ID, before, event)
            seq = await store.put_entity(conn, "event", EVENT_ID, kinds.encode(event))
            action = "updated" if stored is not None else "created"
            await history.record(conn, actor, action, "event", EVENT_ID, event.name)
        await self._on_write(seq)
        return event

    async def create(self, kind: str, entity: Any, *, actor: str = SYSTEM) -> Any:
        """Store a new entity; an empty ``id`` (and a session's empty ``guid``) is generated.

        Raises:
            Invalid: A reference to a missing entity, an end before a start, …
            Conflict: The id (or guid) is taken.
        """
        async with self.db.write() as conn:
            if not entity.id:
                entity = msgspec.structs.replace(entity, id=await _new_id(conn, kind, kinds.label(entity)))
            elif await store.get_entity(conn, kind, entity.id) is not None:
                raise Conflict(f"a {kind} with id {entity.id!r} already exists", field="id")
            entity = await self.validated(conn, kind, entity, explicit=explicit_fields(entity))
            entity = await translations.track(conn, kind, entity.id, None, entity)
            seq = await store.put_entity(conn, kind, entity.id, kinds.encode(entity))
            await history.record(conn, actor, "created", kind, entity.id, kinds.label(entity))
            await safety.forget_former_names(conn, entity)
        await self._on_write(seq)
        return entity

    async def update(self, kind: str, entity_id: str, patch: Any, *, actor: str = SYSTEM) -> Any:
        """Apply a partial update: fields present in ``patch`` replace the stored ones.

        Raises:
            NotFound: No such entity.
            Invalid: The result breaks a rule (see :meth:`create`).
        """
        spec = _spec(kind)
        changes = {field: value for field in patch.__struct_fields__ if (value := getattr(patch, field)) is not UNSET}
        async with self.db.write() as conn:
            stored = await store.get_entity(conn, kind, entity_id)
            if stored is None:
                raise NotFound(f"no {kind} with id {entity_id!r}")
            before = spec.decoder.decode(stored)
            entity = msgspec.structs.replace(before, **changes)
            entity = await self.validated(conn, kind, entity, explicit=set(changes))
            entity = await translations.track(conn, kind, entity_id, before, entity)
            data = kinds.encode(entity)
            if data == stored:
                return entity
            seq = await store.put_entity(conn, kind, entity_id, data)
            await history.record(conn, actor, *describe_update(kind, before, entity))
            await safety.forget_former_names(conn, entity)
            alerted = isinstance(entity, Session) and await self.queue_alerts(conn, before, entity, seq)
        await self._on_write(seq)
        if alerted and self._on_alert is not None:
            self._on_alert()
        return entity

    async def queue_alerts(self, conn: Connection, before: Session, after: Session, seq: int) -> bool:
        """Queue an alert to the devices following a session that moved, changed time or was cancelled.

        Returns:
            True when an alert was queued (then wake the push outbox after the commit).
        """
        moved = (before.start, before.end, before.room_id) != (after.start, after.end, after.room_id)
        cancelled = before.status != after.status == "cancelled"
        if not (moved or cancelled):
            return False
        subscribers = await push_store.subscriptions_alerting(conn, after.id)
        if subscribers:
            at = self.clock() + timedelta(seconds=self.alert_delay)
            await push_store.enqueue(conn, "alert", after.id, subscribers, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), seq)
        return bool(subscribers)

    async def delete(self, kind: str, entity_id: str, *, actor: str = SYSTEM) -> None:
        """Delete an entity, leaving a tombstone in the change feed.

        A speaker is also taken off every session's speaker list. A room, track or format that
        sessions still use cannot be deleted.

        Raises:
            NotFound: No such entity.
            Conflict: Sessions still use it.
        """
        spec = _spec(kind)
        async with self.db.write() as conn:
            stored = await store.get_entity(conn, kind, entity_id)
            if stored is None:
                raise NotFound(f"no {kind} with id {entity_id!r}")
            field = _REFERRING_FIELD.get(kind)
            users = await store.sessions_referencing(conn, field, entity_id) if field else []
            if users and kind == "speaker":
                for raw in users:
                    session = KINDS["session"].decoder.decode(raw)
                    remaining = [sid for sid in session.speaker_ids if sid != entity_id]
                    session = msgspec.structs.replace(session, speaker_ids=remaining)
                    await store.put_entity(conn, "session", session.id, kinds.encode(session))
            elif users:
                ids = ", ".join(sorted(KINDS["session"].decoder.decode(raw).id for raw in users)[:5])
                raise Conflict(
                    f"{len(users)} session(s) still use {kind} {entity_id!r} ({ids}); move or delete them first"
                )
            seq = await store.delete_entity(conn, kind, entity_id)
            await translations.forget(conn, kind, entity_id)
            await history.record(conn, actor, "deleted", kind, entity_id, kinds.label(spec.decoder.decode(stored)))
        assert seq is not None
        await self._on_write(seq)

    async def import_programme(self, programme: ProgrammeImport, *, actor: str = SYSTEM) -> int:
        """Write a whole programme in Kumpul's format in one transaction, in dependency order.

        Entities whose stored JSON is already identical are left alone, so re-importing the same
        file changes nothing and an updated file only moves what changed. Stored entities the file
        does not mention stay as they are (``kumpul import`` and the console go through
        :class:`server.services.importer.ImportService`, which also handles missing sessions).

        Returns:
            How many entities were written.

        Raises:
            Invalid: An entity without an id, or one that breaks a rule; nothing is written.
        """
        # The importer builds on this service, so it is imported here rather than at the top.
        from server.services.importer import ImportService, entities_written

        report = await ImportService(self).import_programme(programme, actor=actor)
        return entities_written(report)

    async def committed(self, seq: int, *, alerted: bool = False) -> None:
        """Tell the listeners about a committed write (and the push outbox about queued alerts)."""
        await self._on_write(seq)
        if alerted and self._on_alert is not None:
            self._on_alert()

    # -- anonymity and recording policies: the history, and loosening on purpose --------------

    async def forget_former_names(self) -> None:
        """Rewrite history entries that still name an anonymous speaker otherwise (kept by older versions)."""
        async with self.db.write() as conn:
            await safety.forget_every_former_name(conn)

    async def reveal_speaker(self, speaker_id: str, *, actor: str = SYSTEM) -> Speaker:
        """Make an anonymous speaker public: an admin's decision, never a side effect of another write.

        The speaker keeps their pseudonym as their name until an editor changes it; the history notes
        the reveal under the pseudonym, and its earlier entries keep naming them by it.

        Raises:
            NotFound: No such speaker.
        """
        async with self.db.write() as conn:
            stored = await store.get_entity(conn, "speaker", speaker_id)
            if stored is None:
                raise NotFound(f"no speaker with id {speaker_id!r}")
            before: Speaker = KINDS["speaker"].decoder.decode(stored)
            await privacy.lower_floor(conn, "speaker", speaker_id, 0)
            if not before.anonymous:
                return before
            speaker = msgspec.structs.replace(before, anonymous=False)
            seq = await store.put_entity(conn, "speaker", speaker_id, kinds.encode(speaker))
            await history.record(conn, actor, "revealed", "speaker", speaker_id, speaker.name)
        await self._on_write(seq)
        return speaker

    async def set_recording(self, session_id: str, recording: Recording, *, actor: str = SYSTEM) -> Session:
        """Set a session's recording policy, less strict too: an admin's decision, never a side effect.

        Raises:
            NotFound: No such session.
        """
        async with self.db.write() as conn:
            stored = await store.get_entity(conn, "session", session_id)
            if stored is None:
                raise NotFound(f"no session with id {session_id!r}")
            before: Session = KINDS["session"].decoder.decode(stored)
            await privacy.lower_floor(conn, "session", session_id, safety.RECORDING_LEVEL[recording])
            if before.recording == recording:
                return before
            session = msgspec.structs.replace(before, recording=recording)
            seq = await store.put_entity(conn, "session", session_id, kinds.encode(session))
            summary = f"{kinds.label(session)}: recording {before.recording} -> {recording}"
            await history.record(conn, actor, "recording-changed", "session", session_id, summary)
        await self._on_write(seq)
        return session

    # -- rules -------------------------------------------------------------------------------

    async def validated(
        self,
        conn: Connection,
        kind: str,
        entity: Any,
        *,
        explicit: set[str],
        references: References | None = None,
    ) -> Any:
        """``entity`` as it may be stored: never less private than before, anonymous speakers stripped, sessions
        checked against the store.

        Args:
            conn: The write connection, so references written earlier in the transaction count.
            kind: The entity's kind.
            entity: The entity.
            explicit: Fields the sender set; setting a hidden field on an anonymous speaker is refused.
            references: Where a session's references and guid are looked up; by default the database
                on ``conn``. An import of thousands of sessions passes an index it keeps in memory.

        Raises:
            Invalid: A broken rule (see :meth:`create`).
            Conflict: A session's guid belongs to another session.
            Loosening: An anonymous speaker made public, or a recording policy made less strict.
        """
        references = references or StoredReferences(conn)
        if isinstance(entity, Speaker | Session):
            safety.refuse_loosening(entity, await references.floor(kind, entity.id))
        if isinstance(entity, Speaker):
            return _anonymised(entity, explicit)
        if isinstance(entity, Session):
            return await _checked_session(references, entity)
        return entity


def describe_update(kind: str, before: Any, after: Any) -> tuple[str, str, str, str]:
    """``(action, kind, id, summary)`` of an update for the history: which fields changed."""
    changed = [_camel(f) for f in before.__struct_fields__ if _shown(f, before) != _shown(f, after)]
    cancelled = isinstance(after, Session) and before.status != after.status == "cancelled"
    action = "cancelled" if cancelled else "updated"
    return action, kind, after.id, f"{kinds.label(after)}: {', '.join(changed)}"


def _shown(field: str, entity: Any) -> Any:
    """A field as the history compares it: translations without their ``stale`` lists, which no one edits."""
    value = getattr(entity, field)
    return translations.texts(value) if field == "translations" else value


def explicit_fields(entity: msgspec.Struct) -> set[str]:
    """Fields of a new entity that differ from their defaults, i.e. that the sender set."""
    defaults = type(entity)(**{f: getattr(entity, f) for f in _required_fields(type(entity))})
    return {f for f in entity.__struct_fields__ if getattr(entity, f) != getattr(defaults, f)}


@functools.cache
def _required_fields(kind: type[msgspec.Struct]) -> tuple[str, ...]:
    """The required fields of a Struct type, inspected once per type: an import asks for every entity, and the
    inspection was 60 % of a 1,000-session import's time inside its write transaction."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple(field.name for field in info.fields if field.required)


def _anonymised(speaker: Speaker, explicit: set[str]) -> Speaker:
    """An anonymous speaker keeps only pseudonym, pronouns and bio.

    Setting a hidden field on an anonymous speaker is refused; hidden fields stored from before the
    speaker became anonymous are erased, so they cannot leak later.
    """
    if not speaker.anonymous:
        return speaker
    for field in ANONYMOUS_HIDDEN:
        if field in explicit and getattr(speaker, field):
            raise Invalid(
                f"an anonymous speaker has no {_camel(field)}: only name (a pseudonym), pronouns and bio are kept",
                field=_camel(field),
            )
    if "translations" in explicit and any(text.role for text in speaker.translations.values()):
        raise Invalid(
            "translations: an anonymous speaker has no role in any language; only name (a pseudonym), pronouns"
            " and bio are kept",
            field="translations",
        )
    translations = {lang: msgspec.structs.replace(text, role="") for lang, text in speaker.translations.items()}
    return msgspec.structs.replace(
        speaker, organisation="", role="", country="", photo_url=None, links=[], translations=translations
    )


class References(Protocol):
    """What session checks ask about other entities: the database, or an import's view of it."""

    async def exists(self, kind: str, entity_id: str) -> bool:
        """Whether an entity of ``kind`` has ``entity_id``."""
        ...

    async def guid_owner(self, guid: str) -> str | None:
        """The id of the session that holds ``guid``, if any."""
        ...

    async def floor(self, kind: str, entity_id: str) -> int:
        """How private the speaker or session ``entity_id`` must stay (:mod:`server.storage.privacy`)."""
        ...


class StoredReferences:
    """:class:`References` answered by the database, on the given connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def exists(self, kind: str, entity_id: str) -> bool:
        return await store.get_entity(self.conn, kind, entity_id) is not None

    async def guid_owner(self, guid: str) -> str | None:
        return await store.guid_owner(self.conn, guid)

    async def floor(self, kind: str, entity_id: str) -> int:
        return await privacy.floor(self.conn, kind, entity_id)


async def _checked_session(references: References, session: Session) -> Session:
    if session.end <= session.start:
        raise Invalid(f"end ({session.end.isoformat()}) must be after start ({session.start.isoformat()})", field="end")
    refs = [("room", session.room_id, "roomId"), ("format", session.format, "format")]
    if session.track_id is not None:
        refs.append(("track", session.track_id, "trackId"))
    refs += [("speaker", sid, f"speakerIds[{i}]") for i, sid in enumerate(session.speaker_ids)]
    for kind, ref, field in refs:
        if not await references.exists(kind, ref):
            raise Invalid(f"{field}: there is no {kind} with id {ref!r}", field=field)
    if len(set(session.speaker_ids)) != len(session.speaker_ids):
        raise Invalid("speakerIds lists a speaker twice", field="speakerIds")
    if not session.guid:
        session = msgspec.structs.replace(session, guid=str(uuid.uuid4()))
    owner = await references.guid_owner(session.guid)
    if owner is not None and owner != session.id:
        raise Conflict(f"the guid {session.guid!r} belongs to session {owner!r}", field="guid")
    return session


def check_event(event: Event) -> None:
    try:
        zoneinfo.ZoneInfo(event.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"timeZone: {event.time_zone!r} is not an IANA time zone such as 'Asia/Makassar'", field="timeZone"
        ) from None
    if event.end_date < event.start_date:
        raise Invalid("endDate must not be before startDate", field="endDate")


async def _new_id(conn: Connection, kind: str, text: str) -> str:
    """A free id for a new entity: a slug of its name, except for speakers.

    A speaker's id is random: it stays when they become anonymous, so it must not spell their name.
    """
    if kind == "speaker":
        while True:
            candidate = f"spk-{secrets.token_hex(4)}"
            if await store.get_entity(conn, kind, candidate) is None:
                return candidate
    base = kinds.slug(text) or kind
    candidate = base
    while await store.get_entity(conn, kind, candidate) is not None:
        candidate = f"{base}-{kinds.random_suffix()}"
    return candidate
