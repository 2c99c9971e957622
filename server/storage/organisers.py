"""Organiser accounts: name, role and the hash of their API token."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class OrganiserRow:
    id: int
    name: str
    role: str


async def add_organiser(conn: aiosqlite.Connection, name: str, role: str, token_hash: bytes) -> OrganiserRow:
    """Create an organiser.

    Raises:
        aiosqlite.IntegrityError: The name is taken.
    """
    async with conn.execute(
        "INSERT INTO organisers (name, role, token_hash, created_at)"
        " VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ')) RETURNING id",
        (name, role, token_hash),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return OrganiserRow(id=row[0], name=name, role=role)


async def organiser_by_token_hash(conn: aiosqlite.Connection, token_hash: bytes) -> OrganiserRow | None:
    """The organiser whose token hashes to ``token_hash``."""
    async with conn.execute("SELECT id, name, role FROM organisers WHERE token_hash = ?", (token_hash,)) as cur:
        row = await cur.fetchone()
    return OrganiserRow(id=row[0], name=row[1], role=row[2]) if row else None


@dataclass(frozen=True, slots=True)
class OrganiserListing:
    """An organiser as the console lists them: never a hash, only whether a password is set."""

    id: int
    name: str
    role: str
    created_at: str
    has_password: bool


async def list_organisers(conn: aiosqlite.Connection) -> list[OrganiserListing]:
    """Every organiser, by name."""
    async with conn.execute(
        "SELECT id, name, role, created_at, password_hash IS NOT NULL FROM organisers ORDER BY name COLLATE NOCASE, id"
    ) as cur:
        return [OrganiserListing(row[0], row[1], row[2], row[3], bool(row[4])) for row in await cur.fetchall()]


async def organiser_by_id(conn: aiosqlite.Connection, organiser_id: int) -> OrganiserRow | None:
    """The organiser with ``organiser_id``."""
    async with conn.execute("SELECT id, name, role FROM organisers WHERE id = ?", (organiser_id,)) as cur:
        row = await cur.fetchone()
    return OrganiserRow(id=row[0], name=row[1], role=row[2]) if row else None


async def count_role(conn: aiosqlite.Connection, role: str) -> int:
    """How many organisers hold ``role``."""
    async with conn.execute("SELECT count(*) FROM organisers WHERE role = ?", (role,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def delete_organiser(conn: aiosqlite.Connection, organiser_id: int) -> bool:
    """Delete an organiser: their token stops working and their console sessions go with them (cascade)."""
    cur = await conn.execute("DELETE FROM organisers WHERE id = ?", (organiser_id,))
    return cur.rowcount > 0
