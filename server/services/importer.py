"""Programme imports: a file's programme compared with what is stored, then written in one transaction.

What an import does, kind by kind:

- Entities are matched to stored ones so that re-importing the same file changes nothing and an
  updated file changes entities in place: sessions by guid, rooms, tracks and formats by name,
  speakers by the id their source gives them (pretalx code, guid or frab id), else by name among
  the speakers of the same session.
- From a frab or C3VOC file only the fields those formats carry are taken; a stored entity keeps
  the rest (venue, accessibility, translations, stream links, pronouns, …). An anonymous speaker
  stays exactly as stored when the file gives their pseudonym; a file that names them otherwise is
  refused. A session stored as off the record stays so when the file opts it out of recording; one
  whose languages include the file's single language keeps its list. A stored event keeps its acronym.
- No file reveals an anonymous speaker or makes a recording policy less strict (in any format, and
  for speakers and sessions deleted since): a dry run lists such entries as ``refused``, a real
  import refuses the whole file (409 naming their ids) and writes nothing.
- Sessions the file does not mention are cancelled (``missing="cancel"``) or deleted
  (``missing="delete"``); with ``delete`` also every stored speaker, room, track and format that
  the file does not mention and no remaining session uses. Nothing else is ever removed.
- Every write goes through the change feed and the history, and attendees see all of an import or
  none of it. The import is worked out from a snapshot without holding the write lock (matching,
  merging, validation, history lines), then published in one short write transaction that writes
  it all with a statement per table. If an organiser changed an entity the import also writes in
  the meantime, the import is merged again onto what they stored, inside that transaction; any
  other change that could alter the outcome (a new or deleted entity, a renamed one, a privacy
  floor) makes the import start over from a new snapshot, and after a few tries it is worked out
  inside the write transaction, as one long transaction. A dry run works the import out the same
  way and publishes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.errors import Invalid, KumpulError
from server.interchange.detect import Parsed, parse
from server.interchange.frab_common import DEFAULT_COLOUR
from server.interchange.timetable import acronym, derived_uuid
from server.schemas.imports import ImportItem, ImportKind, ImportKindName, ImportRefusal, ImportReport, MissingPolicy
from server.schemas.programme import ProgrammeImport, Room, Session
from server.services import kinds, translations
from server.services.kinds import EVENT_DECODER, EVENT_ID, KINDS
from server.services.programme import (
    SYSTEM,
    ProgrammeService,
    check_event,
    describe_update,
    explicit_fields,
)
from server.services.safety import Loosening, forget_former_names, reveal_refused
from server.storage import history, privacy
from server.storage import programme as store
from server.storage import translations as translation_store
from server.storage.db import Connection

#: Called with (done, total) as the import goes along; for a progress bar.
Progress = Callable[[int, int], None]

log = logging.getLogger(__name__)

#: Snapshots an import is worked out from before it is worked out inside the write transaction instead.
ATTEMPTS = 3
#: Concurrent changes an import merges itself onto at publication; more and it starts over.
MAX_REBASED = 200

_ORDER: tuple[ImportKindName, ...] = ("event", "room", "track", "format", "speaker", "session")
#: Kinds deleted with ``missing="delete"`` once no session uses them, in a safe order.
_DEPENDENTS = ("speaker", "format", "track", "room")


@dataclass(slots=True)
class _Stored:
    """Every stored entity, as JSON and decoded, by kind and id."""

    raw: dict[str, dict[str, bytes]]
    decoded: dict[str, dict[str, Any]]
    #: How private each speaker and session must stay, by ``(kind, id)``, deleted ones included.
    floors: dict[tuple[str, str], int] = field(default_factory=dict)
    #: The change sequence the entities were read at.
    seq: int = 0
    #: Every translated entity's recorded translation sources, by ``(kind, id)``.
    sources: dict[tuple[str, str], translation_store.Sources] = field(default_factory=dict)


@dataclass(slots=True)
class _Outcome:
    kinds: dict[str, ImportKind] = field(default_factory=lambda: {kind: ImportKind(kind=kind) for kind in _ORDER})
    last_seq: int = 0
    alerted: bool = False
    #: The file's entries that would loosen anonymity or a recording policy, with where they are.
    refusals: list[tuple[str, Loosening]] = field(default_factory=list)

    def note(self, kind: str, bucket: str, entity_id: str, label: str) -> None:
        getattr(self.kinds[kind], bucket).append(ImportItem(id=entity_id, label=label))

    def refuse(self, kind: str, where: str, label: str, error: Loosening) -> None:
        self.kinds[kind].refused.append(ImportRefusal(id=error.entity_id, label=label, reason=error.detail))
        self.refusals.append((where, error))

    def count(self) -> int:
        return sum(len(k.added) + len(k.changed) + len(k.removed) for k in self.kinds.values())


@dataclass(slots=True)
class _Planned:
    """One entity the import writes: what it stores (None: deletes it), from what, and why."""

    kind: str
    entity_id: str
    before: Any
    entity: Any
    #: The file's entry it came from (None for a cancellation or deletion of a session the file lacks).
    item: Any
    data: bytes | None
    #: The history's line about it; None when, merged onto a concurrent edit, it no longer changes anything.
    history: tuple[str, str, str, str] | None
    #: The entry's position in the file, for error messages.
    where: str = ""
    #: The translation sources to record for it (``{}``: forget them); None leaves them as they are.
    sources: translation_store.Sources | None = None


class _Index:
    """The ids and session guids as the transaction has them, so checks need no query per session.

    Kept in step with every write of the import; it answers what :class:`StoredReferences` would.
    """

    def __init__(self, stored: _Stored) -> None:
        self.ids = {kind: set(entities) for kind, entities in stored.decoded.items()}
        self.guids = {session.guid: session.id for session in stored.decoded["session"].values() if session.guid}
        self.floors = stored.floors

    async def exists(self, kind: str, entity_id: str) -> bool:
        return entity_id in self.ids.get(kind, set())

    async def guid_owner(self, guid: str) -> str | None:
        return self.guids.get(guid)

    async def floor(self, kind: str, entity_id: str) -> int:
        return self.floors.get((kind, entity_id), 0)

    def put(self, kind: str, entity: Any, before: Any) -> None:
        self.ids[kind].add(entity.id)
        if isinstance(entity, Session):
            if before is not None and self.guids.get(before.guid) == before.id:
                del self.guids[before.guid]
            self.guids[entity.guid] = entity.id

    def delete(self, kind: str, entity: Any) -> None:
        self.ids[kind].discard(entity.id)
        if isinstance(entity, Session) and self.guids.get(entity.guid) == entity.id:
            del self.guids[entity.guid]


def entities_written(report: ImportReport) -> int:
    """How many entities an import added, changed or removed."""
    return sum(len(k.added) + len(k.changed) + len(k.removed) for k in report.kinds)


class ImportService:
    """Imports programme files into the database through :class:`ProgrammeService`'s rules.

    Args:
        programme: The programme service whose validation, alerts and listeners imports use.
    """

    def __init__(self, programme: ProgrammeService) -> None:
        self.programme = programme

    async def import_file(
        self,
        data: bytes,
        *,
        dry_run: bool = False,
        missing: MissingPolicy = "cancel",
        actor: str = SYSTEM,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a schedule file of any supported format, detected from its content.

        Args:
            data: The file's bytes.
            dry_run: Report what would change and write nothing.
            missing: What happens to stored sessions the file does not mention.
            actor: Who the history names.
            progress: Called as entities are processed.

        Raises:
            Invalid: The file is malformed or inconsistent; nothing is written.
            Conflict: A session's guid belongs to another stored session.
        """
        parsed = await asyncio.to_thread(parse, data)
        return await self._run(parsed, dry_run=dry_run, missing=missing, actor=actor, progress=progress)

    async def import_programme(self, programme: ProgrammeImport, *, actor: str = SYSTEM) -> ImportReport:
        """Write a Kumpul programme, leaving stored entities it does not mention as they are."""
        return await self._run(Parsed("kumpul-json", programme), dry_run=False, missing=None, actor=actor)

    async def _run(
        self,
        parsed: Parsed,
        *,
        dry_run: bool,
        missing: MissingPolicy | None,
        actor: str,
        progress: Progress | None = None,
    ) -> ImportReport:
        check_event(parsed.programme.event)
        db = self.programme.db
        writer: _Writer | None = None
        for _ in range(ATTEMPTS if not dry_run else 1):
            async with db.snapshot() as conn:
                writer = await self._plan(conn, parsed, missing, actor, progress, dry_run=dry_run)
            # A file that changes nothing (a source of record pulled again) takes no write lock at all.
            if dry_run or not writer.planned or await self._publish(writer):
                break
        else:
            # Organisers kept changing what the import depends on: work it out while holding the lock.
            log.warning("the import is worked out inside the write transaction: the programme kept changing")
            async with db.write() as conn:
                writer = await self._plan(conn, parsed, missing, actor, progress)
                await self._write(conn, writer)
        assert writer is not None
        outcome = writer.outcome
        if dry_run:
            outcome.last_seq = 0
        report = ImportReport(
            format=parsed.format, dry_run=dry_run, missing=missing or "cancel", kinds=list(outcome.kinds.values())
        )
        if outcome.last_seq:
            await self.programme.committed(outcome.last_seq, alerted=outcome.alerted)
        return report

    async def _plan(
        self,
        conn: Connection,
        parsed: Parsed,
        missing: MissingPolicy | None,
        actor: str,
        progress: Progress | None,
        *,
        dry_run: bool = False,
    ) -> _Writer:
        """The import worked out against what ``conn`` sees, written nowhere yet.

        Raises:
            Loosening: Entries would loosen anonymity or a recording policy (not for a dry run: it lists them).
        """
        stored = await _load(conn)
        programme = _resolved(parsed.programme, stored) if parsed.carried is not None else parsed.programme
        writer = _Writer(self.programme, conn, parsed, stored, _Outcome(), actor, progress)
        await writer.write(programme, missing)
        if writer.outcome.refusals and not dry_run:
            raise _refused(writer.outcome.refusals)
        return writer

    async def _publish(self, writer: _Writer) -> bool:
        """Write a worked-out import in one transaction; False when the store moved under it in a way it cannot
        merge (then it must be worked out again)."""
        async with self.programme.db.write() as conn:
            started = time.perf_counter()
            if not await writer.rebase(conn):
                log.info("the programme changed under an import in a way it cannot merge; starting over")
                return False
            await self._write(conn, writer)
            log.info(
                "import published: %d writes in %.3f s inside the write transaction",
                len(writer.planned),
                time.perf_counter() - started,
            )
        return True

    async def _write(self, conn: Connection, writer: _Writer) -> None:
        planned = [entry for entry in writer.planned.values() if entry.history is not None]
        if not planned:
            return
        outcome = writer.outcome
        seqs = await store.put_many(conn, [store.Write(e.kind, e.entity_id, e.data) for e in planned])
        outcome.last_seq = seqs[-1]
        await history.record_many(
            conn, writer.actor, [e.history for e in planned if e.history is not None] + writer.summary()
        )
        for entry, seq in zip(planned, seqs, strict=True):
            if entry.sources is not None:
                await translation_store.replace(conn, entry.kind, entry.entity_id, entry.sources)
            if entry.data is None:
                continue
            await forget_former_names(conn, entry.entity)
            if (
                isinstance(entry.entity, Session)
                and entry.before is not None
                and await self.programme.queue_alerts(conn, entry.before, entry.entity, seq)
            ):
                outcome.alerted = True


