"""Live events for open apps: announcements and programme pokes, fanned out to SSE connections."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import msgspec

from server.storage import programme as programme_store
from server.storage.db import Database
from sync import Cursor

log = logging.getLogger(__name__)

QUEUE_SIZE = 256


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
    """

    def __init__(self, db: Database, seen: int) -> None:
        self.db = db
        self._queues: set[asyncio.Queue[LiveEvent | None]] = set()
        self._seen = seen
        self._publishing = asyncio.Lock()
        self._closed = False

    @property
    def connections(self) -> int:
        return len(self._queues)

    def connect(self) -> asyncio.Queue[LiveEvent | None]:
        queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(QUEUE_SIZE)
        if self._closed:
            queue.put_nowait(None)  # shutting down: the stream ends at once, the app reconnects elsewhere
        else:
            self._queues.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue[LiveEvent | None]) -> None:
        self._queues.discard(queue)

    def publish(self, event: LiveEvent) -> None:
        """Queue ``event`` for every connection; one too slow to keep up is closed (it reconnects)."""
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def close_all(self) -> None:
        """End every open stream, and any opened from now on: the server is stopping."""
        self._closed = True
        for queue in list(self._queues):
            self._queues.discard(queue)
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    async def events_since(self, cursor: Cursor, current: str) -> list[LiveEvent]:
        """Announcements published or retracted after ``cursor``, then a poke with the current cursor."""
        events: list[LiveEvent] = []
        async with self.db.read() as conn:
            changes = await programme_store.changes_since(conn, cursor.seq, 1000)
        for change in changes:
            if change.kind != "announcement":
                continue
            event_id = Cursor(cursor.epoch, change.seq).encode()
            if change.data is None:
                events.append(LiveEvent("retracted", msgspec.json.encode({"id": change.id}).decode(), event_id))
            else:
                events.append(LiveEvent("announcement", change.data.decode(), event_id))
        events.append(LiveEvent("programme", msgspec.json.encode({"cursor": current}).decode(), current))
        return events

    async def programme_changed(self, cursor: str) -> None:
        """Feed listener: publish what changed since the last call, in order and once.

        With several workers the feed can learn of one write on two paths (its watcher, and a rebuild that
        found a newer programme); the lock and the ``_seen`` mark keep events in sequence and unrepeated.
        """
        current = Cursor.decode(cursor)
        async with self._publishing:
            if current.seq <= self._seen:
                return
            since = Cursor(current.epoch, self._seen)
            self._seen = current.seq
            if not self._queues:
                return
            for event in await self.events_since(since, cursor):
                self.publish(event)
