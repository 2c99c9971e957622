"""Private documents: one round trip merges what the device sends and returns what it lacks.

Merging CRDT documents costs time in proportion to their size, so it happens in a worker thread and outside the
database's write lock: a sync reads the stored states and their versions, merges them, then takes the lock only to
check that nothing it read has changed and to write (optimistic concurrency; a bounded number of retries when
another device of the same attendee got there first). One attendee's large documents therefore never make another
attendee's small write wait for the merge.

Notes (and the private agenda) are end-to-end encrypted: the server never merges them, it appends the frames a
device sends to the document's log and hands each device the entries it lacks (``sync.vault``). Only their framing,
key id and sizes are checked. The first encrypted write of a note deletes its plaintext copy from before notes
were encrypted, and the space is wiped (``secure_delete``) and the write-ahead log checkpointed soon after.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from server.errors import Invalid, PayloadTooLarge, TooManyRequests, Unauthorized
from server.services.attendees import KeyConflict
from server.services.ratelimit import Limit, RateLimiter
from server.storage import attendees as store
from server.storage import vault
from server.storage.attendees import AttendeeRow, StoredDoc
from server.storage.db import Connection, Database
from server.storage.vault import StoredEntry
from sync import (
    PROFILE,
    CursorError,
    DocPatch,
    DocumentError,
    DocUpdate,
    KeyUpdate,
    LogEntry,
    LogPatch,
    LogUpdate,
    SyncRequest,
    SyncResponse,
    check_doc_id,
    check_log_update,
    frame_key_id,
    frames_of,
    is_encrypted_kind,
    merge,
    missing_for,
    note_text_bytes,
    private_since,
)

MAX_NOTE_TEXT_BYTES = 100 * 1024
#: The whole stored state of a note (text, formatting, metadata, anything else a client puts in it).
MAX_NOTE_BYTES = 256 * 1024
MAX_PROFILE_BYTES = 512 * 1024
#: One encrypted document's log (its frames together); a compaction that makes it smaller is always accepted.
MAX_LOG_BYTES = 256 * 1024
#: Frames one request may append (each is a row): a resend of 2,000 small notes fits, a flood of tiny ones does not.
MAX_FRAMES_PER_REQUEST = 5000
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


@dataclass(frozen=True, slots=True)
class _Written:
    """One sent log after the write: where the reply starts and which versions the device itself appended."""

    doc_id: str
    since: int
    appended: range
    last: int


@dataclass(frozen=True, slots=True)
class _Committed:
    cursor: int
    key_id: int
    keyring: bytes | None
    logs: list[_Written]
    plaintext_deleted: bool


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
        await self.limiter.hit(SYNC_LIMIT, attendee.id, (SYNC_BY_ADDRESS, address))
        ids = [doc.id for doc in request.docs]
        for index, doc_id in enumerate(ids):
            try:
                check_doc_id(doc_id)
            except DocumentError as error:
                raise Invalid(str(error), field=f"docs[{index}].id") from None
            if is_encrypted_kind(doc_id):
                raise Invalid(
                    f"{doc_id} is end-to-end encrypted: send it in `logs`, encrypted on the device (the app updates"
                    " itself when reloaded)",
                    field=f"docs[{index}].id",
                )
        if len(set(ids)) != len(ids):
            raise Invalid("a document is listed twice in one request", field="docs")
        log_ids = [log.id for log in request.logs]
        for index, log in enumerate(request.logs):
            try:
                check_log_update(log)
            except DocumentError as error:
                raise Invalid(f"logs[{index}] ({log.id[:80]}): {error}", field=f"logs[{index}]") from None
        if len(set(log_ids)) != len(log_ids):
            raise Invalid("an encrypted document is listed twice in one request", field="logs")
        if sum(len(frames_of(log)) for log in request.logs) > MAX_FRAMES_PER_REQUEST:
            raise PayloadTooLarge(
                f"at most {MAX_FRAMES_PER_REQUEST} frames in one request; send the rest in the next one",
            )

        for _ in range(MERGE_ATTEMPTS):
            epoch, seq, stored = await self._stored(attendee.id, ids)
            try:
                since, resend = private_since(request.cursor, epoch=epoch, seq=seq)
            except CursorError as error:
                raise Invalid(str(error), field="cursor") from None
            merged = await asyncio.to_thread(_merge_all, stored, request.docs) if request.docs else []
            # Only this attendee's rows are written and read: the syncs of other attendees may commit meanwhile.
            async with self.db.write(key=attendee.id) as conn:
                committed = await self._commit(conn, attendee, stored, merged, request.logs)
            if committed is not None:
                break
        else:
            raise TooManyRequests(
                "another device of yours kept changing these documents while they were merged; sync again",
                retry_after=1,
            )
        if committed.plaintext_deleted:
            self.db.wipe_soon()
        cursor = committed.cursor

        replies = [DocPatch(item.doc_id, item.missing) for item in merged if item.missing != _EMPTY_UPDATE]
        async with self.db.snapshot() as conn:
            log_replies, budget_left = await _sent_logs(conn, attendee.id, committed.logs)
            changed, logs_changed, until = await _changed_elsewhere(
                conn, attendee.id, set(ids), set(log_ids), since, cursor, budget_left
            )
        replies += changed
        key = None
        if request.key_id < committed.key_id:
            key = await self._key_for(attendee, committed.key_id, committed.keyring)
        return SyncResponse(
            cursor=f"{epoch}.{until}",
            docs=replies,
            resend=resend,
            more=until < cursor or budget_left < 0,
            logs=log_replies + logs_changed,
            key_id=committed.key_id,
            key=key,
        )

    async def _stored(self, attendee_id: str, ids: list[str]) -> tuple[str, int, dict[str, StoredDoc]]:
        """The database's epoch, the attendee's last sequence and the stored states of ``ids``, all as of one moment
        (a read transaction only when there are states to read: one statement sees one moment by itself)."""
        async with self.db.snapshot() if ids else self.db.read() as conn:
            position = await store.private_position(conn, attendee_id)
            if position is None:
                raise _erased()
            stored = await store.get_docs(conn, attendee_id, ids) if ids else {}
        epoch, seq = position
        return epoch, seq, stored

    async def _key_for(self, attendee: AttendeeRow, key_id: int, keyring: bytes | None) -> KeyUpdate:
        async with self.db.read() as conn:
            wrapped = await vault.wrapped_for(conn, attendee.device_id, key_id)
        return KeyUpdate(key_id, wrapped, keyring)

    async def _commit(
        self,
        conn: Connection,
        attendee: AttendeeRow,
        stored: dict[str, StoredDoc],
        merged: list[_Merged],
        logs: list[LogUpdate],
    ) -> _Committed | None:
        """Write the merged documents and the log entries, if no merged document changed since it was read.

        Returns:
            The new sequence and what was written; None to merge again.
        """
        attendee_id = attendee.id
        head = await vault.attendee_head(conn, attendee_id)
        if head is None:
            raise _erased()
        _check_keys(logs, head.key_id)
        if merged:
            versions = await store.doc_versions(conn, attendee_id, [item.doc_id for item in merged])
            if versions != {doc_id: doc.seq for doc_id, doc in stored.items()}:
                return None
        writes = [item for item in merged if item.write]
        heads = await vault.log_heads(conn, attendee_id, [log.id for log in logs]) if logs else {}
        plans = [await _plan(conn, attendee_id, log, heads.get(log.id)) for log in logs]

        added = sum(1 for item in writes if item.before is None) + sum(
            1 for log in logs if log.id not in heads and frames_of(log)
        )
        if added and await vault.count_documents(conn, attendee_id) + added > MAX_DOCUMENTS:
            raise PayloadTooLarge(f"at most {MAX_DOCUMENTS} documents per attendee; this would exceed it")
        # The plaintext copies of notes now written encrypted go first (rolled back with the rest if the quota
        # refuses the sync), so that what they took counts as freed.
        encrypted = [plan.doc_id for plan in plans if plan.writes]
        freed = await vault.delete_plaintext(conn, attendee_id, encrypted) if encrypted else []
        kept = await vault.stored_bytes(conn, attendee_id)
        before = kept + sum(freed)
        after = (
            kept
            + sum(len(item.state) - (len(item.before.state) if item.before else 0) for item in writes)
            + sum(plan.growth for plan in plans)
        )
        if after > self.quota_bytes and after > before:
            raise PayloadTooLarge(
                f"your documents would take {after:,} bytes, over your storage quota of {self.quota_bytes:,} bytes"
                f" ({_size(self.quota_bytes)}); they are kept on your device but not synced until some are smaller"
                " or deleted"
            )
        current = await _write(conn, attendee_id, writes, plans, head.doc_seq)
        await vault.touch_device(conn, attendee.device_id)
        written = [_Written(plan.doc_id, plan.since, plan.appended, plan.last) for plan in plans]
        return _Committed(current, head.key_id, head.keyring, written, bool(freed))


@dataclass(slots=True)
class _Plan:
    """What one log update will write, decided inside the write transaction before anything is written."""

    doc_id: str
    #: Where the reply for this log starts: the device's ``since``, or 0 when the server is behind it (restored).
    since: int
    last: int
    appended: range
    append: list[bytes]
    snapshot: tuple[int, bytes] | None
    growth: int

    @property
    def writes(self) -> bool:
        return bool(self.append) or self.snapshot is not None

    @property
    def new_rows(self) -> int:
        return len(self.append) + (1 if self.snapshot is not None else 0)

    def entries(self, first_seq: int) -> list[StoredEntry]:
        """The log entries to add, numbered from ``first_seq`` (the snapshot first; it replaces the entries up to
        its version, which the caller deletes)."""
        entries = []
        seq = first_seq
        if self.snapshot is not None:
            up_to, frame = self.snapshot
            entries.append(StoredEntry(self.doc_id, up_to, True, frame, seq))
            seq += 1
        for offset, (version, frame) in enumerate(zip(self.appended, self.append, strict=True)):
            entries.append(StoredEntry(self.doc_id, version, False, frame, seq + offset))
        return entries


async def _write(conn: Connection, attendee_id: str, writes: list[_Merged], plans: list[_Plan], current: int) -> int:
    """Write the merged documents and the log entries under consecutive sequences taken at once.

    Returns:
        The attendee's last sequence afterwards.
    """
    count = len(writes) + sum(plan.new_rows for plan in plans)
    if not count:
        return current
    first = await vault.take_seqs(conn, attendee_id, count)
    if first is None:
        raise _erased()
    seq = first
    for item in writes:
        await store.put_doc(conn, attendee_id, item.doc_id, item.state, seq)
        seq += 1
    entries: list[StoredEntry] = []
    for plan in plans:
        if plan.snapshot is not None:
            await vault.drop_up_to(conn, attendee_id, plan.doc_id, plan.snapshot[0])
        entries += plan.entries(seq)
        seq += plan.new_rows
    if entries:
        await vault.add_entries(conn, attendee_id, entries)
    return seq - 1


async def _plan(conn: Connection, attendee_id: str, log: LogUpdate, head: vault.LogHead | None) -> _Plan:
    """Decide what ``log`` writes: new versions for its appends, whether its snapshot still applies, the size.

    Raises:
        PayloadTooLarge: The log would grow over its limit.
    """
    last = head.last if head else 0
    since = log.since if log.since <= last else 0
    append = list(log.append)
    if head is not None and append:
        # A replayed request (a retry whose answer was lost) appends nothing twice.
        replayed = await vault.present(conn, attendee_id, log.id, append)
        append = [frame for frame in append if frame not in replayed]
    snapshot = None
    removed = 0
    if log.snapshot is not None and head is not None:
        up_to = log.snapshot.up_to
        # A snapshot the server cannot place (it is behind the device, or another device compacted further) is
        # dropped: nothing is lost, since every entry stays until a snapshot that covers it is stored.
        if up_to <= last and head.snapshot < up_to:
            snapshot = (up_to, log.snapshot.frame)
            removed = await vault.bytes_up_to(conn, attendee_id, log.id, up_to)
    appended = range(last + 1, last + 1 + len(append))
    growth = sum(len(frame) for frame in append) + (len(snapshot[1]) if snapshot else 0) - removed
    size = (head.size if head else 0) + growth
    if size > MAX_LOG_BYTES and growth > 0:
        raise PayloadTooLarge(
            f"the note {log.id} would take {size:,} bytes encrypted, over the limit of {_size(MAX_LOG_BYTES)} per"
            " document; compact it (send a snapshot) or make it smaller; it is kept on your device"
        )
    return _Plan(log.id, since, appended.stop - 1 if append else last, appended, append, snapshot, growth)


async def _sent_logs(conn: Connection, attendee_id: str, written: list[_Written]) -> tuple[list[LogPatch], int]:
    """For each log the device sent, the entries it lacks (not the ones it appended), within the reply budget.

    Returns:
        The patches, and what is left of the budget (negative: a log was left out; the device asks again).
    """
    patches: list[LogPatch] = []
    budget = MAX_REPLY_BYTES
    for item in written:
        entries = [
            entry
            for entry in await vault.entries_after(conn, attendee_id, item.doc_id, item.since)
            if entry.version not in item.appended
        ]
        size = sum(len(entry.frame) for entry in entries)
        if entries and size > budget and patches:
            # Left for the next round trip: the device still has `since` for it, and `more` says to ask.
            patches.append(LogPatch(item.doc_id, item.since, []))
            budget = -1
            continue
        budget -= size
        last = max([item.last, *(entry.version for entry in entries)])
        patches.append(LogPatch(item.doc_id, last, [_entry(entry) for entry in entries]))
    return patches, budget


async def _changed_elsewhere(
    conn: Connection, attendee_id: str, sent: set[str], sent_logs: set[str], since: int, cursor: int, budget: int
) -> tuple[list[DocPatch], list[LogPatch], int]:
    """The documents and log entries not sent that changed in ``(since, cursor]``, oldest first, up to the
    reply budget (at least one when nothing else was answered).

    Returns:
        The plaintext documents, the log entries by document, and the sequence they bring the client up to
        (``cursor`` when all of them fit).
    """
    budget = max(budget, 0)
    changed = await vault.changed_between(conn, attendee_id, since, cursor) if cursor > since else []
    chosen_docs: list[str] = []
    chosen_seqs: list[int] = []
    total, until = 0, cursor
    for kind, doc_id, seq, size in changed:
        if (chosen_docs or chosen_seqs or budget < MAX_REPLY_BYTES) and total + size > budget:
            until = seq - 1
            break
        if kind == "doc" and doc_id not in sent:
            chosen_docs.append(doc_id)
            total += size
        elif kind == "log" and doc_id not in sent_logs:
            chosen_seqs.append(seq)
            total += size
    states = await store.get_docs(conn, attendee_id, chosen_docs) if chosen_docs else {}
    entries = await vault.entries_by_seq(conn, attendee_id, chosen_seqs) if chosen_seqs else []
    by_doc: dict[str, list[StoredEntry]] = {}
    for entry in entries:
        by_doc.setdefault(entry.doc_id, []).append(entry)
    logs = [
        LogPatch(
            doc_id, max(entry.version for entry in items), [_entry(entry) for entry in sorted(items, key=_version)]
        )
        for doc_id, items in by_doc.items()
    ]
    return [DocPatch(doc_id, states[doc_id].state) for doc_id in chosen_docs if doc_id in states], logs, until


def _check_keys(logs: list[LogUpdate], key_id: int) -> None:
    """Refuse every frame not under the attendee's current notebook key, before anything is written."""
    for log in logs:
        for frame in frames_of(log):
            used = frame_key_id(frame)
            if used != key_id:
                if key_id == 0:
                    detail = "no notebook key is registered yet: register key 1 first (POST /api/attendees/me/keys)"
                else:
                    detail = (
                        f"{log.id} was encrypted under key {used}, but the notebook key is now key {key_id}: sync to"
                        " get the new key and encrypt again; nothing was written"
                    )
                raise KeyConflict(detail, key_id=key_id)


def _entry(entry: StoredEntry) -> LogEntry:
    return LogEntry(entry.version, "snapshot" if entry.snapshot else "update", entry.frame)


def _version(entry: StoredEntry) -> int:
    return entry.version


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