def _refused(refusals: list[tuple[str, Loosening]]) -> Loosening:
    """The refusal of a whole file for the entries that would loosen anonymity or a recording policy."""
    listed = "; ".join(f"{where}: {error.detail}" for where, error in refusals[:5])
    more = f"; and {len(refusals) - 5} more" if len(refusals) > 5 else ""
    first_where, first = refusals[0]
    return Loosening(
        f"nothing was imported: {len(refusals)} entr{'y' if len(refusals) == 1 else 'ies'} of the file would reveal"
        f" an anonymous speaker or loosen a recording policy. Remove {'it' if len(refusals) == 1 else 'them'} from"
        f" the file, or have an admin do that on purpose first. {listed}{more}",
        kind=first.kind,
        entity_id=first.entity_id,
        field=f"{first_where}.{first.field}" if first.field else first_where,
    )


async def _load(conn: Connection) -> _Stored:
    stored = _Stored(raw={kind: {} for kind in _ORDER}, decoded={kind: {} for kind in _ORDER})
    stored.floors = await privacy.floors(conn)
    stored.seq = (await store.feed_state(conn)).seq
    stored.sources = await translation_store.all_sources(conn)
    for kind, data in await store.all_entities(conn):
        if kind == "event":
            stored.raw[kind][EVENT_ID] = data
            stored.decoded[kind][EVENT_ID] = EVENT_DECODER.decode(data)
        elif kind in KINDS:
            entity = KINDS[kind].decoder.decode(data)
            stored.raw[kind][entity.id] = data
            stored.decoded[kind][entity.id] = entity
    return stored


