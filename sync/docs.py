"""Private documents: Yjs/Yrs CRDT documents synced in one round trip per ``POST /api/me/sync``.

An attendee's bookmarks, ratings, read state and preferences live in the document ``profile``;
each note in ``note:<uuid>`` (title in the Y.Text ``title``, text in the Y.Text ``body``). Merges
are CRDT merges, so applying the same update twice, or updates in any order, gives the same state.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from pycrdt import Doc, Map, Text

from sync.cursor import Cursor
from sync.errors import DocumentError
from sync.vault import KeyId, KeyUpdate, LogPatch, LogUpdate

PROFILE = "profile"
NOTE_PREFIX = "note:"
#: A cursor of a client from before the epoch was added to private cursors: the sequence alone.
_OLD_CURSOR = re.compile(r"^[0-9]{1,18}$")
_NOTE_ID = re.compile(r"^note:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class DocUpdate(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=False):
    """What a client sends for one document it changed.

    Attributes:
        id: ``profile`` or ``note:<uuid>``.
        state_vector: The client's Yjs state vector of the document (standard base64 in JSON).
        update: A Yjs update with what the client has that the server may lack (may be empty).
    """

    id: str
    state_vector: bytes = b""
    update: bytes = b""


class SyncRequest(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=False):
    """``POST /api/me/sync``: the cursor of the last response (null the first time) and changed documents.

    Attributes:
        cursor: The cursor of the last response; None on the first sync.
        docs: Changed plaintext documents (the profile).
        key_id: The newest notebook key id this device holds (0: none).
        logs: Changed encrypted documents (notes, the private agenda), see :mod:`sync.vault`.
    """

    cursor: str | None = None
    docs: list[DocUpdate] = []
    key_id: KeyId = 0
    logs: list[LogUpdate] = []


class DocPatch(msgspec.Struct, frozen=True, rename="camel"):
    """One document's update for the client: apply it with ``Y.applyUpdate``."""

    id: str
    update: bytes


class SyncResponse(msgspec.Struct, frozen=True, rename="camel"):
    """What the client lacks, and the cursor to send next time.

    Attributes:
        cursor: Send it with the next request (``<epoch>.<seq>``).
        docs: What the client lacks.
        resend: The server's documents do not continue the history the client's cursor names (a restored or
            recreated database): the client sends every document it holds, whole, in its next requests.
        more: More documents changed than one answer carries: the client syncs again at once with ``cursor``.
        logs: Entries of encrypted documents the client lacks.
        key_id: The attendee's current notebook key id (0: none yet).
        key: The current notebook key for this device, when the request named an older one.
    """

    cursor: str
    docs: list[DocPatch]
    resend: bool = False
    more: bool = False
    logs: list[LogPatch] = []
    key_id: int = 0
    key: KeyUpdate | None = None


def check_doc_id(doc_id: str) -> None:
    """Check that ``doc_id`` names a document kind the protocol knows.

    Raises:
        DocumentError: Any other id.
    """
    if doc_id == PROFILE or _NOTE_ID.match(doc_id):
        return
    raise DocumentError(f"unknown document id {doc_id[:80]!r}: expected 'profile' or 'note:<uuid>'")


def new_note_id() -> str:
    """A fresh note document id."""
    return f"{NOTE_PREFIX}{uuid.uuid4()}"


@contextmanager
def _crdt_core(what: str) -> Iterator[None]:
    """Turn what the CRDT core raises on bad bytes into :class:`DocumentError` saying ``what`` was wrong.

    pycrdt raises plain exceptions for undecodable bytes; bytes that decode but contradict the document can make
    the Rust core panic, which arrives as ``pyo3_runtime.PanicException``, a ``BaseException``. Other
    ``BaseException``s (cancellation, interrupts) pass through untouched.
    """
    try:
        yield
    except DocumentError:
        raise
    except Exception as error:
        raise DocumentError(f"{what}: {error}") from None
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        raise DocumentError(f"{what}: the CRDT core cannot apply it ({error})") from None


def _load(state: bytes | None) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    if state:
        with _crdt_core("the stored state cannot be read"):
            doc.apply_update(state)
    return doc


def merge(state: bytes | None, update: bytes) -> bytes:
    """The stored state after applying a client's update, as one compacted Yjs update.

    Raises:
        DocumentError: The update is not a Yjs update, or one the CRDT core cannot apply to ``state``.
    """
    doc = _load(state)
    with _crdt_core("not a Yjs update"):
        if update:
            doc.apply_update(update)
        merged: bytes = doc.get_update()
    return merged


def missing_for(state: bytes, state_vector: bytes) -> bytes:
    """What a client whose state vector is ``state_vector`` lacks of ``state``.

    Raises:
        DocumentError: The state vector cannot be decoded.
    """
    doc = _load(state)
    with _crdt_core("not a Yjs state vector"):
        diff: bytes = doc.get_update(state_vector) if state_vector else doc.get_update()
    return diff


def note_text_bytes(state: bytes) -> int:
    """UTF-8 size of a note's title and body, the measure of the note size limit.

    Raises:
        DocumentError: ``title`` or ``body`` is not a Y.Text.
    """
    doc = _load(state)
    with _crdt_core("not a note"):
        title = doc.get("title", type=Text)
        body = doc.get("body", type=Text)
        return len(str(title).encode()) + len(str(body).encode())


def bookmarked(profile_state: bytes) -> set[str]:
    """Session ids bookmarked in a ``profile`` document's Y.Map ``bookmarks`` (truthy values)."""
    doc = _load(profile_state)
    bookmarks = doc.get("bookmarks", type=Map)
    return {session_id for session_id, value in bookmarks.items() if value}


def private_since(cursor: str | None, *, epoch: str, seq: int) -> tuple[int, bool]:
    """Where a private sync starts, from the cursor a client sent.

    A cursor is ``<epoch>.<seq>`` (see :class:`sync.Cursor`): the database's epoch and the attendee's document
    sequence. Clients from before the epoch was added send the sequence alone, which is still accepted.

    Args:
        cursor: What the client sent; None on its first sync.
        epoch: The current database's epoch.
        seq: The attendee's newest document sequence.

    Returns:
        The sequence after which changed documents are sent, and whether the client must send every document it
        holds: its cursor comes from another history (a restored or recreated database, or a sequence this
        server never reached), so the server may lack what the client had already synced.

    Raises:
        CursorError: ``cursor`` is not a cursor.
    """
    if cursor is None:
        return 0, False
    if _OLD_CURSOR.match(cursor):
        since = int(cursor)
        return (since, False) if since <= seq else (0, True)
    held = Cursor.decode(cursor)
    if held.epoch != epoch or held.seq > seq:
        return 0, True
    return held.seq, False
