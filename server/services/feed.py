"""The programme feed: the whole programme built once per cursor, and the change feed after a cursor.

The encoded programme (plain, gzip and brotli) is kept in memory for the current cursor, so a read
when nothing changed costs no SQL and no encoding. Writes in this process move the cursor at once;
writes by another process (``kumpul import`` while serving, another worker, another node on PostgreSQL) are noticed
by a watcher that polls the database's ``data_version``.

A cursor's ETag and bytes are made from the database alone (its epoch and sequence, the entities and the privacy
floors), so every worker and every node serving one database gives the same programme the same ETag and the same
bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import brotli
import msgspec

from server.errors import Gone, Invalid, NotFound
from server.services.live import raise_if_cancelled
from server.storage import privacy as privacy_store
from server.storage import programme as store
from server.storage.db import Database, kumpul_now
from server.storage.encoded import EncodedStore, Forms
from server.storage.programme import FeedState
from sync import Cursor, CursorError, StaleCursorError, build_snapshot, check_servable

log = logging.getLogger(__name__)

#: Bump when the shape of /api/programme changes, so cached copies under old ETags are not reused.
REPRESENTATION_VERSION = "1"
MAX_CHANGES_LIMIT = 1000
_PAGE_CACHE_SIZE = 256
#: Smaller bodies are sent uncompressed: a few bytes saved are not worth a compression per request.
MIN_COMPRESSED_BYTES = 512
#: How often a worker looks for the brotli form another worker is making, while it serves gzip.
_BR_LOOK_SECONDS = 0.2
#: ETags of an If-None-Match looked at for a copy newer than this worker's: a client holds one or two.
_MAX_ETAGS = 8
#: Days' parts of the programme kept in memory (``(cursor, day)``): today's at the newest few cursors.
_DAY_PARTS_KEPT = 8

_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()

#: Told ``(previous, current)`` cursors each time the programme moves: once per move, in order.
Listener = Callable[[str, str], Awaitable[None]]


class Encoded:
    """One JSON body and its gzip and brotli forms, each compressed at most once."""

    __slots__ = ("_forms", "br_later", "identity")

    def __init__(
        self,
        identity: bytes,
        *,
        gzip_body: bytes | None = None,
        br_body: bytes | None = None,
        br_later: bool = False,
    ) -> None:
        self.identity = identity
        self._forms: dict[str, bytes] = {}
        #: The brotli form is being made elsewhere (see :meth:`add`): until then brotli clients get gzip.
        self.br_later = br_later
        if gzip_body is not None:
            self._forms["gzip"] = gzip_body
        if br_body is not None:
            self._forms["br"] = br_body

    def encoding(self, accepted: tuple[str, ...]) -> str:
        """The encoding to send, given those the client accepts (best first, as
        :func:`server.routes.responses.accepted_encodings` lists them): a body too small to gain is sent as is.

        While the brotli form is being made elsewhere, a client that also accepts gzip (every browser) gets gzip, so
        the first phones after an edit need not wait for brotli; one that accepts only brotli waits for it.
        """
        if len(self.identity) < MIN_COMPRESSED_BYTES:
            return "identity"
        for encoding in accepted:
            if encoding == "br" and self.br_later and "br" not in self._forms and "gzip" in accepted:
                continue
            return encoding
        return "identity"

    def add(self, encoding: str, body: bytes) -> None:
        """Add a form made elsewhere."""
        self._forms.setdefault(encoding, body)

    def has(self, encoding: str) -> bool:
        return encoding in self._forms

    def body(self, encoding: str) -> bytes:
        """The body in ``encoding`` (``identity``, ``gzip`` or ``br``)."""
        if encoding == "identity":
            return self.identity
        form = self._forms.get(encoding)
        if form is None:
            form = self._forms[encoding] = _COMPRESSORS[encoding](self.identity)
        return form


class EncodedProgramme:
    """The programme at one cursor, in every encoding it is served in.

    ``snapshot`` (the document as Python data, for the collection routes and the exports) is decoded from the
    bytes when first asked for: a worker that read the bytes another worker built never needs it otherwise.
    """

    __slots__ = ("_snapshot", "body", "br_checked", "cursor", "etag", "forms", "seq")

    def __init__(self, seq: int, cursor: str, forms: Forms, snapshot: dict[str, Any] | None = None) -> None:
        self.seq = seq
        self.cursor = cursor
        self.etag = etag_for(cursor)
        self.forms = forms
        self.body = Encoded(forms.identity, gzip_body=forms.gzip, br_body=forms.br, br_later=True)
        self._snapshot = snapshot
        #: When this worker last looked for the brotli form in the shared folder (monotonic seconds).
        self.br_checked = time.monotonic()

    @property
    def snapshot(self) -> dict[str, Any]:
        if self._snapshot is None:
            self._snapshot = _decoder.decode(self.body.identity)
        return self._snapshot


@dataclass(slots=True)
class _PageCache:
    """Change pages already built while the newest sequence is ``seq``.

    After an edit, every phone holding the same old cursor asks for the same page: it is read and
    encoded once. The cache empties itself whenever the sequence moves.
    """

    seq: int
    bodies: dict[tuple[str, int, int], Encoded] = field(default_factory=dict)


def etag_for(cursor: str) -> str:
    """The strong ETag of the programme at ``cursor`` (per encoding a suffix is added)."""
    return f'"p{REPRESENTATION_VERSION}-{cursor}"'


class FeedService:
    """Serves ``/api/programme`` and ``/api/changes`` and tells listeners when the cursor moves."""

    def __init__(
        self,
        db: Database,
        *,
        retention: timedelta,
        poll_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        #: The current time: "today" at the event is read from it (tests move it).
        self.clock = clock
        self._day_parts: OrderedDict[tuple[str, date], bytes | str] = OrderedDict()
        self._day_lock = asyncio.Lock()
        self.retention = retention
        self.poll_seconds = poll_seconds
        self.state = FeedState(epoch="", seq=0, floor=0)
        self._cache: EncodedProgramme | None = None
        self._build_lock = asyncio.Lock()
        self._moving = asyncio.Lock()
        self.encoded = EncodedStore.beside(db.path)
        self._listeners: list[Listener] = []
        self._commit_listeners: list[Callable[[], Awaitable[None]]] = []
        self._pages = _PageCache(-1)
        self._up_to_date: tuple[str, Encoded] | None = None
        self._reading: dict[tuple[int, str, int, int], asyncio.Task[Encoded]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._eager: asyncio.Task[None] | None = None
        self._br_lock = asyncio.Lock()

    async def start(self) -> None:
        """Read where the feed stands, purge old tombstones and start watching for other writers."""
        await self.purge_tombstones()
        async with self.db.read() as conn:
            self.state = await store.feed_state(conn)
        self._watcher = asyncio.create_task(self._watch(), name="kumpul-feed-watcher")

    async def stop(self) -> None:
        """Stop the watcher."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for task in [*self._tasks, *([self._eager] if self._eager is not None else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(previous, current)`` whenever the programme changes: once per move, in order."""
        self._listeners.append(listener)

    def subscribe_commits(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call ``listener()`` whenever the watcher notices a commit by another process, programme or not."""
        self._commit_listeners.append(listener)

    @property
    def cursor(self) -> str:
        return Cursor(self.state.epoch, self.state.seq).encode()

    async def written(self, seq: int) -> None:
        """Note a write committed by this process (called by the programme service)."""
        await self._advance(FeedState(self.state.epoch, seq, self.state.floor))

    async def catch_up(self) -> None:
        """Read where the feed stands now, without waiting for the watcher, and tell the listeners if it moved."""
        async with self.db.read() as conn:
            state = await store.feed_state(conn)
        await self._advance(state)

    async def _advance(self, state: FeedState) -> None:
        """Take ``state`` as the feed's if it is news: the one place the cursor moves.

        Writes in this process, the watcher (other processes' writes) and a rebuild that found a newer
        programme all come here. The sequence only moves forward, and the listeners hear each move once and in
        order, with the cursor they were told last, however many of those paths report the same write.
        """
        async with self._moving:
            current = self.state
            epoch = state.epoch or current.epoch
            if epoch == current.epoch and state.seq <= current.seq and state.floor == current.floor:
                return
            previous = self.cursor
            moved = state.seq > current.seq or epoch != current.epoch
            self.state = FeedState(
                epoch, max(state.seq, current.seq) if epoch == current.epoch else state.seq, state.floor
            )
            if moved:
                self._build_soon()
                await self._notify(previous)

    async def settled(self) -> None:
        """Wait for the encoding started after the last change (:meth:`_build_soon`) and the brotli form, if they
        are under way."""
        if self._eager is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._eager)
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    def _build_soon(self) -> None:
        """Encode the new programme now, not when the first phone asks: one build at a time, of the newest cursor
        (the workers share it through the build lock, so only one of them encodes)."""
        if self._eager is not None and not self._eager.done():
            return

        async def build() -> None:
            try:
                while self._cache is None or self._cache.seq < self.state.seq:
                    started = time.monotonic()
                    await self.programme()
                    # Writes in a burst (announcements, an organiser's many edits) would keep a core busy encoding
                    # programmes nobody asked for: rest as long as the build took before the next one.
                    await asyncio.sleep(time.monotonic() - started)
            except Exception:
                log.exception("could not encode the programme after a change; the next request will")

        self._eager = asyncio.get_running_loop().create_task(build())

    async def programme(self, revalidating: str | None = None) -> EncodedProgramme:
        """The programme at the current cursor, built at most once per cursor for every worker.

        Args:
            revalidating: The request's ``If-None-Match``. A copy newer than this worker knows (another worker
                served it) makes the worker read where the feed stands first, so it never answers a revalidation
                with an older programme than the one the client holds.
        """
        if revalidating and self._newer_copy(revalidating):
            await self.catch_up()
        cached = self._cache
        if cached is not None and cached.seq == self.state.seq:
            self._look_for_br(cached)
            return cached
        async with self._build_lock:
            cached = self._cache
            if cached is not None and cached.seq == self.state.seq:
                return cached
            built = await self._build()
            if self._cache is None or built.seq >= self._cache.seq:
                self._cache = built
        # Another process may have written since the watcher last looked: the watcher would then find the state
        # current and stay silent, so the build's state goes through the same door, or open apps would miss it.
        await self._advance(FeedState(self.state.epoch, built.seq, self.state.floor))
        return built

    def _look_for_br(self, programme: EncodedProgramme) -> None:
        """Pick up the brotli form another worker finished, looking at most every :data:`_BR_LOOK_SECONDS`."""
        if programme.body.has("br") or time.monotonic() - programme.br_checked < _BR_LOOK_SECONDS:
            return
        programme.br_checked = time.monotonic()

        async def look() -> None:
            data = await asyncio.to_thread(self.encoded.load_br, programme.cursor)
            if data is not None:
                programme.body.add("br", data)

        self._background(look())

    def _background(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _make_br(self, programme: EncodedProgramme) -> None:
        """Make the brotli form after the others were served: one worker, once per cursor, one at a time, and not
        for a programme already replaced by a newer one."""
        try:
            async with self._br_lock:
                if self._cache is not None and self._cache.seq > programme.seq:
                    return
                data = await asyncio.to_thread(_brotli, programme.body.identity)
            programme.body.add("br", data)
            await asyncio.to_thread(self.encoded.save_br, programme.cursor, data)
        except OSError as error:
            log.warning("could not keep the programme's brotli bytes in %s: %s", self.encoded.directory, error)

    async def at(self, cursor: str) -> Forms | None:
        """The bytes of the programme at ``cursor`` if they are still kept (the newest cursors' are) and were
        built under today's privacy floors: an older programme that still names a now anonymous speaker is not
        served."""
        try:
            wanted = Cursor.decode(cursor)
        except CursorError as error:
            raise Invalid(str(error), field="cursor") from None
        if wanted.epoch == self.state.epoch and wanted.seq > self.state.seq:
            # Another worker or node named this cursor before this one noticed the write: read where the feed
            # stands, so the cursor's bytes are built here rather than refused as gone.
            await self.catch_up()
        current = await self.programme()
        if current.cursor == cursor:
            return current.forms
        kept = await asyncio.to_thread(self.encoded.load, cursor)
        if kept is None or kept.privacy != current.forms.privacy:
            return None  # gone, or built before a speaker turned anonymous or a session off the record
        return kept

    async def today(self) -> date:
        """Today's date in the event's time zone, when it is one of the event's days.

        Raises:
            NotFound: There is no event, or today is not one of its days (the app then downloads the whole).
        """
        event = (await self.programme()).snapshot.get("event")
        if not event:
            raise NotFound("there is no event yet, so no day of it", field="cursor")
        today = self.clock().astimezone(_zone(event)).date()
        _check_event_day(event, today)
        return today

    async def day_part(self, cursor: str, day: date) -> bytes | None:
        """The app's form of the programme at ``cursor`` cut down to ``day`` (see :func:`day_document`), as gzip;
        None when that cursor's bytes are no longer kept (as :meth:`at`).

        Made from the cursor's app form once and kept in memory for the newest few ``(cursor, day)`` pairs: a
        thousand phones opening the app on the morning of a day cost one cut.

        Raises:
            NotFound: ``day`` is not one of the event's days at that cursor.
        """
        forms = await self.at(cursor)  # first: a cursor built under other privacy floors is not served, cut or not
        if forms is None:
            return None
        key = (cursor, day)
        async with self._day_lock:
            kept = self._day_parts.get(key)
            if kept is None:
                kept = await asyncio.to_thread(_cut_to_day, forms.app, day)
                self._day_parts[key] = kept
                while len(self._day_parts) > _DAY_PARTS_KEPT:
                    self._day_parts.popitem(last=False)
            else:
                self._day_parts.move_to_end(key)
        if isinstance(kept, str):
            raise NotFound(kept, field="day")
        return kept

    def _newer_copy(self, if_none_match: str) -> bool:
        """Whether ``if_none_match`` names a programme ETag of this database ahead of this worker's cursor."""
        prefix = f"p{REPRESENTATION_VERSION}-"
        for candidate in if_none_match.split(",")[:_MAX_ETAGS]:
            text = candidate.strip().removeprefix("W/").strip('"').removesuffix("-gzip").removesuffix("-br")
            if not text.startswith(prefix):
                continue
            try:
                cursor = Cursor.decode(text.removeprefix(prefix))
            except CursorError:
                continue
            if cursor.epoch == self.state.epoch and cursor.seq > self.state.seq:
                return True
        return False

    async def collection(self, key: str) -> bytes:
        """The JSON list of one collection (``sessions``, ``speakers``, …) in snapshot order."""
        encoded = await self.programme()
        return _encoder.encode(encoded.snapshot[key])

    async def changes(self, since: str, limit: int, at_least: str | None = None) -> Encoded:
        """The JSON of one page of changes after ``since``.

        With several workers, a client can hear of a write (a live poke, or a cursor from another worker)
        before this worker's watcher has noticed it. A ``since`` ahead of what this worker knows, or an
        ``at_least`` cursor (the one the poke carried) ahead of it, makes the worker read where the feed
        stands before answering, so it never answers "nothing new" about a change the client knows exists.

        Args:
            since: The client's cursor.
            limit: Most records in the page.
            at_least: A cursor the client knows the feed has reached (from a live poke), or None.

        Raises:
            Invalid: ``since`` or ``at_least`` is not a cursor, or ``limit`` is out of range.
            Gone: The cursor is too old or from another database; the client refetches the programme.
        """
        try:
            cursor = Cursor.decode(since)
        except CursorError as error:
            raise Invalid(str(error), field="since") from None
        known = cursor
        if at_least is not None:
            try:
                known = Cursor.decode(at_least)
            except CursorError as error:
                raise Invalid(str(error), field="atLeast") from None
        if not 1 <= limit <= MAX_CHANGES_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_CHANGES_LIMIT}", field="limit")
        if (
            cursor.epoch == self.state.epoch
            and known.epoch == cursor.epoch
            and max(cursor.seq, known.seq) > self.state.seq
        ):
            await self.catch_up()
        state = self.state
        if cursor.epoch == state.epoch and cursor.seq == state.seq and state.seq >= state.floor:
            current = self._up_to_date
            if current is None or current[0] != since:
                current = self._up_to_date = (
                    since,
                    Encoded(b'{"changes":[],"cursor":%s,"more":false}' % _encoder.encode(since)),
                )
            return current[1]
        key = (cursor.epoch, cursor.seq, limit)
        pages = self._pages
        if pages.seq == state.seq and key in pages.bodies:
            return pages.bodies[key]
        # Single flight: when the wifi comes back, hundreds of phones ask for the same page in the same
        # instant. The first request reads it; the others wait for that read instead of each starting one.
        flight = (state.seq, *key)
        task = self._reading.get(flight)
        if task is None:
            task = asyncio.create_task(self._read_page(cursor, limit, key), name="kumpul-change-page")
            self._reading[flight] = task
            task.add_done_callback(lambda done: self._flight_done(flight, done))
        return await asyncio.shield(task)

    def _flight_done(self, flight: tuple[int, str, int, int], task: asyncio.Task[Encoded]) -> None:
        if self._reading.get(flight) is task:
            del self._reading[flight]
        if not task.cancelled():
            task.exception()  # retrieved here too, in case every waiter was cancelled first

    async def _read_page(self, cursor: Cursor, limit: int, key: tuple[str, int, int]) -> Encoded:
        raw, seq = await self._read_changes(cursor, limit)
        body = Encoded(raw)
        pages = self._pages
        if seq != pages.seq:
            self._pages = pages = _PageCache(seq)
        if len(pages.bodies) < _PAGE_CACHE_SIZE:
            pages.bodies[key] = body
        return body

    async def _read_changes(self, cursor: Cursor, limit: int) -> tuple[bytes, int]:
        """One page from the database, and the sequence it is current at."""
        async with self.db.snapshot() as conn:
            state = await store.feed_state(conn)
            try:
                check_servable(cursor, epoch=state.epoch, seq=state.seq, floor=state.floor)
            except StaleCursorError as error:
                raise Gone(str(error), field="since") from None
            rows = await store.changes_since(conn, cursor.seq, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1].seq if more else state.seq
        records = [
            b'{"type":%s,"id":%s,"seq":%d,"deleted":%s,"data":%s}'
            % (
                _encoder.encode(row.kind),
                _encoder.encode(row.id),
                row.seq,
                b"false" if row.data is not None else b"true",
                row.data if row.data is not None else b"null",
            )
            for row in rows
        ]
        body = b'{"changes":[%s],"cursor":%s,"more":%s}' % (
            b",".join(records),
            _encoder.encode(Cursor(state.epoch, last).encode()),
            b"true" if more else b"false",
        )
        return body, state.seq

    async def purge_tombstones(self) -> int:
        """Drop tombstones older than the retention period."""
        cutoff = kumpul_now(-self.retention.total_seconds())
        async with self.db.write() as conn:
            purged = await store.purge_tombstones(conn, cutoff)
            state = await store.feed_state(conn)
        if self.state.epoch:
            await self._advance(state)
        if purged:
            log.info("purged %d tombstones; cursors before %d now get 410", purged, state.floor)
        return purged

    async def _build(self) -> EncodedProgramme:
        """The programme at the database's current cursor: read from the shared files, or built and written there.

        Only one process builds a cursor: the others wait on the build lock and then find its files.
        """
        async with self.db.read() as conn:
            state = await store.feed_state(conn)
        cursor = Cursor(state.epoch, state.seq).encode()
        forms = await asyncio.to_thread(self.encoded.load, cursor)
        if forms is not None:
            return EncodedProgramme(state.seq, cursor, forms)
        async with self.encoded.building():
            forms = await asyncio.to_thread(self.encoded.load, cursor)
            if forms is not None:
                return EncodedProgramme(state.seq, cursor, forms)
            async with self.db.snapshot() as conn:
                state = await store.feed_state(conn)
                rows = await store.all_entities(conn)
                privacy = _privacy_digest(await privacy_store.floors(conn))
            cursor = Cursor(state.epoch, state.seq).encode()
            event: dict[str, Any] | None = None
            entities: list[tuple[str, dict[str, Any]]] = []
            for kind, data in rows:
                if kind == "event":
                    event = _decoder.decode(data)
                else:
                    entities.append((kind, _decoder.decode(data)))
            snapshot = build_snapshot(cursor, event, entities)
            body = _encoder.encode(snapshot)
            # Brotli (three times gzip's CPU) is made after the lock is released: the first phones get gzip. The
            # two gzip forms are made at once (zlib releases the GIL).
            gz, app = await asyncio.gather(
                asyncio.to_thread(_gzip, body),
                asyncio.to_thread(lambda: _gzip(_encoder.encode(app_document(snapshot)))),
            )
            forms = Forms(body, None, gz, privacy, app)
            try:
                await asyncio.to_thread(self.encoded.save, cursor, forms)
            except OSError as error:  # a full disk must not stop the programme: it is served from memory
                log.warning("could not keep the programme's bytes in %s: %s", self.encoded.directory, error)
        built = EncodedProgramme(state.seq, cursor, forms, snapshot)
        self._background(self._make_br(built))
        return built

    async def _notify(self, previous: str) -> None:
        cursor = self.cursor
        for listener in list(self._listeners):
            try:
                await listener(previous, cursor)
            except Exception:
                log.exception("a programme-change listener failed")

    async def _watch(self) -> None:
        """Notice commits by other processes (and nodes) through the database's data_version."""
        last_version = await self.db.data_version()
        while True:
            raise_if_cancelled()
            await asyncio.sleep(self.poll_seconds)
            try:
                version = await self.db.data_version()
                if version == last_version:
                    continue
                last_version = version
                async with self.db.read() as conn:
                    state = await store.feed_state(conn)
            except Exception:
                log.exception("could not check the database for changes")
                continue
            await self._advance(state)
            for listener in list(self._commit_listeners):
                try:
                    await listener()
                except Exception:
                    log.exception("a commit listener failed")


#: Compression of the programme, chosen by measurement on the 1,000-session programme (2.4 MB of JSON; figures in
#: bench/results.md, "issue 15"): brotli quality 11 took 13 s of CPU for 459 KB, quality 6 0.35 s for 550 KB, and
#: 7 and above cost far more time per byte saved; gzip level 9 took 0.16 s for 605 KB, level 6 0.10 s for 609 KB.
PROGRAMME_BROTLI_QUALITY = 6
PROGRAMME_GZIP_LEVEL = 6


def _brotli(body: bytes) -> bytes:
    return brotli.compress(body, quality=PROGRAMME_BROTLI_QUALITY)


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=PROGRAMME_GZIP_LEVEL, mtime=0)