def _identity(kind: str, entity: Any) -> tuple[Any, ...]:
    """What an import's matching and reference checks read of a stored entity: if an organiser changes only other
    fields while an import is worked out, the import can merge itself onto their change."""
    if kind == "session":
        return (entity.guid, entity.room_id, entity.track_id, entity.format, tuple(entity.speaker_ids))
    if kind == "room":
        return (entity.name.strip().casefold(), entity.guid)
    if kind == "speaker":
        return (entity.name.strip().casefold(), entity.anonymous)
    return (entity.name.strip().casefold(),)


# -- matching a foreign file's ids to stored ones -------------------------------------------------


def _claim_by_name(items: Iterable[Any], stored: dict[str, Any], guids: dict[str, str] | None = None) -> dict[str, str]:
    """File id -> stored id for rooms, tracks and formats: same guid (rooms), same name (ignoring case), else the
    file's id.

    Args:
        items: The file's entities.
        stored: The stored entities of the kind, by id.
        guids: Stored id by guid (rooms): a room renamed in the source keeps its guid, and stays the same room.
    """
    items = list(items)
    by_name: dict[str, str] = {}
    for entity in stored.values():
        by_name.setdefault(entity.name.strip().casefold(), entity.id)
    mapping: dict[str, str] = {}
    claimed: set[str] = set()
    for item in items:
        match = (guids or {}).get(getattr(item, "guid", ""))
        if match is not None and match not in claimed:
            mapping[item.id] = match
            claimed.add(match)
    for item in items:
        if item.id in mapping:
            continue
        match = by_name.get(item.name.strip().casefold())
        if match is not None and match not in claimed:
            mapping[item.id] = match
            claimed.add(match)
    pending = {item.id for item in items if item.id not in mapping}
    for item in items:
        if item.id in mapping:
            continue
        candidate, number = item.id, 2
        while candidate in claimed or (candidate != item.id and candidate in pending):
            candidate, number = f"{item.id[:60]}-{number}", number + 1
        mapping[item.id] = candidate
        claimed.add(candidate)
    return mapping


