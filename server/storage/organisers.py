"""Organiser accounts: name, role and the hash of their API token, when it was issued and last used."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class OrganiserRow:
    id: int
    name: str
    role: str
    #: When the token last authenticated a request (by :func:`organiser_by_token_hash` only).
    token_last_used_at: str | None = None


async def add_organiser(conn: Connection, name: str, role: str, token_hash: bytes) -> OrganiserRow:
    """Create an organiser.

    Raises:
        IntegrityError: The name is taken.
    """
    async with conn.execute(
        "INSERT INTO organisers (name, role, token_hash, created_at, token_issued_at)"
        " VALUES (?, ?, ?, kumpul_now(), kumpul_now()) RETURNING id",
        (name, role, token_hash),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return OrganiserRow(id=row[0], name=name, role=role)


async def organiser_by_token_hash(conn: Connection, token_hash: bytes) -> OrganiserRow | None:
    """The organiser whose token hashes to ``token_hash`` (a revoked token matches nobody)."""
    async with conn.execute(
        "SELECT id, name, role, token_last_used_at FROM organisers"
        " WHERE token_hash = ? AND token_issued_at IS NOT NULL",
        (token_hash,),
    ) as cur:
        row = await cur.fetchone()
    return OrganiserRow(id=row[0], name=row[1], role=row[2], token_last_used_at=row[3]) if row else None


async def replace_token(conn: Connection, organiser_id: int, token_hash: bytes, issued_at: str | None) -> bool:
    """Give an organiser a new token (its hash); the old one stops working at once.

    Args:
        conn: The write connection.
        organiser_id: Whose token.
        token_hash: The new token's hash.
        issued_at: When it was issued; None revokes: ``token_hash`` is then of a token nobody was shown.

    Returns:
        False when there is no such organiser.
    """
    cur = await conn.execute(
        "UPDATE organisers SET token_hash = ?, token_issued_at = ?, token_last_used_at = NULL WHERE id = ?",
        (token_hash, issued_at, organiser_id),
    )
    return cur.rowcount > 0


async def mark_token_used(conn: Connection, organiser_id: int, now: str, unless_since: str) -> None:
    """Record that the organiser's token was used at ``now``, unless that was recorded after ``unless_since``."""
    await conn.execute(
        "UPDATE organisers SET token_last_used_at = ?"
        " WHERE id = ? AND (token_last_used_at IS NULL OR token_last_used_at < ?)",
        (now, organiser_id, unless_since),
    )


@dataclass(frozen=True, slots=True)
class OrganiserListing:
    """An organiser as the console lists them: never a hash, only whether a password is set."""

    id: int
    name: str
    role: str
    created_at: str
    has_password: bool
    token_issued_at: str | None
    token_last_used_at: str | None


async def list_organisers(conn: Connection) -> list[OrganiserListing]:
    """Every organiser, by name."""
    async with conn.execute(
        "SELECT id, name, role, created_at, password_hash IS NOT NULL, token_issued_at, token_last_used_at"
        " FROM organisers ORDER BY lower(name), id"
    ) as cur:
        return [
            OrganiserListing(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])
            for row in await cur.fetchall()
        ]


async def organiser_by_id(conn: Connection, organiser_id: int) -> OrganiserRow | None:
    """The organiser with ``organiser_id``."""
    async with conn.execute("SELECT id, name, role FROM organisers WHERE id = ?", (organiser_id,)) as cur:
        row = await cur.fetchone()
    return OrganiserRow(id=row[0], name=row[1], role=row[2]) if row else None


async def count_role(conn: Connection, role: str) -> int:
    """How many organisers hold ``role``."""
    async with conn.execute("SELECT count(*) FROM organisers WHERE role = ?", (role,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def delete_organiser(conn: Connection, organiser_id: int) -> bool:
    """Delete an organiser: their token stops working and their console sessions go with them (cascade)."""
    cur = await conn.execute("DELETE FROM organisers WHERE id = ?", (organiser_id,))
    return cur.rowcount > 0
