"""Kumpul's sync protocols as plain Python: no web framework, no database driver.

The programme feed (one writer, many readers) is in :mod:`sync.feed` and :mod:`sync.cursor`;
private CRDT documents (many writers: one attendee's devices) in :mod:`sync.docs`, and the encrypted ones in
:mod:`sync.vault`.
"""

from sync.cursor import Cursor, check_servable
from sync.docs import (
    PROFILE,
    DocPatch,
    DocUpdate,
    SyncRequest,
    SyncResponse,
    bookmarked,
    check_doc_id,
    merge,
    missing_for,
    new_note_id,
    note_text_bytes,
    private_since,
)
from sync.errors import ChangeError, CursorError, DocumentError, StaleCursorError, SyncError
from sync.feed import COLLECTIONS, KINDS, Change, ChangesPage, apply_changes, build_snapshot, sort_collection
from sync.vault import (
    AGENDA,
    KeyUpdate,
    LogEntry,
    LogPatch,
    LogUpdate,
    Snapshot,
    check_log_id,
    check_log_update,
    frame_key_id,
    frames_of,
    is_encrypted_kind,
)

__all__ = [
    "AGENDA",
    "COLLECTIONS",
    "KINDS",
    "PROFILE",
    "Change",
    "ChangeError",
    "ChangesPage",
    "Cursor",
    "CursorError",
    "DocPatch",
    "DocUpdate",
    "DocumentError",
    "KeyUpdate",
    "LogEntry",
    "LogPatch",
    "LogUpdate",
    "Snapshot",
    "StaleCursorError",
    "SyncError",
    "SyncRequest",
    "SyncResponse",
    "apply_changes",
    "bookmarked",
    "build_snapshot",
    "check_doc_id",
    "check_log_id",
    "check_log_update",
    "check_servable",
    "frame_key_id",
    "frames_of",
    "is_encrypted_kind",
    "merge",
    "missing_for",
    "new_note_id",
    "note_text_bytes",
    "private_since",
    "sort_collection",
]
