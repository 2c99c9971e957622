"""Private documents: one round trip merges what the device sends and returns what it lacks.

Merging CRDT documents costs time in proportion to their size, so it happens in a worker thread and outside the
database's write lock: a sync reads the stored states and their versions, merges them, then takes the lock only to
check that nothing it read has changed and to write (optimistic concurrency; a bounded number of retries when
another device of the same attendee got there first). One attendee's large documents therefore never make another
attendee's small write wait for the merge.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiosqlite

from server.errors import Invalid, PayloadTooLarge, TooManyRequests, Unauthorized
from server.services.ratelimit import Limit, RateLimiter
from server.storage import attendees as store
from server.storage.attendees import AttendeeRow, StoredDoc
from server.storage.db import Database
from server.storage.programme import feed_state
from sync import (
    PROFILE,
    CursorError,
    DocPatch,
    DocumentError,
    DocUpdate,
    SyncRequest,
    SyncResponse,
    check_doc_id,
    merge,
    missing_for,
    note_text_bytes,
    private_since,
)

MAX_NOTE_TEXT_BYTES = 100 * 1024
#: The whole stored state of a note (text, formatting, metadata, anything else a client puts in it).
MAX_NOTE_BYTES = 256 * 1024
MAX_PROFILE_BYTES = 512 * 1024
MAX_DOCUMENTS = 2000
#: What all of one attendee's documents may take together, unless the settings say otherwise.
DEFAULT_QUOTA_BYTES = 5 * 1024 * 1024
#: Documents changed elsewhere that one answer carries at most (more: the client asks again at once); at least one.
MAX_REPLY_BYTES = 1024 * 1024
#: How often a sync merges again when another device of the same attendee changed its documents meanwhile.
MERGE_ATTEMPTS = 5
SYNC_LIMIT = Limit("sync requests for one attendee", per_minute=120, burst=30)
#: A venue of 500 with the notes open polls every 4 s (7,500 a minute); a dozen syncs each may come at once.
SYNC_BY_ADDRESS = Limit("sync requests from one address", per_minute=7500, burst=6000)
_EMPTY_UPDATE = b"\x00\x00"


@dataclass(frozen=True, slots=True)
class _Merged:
    """One sent document after merging: its new state, whether to write it, and what the device lacks."""

    doc_id: str
    before: StoredDoc | None
    state: bytes
    write: bool
    missing: bytes


class PrivateSyncService:
    """Merges an attendee's CRDT documents and answers with what the device lacks."""

    def __init__(self, db: Database, limiter: RateLimiter, *, quota_bytes: int = DEFAULT_QUOTA_BYTES) -> None:
        self.db = db
        self.limiter = limiter
        self.quota_bytes = quota_bytes

    async def sync(self, attendee: AttendeeRow, request: SyncRequest, address: str) -> SyncResponse:
        """Merge the documents of ``request`` and return the client's missing parts.

        Raises:
            Invalid: An unknown document id, a document listed twice, undecodable bytes, bytes the CRDT core
                cannot apply, a bad cursor.
            PayloadTooLarge: A note over 100 KB of text or 256 KB of state, a profile over 512 KB, over 2,000
                documents, or over the attendee's storage quota.
            TooManyRequests: Too many syncs for this attendee, or from this address; or other devices of the
                attendee kept changing the same documents while this one merged.
            Unauthorized: The attendee was erased while the sync ran.
        """
        self.limiter.hit(SYNC_LIMIT, attendee.id)
        self.limiter.hit(SYNC_BY_ADDRESS, address)
        ids = [doc.id for doc in request.docs]
        for index, doc_id in enumerate(ids):
            try:
                check_doc_id(doc_id)
            except DocumentError as error:
                raise Invalid(str(error), field=f"docs[{index}].id") from None
        if len(set(ids)) != len(ids):
            raise Invalid("a document is listed twice in one request", field="docs")

        for _ in range(MERGE_ATTEMPTS):
            async with self.db.snapshot() as conn:
                epoch = (await feed_state(conn)).epoch
                seq = await store.doc_seq(conn, attendee.id)
                if seq is None:
                    raise _erased()
                stored = await store.get_docs(conn, attendee.id, ids)
            try:
                since, resend = private_since(request.cursor, epoch=epoch, seq=seq)
            except CursorError as error:
                raise Invalid(str(error), field="cursor") from None
            merged = await asyncio.to_thread(_merge_all, stored, request.docs)
            async with self.db.write() as conn:
                cursor = await self._commit(conn, attendee.id, stored, merged)
            if cursor is not None:
                break
        else:
            raise TooManyRequests(
                "another device of yours kept changing these documents while they were merged; sync again",
                retry_after=1,
            )

        replies = [DocPatch(item.doc_id, item.missing) for item in merged if item.missing != _EMPTY_UPDATE]
        changed, until = await self._changed_elsewhere(attendee.id, set(ids), since, cursor)
        replies += changed
        return SyncResponse(cursor=f"{epoch}.{until}", docs=replies, resend=resend, more=until < cursor)

    async def _changed_elsewhere(
        self, attendee_id: str, sent: set[str], since: int, cursor: int
    ) -> tuple[list[DocPatch], int]:
        """The documents not sent that changed in ``(since, cursor]``, oldest first, up to the reply budget.

        Returns:
            The documents, and the sequence they bring the client up to (``cursor`` when all of them fit).
        """
        async with self.db.snapshot() as conn:
            changed = await store.doc_sizes_changed_between(conn, attendee_id, since, cursor)
            chosen: list[str] = []
            total, until = 0, cursor
            for doc_id, seq, size in changed:
                if chosen and total + size > MAX_REPLY_BYTES:
                    until = seq - 1
                    break
                if doc_id not in sent:
                    chosen.append(doc_id)
                    total += size
            states = await store.get_docs(conn, attendee_id, chosen)
        return [DocPatch(doc_id, states[doc_id].state) for doc_id in chosen if doc_id in states], until

    async def _commit(
        self, conn: aiosqlite.Connection, attendee_id: str, stored: dict[str, StoredDoc], merged: list[_Merged]
    ) -> int | None:
        """Write the merged documents if none changed since they were read; the new sequence, or None to retry."""
        current = await store.doc_seq(conn, attendee_id)
        if current is None:
            raise _erased()
        if not merged:
            return current
        versions = await store.doc_versions(conn, attendee_id, [item.doc_id for item in merged])
        if versions != {doc_id: doc.seq for doc_id, doc in stored.items()}:
            return None
        writes = [item for item in merged if item.write]
        if not writes:
            return current
        added = sum(1 for item in writes if item.before is None)
        if added and await store.count_docs(conn, attendee_id) + added > MAX_DOCUMENTS:
            raise PayloadTooLarge(f"at most {MAX_DOCUMENTS} documents per attendee; this would exceed it")
        before = await store.stored_bytes(conn, attendee_id)
        after = before + sum(len(item.state) - (len(item.before.state) if item.before else 0) for item in writes)
        if after > self.quota_bytes and after > before:
            raise PayloadTooLarge(
                f"your documents would take {after:,} bytes, over your storage quota of {self.quota_bytes:,} bytes"
                f" ({_size(self.quota_bytes)}); they are kept on your device but not synced until some are smaller"
                " or deleted"
            )
        for item in writes:
            seq = await store.next_doc_seq(conn, attendee_id)
            if seq is None:
                raise _erased()
            await store.put_doc(conn, attendee_id, item.doc_id, item.state, seq)
            current = seq
        return current