def _session_ids(sessions: list[Session], stored: dict[str, Session]) -> dict[str, str]:
    """File id -> stored id for sessions: the stored session with the same guid, else the file's id."""
    by_guid = {session.guid: session.id for session in stored.values() if session.guid}
    mapping: dict[str, str] = {}
    claimed = {by_guid[s.guid] for s in sessions if s.guid in by_guid}
    for session in sessions:
        if session.guid in by_guid:
            mapping[session.id] = by_guid[session.guid]
            continue
        candidate, number = session.id, 2
        while candidate in claimed or (candidate in stored and stored[candidate].guid != session.guid):
            candidate, number = f"{session.id[:60]}-{number}", number + 1
        mapping[session.id] = candidate
        claimed.add(candidate)
    return mapping


def _speaker_ids(programme: ProgrammeImport, session_ids: dict[str, str], stored: _Stored) -> dict[str, str]:
    """File id -> stored id for speakers: the same id, the id Kumpul exported them with, else a speaker of the
    same name in the same session."""
    stored_speakers = stored.decoded["speaker"]
    names = {speaker.id: speaker.name.strip().casefold() for speaker in programme.speakers}
    mapping = {speaker.id: speaker.id for speaker in programme.speakers if speaker.id in stored_speakers}
    claimed = set(mapping.values())
    exported = _exported_speaker_ids(stored)
    for speaker in programme.speakers:
        target = exported.get(speaker.id)
        if speaker.id not in mapping and target is not None and target not in claimed:
            mapping[speaker.id] = target
            claimed.add(target)
    for session in programme.sessions:
        before = stored.decoded["session"].get(session_ids[session.id])
        if before is None:
            continue
        known = {
            stored_speakers[sid].name.strip().casefold(): sid for sid in before.speaker_ids if sid in stored_speakers
        }
        for speaker_id in session.speaker_ids:
            target = known.get(names.get(speaker_id, ""))
            if speaker_id not in mapping and target is not None and target not in claimed:
                mapping[speaker_id] = target
                claimed.add(target)
    for speaker in programme.speakers:
        if speaker.id not in mapping:
            candidate, number = speaker.id, 2
            while candidate in claimed or candidate in stored_speakers:
                candidate, number = f"{speaker.id[:60]}-{number}", number + 1
            mapping[speaker.id] = candidate
            claimed.add(candidate)
    return mapping


