"""Live events for open apps: announcements and programme pokes, fanned out to SSE connections."""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import msgspec

from server.errors import TooManyRequests
from server.storage import programme as programme_store
from server.storage import venue as venue_store
from server.storage.db import Database
from sync import Cursor

if TYPE_CHECKING:
    from litestar.types import Scope

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
LIVE_PATH = "/api/live"
#: The scope key under which a live request's places are kept until the request ends.
_PLACES = "kumpul.live_places"
#: Streams one address may hold open in one worker: a venue of 500 behind one NAT, each with a phone and a laptop
#: open, and room to spare for reconnects that overlap the streams they replace (``Settings.live_max_per_address``).
MAX_PER_ADDRESS = 1500
#: File descriptors kept free for everything else a worker does (the listening socket, SQLite files, push
#: connections, ordinary requests): a quarter of the limit, and never fewer than this.
MIN_HEADROOM = 256
#: No more streams than this in one worker, however high the descriptor limit: each is also one of the requests
#: granian lets a worker hold at once (``MAX_OPEN_REQUESTS_PER_WORKER`` in :mod:`server.serving`, 20,000), and the
#: rest stay for the requests that come and go.
MAX_TOTAL_CEILING = 16_000
#: Announcement events replayed to a resuming app at most (the newest programme poke always follows them).
_MAX_BACKLOG = 1000
#: Distinct resume points whose backlog is kept while the cursor stands still.
_BACKLOG_CACHE_SIZE = 64
#: What a refused client is told to wait, in seconds, before it opens a stream again.
RETRY_AFTER_SECONDS = 30


