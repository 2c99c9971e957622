"""Schedule exports (iCalendar, frab XML, C3VOC JSON) built once per programme cursor and kept in memory.

The programme and the sessions' revisions are read in one transaction when the feed's cursor has
moved, then each format is rendered once per app address (the exports link to the app's session
pages) and served from memory with a strong ETag until the next programme write. An attendee's
agenda feed is rendered per request from the same cached programme: it is small, and private.

A named release (``?version=``) is rendered from the programme document stored when it was published, by the
same renderers; speakers and sessions whose privacy tightened since are shown as they are now, so an old
version never names a speaker who has become anonymous or calls a session recordable that no longer is.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from server.errors import NotFound
from server.interchange.atom import export_atom
from server.interchange.c3voc_export import export_json
from server.interchange.frab_export import export_xml
from server.interchange.ics import export_ics
from server.interchange.timetable import NoEvent, ScheduleSource, slug
from server.schemas.programme import Programme
from server.services import translations
from server.services.feed import Encoded, FeedService
from server.storage import changes as changes_store
from server.storage import privacy
from server.storage import programme as store
from server.storage import releases as releases_store
from server.storage.db import Database
from server.storage.programme import Revision
from sync import Cursor, build_snapshot

Format = Literal["ics", "xml", "json"]

#: Media type and renderer of each format (the response adds ``charset=utf-8`` to text types).
FORMATS: dict[Format, tuple[str, Callable[[ScheduleSource], bytes]]] = {
    "ics": ("text/calendar", export_ics),
    "xml": ("application/xml", export_xml),
    "json": ("application/json", export_json),
}
#: Renders kept per cursor: three formats for a handful of addresses the app is reached at.
_MAX_RENDERS = 24
#: Releases kept loaded (each with its renders) at once.
_MAX_RELEASES = 8
#: Entries of the Atom feed of changes.
ATOM_ENTRIES = 200
_decoder = msgspec.json.Decoder(dict[str, Any])


@dataclass(frozen=True, slots=True)
class Export:
    """One rendered export: its bytes (compressed on demand, once), strong ETag, type and file name."""

    body: Encoded
    etag: str
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class _Loaded:
    """The programme, the sessions' revisions and the speakers' numbers at change sequence ``seq``."""

    seq: int
    programme: Programme
    revisions: dict[str, Revision]
    speaker_numbers: dict[str, int]
    renders: dict[tuple[Format, str, str | None], Export]


def _etag(kind: str, body: bytes) -> str:
    return f'"{kind}-{hashlib.sha256(body).hexdigest()[:32]}"'


class ExportService:
    """Renders the schedule exports and the attendees' agenda feeds."""

    def __init__(self, db: Database, feed: FeedService) -> None:
        self.db = db
        self.feed = feed
        self._loaded: _Loaded | None = None
        self._load_lock = asyncio.Lock()
        self._render_lock = asyncio.Lock()
        self._releases: dict[tuple[str, int], _Loaded] = {}

    async def schedule(self, fmt: Format, base_url: str, version: str | None = None, lang: str | None = None) -> Export:
        """The whole programme in ``fmt``, linking to the app at ``base_url``.

        Args:
            fmt: The format.
            base_url: Where the app is served.
            version: A release's name: the programme as that release published it; None for the current one.
            lang: The language of the content: one of the event's ``languages``; None for its main language.

        Raises:
            NotFound: An unknown release; XML or JSON while the programme has no event (both formats need its
                name and dates).
            Invalid: The event is not offered in ``lang``.
        """
        loaded = await self._current() if version is None else await self._release(version)
        lang = translations.check_language(loaded.programme.event, lang)
        key = (fmt, base_url, lang)
        cached = loaded.renders.get(key)
        if cached is not None:
            return cached
        async with self._render_lock:  # calendars polling at once after an edit get one render
            cached = loaded.renders.get(key)
            if cached is not None:
                return cached
            media_type, render = FORMATS[fmt]
            programme = in_language(loaded.programme, lang)
            source = ScheduleSource(programme, loaded.revisions, base_url, loaded.speaker_numbers)
            try:
                body = await asyncio.to_thread(render, source)
            except NoEvent as error:
                raise NotFound(str(error)) from None
            stem = _stem(loaded.programme) + (f"-{slug(version, max_length=40)}" if version else "")
            stem += f"-{lang}" if lang else ""
            export = Export(Encoded(body), _etag(fmt, body), media_type, f"{stem}.{fmt}")
            if len(loaded.renders) >= _MAX_RENDERS:
                loaded.renders.pop(next(iter(loaded.renders)))
            loaded.renders[key] = export
            return export

    async def agenda(self, session_ids: Collection[str], base_url: str, lang: str | None = None) -> Export:
        """An attendee's agenda (the sessions ``session_ids`` that exist) as an iCalendar, in ``lang`` when the event
        offers it (else in its main language: the attendee chose it when the event still offered it)."""
        loaded = await self._current()
        event = loaded.programme.event
        offered = event is not None and lang is not None and lang in event.languages and lang != event.language
        programme = in_language(loaded.programme, lang if offered else None)
        name = f"{programme.event.name}: my agenda" if programme.event else "My agenda"
        source = ScheduleSource(programme, loaded.revisions, base_url, loaded.speaker_numbers)
        body = await asyncio.to_thread(export_ics, source, name=name, only=frozenset(session_ids))
        return Export(Encoded(body), _etag("agenda", body), FORMATS["ics"][0], f"{_stem(programme)}-agenda.ics")

    async def session(self, session_id: str, base_url: str) -> Export:
        """One session as an iCalendar, by the rules of the programme's (times, privacy, cancellation).

        Raises:
            NotFound: No such session.
        """
        loaded = await self._current()
        session = next((item for item in loaded.programme.sessions if item.id == session_id), None)
        if session is None:
            raise NotFound(f"no session {session_id!r}")
        source = ScheduleSource(loaded.programme, loaded.revisions, base_url, loaded.speaker_numbers)
        body = await asyncio.to_thread(export_ics, source, name=session.title, only=frozenset({session_id}))
        filename = f"{slug(session.id, max_length=60) or 'session'}.ics"
        return Export(Encoded(body), _etag("session", body), FORMATS["ics"][0], filename)

    async def changes_atom(self, base_url: str) -> Export:
        """The Atom feed of programme changes: sessions added, moved, re-roomed, cancelled or removed."""
        loaded = await self._current()
        async with self.db.read() as conn:
            rows = await changes_store.latest(conn, ATOM_ENTRIES)
            state = await store.feed_state(conn)
        body = await asyncio.to_thread(export_atom, loaded.programme, rows, base_url, state.epoch)
        return Export(Encoded(body), _etag("atom", body), "application/atom+xml", "changes.atom")

    async def _release(self, name: str) -> _Loaded:
        """A release's programme, loaded once (and again after a privacy tightening)."""
        async with self.db.read() as conn:
            row = await releases_store.get(conn, name)
            floors = await privacy.floors(conn)
            if row is None:
                raise NotFound(f"no schedule version named {name!r}; GET /api/releases lists them")
            key = (name, hash(frozenset(floors.items())))
            cached = self._releases.get(key)
            if cached is not None:
                return cached
            current = {
                (kind, entity_id): data
                for kind, entity_id in floors
                if (data := await store.get_entity(conn, kind, entity_id)) is not None
            }
        loaded = await asyncio.to_thread(_released, row, floors, current)
        if len(self._releases) >= _MAX_RELEASES:
            self._releases.pop(next(iter(self._releases)))
        self._releases[key] = loaded
        return loaded

    async def _current(self) -> _Loaded:
        """The programme at the feed's cursor (or newer), read at most once per cursor."""
        loaded = self._loaded
        if loaded is not None and loaded.seq >= self.feed.state.seq:
            return loaded
        async with self._load_lock:
            loaded = self._loaded
            if loaded is None or loaded.seq < self.feed.state.seq:
                loaded = self._loaded = await self._load()
            return loaded

    async def _load(self) -> _Loaded:
        async with self.db.snapshot() as conn:
            state = await store.feed_state(conn)
            rows = await store.all_entities(conn)
            revisions = await store.revisions(conn, "session")
            numbers = await store.speaker_numbers(conn)
        cursor = Cursor(state.epoch, state.seq).encode()
        event: dict[str, Any] | None = None
        entities: list[tuple[str, dict[str, Any]]] = []
        for kind, data in rows:
            if kind == "event":
                event = _decoder.decode(data)
            elif kind != "announcement":
                entities.append((kind, _decoder.decode(data)))
        programme = msgspec.convert(build_snapshot(cursor, event, entities), Programme)
        return _Loaded(state.seq, programme, revisions, numbers, {})


