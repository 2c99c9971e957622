"""The tables of a test's database, on either engine."""

from __future__ import annotations

from typing import Any

from server.storage.db import postgres


async def table_names(conn: Any) -> list[str]:
    """Every table of the schema: PostgreSQL's current schema, or the SQLite file's."""
    rows = await conn.execute_fetchall(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        if postgres(conn)
        else "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    return [str(row[0]) for row in rows]
