"""Encrypted documents, notebook keys and devices: the rows behind ``sync.vault`` (opaque bytes only)."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection, each, listed


@dataclass(frozen=True, slots=True)
class AttendeeHead:
    """Where an attendee's documents stand: the last document sequence, and the current notebook key."""

    doc_seq: int
    key_id: int
    keyring: bytes | None


@dataclass(frozen=True, slots=True)
class LogHead:
    """Where one document's log stands: its last version, its snapshot's version (0: none), size and length."""

    last: int
    snapshot: int
    size: int
    entries: int


@dataclass(frozen=True, slots=True)
class StoredEntry:
    doc_id: str
    version: int
    snapshot: bool
    frame: bytes
    seq: int


@dataclass(frozen=True, slots=True)
class DeviceRow:
    device_id: str
    name: str | None
    linked_at: str
    last_seen_at: str | None
    public_key: bytes | None
    proof: bytes | None
    key_id: int | None


async def attendee_head(conn: Connection, attendee_id: str) -> AttendeeHead | None:
    """The attendee's last document sequence and notebook key; None when the attendee no longer exists."""
    async with conn.execute("SELECT doc_seq, key_id, keyring FROM attendees WHERE id = ?", (attendee_id,)) as cur:
        row = await cur.fetchone()
    return AttendeeHead(int(row[0]), int(row[1]), row[2]) if row else None


