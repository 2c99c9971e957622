"""Room status, live: door staff set it, every open app hears it within moments, and it lapses by itself.

A status is stored (so an app opened later gets it with ``GET /api/room-status`` and on joining the live stream)
and published on the live stream as a ``room-status`` event carrying every current status. The worker that
stores a status publishes it at once; every other worker (and node) notices the new revision through the database's
``data_version`` within its poll interval and publishes it to its own streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from server.errors import Invalid, NotFound
from server.schemas.programme import Session
from server.schemas.room_status import RoomStatus, RoomStatusSet
from server.services.live import LiveEvent, LiveHub, raise_if_cancelled
from server.services.ratelimit import Limit, RateLimiter
from server.storage import history as history_store
from server.storage import programme as programme_store
from server.storage import room_status as store
from server.storage.db import Database

log = logging.getLogger(__name__)

ROOM_STATUS_EVENT = "room-status"
#: How long a status set while nothing runs in the room lasts unless the request says.
DEFAULT_MINUTES = 60
#: A volunteer at a door changes a room's status a few times an hour; this stops a stuck button or a script.
SET_LIMIT = Limit("room status changes by one organiser", per_minute=30, burst=20)

_session_decoder = msgspec.json.Decoder(Session)
_encoder = msgspec.json.Encoder()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _status(row: store.RoomStatusRow) -> RoomStatus:
    return RoomStatus(
        room_id=row.room_id,
        state=row.state,  # type: ignore[arg-type]
        message=row.message,
        set_at=datetime.fromisoformat(row.set_at),
        until=datetime.fromisoformat(row.until),
    )


class RoomStatusService:
    """Stores room statuses and publishes them to the live stream of every worker.

    Args:
        db: The database.
        live: This worker's live streams.
        limiter: The rate limiter.
        poll_seconds: How often to look for statuses other processes stored.
        clock: The current time (tests move it).
    """

    def __init__(
        self,
        db: Database,
        live: LiveHub,
        limiter: RateLimiter,
        *,
        poll_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.live = live
        self.limiter = limiter
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._rev = 0
        self._rows: list[store.RoomStatusRow] = []
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read the stored statuses and start watching for other processes' changes."""
        await self._reload()
        self._watcher = asyncio.create_task(self._watch(), name="kumpul-room-status-watcher")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    def current(self) -> list[RoomStatus]:
        """Every status that has not lapsed, by room id."""
        now = iso(self.clock())
        return [_status(row) for row in self._rows if row.until > now]

    def event(self) -> LiveEvent:
        """The live event that carries every current status (no event id: it is no programme cursor)."""
        return LiveEvent(ROOM_STATUS_EVENT, _encoder.encode({"rooms": self.current()}).decode(), "")

    async def set(self, room_id: str, data: RoomStatusSet, *, actor: str) -> RoomStatus:
        """Store a room's status and publish it.

        The status lapses when the session running in the room now ends; when nothing runs there, after
        ``data.minutes`` (an hour unless given).

        Raises:
            TooManyRequests: The organiser changed statuses too often.
            NotFound: No such room.
            Invalid: An emergency without a message.
        """
        await self.limiter.hit(SET_LIMIT, actor)
        message = data.message.strip()
        if data.state == "emergency" and not message:
            raise Invalid("an emergency status needs a message saying what to do", field="message")
        now = self.clock()
        async with self.db.write() as conn:
            if await programme_store.get_entity(conn, "room", room_id) is None:
                raise NotFound(f"no room with id {room_id!r}")
            running = [
                session
                for session in map(
                    _session_decoder.decode, await programme_store.sessions_referencing(conn, "roomId", room_id)
                )
                if session.status != "cancelled" and session.start <= now < session.end
            ]
            if running:
                until = max(session.end for session in running)
            else:
                until = now + timedelta(minutes=data.minutes or DEFAULT_MINUTES)
            row = await store.put(conn, room_id, data.state, message, iso(now), iso(until), actor)
            summary = f"{data.state}: {message}" if message else data.state
            await history_store.record(conn, actor, "status", "room", room_id, summary[:300])
        await self._reload()
        return _status(row)

    async def _reload(self) -> None:
        """Read every stored status; publish them when the revision moved."""
        async with self._lock:
            async with self.db.read() as conn:
                rev = await store.revision(conn)
                if rev == self._rev and self._rows:
                    return
                rows = await store.current(conn, iso(self.clock() - timedelta(minutes=1)))
            moved = rev != self._rev
            self._rev = rev
            self._rows = rows
            if moved and self.live.connections:
                self.live.publish(self.event())

    async def _watch(self) -> None:
        """Notice statuses other processes and nodes stored, through the database's ``data_version``."""
        last_version = await self.db.data_version()
        while True:
            raise_if_cancelled()
            await asyncio.sleep(self.poll_seconds)
            try:
                version = await self.db.data_version()
                if version == last_version:
                    continue
                last_version = version
                await self._reload()
            except Exception:
                log.exception("could not check the database for room statuses")