def _exported_speaker_ids(stored: _Stored) -> dict[str, str]:
    """The id a speaker exported by Kumpul gets when the frab or C3VOC file is imported -> their stored id.

    Kumpul's exports give a (not anonymous) speaker a guid made from the event's acronym and their id,
    so a file exported before a speaker became anonymous, or was deleted while anonymous, still finds
    them (and their privacy floor) rather than adding them again under the name they had.
    """
    event = stored.decoded["event"].get(EVENT_ID)
    if event is None:
        return {}
    short = acronym(event)
    speaker_ids = set(stored.decoded["speaker"]) | {sid for kind, sid in stored.floors if kind == "speaker"}
    return {f"spk-{derived_uuid(short, 'speaker', sid).lower()}": sid for sid in speaker_ids}


def _exported_room_guids(stored: _Stored) -> dict[str, str]:
    """The guid Kumpul's exports give a stored room (made from the event's acronym and the room's id) -> its id."""
    event = stored.decoded["event"].get(EVENT_ID)
    if event is None:
        return {}
    return {derived_uuid(acronym(event), "room", room_id): room_id for room_id in stored.decoded["room"]}


def _resolved(programme: ProgrammeImport, stored: _Stored) -> ProgrammeImport:
    """``programme`` with its provisional ids replaced by the stored ids of the same entities."""
    stored_rooms: dict[str, Room] = stored.decoded["room"]
    exported = _exported_room_guids(stored)
    guids = {**exported, **{room.guid: room.id for room in stored_rooms.values() if room.guid}}
    rooms = _claim_by_name(programme.rooms, stored_rooms, guids)
    tracks = _claim_by_name(programme.tracks, stored.decoded["track"])
    formats = _claim_by_name(programme.formats, stored.decoded["format"])
    session_ids = _session_ids(programme.sessions, stored.decoded["session"])
    speakers = _speaker_ids(programme, session_ids, stored)
    replace = msgspec.structs.replace
    return replace(
        programme,
        # A guid Kumpul made up for its export is not the source's: the stored room keeps what it has.
        rooms=[
            replace(room, id=rooms[room.id], guid="" if room.guid in exported else room.guid)
            for room in programme.rooms
        ],
        tracks=[replace(track, id=tracks[track.id]) for track in programme.tracks],
        formats=[replace(fmt, id=formats[fmt.id]) for fmt in programme.formats],
        speakers=[replace(speaker, id=speakers[speaker.id]) for speaker in programme.speakers],
        sessions=[
            replace(
                session,
                id=session_ids[session.id],
                room_id=rooms[session.room_id],
                format=formats[session.format],
                track_id=tracks[session.track_id] if session.track_id is not None else None,
                speaker_ids=[speakers[sid] for sid in session.speaker_ids],
            )
            for session in programme.sessions
        ],
    )


# -- writing ----------------------------------------------------------------------------------------


def _is_empty(kind: str, name: str, value: Any) -> bool:
    return value in ("", None, [], {}) or (kind == "track" and name == "colour" and value == DEFAULT_COLOUR)


