"""Anonymous attendees: device tokens, link codes and their private documents."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection, each, listed


@dataclass(frozen=True, slots=True)
class AttendeeRow:
    id: str
    participation: str | None
    language: str | None
    #: The device whose token authenticated the request.
    device_id: str = ""


@dataclass(frozen=True, slots=True)
class StoredDoc:
    doc_id: str
    state: bytes
    seq: int


async def add_attendee(conn: Connection, attendee_id: str) -> None:
    await conn.execute("INSERT INTO attendees (id, created_at) VALUES (?, kumpul_now())", (attendee_id,))


async def add_token(
    conn: Connection,
    attendee_id: str,
    token_hash: bytes,
    device_id: str,
    *,
    name: str | None = None,
    public_key: bytes | None = None,
    proof: bytes | None = None,
) -> None:
    """Add a device: its token (hashed), public id, name and public key."""
    await conn.execute(
        "INSERT INTO attendee_tokens (token_hash, attendee_id, created_at, device_id, name, public_key, proof,"
        " last_seen_at) VALUES (?, ?, kumpul_now(), ?, ?, ?, ?, kumpul_now())",
        (token_hash, attendee_id, device_id, name, public_key, proof),
    )


async def attendee_by_token_hash(conn: Connection, token_hash: bytes) -> AttendeeRow | None:
    async with conn.execute(
        "SELECT a.id, a.participation, a.language, t.device_id FROM attendee_tokens t"
        " JOIN attendees a ON a.id = t.attendee_id WHERE t.token_hash = ?",
        (token_hash,),
    ) as cur:
        row = await cur.fetchone()
    return AttendeeRow(row[0], row[1], row[2], row[3]) if row else None


async def update_profile(conn: Connection, attendee_id: str, participation: str | None, language: str | None) -> None:
    await conn.execute(
        "UPDATE attendees SET participation = ?, language = ? WHERE id = ?", (participation, language, attendee_id)
    )


async def delete_attendee(conn: Connection, attendee_id: str) -> None:
    """Delete an attendee and everything of theirs.

    Tokens, link codes, documents, the calendar key and push subscriptions go with the attendee row
    (ON DELETE CASCADE). Queued and sent push messages name only a subscription (no foreign key), and
    alerts say which sessions the attendee followed: they are deleted first, while the subscriptions
    still tell whose they are.
    """
    await conn.execute(
        "DELETE FROM push_outbox WHERE subscription_id IN (SELECT id FROM push_subscriptions WHERE attendee_id = ?)",
        (attendee_id,),
    )
    await conn.execute("DELETE FROM attendees WHERE id = ?", (attendee_id,))


async def add_link_code(conn: Connection, attendee_id: str, code_hash: bytes, expires_at: str) -> None:
    await conn.execute(
        "INSERT INTO link_codes (code_hash, attendee_id, expires_at) VALUES (?, ?, ?)",
        (code_hash, attendee_id, expires_at),
    )


async def peek_link_code(conn: Connection, code_hash: bytes, now: str) -> str | None:
    """The attendee of a valid code, without using it; None when unknown, used or expired."""
    async with conn.execute(
        "SELECT attendee_id FROM link_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
        (code_hash, now),
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def redeem_link_code(conn: Connection, code_hash: bytes, now: str) -> str | None:
    """Mark a valid code used and return its attendee; None when unknown, used or expired."""
    async with conn.execute(
        "UPDATE link_codes SET used_at = kumpul_now()"
        " WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING attendee_id",
        (code_hash, now),
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def purge_link_codes(conn: Connection, now: str) -> None:
    await conn.execute("DELETE FROM link_codes WHERE expires_at <= ? OR used_at IS NOT NULL", (now,))


async def get_docs(conn: Connection, attendee_id: str, doc_ids: list[str]) -> dict[str, StoredDoc]:
    """The stored documents among ``doc_ids``."""
    async with conn.execute(
        "SELECT doc_id, state, seq FROM documents WHERE attendee_id = ?"
        f" AND doc_id IN (SELECT value FROM {each(conn)})",
        (attendee_id, listed(conn, doc_ids)),
    ) as cur:
        return {row[0]: StoredDoc(row[0], row[1], row[2]) for row in await cur.fetchall()}


async def doc_versions(conn: Connection, attendee_id: str, doc_ids: list[str]) -> dict[str, int]:
    """The sequence of the last change of each stored document among ``doc_ids`` (absent ones are left out)."""
    async with conn.execute(
        f"SELECT doc_id, seq FROM documents WHERE attendee_id = ? AND doc_id IN (SELECT value FROM {each(conn)})",
        (attendee_id, listed(conn, doc_ids)),
    ) as cur:
        return {row[0]: int(row[1]) for row in await cur.fetchall()}


async def private_position(conn: Connection, attendee_id: str) -> tuple[str, int] | None:
    """The database's epoch and the attendee's last document sequence, the two parts of a private sync cursor;
    None when the attendee no longer exists (erased)."""
    async with conn.execute(
        "SELECT f.epoch, a.doc_seq FROM attendees a JOIN feed_state f ON f.id = 1 WHERE a.id = ?", (attendee_id,)
    ) as cur:
        row = await cur.fetchone()
    return (row[0], int(row[1])) if row else None


async def put_doc(conn: Connection, attendee_id: str, doc_id: str, state: bytes, seq: int) -> None:
    await conn.execute(
        "INSERT INTO documents (attendee_id, doc_id, state, seq, updated_at)"
        " VALUES (?, ?, ?, ?, kumpul_now())"
        " ON CONFLICT (attendee_id, doc_id) DO UPDATE SET state = excluded.state, seq = excluded.seq,"
        " updated_at = excluded.updated_at",
        (attendee_id, doc_id, state, seq),
    )


async def set_calendar_key(conn: Connection, attendee_id: str, key_hash: bytes | None, lang: str | None = None) -> None:
    """Give the attendee's agenda feed a new secret (its hash) and language, or none: the old address stops working."""
    await conn.execute(
        "UPDATE attendees SET calendar_key_hash = ?, calendar_lang = ? WHERE id = ?", (key_hash, lang, attendee_id)
    )


async def set_calendar_lang(conn: Connection, attendee_id: str, lang: str | None) -> bool:
    """Change the language of the attendee's agenda feed, keeping its address; False when there is no feed."""
    async with conn.execute(
        "UPDATE attendees SET calendar_lang = ? WHERE id = ? AND calendar_key_hash IS NOT NULL RETURNING id",
        (lang, attendee_id),
    ) as cur:
        return await cur.fetchone() is not None


async def attendee_by_calendar_key(conn: Connection, key_hash: bytes) -> tuple[str, str | None] | None:
    """The attendee whose agenda feed has this secret, and the feed's language; or None."""
    async with conn.execute("SELECT id, calendar_lang FROM attendees WHERE calendar_key_hash = ?", (key_hash,)) as cur:
        row = await cur.fetchone()
    return (row[0], row[1]) if row else None
