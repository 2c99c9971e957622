"""Programme feed cursors: opaque strings that name a database and a position in its changes."""

from __future__ import annotations

import re

import msgspec

from sync.errors import CursorError, StaleCursorError

_CURSOR = re.compile(r"^([0-9a-f]{12})\.(0|[1-9][0-9]{0,17})$")


class Cursor(msgspec.Struct, frozen=True):
    """A position in one database's change sequence.

    Attributes:
        epoch: Random identity of the database; a restored or recreated database has another one.
        seq: The last change sequence the holder has seen.
    """

    epoch: str
    seq: int

    def encode(self) -> str:
        """The cursor as clients see it, for example ``3f2a9c0d11ab.42``."""
        return f"{self.epoch}.{self.seq}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse a cursor string.

        Raises:
            CursorError: ``text`` is not a cursor.
        """
        match = _CURSOR.match(text)
        if match is None:
            raise CursorError(f"malformed cursor {text[:40]!r}: expected the `cursor` value of a previous response")
        return cls(match.group(1), int(match.group(2)))


def check_servable(cursor: Cursor, *, epoch: str, seq: int, floor: int) -> None:
    """Check that the feed can bring ``cursor`` up to date.

    Args:
        cursor: What the client holds.
        epoch: The current database's epoch.
        seq: The newest change sequence.
        floor: The highest sequence of a purged tombstone.

    Raises:
        StaleCursorError: The client must refetch the whole programme.
    """
    if cursor.epoch != epoch:
        raise StaleCursorError("the cursor belongs to another copy of the programme; fetch /api/programme again")
    if cursor.seq > seq:
        raise StaleCursorError("the cursor is ahead of this server; fetch /api/programme again")
    if cursor.seq < floor:
        raise StaleCursorError("the cursor is older than the deletions this server keeps; fetch /api/programme again")