class _Writer:
    """Writes one import inside its transaction and notes every change in the outcome."""

    def __init__(
        self,
        service: ProgrammeService,
        conn: Connection,
        parsed: Parsed,
        stored: _Stored,
        outcome: _Outcome,
        actor: str,
        progress: Progress | None,
    ) -> None:
        self.service = service
        self.conn = conn
        self.parsed = parsed
        self.stored = stored
        self.outcome = outcome
        self.actor = actor
        self.progress = progress
        self.done = 0
        self.total = 1
        self.index = _Index(stored)
        #: What the import writes, by ``(kind, id)``, in the order it works them out.
        self.planned: dict[tuple[str, str], _Planned] = {}
        self.snapshot_seq = stored.seq

    def _step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def _merged(self, kind: str, before: Any, item: Any) -> tuple[Any, set[str]]:
        """What to store for ``item`` given the stored ``before``, and the fields the file set."""
        carried = self.parsed.carried
        if carried is None:
            if isinstance(item, Session) and not item.guid and before is not None:
                item = msgspec.structs.replace(item, guid=before.guid)
            if before is not None and not item.translations and before.translations:
                # A file without translations keeps the stored ones (they turn stale where its sources changed).
                item = msgspec.structs.replace(item, translations=before.translations)
            return item, explicit_fields(item) if kind != "event" else set()
        if before is None:
            return item, set()
        if kind == "speaker" and before.anonymous:
            # The format cannot say a speaker is anonymous: a pseudonym is kept, another name is refused.
            if item.name.strip().casefold() != before.name.strip().casefold():
                raise reveal_refused(before.id)
            return before, set()
        keep = self.parsed.keep_if_empty.get(kind, frozenset())
        changes = {
            name: getattr(item, name)
            for name in carried[kind]
            if not (name in keep and _is_empty(kind, name, getattr(item, name)))
        }
        if kind == "session":
            # A file that opts a session out of recording cannot say "off the record": that stays. A file
            # that says "public" is refused for an opted-out session (ProgrammeService.validated).
            if before.recording == "off-the-record" and item.recording == "no-recording":
                changes.pop("recording", None)
            # frab carries one language per event: one the stored list already has leaves the list alone.
            if len(item.languages) <= 1 and before.languages and set(item.languages) <= set(before.languages):
                changes.pop("languages", None)
            # Kumpul's exports list the stream and interpretation channels among the links: they are not links.
            channels = {before.stream_url, *before.interpretation.values()}
            changes["links"] = [link for link in item.links if link.url not in channels]
        return msgspec.structs.replace(before, **changes), set()

    def _put(self, kind: str, entity: Any, before: Any, item: Any = None, where: str = "") -> None:
        entity_id = EVENT_ID if kind == "event" else entity.id
        recorded = self.stored.sources.get((kind, entity_id), {})
        entity, sources = translations.restamped(kind, before, entity, recorded)
        data = kinds.encode(entity)
        if data == self.stored.raw[kind].get(entity_id):
            return
        if kind != "event":
            self.index.put(kind, entity, before)
        label = kinds.label(entity)
        if before is None:
            line = ("created", kind, entity_id, label)
            bucket = "added"
        else:
            line = ("updated", kind, entity_id, label) if kind == "event" else describe_update(kind, before, entity)
            cancelled = isinstance(entity, Session) and before.status != entity.status == "cancelled"
            bucket = "removed" if cancelled else "changed"
        self.planned[(kind, entity_id)] = _Planned(kind, entity_id, before, entity, item, data, line, where, sources)
        self.outcome.note(kind, bucket, entity_id, label)

    def _delete(self, kind: str, entity: Any) -> None:
        self.index.delete(kind, entity)
        label = kinds.label(entity)
        line = ("deleted", kind, entity.id, label)
        forget: translation_store.Sources | None = {} if kind in translations.TRANSLATABLE else None
        self.planned[(kind, entity.id)] = _Planned(kind, entity.id, entity, None, None, None, line, sources=forget)
        self.outcome.note(kind, "removed", entity.id, label)

    def summary(self) -> list[tuple[str, str, str, str]]:
        """The history's one line about the whole import, if it changed anything."""
        if not self.outcome.count():
            return []
        text = ", ".join(
            f"{kind}s +{len(k.added)} ~{len(k.changed)} -{len(k.removed)}"
            for kind, k in self.outcome.kinds.items()
            if k.added or k.changed or k.removed
        )
        return [("imported", "programme", EVENT_ID, text)]

    async def rebase(self, conn: Connection) -> bool:
        """Bring the worked-out import up to date with what was committed since its snapshot, on the write
        transaction ``conn``: an entity the import writes and an organiser edited meanwhile (same name, guid and
        references) is merged again onto their version. False when anything else changed that the import's
        matching or checks depend on: a new, deleted or renamed entity, the event, a privacy floor.
        """
        changes = await store.changes_of_kinds_since(conn, _ORDER, self.snapshot_seq, MAX_REBASED + 1)
        if not changes:
            return True
        if len(changes) > MAX_REBASED or await privacy.floors(conn) != self.stored.floors:
            return False
        for change in changes:
            before = self.stored.decoded.get(change.kind, {}).get(change.id)
            if change.data is None or before is None or change.kind == "event":
                return False
            now = KINDS[change.kind].decoder.decode(change.data)
            if _identity(change.kind, before) != _identity(change.kind, now):
                return False
            entry = self.planned.get((change.kind, change.id))
            if entry is not None and not await self._rebase_entry(conn, entry, now, change.data):
                return False
        return True

    async def _rebase_entry(self, conn: Connection, entry: _Planned, now: Any, raw: bytes) -> bool:
        if entry.data is None:  # a deletion stays one
            entry.before = now
            return True
        if entry.item is None:  # a session the file lacks, cancelled
            if now.status == "cancelled":
                entry.history = None
                return True
            entity = msgspec.structs.replace(now, status="cancelled")
        else:
            try:
                entity, explicit = self._merged(entry.kind, now, entry.item)
                entity = await self.service.validated(
                    conn, entry.kind, entity, explicit=explicit, references=self.index
                )
            except KumpulError:
                return False
        recorded = await translation_store.sources(conn, entry.kind, entry.entity_id)
        entity, entry.sources = translations.restamped(entry.kind, now, entity, recorded)
        data = kinds.encode(entity)
        entry.before, entry.entity, entry.data = now, entity, data
        # Unchanged by the import after all: nothing to write, but the outcome still lists it.
        entry.history = describe_update(entry.kind, now, entity) if data != raw else None
        return True

    async def write(self, programme: ProgrammeImport, missing: MissingPolicy | None) -> None:
        batches: list[tuple[str, list[Any]]] = [
            ("room", programme.rooms),
            ("track", programme.tracks),
            ("format", programme.formats),
            ("speaker", programme.speakers),
            ("session", programme.sessions),
        ]
        in_file = {kind: {item.id for item in items} for kind, items in batches}
        stored_sessions = self.stored.decoded["session"]
        gone = [s for sid, s in stored_sessions.items() if sid not in in_file["session"]] if missing else []
        self.total = 1 + sum(len(items) for _, items in batches) + len(gone)

        before_event = self.stored.decoded["event"].get(EVENT_ID)
        event, _ = self._merged("event", before_event, programme.event)
        self._put("event", event, before_event, programme.event)
        self._step()
        for kind, items in batches:
            seen: set[str] = set()
            for index, item in enumerate(items):
                where = f"{kind}s[{index}]"
                if not item.id:
                    raise Invalid(f"{where} has no id: every imported entity needs one", field=f"{where}.id")
                if item.id in seen:
                    raise Invalid(f"{where}: the id {item.id!r} appears twice", field=f"{where}.id")
                seen.add(item.id)
                before = self.stored.decoded[kind].get(item.id)
                try:
                    entity, explicit = self._merged(kind, before, item)
                    entity = await self.service.validated(
                        self.conn, kind, entity, explicit=explicit, references=self.index
                    )
                except Loosening as error:
                    # Listed, and the whole file refused unless this is a dry run; the entry is left as stored.
                    label = kinds.label(before) if before is not None else (item.title if kind == "session" else "")
                    self.outcome.refuse(kind, f"{where}", label or item.id, error)
                    self.index.ids[kind].add(item.id)
                    self._step()
                    continue
                except KumpulError as error:
                    path = f"{where}.{error.field}" if error.field else where
                    raise type(error)(f"{where} ({item.id}): {error.detail}", field=path) from None
                self._put(kind, entity, before, item, where)
                self._step()
                if index % 64 == 63:
                    await asyncio.sleep(0)  # let the worker's other requests in while a big file is worked out

        for session in gone:
            if missing == "delete":
                self._delete("session", session)
            elif session.status != "cancelled":
                self._put("session", msgspec.structs.replace(session, status="cancelled"), session)
            self._step()
        if missing == "delete":
            self._delete_unused(programme, in_file)

    def _delete_unused(self, programme: ProgrammeImport, in_file: dict[str, set[str]]) -> None:
        """Delete stored speakers, formats, tracks and rooms that the file lacks and no session uses."""
        used: dict[str, set[str]] = {"room": set(), "track": set(), "format": set(), "speaker": set()}
        for session in programme.sessions:
            used["room"].add(session.room_id)
            used["format"].add(session.format)
            used["speaker"].update(session.speaker_ids)
            if session.track_id is not None:
                used["track"].add(session.track_id)
        for kind in _DEPENDENTS:
            for entity_id, entity in self.stored.decoded[kind].items():
                if entity_id not in in_file[kind] and entity_id not in used[kind]:
                    self._delete(kind, entity)
