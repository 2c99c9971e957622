"""Encrypted documents: per-document logs of frames the server stores and relays but cannot read.

Notes (``note:<uuid>``) and, when the attendee turns the server's agenda features off, the agenda (``agenda``)
are Yjs documents encrypted on the device under the attendee's notebook key (AES-GCM). The server keeps each as
an ordered log of **frames**, numbered by per-document **versions**; a device may replace a prefix of the log by
one compacted **snapshot**. See ``sync/PROTOCOL.md`` section 3.

A frame is ``format (1 byte) || key id (4 bytes, big-endian) || nonce (12 bytes) || ciphertext and tag``. The
server checks only this framing and the key id: the content is opaque to it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sync.errors import DocumentError

FRAME_FORMAT = 1
_HEADER = 1 + 4 + 12
_TAG = 16
#: The smallest frame: a header and the tag of an empty plaintext.
MIN_FRAME_BYTES = _HEADER + _TAG
AGENDA = "agenda"
_NOTE_ID = re.compile(r"^note:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: Versions and key ids stay within what a JSON number carries exactly everywhere.
MAX_NUMBER = 2**53 - 1
Version = Annotated[int, Meta(ge=0, le=MAX_NUMBER)]
KeyId = Annotated[int, Meta(ge=0, le=2**31 - 1)]


class Snapshot(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=False):
    """A compaction of a log: ``frame`` stands for every entry up to version ``up_to``."""

    up_to: Version
    frame: bytes


class LogUpdate(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=False):
    """What a device sends for one encrypted document.

    Attributes:
        id: ``note:<uuid>`` or ``agenda``.
        since: The highest version of the document the device has applied (0: none).
        append: Frames to add after the log's last entry, in order.
        snapshot: A compaction of every entry up to ``snapshot.up_to`` (at most ``since``).
    """

    id: str
    since: Version = 0
    append: list[bytes] = []
    snapshot: Snapshot | None = None


class LogEntry(msgspec.Struct, frozen=True, rename="camel"):
    """One stored frame of a document's log."""

    version: int
    kind: Literal["update", "snapshot"]
    frame: bytes


class LogPatch(msgspec.Struct, frozen=True, rename="camel"):
    """Entries of one log the device lacks, oldest first; ``version``: the last version they bring it to."""

    id: str
    version: int
    entries: list[LogEntry]


class KeyUpdate(msgspec.Struct, frozen=True, rename="camel"):
    """The attendee's current notebook key for a device behind it: wrapped for this device, and the keyring."""

    id: int
    wrapped: bytes | None
    keyring: bytes | None


def check_log_id(doc_id: str) -> None:
    """Check that ``doc_id`` names an encrypted document kind.

    Raises:
        DocumentError: Any other id.
    """
    if doc_id == AGENDA or _NOTE_ID.match(doc_id):
        return
    raise DocumentError(f"unknown encrypted document id {doc_id[:80]!r}: expected 'note:<uuid>' or 'agenda'")


def is_encrypted_kind(doc_id: str) -> bool:
    """Whether documents with this id are end-to-end encrypted (never accepted in plaintext)."""
    return doc_id.startswith("note:") or doc_id == AGENDA


def frame_key_id(frame: bytes) -> int:
    """The notebook key id a frame was encrypted under.

    Raises:
        DocumentError: The bytes are not a frame of a known format.
    """
    if len(frame) < MIN_FRAME_BYTES:
        raise DocumentError(f"a frame has at least {MIN_FRAME_BYTES} bytes; this one has {len(frame)}")
    if frame[0] != FRAME_FORMAT:
        raise DocumentError(f"unknown frame format {frame[0]}; this server knows format {FRAME_FORMAT}")
    key_id = int.from_bytes(frame[1:5], "big")
    if key_id < 1:
        raise DocumentError("a frame names key id 0; notebook keys are numbered from 1")
    return key_id


def check_log_update(log: LogUpdate) -> None:
    """Check a device's log update on its own (ids, versions, framing), before anything is read or written.

    Raises:
        DocumentError: What is wrong, in words.
    """
    check_log_id(log.id)
    if not 0 <= log.since <= MAX_NUMBER:
        raise DocumentError(f"since must be between 0 and {MAX_NUMBER}")
    for index, frame in enumerate(log.append):
        try:
            frame_key_id(frame)
        except DocumentError as error:
            raise DocumentError(f"append[{index}]: {error}") from None
    if log.snapshot is not None:
        if not 1 <= log.snapshot.up_to <= log.since:
            raise DocumentError(
                f"snapshot.upTo ({log.snapshot.up_to}) must be between 1 and since ({log.since}): a device compacts"
                " only what it has"
            )
        try:
            frame_key_id(log.snapshot.frame)
        except DocumentError as error:
            raise DocumentError(f"snapshot: {error}") from None


def frames_of(log: LogUpdate) -> list[bytes]:
    """Every frame a log update would store."""
    return [*log.append, *([log.snapshot.frame] if log.snapshot is not None else [])]