def _released(
    row: releases_store.ReleaseRow, floors: dict[tuple[str, str], int], current: dict[tuple[str, str], bytes]
) -> _Loaded:
    """A release's programme, with today's privacy: anonymous speakers and unrecorded sessions as stored now.

    A speaker with a privacy floor is shown as stored now, or left out when deleted since; a session with a
    floor takes its recording policy from now, or the strictest one when deleted since.
    """
    document = _decoder.decode(row.programme)
    speakers = []
    for speaker in document.get("speakers", []):
        if floors.get(("speaker", speaker["id"]), 0) == 0:
            speakers.append(speaker)
        elif (now := current.get(("speaker", speaker["id"]))) is not None:
            speakers.append(_decoder.decode(now))
    kept = {speaker["id"] for speaker in speakers}
    document["speakers"] = speakers
    for session in document.get("sessions", []):
        session["speakerIds"] = [item for item in session.get("speakerIds", []) if item in kept]
        if floors.get(("session", session["id"]), 0):
            now = current.get(("session", session["id"]))
            session["recording"] = _decoder.decode(now).get("recording", "off-the-record") if now else "off-the-record"
    programme = msgspec.convert(document, Programme)
    revisions = {
        session_id: Revision(int(value[0]), str(value[1]))
        for session_id, value in _decoder.decode(row.revisions).items()
    }
    numbers = {speaker_id: int(number) for speaker_id, number in _decoder.decode(row.speaker_numbers).items()}
    return _Loaded(row.seq, programme, revisions, numbers, {})


def in_language(programme: Programme, lang: str | None) -> Programme:
    """The programme with its content in ``lang`` where translated (None: as it is).

    Stale translations are used only when the event marks them rather than falling back to the original.
    """
    if lang is None:
        return programme
    event = programme.event
    use_stale = event is None or event.stale_translations == "mark"

    def each(kind: str, items: list[Any]) -> list[Any]:
        return [translations.localized(kind, item, lang, use_stale=use_stale) for item in items]

    return msgspec.structs.replace(
        programme,
        event=translations.localized("event", event, lang, use_stale=use_stale) if event is not None else None,
        rooms=each("room", programme.rooms),
        tracks=each("track", programme.tracks),
        formats=each("format", programme.formats),
        speakers=each("speaker", programme.speakers),
        sessions=each("session", programme.sessions),
    )


def _stem(programme: Programme) -> str:
    """The file name of the exports: the event's acronym (``arat-2024``), else ``schedule``."""
    event = programme.event
    return (slug(event.acronym or event.name, max_length=40) if event else "") or "schedule"
