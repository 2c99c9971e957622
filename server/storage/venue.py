"""The venue's tables: information pages, floor plans (with their images) and room pins.

The SQL reads the same on both engines; in ``ON CONFLICT ... DO UPDATE`` the stored row's columns are named with their
table (``floor_plans.version``), which PostgreSQL requires.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class PageRow:
    id: str
    slug: str
    title: str
    body: str
    position: int
    translations: dict[str, Any]
    updated_at: str


def _page(row: Any) -> PageRow:
    return PageRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])


async def list_pages(conn: Connection) -> list[PageRow]:
    async with conn.execute(
        "SELECT id, slug, title, body, position, translations, updated_at FROM info_pages ORDER BY position, title, id"
    ) as cur:
        return [_page(row) for row in await cur.fetchall()]


async def get_page(conn: Connection, page_id: str) -> PageRow | None:
    async with conn.execute(
        "SELECT id, slug, title, body, position, translations, updated_at FROM info_pages WHERE id = ?", (page_id,)
    ) as cur:
        row = await cur.fetchone()
    return _page(row) if row else None


async def pages_revision(conn: Connection) -> str:
    """A short digest of which pages there are and when each last changed: it moves with every page write."""
    async with conn.execute("SELECT id, updated_at FROM info_pages ORDER BY id") as cur:
        rows = await cur.fetchall()
    return hashlib.sha256(json.dumps([list(row) for row in rows]).encode()).hexdigest()[:16]


async def slug_taken(conn: Connection, slug: str, other_than: str) -> bool:
    async with conn.execute("SELECT 1 FROM info_pages WHERE slug = ? AND id <> ?", (slug, other_than)) as cur:
        return await cur.fetchone() is not None


async def put_page(conn: Connection, page: PageRow) -> PageRow:
    """Insert or replace a page (by id); returns it as stored."""
    async with conn.execute(
        "INSERT INTO info_pages (id, slug, title, body, position, translations, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, kumpul_now())"
        " ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, title = excluded.title, body = excluded.body,"
        " position = excluded.position, translations = excluded.translations, updated_at = excluded.updated_at"
        " RETURNING id, slug, title, body, position, translations, updated_at",
        (page.id, page.slug, page.title, page.body, page.position, json.dumps(page.translations)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return _page(row)


async def delete_page(conn: Connection, page_id: str) -> bool:
    cur = await conn.execute("DELETE FROM info_pages WHERE id = ?", (page_id,))
    return cur.rowcount > 0


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: str
    floor: str
    position: int
    version: int
    media_type: str
    width: int
    height: int
    bytes: int
    small_media_type: str
    small_width: int
    small_height: int
    small_bytes: int
    updated_at: str


@dataclass(frozen=True, slots=True)
class Image:
    media_type: str
    width: int
    height: int
    data: bytes


async def list_plans(conn: Connection) -> list[PlanRow]:
    async with conn.execute(
        "SELECT id, floor, position, version, media_type, width, height, length(image),"
        " small_media_type, small_width, small_height, length(small_image), updated_at"
        " FROM floor_plans ORDER BY position, floor"
    ) as cur:
        return [PlanRow(*row) for row in await cur.fetchall()]


async def get_plan(conn: Connection, plan_id: str) -> PlanRow | None:
    async with conn.execute(
        "SELECT id, floor, position, version, media_type, width, height, length(image),"
        " small_media_type, small_width, small_height, length(small_image), updated_at FROM floor_plans WHERE id = ?",
        (plan_id,),
    ) as cur:
        row = await cur.fetchone()
    return PlanRow(*row) if row else None


async def plan_id_of_floor(conn: Connection, floor: str) -> str | None:
    async with conn.execute("SELECT id FROM floor_plans WHERE floor = ?", (floor,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def put_plan(conn: Connection, plan_id: str, floor: str, position: int, full: Image, small: Image) -> PlanRow:
    """Store a floor's plan, replacing the one before (its pins stay; ``version`` goes up)."""
    async with conn.execute(
        "INSERT INTO floor_plans (id, floor, position, version, media_type, width, height, image,"
        " small_media_type, small_width, small_height, small_image, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, kumpul_now())"
        " ON CONFLICT (id) DO UPDATE SET version = floor_plans.version + 1, media_type = excluded.media_type,"
        " width = excluded.width, height = excluded.height, image = excluded.image,"
        " small_media_type = excluded.small_media_type, small_width = excluded.small_width,"
        " small_height = excluded.small_height, small_image = excluded.small_image, updated_at = excluded.updated_at"
        " RETURNING id, floor, position, version, media_type, width, height, length(image),"
        " small_media_type, small_width, small_height, length(small_image), updated_at",
        (
            plan_id,
            floor,
            position,
            full.media_type,
            full.width,
            full.height,
            full.data,
            small.media_type,
            small.width,
            small.height,
            small.data,
        ),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return PlanRow(*row)


async def set_plan_position(conn: Connection, plan_id: str, position: int) -> bool:
    cur = await conn.execute("UPDATE floor_plans SET position = ? WHERE id = ?", (position, plan_id))
    return cur.rowcount > 0


async def delete_plan(conn: Connection, plan_id: str) -> bool:
    cur = await conn.execute("DELETE FROM floor_plans WHERE id = ?", (plan_id,))
    return cur.rowcount > 0


async def plan_image(conn: Connection, plan_id: str, small: bool) -> tuple[int, Image] | None:
    """A plan's version and one of its images."""
    query = (
        "SELECT version, small_media_type, small_width, small_height, small_image FROM floor_plans WHERE id = ?"
        if small
        else "SELECT version, media_type, width, height, image FROM floor_plans WHERE id = ?"
    )
    async with conn.execute(query, (plan_id,)) as cur:
        row = await cur.fetchone()
    return (row[0], Image(row[1], row[2], row[3], bytes(row[4]))) if row else None


async def list_pins(conn: Connection) -> list[tuple[str, str, float, float]]:
    """Pins of rooms that exist (a deleted room's pin is kept but not shown)."""
    async with conn.execute(
        "SELECT p.room_id, p.plan_id, p.x, p.y FROM room_pins p"
        " JOIN entities e ON e.kind = 'room' AND e.id = p.room_id ORDER BY p.plan_id, p.room_id"
    ) as cur:
        return [(row[0], row[1], row[2], row[3]) for row in await cur.fetchall()]


async def room_exists(conn: Connection, room_id: str) -> bool:
    async with conn.execute("SELECT 1 FROM entities WHERE kind = 'room' AND id = ?", (room_id,)) as cur:
        return await cur.fetchone() is not None


async def put_pin(conn: Connection, room_id: str, plan_id: str, x: float, y: float) -> None:
    await conn.execute(
        "INSERT INTO room_pins (room_id, plan_id, x, y) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (room_id) DO UPDATE SET plan_id = excluded.plan_id, x = excluded.x, y = excluded.y",
        (room_id, plan_id, x, y),
    )


async def delete_pin(conn: Connection, room_id: str) -> bool:
    cur = await conn.execute("DELETE FROM room_pins WHERE room_id = ?", (room_id,))
    return cur.rowcount > 0
