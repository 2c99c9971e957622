"""Errors raised by the sync protocol.

Hierarchy::

    SyncError
    ├── CursorError          a cursor string that is not a cursor (client bug: 400)
    ├── StaleCursorError     a real cursor the feed can no longer serve (client refetches: 410)
    ├── ChangeError          a change record that cannot be applied to a snapshot
    └── DocumentError        a private document id, update or state vector that is not valid
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the sync protocol raises."""


class CursorError(SyncError, ValueError):
    """The cursor is malformed."""


class StaleCursorError(SyncError):
    """The cursor is older than the kept tombstones, or belongs to another database."""


class ChangeError(SyncError, ValueError):
    """A change record names an unknown kind or lacks the data an upsert needs."""


class DocumentError(SyncError, ValueError):
    """A document id, Yjs update or state vector that the protocol cannot accept."""
