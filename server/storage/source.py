"""The source of record Kumpul follows: its address, schedule, validators, last outcome and the pull lease.

Times are ``kumpul_now(seconds)`` text; flags are compared with ``= 1``, which both engines read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class SourceRow:
    url: str
    every_seconds: int
    etag: str | None
    last_modified: str | None
    last_pull_at: str | None
    last_result: str | None
    last_detail: str
    last_success_at: str | None
    failures: int
    next_pull_at: str
    lease_owner: str | None
    lease_until: str | None


async def get(conn: Connection) -> SourceRow | None:
    """The configured source, or None."""
    async with conn.execute(
        "SELECT url, every_seconds, etag, last_modified, last_pull_at, last_result, last_detail, last_success_at,"
        " failures, next_pull_at, lease_owner, lease_until FROM source_of_record WHERE id = 1"
    ) as cur:
        row = await cur.fetchone()
    return SourceRow(*row) if row else None


async def configure(conn: Connection, url: str, every_seconds: int) -> None:
    """Follow ``url`` every ``every_seconds``, pulling at once; a new address forgets the old validators."""
    await conn.execute(
        "INSERT INTO source_of_record (id, url, every_seconds, next_pull_at)"
        " VALUES (1, :url, :every, kumpul_now())"
        " ON CONFLICT (id) DO UPDATE SET every_seconds = excluded.every_seconds, next_pull_at = excluded.next_pull_at,"
        " failures = 0,"
        " etag = CASE WHEN source_of_record.url = excluded.url THEN source_of_record.etag END,"
        " last_modified = CASE WHEN source_of_record.url = excluded.url THEN source_of_record.last_modified END,"
        " url = excluded.url",
        {"url": url, "every": every_seconds},
    )


async def remove(conn: Connection) -> bool:
    """Stop following; whether a source was configured."""
    async with conn.execute("DELETE FROM source_of_record WHERE id = 1 RETURNING url") as cur:
        return await cur.fetchone() is not None


async def claim(conn: Connection, owner: str, lease_seconds: float, *, force: bool) -> SourceRow | None:
    """Take the pull lease when a pull is due (or ``force``) and no other worker holds it; None otherwise."""
    async with conn.execute(
        "UPDATE source_of_record SET lease_owner = :owner, lease_until = kumpul_now(:lease)"
        " WHERE id = 1 AND (lease_until IS NULL OR lease_until < kumpul_now())"
        " AND (:force = 1 OR next_pull_at <= kumpul_now())"
        " RETURNING url, every_seconds, etag, last_modified, last_pull_at, last_result, last_detail, last_success_at,"
        " failures, next_pull_at, lease_owner, lease_until",
        {"owner": owner, "lease": float(lease_seconds), "force": force},
    ) as cur:
        row = await cur.fetchone()
    return SourceRow(*row) if row else None


async def release(conn: Connection, owner: str) -> None:
    """Give the lease back without recording a pull (the pull was stopped: the server is shutting down)."""
    await conn.execute(
        "UPDATE source_of_record SET lease_owner = NULL, lease_until = NULL WHERE id = 1 AND lease_owner = ?", (owner,)
    )


async def finish(
    conn: Connection,
    owner: str,
    *,
    result: str,
    detail: str,
    next_in: float,
    etag: str | None = None,
    last_modified: str | None = None,
    keep_validators: bool = True,
) -> None:
    """Record a pull's outcome, give the lease back and schedule the next pull ``next_in`` seconds from now."""
    failed = result == "failed"
    await conn.execute(
        "UPDATE source_of_record SET last_pull_at = kumpul_now(), last_result = :result,"
        " last_detail = :detail,"
        " last_success_at = CASE WHEN :failed = 1 THEN last_success_at ELSE kumpul_now() END,"
        " failures = CASE WHEN :failed = 1 THEN failures + 1 ELSE 0 END,"
        " etag = CASE WHEN :keep = 1 THEN etag ELSE :etag END,"
        " last_modified = CASE WHEN :keep = 1 THEN last_modified ELSE :last_modified END,"
        " next_pull_at = kumpul_now(:next), lease_owner = NULL, lease_until = NULL"
        " WHERE id = 1 AND lease_owner = :owner",
        {
            "result": result,
            "detail": detail[:500],
            "failed": failed,
            "keep": keep_validators,
            "etag": etag,
            "last_modified": last_modified,
            "next": float(next_in),
            "owner": owner,
        },
    )