def _erased() -> Unauthorized:
    return Unauthorized("this attendee was erased; its tokens no longer work")


def _merge_all(stored: dict[str, StoredDoc], docs: list[DocUpdate]) -> list[_Merged]:
    """Merge each sent document into its stored state and check the limits (CPU work: run it in a thread)."""
    merged = []
    for index, doc in enumerate(docs):
        before = stored.get(doc.id)
        try:
            state = merge(before.state if before else None, doc.update)
            write = state != (before.state if before else None) and (before is not None or bool(doc.update))
            if write:
                _check_size(doc.id, state, before.state if before else None)
            missing = missing_for(state, doc.state_vector)
        except DocumentError as error:
            raise Invalid(f"docs[{index}] ({doc.id}): {error}", field=f"docs[{index}]") from None
        merged.append(_Merged(doc.id, before, state, write, missing))
    return merged


def _check_size(doc_id: str, state: bytes, before: bytes | None) -> None:
    """Refuse a document over its limit, unless the change makes it smaller (a way back under the limit)."""
    if before is not None and len(state) < len(before):
        return
    if doc_id == PROFILE:
        if len(state) > MAX_PROFILE_BYTES:
            raise PayloadTooLarge(f"the profile document is over its limit of {_size(MAX_PROFILE_BYTES)}")
        return
    if len(state) > MAX_NOTE_BYTES:
        raise PayloadTooLarge(
            f"the note {doc_id} would take {len(state):,} bytes, over the limit of {_size(MAX_NOTE_BYTES)} per"
            " document; it is kept on your device but not synced until it is smaller"
        )
    if note_text_bytes(state) > MAX_NOTE_TEXT_BYTES:
        raise PayloadTooLarge(
            f"the note {doc_id} is over the limit of {MAX_NOTE_TEXT_BYTES // 1024} KB of text; it is kept on your"
            " device but not synced until it is shorter"
        )


def _size(limit: int) -> str:
    """A byte limit as people read it: ``256 KB``, ``5 MB``."""
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KB"
    return f"{limit:,} bytes"
