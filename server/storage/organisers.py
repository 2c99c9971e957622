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
