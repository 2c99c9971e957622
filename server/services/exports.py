"""Schedule exports (iCalendar, frab XML, C3VOC JSON) built once per programme cursor and kept in memory.

The programme and the sessions' revisions are read in one transaction when the feed's cursor has
moved, then each format is rendered once per app address (the exports link to the app's session
pages) and served from memory with a strong ETag until the next programme write. An attendee's
agenda feed is rendered per request from the same cached programme: it is small, and private.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from server.errors import NotFound
from server.interchange.c3voc_export import export_json
from server.interchange.frab_export import export_xml
from server.interchange.ics import export_ics
from server.interchange.timetable import NoEvent, ScheduleSource, slug
from server.schemas.programme import Programme
from server.services.feed import Encoded, FeedService
from server.storage import programme as store
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
    renders: dict[tuple[Format, str], Export]


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

    async def schedule(self, fmt: Format, base_url: str) -> Export:
        """The whole programme in ``fmt``, linking to the app at ``base_url``.

        Raises:
            NotFound: XML or JSON while the programme has no event (both formats need its name and dates).
        """
        loaded = await self._current()
        key = (fmt, base_url)
        cached = loaded.renders.get(key)
        if cached is not None:
            return cached
        async with self._render_lock:  # calendars polling at once after an edit get one render
            cached = loaded.renders.get(key)
            if cached is not None:
                return cached
            media_type, render = FORMATS[fmt]
            source = ScheduleSource(loaded.programme, loaded.revisions, base_url, loaded.speaker_numbers)
            try:
                body = await asyncio.to_thread(render, source)
            except NoEvent as error:
                raise NotFound(str(error)) from None
            export = Export(Encoded(body), _etag(fmt, body), media_type, f"{_stem(loaded.programme)}.{fmt}")
            if len(loaded.renders) >= _MAX_RENDERS:
                loaded.renders.pop(next(iter(loaded.renders)))
            loaded.renders[key] = export
            return export

    async def agenda(self, session_ids: Collection[str], base_url: str) -> Export:
        """An attendee's agenda (the sessions ``session_ids`` that exist) as an iCalendar."""
        loaded = await self._current()
        programme = loaded.programme
        name = f"{programme.event.name}: my agenda" if programme.event else "My agenda"
        source = ScheduleSource(programme, loaded.revisions, base_url, loaded.speaker_numbers)
        body = await asyncio.to_thread(export_ics, source, name=name, only=frozenset(session_ids))
        return Export(Encoded(body), _etag("agenda", body), FORMATS["ics"][0], f"{_stem(programme)}-agenda.ics")

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


def _stem(programme: Programme) -> str:
    """The file name of the exports: the event's acronym (``arat-2024``), else ``schedule``."""
    event = programme.event
    return (slug(event.acronym or event.name, max_length=40) if event else "") or "schedule"
