"""Named schedule versions: the programme document as published, kept to be served again exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from server.storage.db import Connection, json_field, json_items, postgres


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    name: str
    created_at: str
    actor: str
    seq: int
    programme: bytes
    revisions: bytes
    speaker_numbers: bytes


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    name: str
    created_at: str
    seq: int


async def add(
    conn: Connection,
    name: str,
    actor: str,
    seq: int,
    programme: bytes,
    revisions: bytes,
    speaker_numbers: bytes,
) -> ReleaseInfo | None:
    """Store a release; None when the name is taken."""
    async with conn.execute(
        "INSERT INTO releases (name, created_at, actor, seq, programme, revisions, speaker_numbers)"
        " VALUES (?, kumpul_now(), ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING"
        " RETURNING name, created_at, seq",
        (name, actor, seq, programme.decode(), revisions.decode(), speaker_numbers.decode()),
    ) as cur:
        row = await cur.fetchone()
    return ReleaseInfo(*row) if row else None


async def get(conn: Connection, name: str) -> ReleaseRow | None:
    """One release with its documents, or None."""
    async with conn.execute(
        "SELECT name, created_at, actor, seq, programme, revisions, speaker_numbers FROM releases WHERE name = ?",
        (name,),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return ReleaseRow(row[0], row[1], row[2], row[3], row[4].encode(), row[5].encode(), row[6].encode())


async def listing(conn: Connection) -> list[ReleaseInfo]:
    """Every release, newest first."""
    async with conn.execute("SELECT name, created_at, seq FROM releases ORDER BY created_at DESC, name") as cur:
        return [ReleaseInfo(*row) for row in await cur.fetchall()]


async def count(conn: Connection) -> int:
    async with conn.execute("SELECT count(*) FROM releases") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def forget_speaker(conn: Connection, speaker: dict[str, Any]) -> int:
    """Put an anonymous speaker into every release as stored now, so no release keeps their former name.

    Only releases that hold the speaker under another name, or not yet as anonymous, are rewritten.

    Returns:
        How many releases were rewritten.
    """
    # ``anonymous`` counts when it is true or the number 1, as the privacy floors read it.
    anonymous = (
        "(value::jsonb -> 'anonymous') IN ('true'::jsonb, '1'::jsonb)"
        if postgres(conn)
        else "value ->> '$.anonymous' = 1"
    )
    async with conn.execute(
        f"SELECT name, programme FROM releases WHERE EXISTS (SELECT 1 FROM {json_items(conn, 'programme', 'speakers')}"
        f" WHERE {json_field(conn, 'value', 'id')} = :id AND (NOT coalesce({anonymous}, false)"
        f" OR {json_field(conn, 'value', 'name')} IS DISTINCT FROM :pseudonym))",
        {"id": speaker["id"], "pseudonym": speaker["name"]},
    ) as cur:
        rows = list(await cur.fetchall())
    for name, text in rows:
        document = json.loads(text)
        document["speakers"] = [speaker if item.get("id") == speaker["id"] else item for item in document["speakers"]]
        await conn.execute(
            "UPDATE releases SET programme = ? WHERE name = ?", (json.dumps(document, ensure_ascii=False), name)
        )
    return len(rows)
