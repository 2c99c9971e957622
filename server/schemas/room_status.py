"""Room status: what door staff say about a room (open, filling up, full, closed, an emergency message)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from server.schemas.base import Base, Id, Moment

RoomState = Literal["open", "filling", "full", "closed", "emergency"]
#: Most characters of a status message: a line on a phone's lock screen, not an announcement.
MAX_MESSAGE = 280
#: Longest a status set while nothing runs in the room may last, in minutes (a day at the venue).
MAX_MINUTES = 720
RoomMessage = Annotated[
    str,
    Meta(
        max_length=MAX_MESSAGE,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Plain text on one line, shown as written (never as markup); required for `emergency`.",
    ),
]


class RoomStatusSet(Base, kw_only=True):
    """What door staff send. The status lapses when the session running in the room ends; when nothing runs,
    after ``minutes`` (60 unless given)."""

    state: RoomState
    message: RoomMessage = ""
    minutes: Annotated[int, Meta(ge=5, le=MAX_MINUTES, description="Lasts this long when nothing runs")] | None = None


class RoomStatus(Base, kw_only=True):
    """A room's current status; apps stop showing it at ``until``."""

    room_id: Id
    state: RoomState
    message: str
    set_at: Moment
    until: Moment