#: Fields of the programme document the app never reads (``grep -r pwa/src``; the console reads them from
#: ``/api/programme``, the exports from the database): left out of the app's download, ``/api/programme/at/{cursor}``.
#: Changes still carry whole entities, so an app may hold them after an edit; it ignores them.
APP_OMITS: dict[str, frozenset[str]] = {"sessions": frozenset({"guid", "tags", "capacity"})}


def app_document(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The programme document as the app downloads it: without :data:`APP_OMITS`."""
    slim = dict(snapshot)
    for key, omitted in APP_OMITS.items():
        slim[key] = [{name: value for name, value in item.items() if name not in omitted} for item in snapshot[key]]
    return slim


def _zone(event: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(event.get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _check_event_day(event: dict[str, Any] | None, day: date) -> None:
    """Raise NotFound unless ``day`` falls within the event's dates."""
    if not event:
        raise NotFound("there is no event yet, so no day of it", field="day")
    first, last = date.fromisoformat(event["startDate"]), date.fromisoformat(event["endDate"])
    if not first <= day <= last:
        raise NotFound(
            f"{day.isoformat()} is not one of the event's days ({first.isoformat()} to {last.isoformat()}); "
            "download the whole programme",
            field="day",
        )


def day_document(document: dict[str, Any], day: date) -> dict[str, Any]:
    """One day's part of the app's programme document: the event, every room, track and format, the sessions that
    start on ``day`` in the event's time zone, and only the speakers those sessions name.

    Raises:
        NotFound: ``day`` is not one of the event's days.
    """
    event = document.get("event")
    _check_event_day(event, day)
    assert event is not None
    zone = _zone(event)
    sessions = [
        session
        for session in document["sessions"]
        if datetime.fromisoformat(session["start"]).astimezone(zone).date() == day
    ]
    named = {speaker_id for session in sessions for speaker_id in session.get("speakerIds", ())}
    return {
        **document,
        "sessions": sessions,
        "speakers": [speaker for speaker in document["speakers"] if speaker["id"] in named],
    }


def _cut_to_day(app_gzip: bytes, day: date) -> bytes | str:
    """:func:`day_document` of a cursor's app form, as gzip; why not when ``day`` is not an event day."""
    document = _decoder.decode(gzip.decompress(app_gzip))
    try:
        part = day_document(document, day)
    except NotFound as error:
        return error.detail
    return _gzip(_encoder.encode(part))


def _privacy_digest(floors: dict[tuple[str, str], int]) -> bytes:
    """A digest of every privacy floor: equal digests, equally private programmes."""
    text = "\n".join(f"{kind}\t{entity_id}\t{level}" for (kind, entity_id), level in sorted(floors.items()))
    return hashlib.sha256(text.encode()).hexdigest().encode()


#: Quick forms for change pages, which are small and many.
_COMPRESSORS = {
    "gzip": lambda body: gzip.compress(body, compresslevel=6, mtime=0),
    "br": lambda body: brotli.compress(body, quality=6),
}
