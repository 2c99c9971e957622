"""Private documents: Yjs/Yrs CRDT documents synced in one round trip per ``POST /api/me/sync``.

An attendee's bookmarks, ratings, read state and preferences live in the document ``profile``;
each note in ``note:<uuid>`` (title in the Y.Text ``title``, text in the Y.Text ``body``). Merges
are CRDT merges, so applying the same update twice, or updates in any order, gives the same state.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from pycrdt import Doc, Map, Text

from sync.errors import DocumentError

PROFILE = "profile"
NOTE_PREFIX = "note:"
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
    """``POST /api/me/sync``: the cursor of the last response (null the first time) and changed documents."""

    cursor: str | None = None
    docs: list[DocUpdate] = []


class DocPatch(msgspec.Struct, frozen=True, rename="camel"):
    """One document's update for the client: apply it with ``Y.applyUpdate``."""

    id: str
    update: bytes


class SyncResponse(msgspec.Struct, frozen=True, rename="camel"):
    """What the client lacks, and the cursor to send next time."""

    cursor: str
    docs: list[DocPatch]


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


def _load(state: bytes | None) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    if state:
        doc.apply_update(state)
    return doc


def merge(state: bytes | None, update: bytes) -> bytes:
    """The stored state after applying a client's update, as one compacted Yjs update.

    Raises:
        DocumentError: The update is not a Yjs update.
    """
    doc = _load(state)
    if update:
        try:
            doc.apply_update(update)
        except Exception as error:  # pycrdt raises plain exceptions for undecodable bytes
            raise DocumentError(f"not a Yjs update: {error}") from None
    merged: bytes = doc.get_update()
    return merged


def missing_for(state: bytes, state_vector: bytes) -> bytes:
    """What a client whose state vector is ``state_vector`` lacks of ``state``.

    Raises:
        DocumentError: The state vector cannot be decoded.
    """
    doc = _load(state)
    try:
        diff: bytes = doc.get_update(state_vector) if state_vector else doc.get_update()
    except Exception as error:  # pycrdt raises plain exceptions for undecodable bytes
        raise DocumentError(f"not a Yjs state vector: {error}") from None
    return diff


def note_text_bytes(state: bytes) -> int:
    """UTF-8 size of a note's title and body, the measure of the note size limit."""
    doc = _load(state)
    title = doc.get("title", type=Text)
    body = doc.get("body", type=Text)
    return len(str(title).encode()) + len(str(body).encode())


def bookmarked(profile_state: bytes) -> set[str]:
    """Session ids bookmarked in a ``profile`` document's Y.Map ``bookmarks`` (truthy values)."""
    doc = _load(profile_state)
    bookmarks = doc.get("bookmarks", type=Map)
    return {session_id for session_id, value in bookmarks.items() if value}
