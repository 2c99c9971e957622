"""The change history: who changed what, when. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    at: str
    actor: str
    action: str
    kind: str
    entity_id: str
    summary: str


async def record(conn: Connection, actor: str, action: str, kind: str, entity_id: str, summary: str = "") -> None:
    """Note one change; call it on the write connection inside the change's transaction."""
    await conn.execute(
        "INSERT INTO history (at, actor, action, kind, entity_id, summary) VALUES (kumpul_now(), ?, ?, ?, ?, ?)",
        (actor, action, kind, entity_id, summary[:200]),
    )


async def latest(conn: Connection, limit: int, before: int | None = None) -> list[HistoryRow]:
    """The newest changes first, at most ``limit``; ``before`` pages back past an entry id."""
    older = "" if before is None else " WHERE id < :before"
    async with conn.execute(
        f"SELECT id, at, actor, action, kind, entity_id, summary FROM history{older} ORDER BY id DESC LIMIT :limit",
        {"before": before, "limit": limit},
    ) as cur:
        return [HistoryRow(*row) for row in await cur.fetchall()]


async def entries_about(conn: Connection, kind: str, entity_id: str) -> list[HistoryRow]:
    """Every change noted about one entity, oldest first."""
    async with conn.execute(
        "SELECT id, at, actor, action, kind, entity_id, summary FROM history WHERE kind = ? AND entity_id = ?"
        " ORDER BY id",
        (kind, entity_id),
    ) as cur:
        return [HistoryRow(*row) for row in await cur.fetchall()]


async def set_summary(conn: Connection, entry_id: int, summary: str) -> None:
    """Rewrite what an entry says (when what it said must no longer be shown)."""
    await conn.execute("UPDATE history SET summary = ? WHERE id = ?", (summary[:200], entry_id))


async def record_many(conn: Connection, actor: str, entries: list[tuple[str, str, str, str]]) -> None:
    """Note many changes, ``(action, kind, entity_id, summary)`` each, in order, with one statement."""
    await conn.executemany(
        "INSERT INTO history (at, actor, action, kind, entity_id, summary) VALUES (kumpul_now(), ?, ?, ?, ?, ?)",
        [(actor, action, kind, entity_id, summary[:200]) for action, kind, entity_id, summary in entries],
    )