async def log_heads(conn: Connection, attendee_id: str, doc_ids: list[str]) -> dict[str, LogHead]:
    """The head of each existing log among ``doc_ids``."""
    async with conn.execute(
        "SELECT doc_id, max(version), coalesce(max(CASE WHEN snapshot = 1 THEN version END), 0), sum(length(frame)),"
        f" count(*) FROM doc_log WHERE attendee_id = ? AND doc_id IN (SELECT value FROM {each(conn)}) GROUP BY doc_id",
        (attendee_id, listed(conn, doc_ids)),
    ) as cur:
        return {row[0]: LogHead(int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in await cur.fetchall()}


async def present(conn: Connection, attendee_id: str, doc_id: str, frames: list[bytes]) -> set[bytes]:
    """Which of ``frames`` the log already holds (a replayed request: every frame has its own random nonce)."""
    async with conn.execute(
        "SELECT frame FROM doc_log WHERE attendee_id = ? AND doc_id = ? AND length(frame) IN"
        f" (SELECT value FROM {each(conn, 'bigint')})",
        (attendee_id, doc_id, listed(conn, sorted({len(frame) for frame in frames}))),
    ) as cur:
        stored = {row[0] for row in await cur.fetchall()}
    return stored & set(frames)


async def bytes_up_to(conn: Connection, attendee_id: str, doc_id: str, version: int) -> int:
    """The size of the entries a snapshot at ``version`` would replace."""
    async with conn.execute(
        "SELECT coalesce(sum(length(frame)), 0) FROM doc_log WHERE attendee_id = ? AND doc_id = ? AND version <= ?",
        (attendee_id, doc_id, version),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def add_entries(conn: Connection, attendee_id: str, entries: list[StoredEntry]) -> None:
    """Add entries to the attendee's logs, in one call to the database."""
    await conn.executemany(
        "INSERT INTO doc_log (attendee_id, doc_id, version, snapshot, frame, seq) VALUES (?, ?, ?, ?, ?, ?)",
        [(attendee_id, entry.doc_id, entry.version, int(entry.snapshot), entry.frame, entry.seq) for entry in entries],
    )


async def drop_up_to(conn: Connection, attendee_id: str, doc_id: str, version: int) -> None:
    """Delete every entry of a log up to ``version`` (which a snapshot then stands for)."""
    await conn.execute(
        "DELETE FROM doc_log WHERE attendee_id = ? AND doc_id = ? AND version <= ?", (attendee_id, doc_id, version)
    )


async def entries_after(conn: Connection, attendee_id: str, doc_id: str, version: int) -> list[StoredEntry]:
    """A log's entries after ``version``, oldest first."""
    async with conn.execute(
        "SELECT doc_id, version, snapshot, frame, seq FROM doc_log WHERE attendee_id = ? AND doc_id = ? AND version > ?"
        " ORDER BY version",
        (attendee_id, doc_id, version),
    ) as cur:
        return [StoredEntry(row[0], int(row[1]), bool(row[2]), row[3], int(row[4])) for row in await cur.fetchall()]


async def entries_by_seq(conn: Connection, attendee_id: str, seqs: list[int]) -> list[StoredEntry]:
    async with conn.execute(
        "SELECT doc_id, version, snapshot, frame, seq FROM doc_log WHERE attendee_id = ?"
        f" AND seq IN (SELECT value FROM {each(conn, 'bigint')}) ORDER BY seq",
        (attendee_id, listed(conn, seqs)),
    ) as cur:
        return [StoredEntry(row[0], int(row[1]), bool(row[2]), row[3], int(row[4])) for row in await cur.fetchall()]


async def changed_between(
    conn: Connection, attendee_id: str, after: int, until: int
) -> list[tuple[str, str, int, int]]:
    """``(kind, doc_id, seq, size)`` of plaintext documents (kind ``doc``) and log entries (kind ``log``) changed
    in ``(after, until]``, in rising ``seq``."""
    async with conn.execute(
        "SELECT 'doc', doc_id, seq, length(state) FROM documents WHERE attendee_id = ?1 AND seq > ?2 AND seq <= ?3"
        " UNION ALL SELECT 'log', doc_id, seq, length(frame) FROM doc_log"
        " WHERE attendee_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY 3",
        (attendee_id, after, until),
    ) as cur:
        return [(row[0], row[1], int(row[2]), int(row[3])) for row in await cur.fetchall()]


async def stored_bytes(conn: Connection, attendee_id: str) -> int:
    """What the attendee's plaintext documents and encrypted logs take together, the measure of their quota."""
    async with conn.execute(
        "SELECT (SELECT coalesce(sum(length(state)), 0) FROM documents WHERE attendee_id = ?1)"
        " + (SELECT coalesce(sum(length(frame)), 0) FROM doc_log WHERE attendee_id = ?1)",
        (attendee_id,),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def count_documents(conn: Connection, attendee_id: str) -> int:
    """Plaintext documents and encrypted logs together."""
    async with conn.execute(
        "SELECT count(*) FROM (SELECT doc_id FROM documents WHERE attendee_id = ?1"
        " UNION SELECT doc_id FROM doc_log WHERE attendee_id = ?1) AS kept",
        (attendee_id,),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def take_seqs(conn: Connection, attendee_id: str, count: int) -> int | None:
    """Take ``count`` consecutive document sequences; the first, or None when the attendee was erased."""
    async with conn.execute(
        "UPDATE attendees SET doc_seq = doc_seq + ? WHERE id = ? RETURNING doc_seq", (count, attendee_id)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) - count + 1 if row else None


async def delete_plaintext(conn: Connection, attendee_id: str, doc_ids: list[str]) -> list[int]:
    """Delete plaintext copies of documents now kept encrypted; the size of each copy there was."""
    async with conn.execute(
        f"DELETE FROM documents WHERE attendee_id = ? AND doc_id IN (SELECT value FROM {each(conn)})"
        " RETURNING length(state)",
        (attendee_id, listed(conn, doc_ids)),
    ) as cur:
        return [int(row[0]) for row in await cur.fetchall()]


async def current_key(conn: Connection, attendee_id: str) -> tuple[int, bytes | None] | None:
    """The attendee's current notebook key id and keyring; None when the attendee no longer exists."""
    async with conn.execute("SELECT key_id, keyring FROM attendees WHERE id = ?", (attendee_id,)) as cur:
        row = await cur.fetchone()
    return (int(row[0]), row[1]) if row else None


async def set_key(conn: Connection, attendee_id: str, key_id: int, keyring: bytes | None) -> None:
    await conn.execute("UPDATE attendees SET key_id = ?, keyring = ? WHERE id = ?", (key_id, keyring, attendee_id))


async def put_wrapped(conn: Connection, attendee_id: str, device_id: str, key_id: int, wrapped: bytes) -> None:
    await conn.execute(
        "INSERT INTO wrapped_keys (device_id, attendee_id, key_id, wrapped) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (device_id) DO UPDATE SET key_id = excluded.key_id, wrapped = excluded.wrapped",
        (device_id, attendee_id, key_id, wrapped),
    )


async def wrapped_for(conn: Connection, device_id: str, key_id: int) -> bytes | None:
    async with conn.execute(
        "SELECT wrapped FROM wrapped_keys WHERE device_id = ? AND key_id = ?", (device_id, key_id)
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def devices(conn: Connection, attendee_id: str) -> list[DeviceRow]:
    """The attendee's devices, oldest link first."""
    async with conn.execute(
        "SELECT t.device_id, t.name, t.created_at, t.last_seen_at, t.public_key, t.proof, w.key_id"
        " FROM attendee_tokens t LEFT JOIN wrapped_keys w ON w.device_id = t.device_id"
        " WHERE t.attendee_id = ? ORDER BY t.created_at, t.device_id",
        (attendee_id,),
    ) as cur:
        return [DeviceRow(*row) for row in await cur.fetchall()]


async def update_device(
    conn: Connection,
    device_id: str,
    *,
    name: str | None,
    public_key: bytes | None,
    proof: bytes | None,
) -> None:
    """Set the fields given (None keeps a field)."""
    await conn.execute(
        "UPDATE attendee_tokens SET name = coalesce(?, name), public_key = coalesce(?, public_key),"
        " proof = coalesce(?, proof) WHERE device_id = ?",
        (name, public_key, proof, device_id),
    )


async def delete_device(conn: Connection, attendee_id: str, device_id: str) -> bool:
    """Remove a device's token (it stops working at once) and its wrapped key; whether it existed."""
    await conn.execute("DELETE FROM wrapped_keys WHERE device_id = ? AND attendee_id = ?", (device_id, attendee_id))
    async with conn.execute(
        "DELETE FROM attendee_tokens WHERE device_id = ? AND attendee_id = ? RETURNING device_id",
        (device_id, attendee_id),
    ) as cur:
        return bool(await cur.fetchall())


async def touch_device(conn: Connection, device_id: str) -> None:
    """Record that the device was seen now (at most once a minute, so a busy device does not write each time)."""
    await conn.execute(
        "UPDATE attendee_tokens SET last_seen_at = kumpul_now() WHERE device_id = ?"
        " AND (last_seen_at IS NULL OR last_seen_at < kumpul_now(-60))",
        (device_id,),
    )


async def count_plaintext_notes(conn: Connection) -> int:
    async with conn.execute("SELECT count(*) FROM documents WHERE doc_id LIKE 'note:%'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def delete_plaintext_notes(conn: Connection) -> int:
    """Delete every plaintext note left from before notes were encrypted; how many."""
    async with conn.execute("DELETE FROM documents WHERE doc_id LIKE 'note:%' RETURNING doc_id") as cur:
        return len(list(await cur.fetchall()))
