"""Private documents: one round trip merges what the device sends and returns what it lacks."""

from __future__ import annotations

from server.errors import Invalid, PayloadTooLarge
from server.services.ratelimit import Limit, RateLimiter
from server.storage import attendees as store
from server.storage.attendees import AttendeeRow
from server.storage.db import Database
from sync import (
    PROFILE,
    DocPatch,
    DocumentError,
    SyncRequest,
    SyncResponse,
    check_doc_id,
    merge,
    missing_for,
    note_text_bytes,
)

MAX_NOTE_TEXT_BYTES = 100 * 1024
MAX_PROFILE_BYTES = 512 * 1024
MAX_DOCUMENTS = 2000
SYNC_LIMIT = Limit("sync requests for one attendee", per_minute=120, burst=30)
#: A venue of 500 with the notes open polls every 4 s (7,500 a minute); a dozen syncs each may come at once.
SYNC_BY_ADDRESS = Limit("sync requests from one address", per_minute=7500, burst=6000)
_EMPTY_UPDATE = b"\x00\x00"


def _since(cursor: str | None, current: int) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise Invalid(f"malformed cursor {cursor[:40]!r}: send the `cursor` of the last sync response", field="cursor")
    since = int(cursor)
    return since if since <= current else 0  # a cursor from before a restore: send everything


class PrivateSyncService:
    """Merges an attendee's CRDT documents and answers with what the device lacks."""

    def __init__(self, db: Database, limiter: RateLimiter) -> None:
        self.db = db
        self.limiter = limiter

    async def sync(self, attendee: AttendeeRow, request: SyncRequest, address: str) -> SyncResponse:
        """Merge the documents of ``request`` in one transaction and return the client's missing parts.

        Raises:
            Invalid: An unknown document id, a document listed twice, undecodable bytes, a bad cursor.
            PayloadTooLarge: A note over 100 KB of text, a profile over 512 KB, or over 2,000 documents.
            TooManyRequests: Too many syncs for this attendee, or from this address.
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

        replies: list[DocPatch] = []
        async with self.db.write() as conn:
            current = await store.doc_seq(conn, attendee.id)
            since = _since(request.cursor, current)
            stored = await store.get_docs(conn, attendee.id, ids)
            new_ids = [doc_id for doc_id in ids if doc_id not in stored]
            if new_ids and await store.count_docs(conn, attendee.id) + len(new_ids) > MAX_DOCUMENTS:
                raise PayloadTooLarge(f"at most {MAX_DOCUMENTS} documents per attendee; this would exceed it")
            for index, doc in enumerate(request.docs):
                before = stored[doc.id].state if doc.id in stored else None
                try:
                    merged = merge(before, doc.update)
                    missing = missing_for(merged, doc.state_vector)
                except DocumentError as error:
                    raise Invalid(f"docs[{index}] ({doc.id}): {error}", field=f"docs[{index}]") from None
                _check_size(doc.id, merged)
                if merged != before and (before is not None or doc.update):
                    await store.put_doc(conn, attendee.id, doc.id, merged, await store.next_doc_seq(conn, attendee.id))
                if missing != _EMPTY_UPDATE:
                    replies.append(DocPatch(doc.id, missing))
            sent = set(ids)
            for changed in await store.docs_changed_since(conn, attendee.id, since):
                if changed.doc_id not in sent:
                    replies.append(DocPatch(changed.doc_id, changed.state))
            cursor = await store.doc_seq(conn, attendee.id)
        return SyncResponse(cursor=str(cursor), docs=replies)


def _check_size(doc_id: str, state: bytes) -> None:
    if doc_id == PROFILE:
        if len(state) > MAX_PROFILE_BYTES:
            raise PayloadTooLarge(f"the profile document is over its limit of {MAX_PROFILE_BYTES // 1024} KB")
    elif note_text_bytes(state) > MAX_NOTE_TEXT_BYTES:
        raise PayloadTooLarge(
            f"the note {doc_id} is over the limit of {MAX_NOTE_TEXT_BYTES // 1024} KB of text; it is kept on your"
            " device but not synced until it is shorter"
        )
