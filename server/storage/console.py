"""Console sign-in: organisers' password hashes and their console sessions (cookie token stored hashed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from server.storage.db import Connection, Row


def timestamp(moment: datetime) -> str:
    """``moment`` in the form ``kumpul_now()`` writes, so the strings compare as times."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What sign-in needs to know about an organiser; ``password_hash`` is None until one is set."""

    id: int
    name: str
    role: str
    password_hash: str | None
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live console session with its organiser."""

    organiser_id: int
    name: str
    role: str
    must_change_password: bool
    csrf_token: str
    expires_at: str


def _credentials(row: Row | None) -> Credentials | None:
    return Credentials(row[0], row[1], row[2], row[3], bool(row[4])) if row else None


async def credentials_by_name(conn: Connection, name: str) -> Credentials | None:
    """The organiser called ``name`` (exactly), with their password hash."""
    async with conn.execute(
        "SELECT id, name, role, password_hash, must_change_password FROM organisers WHERE name = ?", (name,)
    ) as cur:
        return _credentials(await cur.fetchone())


async def credentials_by_id(conn: Connection, organiser_id: int) -> Credentials | None:
    """The organiser with ``organiser_id``, with their password hash."""
    async with conn.execute(
        "SELECT id, name, role, password_hash, must_change_password FROM organisers WHERE id = ?", (organiser_id,)
    ) as cur:
        return _credentials(await cur.fetchone())


async def set_password(conn: Connection, organiser_id: int, password_hash: str, *, must_change: bool) -> bool:
    """Store a password hash; ``must_change`` marks a one-time password. False when no such organiser."""
    cur = await conn.execute(
        "UPDATE organisers SET password_hash = ?, must_change_password = ? WHERE id = ?",
        (password_hash, int(must_change), organiser_id),
    )
    return cur.rowcount > 0


async def rehash_password(conn: Connection, organiser_id: int, old_hash: str, new_hash: str) -> None:
    """Replace a hash made with old parameters, unless the password changed meanwhile."""
    await conn.execute(
        "UPDATE organisers SET password_hash = ? WHERE id = ? AND password_hash = ?",
        (new_hash, organiser_id, old_hash),
    )


async def add_session(
    conn: Connection, token_hash: bytes, organiser_id: int, csrf_token: str, now: str, expires_at: str
) -> None:
    """Start a console session."""
    await conn.execute(
        "INSERT INTO console_sessions (token_hash, organiser_id, csrf_token, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, organiser_id, csrf_token, now, expires_at),
    )


async def session_by_token_hash(conn: Connection, token_hash: bytes, now: str) -> SessionRow | None:
    """The unexpired session whose cookie token hashes to ``token_hash``."""
    async with conn.execute(
        "SELECT o.id, o.name, o.role, o.must_change_password, s.csrf_token, s.expires_at"
        " FROM console_sessions AS s JOIN organisers AS o ON o.id = s.organiser_id"
        " WHERE s.token_hash = ? AND s.expires_at > ?",
        (token_hash, now),
    ) as cur:
        row = await cur.fetchone()
    return SessionRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5]) if row else None


async def delete_session(conn: Connection, token_hash: bytes) -> None:
    """End one session."""
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))


async def delete_sessions_of(conn: Connection, organiser_id: int, *, keep: bytes | None = None) -> int:
    """End every session of an organiser except ``keep``; returns how many ended."""
    cur = await conn.execute(
        "DELETE FROM console_sessions WHERE organiser_id = ? AND token_hash IS DISTINCT FROM ?",
        (organiser_id, keep),
    )
    return cur.rowcount


async def purge_expired(conn: Connection, now: str) -> int:
    """Drop sessions that have ended; returns how many."""
    cur = await conn.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))
    return cur.rowcount


async def forget_devices(conn: Connection, organiser_id: int) -> None:
    """Forget every browser the organiser signed in from (their sign-in attempts are strangers' again)."""
    await conn.execute("DELETE FROM console_devices WHERE organiser_id = ?", (organiser_id,))


async def device_known(conn: Connection, token_hash: bytes, organiser_id: int) -> bool:
    """Whether the device cookie whose token hashes to ``token_hash`` is one of the organiser's."""
    async with conn.execute(
        "SELECT 1 FROM console_devices WHERE token_hash = ? AND organiser_id = ?", (token_hash, organiser_id)
    ) as cur:
        return await cur.fetchone() is not None


async def remember_device(conn: Connection, token_hash: bytes, organiser_id: int, now: str, *, keep: int) -> None:
    """Record a sign-in from a device (its cookie token's hash); only the ``keep`` most recently used devices of the
    organiser are remembered."""
    await conn.execute(
        "INSERT INTO console_devices (token_hash, organiser_id, created_at, last_used_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (token_hash) DO UPDATE SET last_used_at = excluded.last_used_at"
        " WHERE console_devices.organiser_id = excluded.organiser_id",
        (token_hash, organiser_id, now, now),
    )
    await conn.execute(
        "DELETE FROM console_devices WHERE organiser_id = ? AND token_hash NOT IN"
        " (SELECT token_hash FROM console_devices WHERE organiser_id = ? ORDER BY last_used_at DESC LIMIT ?)",
        (organiser_id, organiser_id, keep),
    )


async def forget_stale_devices(conn: Connection, before: str) -> None:
    """Forget devices unused since ``before``."""
    await conn.execute("DELETE FROM console_devices WHERE last_used_at < ?", (before,))