def default_max_total() -> int:
    """How many streams a worker holds open by default: its file-descriptor limit less headroom.

    Read when the app is built, after :mod:`server.serving` has raised the soft limit to the hard one.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_TOTAL_CEILING
    headroom = max(MIN_HEADROOM, soft // 4)
    return max(1, min(MAX_TOTAL_CEILING, soft - headroom))


def raise_if_cancelled() -> None:
    """Raise the cancellation of the running task if one was asked for and then lost.

    A background loop calls this after its round's reads and writes, before it waits. On Python 3.11,
    ``asyncio.wait_for`` (which psycopg's pool waits for a connection with) returns its result when that arrives
    together with a cancellation, and drops the cancellation: the loop would run on after ``stop()``, and the server
    would never stop. The task's count of pending cancellations still says it was asked to stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def live_places(scope: Scope) -> list[Connection]:
    """The streams a request holds (none, or the one it opened): the app gives them back when the request ends."""
    extra = cast(dict[str, Any], scope)
    places: list[Connection] = extra.setdefault(_PLACES, [])
    return places


class LiveFull(TooManyRequests):
    """Every live stream this worker may hold is open: 503, with ``Retry-After``."""

    status_code = 503


@dataclass(eq=False, slots=True)
class Connection:
    """One open stream: its queue of events, and the address it counts against."""

    address: str
    queue: asyncio.Queue[LiveEvent | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One Server-Sent Event: ``id`` is the programme cursor it brings the client to."""

    event: str
    data: str
    id: str


class LiveHub:
    """Every open ``/api/live`` connection has a queue; events go to all of them.

    Programme changes arrive through :meth:`programme_changed` (a feed listener), whichever
    process made them, so announcements posted from the command line reach open apps too.

    Each stream holds a socket, so open streams are capped per address and in total: past the caps a client is
    refused at once (429 or 503 with ``Retry-After``) and the worker keeps descriptors for everything else.

    Args:
        db: The database.
        max_per_address: Streams one address may hold open (``KUMPUL_LIVE_MAX_PER_ADDRESS``).
        max_total: Streams this worker holds open at most (``KUMPUL_LIVE_MAX_TOTAL``); None derives it from the
            file-descriptor limit (:func:`default_max_total`).
    """

    def __init__(self, db: Database, *, max_per_address: int = MAX_PER_ADDRESS, max_total: int | None = None) -> None:
        self.db = db
        self.max_per_address = max_per_address
        self.max_total = default_max_total() if max_total is None else max_total
        self._connections: set[Connection] = set()
        self._per_address: dict[str, int] = {}
        self._closed = False
        self._backlogs: dict[tuple[str, int, str], asyncio.Future[list[LiveEvent]]] = {}
        self._backlogs_at = ""
        self._pages_revision: str | None = None

    @property
    def connections(self) -> int:
        return len(self._connections)

    def connect(self, address: str) -> Connection:
        """Open a stream for a client at ``address`` (its rate-limit key).

        Raises:
            TooManyRequests: The address holds ``max_per_address`` streams already (429).
            LiveFull: The worker holds ``max_total`` streams already (503).
        """
        connection = Connection(address)
        if self._closed:
            connection.queue.put_nowait(None)  # shutting down: the stream ends at once, the app reconnects elsewhere
            return connection
        held = self._per_address.get(address, 0)
        if held >= self.max_per_address:
            raise TooManyRequests(
                f"too many live streams from one address: at most {self.max_per_address} at once;"
                f" try again in {RETRY_AFTER_SECONDS} s",
                retry_after=RETRY_AFTER_SECONDS,
            )
        if len(self._connections) >= self.max_total:
            log.warning("live streams: all %d open; refusing more", self.max_total)
            raise LiveFull(
                f"the server holds as many live streams as it can ({self.max_total}); the programme and"
                f" everything else still answer; try again in {RETRY_AFTER_SECONDS} s",
                retry_after=RETRY_AFTER_SECONDS,
            )
        self._connections.add(connection)
        self._per_address[address] = held + 1
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Close a stream's slot; calling it again for the same stream does nothing."""
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        left = self._per_address.get(connection.address, 1) - 1
        if left > 0:
            self._per_address[connection.address] = left
        else:
            self._per_address.pop(connection.address, None)

    def publish(self, event: LiveEvent) -> None:
        """Queue ``event`` for every connection; one too slow to keep up is closed (it reconnects)."""
        for connection in list(self._connections):
            try:
                connection.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.disconnect(connection)
                connection.queue.get_nowait()
                connection.queue.put_nowait(None)

    def close_all(self) -> None:
        """End every open stream, and any opened from now on: the server is stopping."""
        self._closed = True
        for connection in list(self._connections):
            self.disconnect(connection)
            if connection.queue.full():
                connection.queue.get_nowait()
            connection.queue.put_nowait(None)

    async def events_since(self, cursor: Cursor, current: str) -> list[LiveEvent]:
        """Announcements published or retracted after ``cursor``, then a poke with the current cursor.

        Only announcement rows are read (not every change since, which after an import is the whole programme),
        and apps resuming from the same event id at the same cursor share one read: after an import, a thousand
        apps reconnect with the same old ``Last-Event-ID`` at once.
        """
        key = (cursor.epoch, cursor.seq, current)
        if self._backlogs_at != current:
            self._backlogs_at = current
            self._backlogs.clear()
        backlog = self._backlogs.get(key)
        if backlog is None:
            backlog = asyncio.ensure_future(self._read_backlog(cursor, current))
            if len(self._backlogs) < _BACKLOG_CACHE_SIZE:
                self._backlogs[key] = backlog
        try:
            return list(await asyncio.shield(backlog))
        except BaseException:
            if self._backlogs.get(key) is backlog and backlog.done():
                del self._backlogs[key]
            raise

    async def _read_backlog(self, cursor: Cursor, current: str) -> list[LiveEvent]:
        events: list[LiveEvent] = []
        async with self.db.read() as conn:
            changes = await programme_store.changes_of_kind_since(conn, "announcement", cursor.seq, _MAX_BACKLOG)
        for change in changes:
            event_id = Cursor(cursor.epoch, change.seq).encode()
            if change.data is None:
                events.append(LiveEvent("retracted", msgspec.json.encode({"id": change.id}).decode(), event_id))
            else:
                events.append(LiveEvent("announcement", change.data.decode(), event_id))
        events.append(LiveEvent("programme", msgspec.json.encode({"cursor": current}).decode(), current))
        return events

    async def pages_maybe_changed(self) -> None:
        """Publish an ``info`` event (open apps read the Info pages again) if the pages changed since last seen.

        Called after this process writes a page, and whenever another process commits anything (the feed's
        watcher): the pages' revision is read, so other commits publish nothing. The event has no id: it moves
        no programme cursor, and an app that reconnects reads the pages again anyway.
        """
        async with self.db.read() as conn:
            revision = await venue_store.pages_revision(conn)
        seen, self._pages_revision = self._pages_revision, revision
        if seen is not None and seen != revision and self._connections:
            self.publish(LiveEvent("info", "{}", ""))

    async def programme_changed(self, previous: str, current: str) -> None:
        """Feed listener: publish what changed between ``previous`` and ``current``.

        The feed owns the cursor and calls this once per move, in order (:meth:`FeedService._advance`).
        """
        if not self._connections:
            return
        for event in await self.events_since(Cursor.decode(previous), current):
            self.publish(event)
