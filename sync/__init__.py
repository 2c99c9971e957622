"""Kumpul's sync protocols as plain Python: no web framework, no database driver.

The programme feed (one writer, many readers) is in :mod:`sync.feed` and :mod:`sync.cursor`.
"""

from sync.cursor import Cursor, check_servable
from sync.errors import ChangeError, CursorError, StaleCursorError, SyncError
from sync.feed import COLLECTIONS, KINDS, Change, ChangesPage, apply_changes, build_snapshot, sort_collection

__all__ = [
    "COLLECTIONS",
    "KINDS",
    "Change",
    "ChangeError",
    "ChangesPage",
    "Cursor",
    "CursorError",
    "StaleCursorError",
    "SyncError",
    "apply_changes",
    "build_snapshot",
    "check_servable",
    "sort_collection",
]
