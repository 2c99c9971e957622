"""The venue: information pages organisers write, and floor plans with the rooms pinned on them.

A floor plan upload is decoded with Pillow, so what is stored is known to be a PNG, JPEG or WebP image of a
bounded size whatever the file was called; a smaller WebP copy for phones is made at the same time. SVG is
refused: it is a document that can carry scripts and outside references, and no sanitiser is part of Kumpul.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import warnings
from collections.abc import Awaitable, Callable

import msgspec
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from server.errors import Conflict, Invalid, NotFound, PayloadTooLarge, UnsupportedMediaType
from server.schemas.venue import (
    FloorPlan,
    FloorPlanUpdate,
    InfoPage,
    InfoPageTranslation,
    InfoPageUpdate,
    Pin,
    RoomPin,
    Venue,
)
from server.services import translations
from server.services.programme import SYSTEM
from server.storage import history
from server.storage import venue as store
from server.storage.db import Database

#: The largest floor plan file taken, in bytes.
MAX_PLAN_BYTES = 5 * 1024 * 1024
#: The largest floor plan in pixels (width times height): a small file may decode to a huge image.
MAX_PLAN_PIXELS = 40_000_000
#: The longer side of the copy for phones, in pixels.
SMALL_SIDE = 1200
#: The most info pages and floor plans kept.
MAX_PAGES = 50
MAX_PLANS = 20
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def check_image(data: bytes) -> tuple[store.Image, store.Image]:
    """The upload written afresh without its metadata (once known to be a PNG, JPEG or WebP image), and a smaller
    WebP copy for phones.

    Raises:
        PayloadTooLarge: Over :data:`MAX_PLAN_BYTES`, or over :data:`MAX_PLAN_PIXELS` once decoded.
        UnsupportedMediaType: Not an image of an accepted format (SVG included), or one that does not decode.
    """
    if not data:
        raise Invalid("the floor plan is empty: send the image file as the request body", field="body")
    if len(data) > MAX_PLAN_BYTES:
        raise PayloadTooLarge(f"the floor plan is over the limit of {MAX_PLAN_BYTES // (1024 * 1024)} MB", field="body")
    if _looks_like_svg(data):
        raise UnsupportedMediaType(
            "SVG floor plans are not accepted (they can carry scripts); export the plan as PNG, JPEG or WebP",
            field="body",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                kind = image.format or ""
                width, height = image.size
                if width * height > MAX_PLAN_PIXELS:
                    raise PayloadTooLarge(
                        f"the floor plan is {width} by {height} pixels, over the limit of "
                        f"{MAX_PLAN_PIXELS // 1_000_000} million pixels",
                        field="body",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                width, height = upright.size
                # Kept without what a camera or an editor wrote into the file (where and with what a photo was
                # taken, comments, text chunks): only the pixels and, for PNG, which colour is transparent.
                upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}
                full = _encoded(upright, kind)
                small = upright.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, PILImage.DecompressionBombWarning) as error:
        raise UnsupportedMediaType(
            "the floor plan is not a PNG, JPEG or WebP image (or the file is damaged)", field="body"
        ) from error
    if small.mode not in ("RGB", "RGBA"):
        small = small.convert("RGBA" if "transparency" in small.info or small.mode in ("LA", "PA") else "RGB")
    small.thumbnail((SMALL_SIDE, SMALL_SIDE))
    out = io.BytesIO()
    small.save(out, format="WEBP", quality=80, method=4)
    return (
        store.Image(FORMATS[kind], width, height, full),
        store.Image("image/webp", small.width, small.height, out.getvalue()),
    )


def _encoded(image: PILImage.Image, kind: str) -> bytes:
    """``image`` written afresh in its own format, with no metadata (the pixels carry the orientation)."""
    out = io.BytesIO()
    if kind == "JPEG":
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=90)
    elif kind == "WEBP":
        image.save(out, format="WEBP", quality=90, method=4)
    else:
        image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _page(row: store.PageRow) -> InfoPage:
    return InfoPage(
        id=row.id,
        slug=row.slug,
        title=row.title,
        body=row.body,
        position=row.position,
        translations=msgspec.convert(row.translations, dict[str, InfoPageTranslation]),
        updated_at=row.updated_at,
    )


def _plan(row: store.PlanRow) -> FloorPlan:
    base = f"/api/floor-plans/{row.id}/image"
    return FloorPlan(
        id=row.id,
        floor=row.floor,
        position=row.position,
        version=row.version,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        url=f"{base}?size=full&v={row.version}",
        small_width=row.small_width,
        small_height=row.small_height,
        small_bytes=row.small_bytes,
        small_url=f"{base}?size=small&v={row.version}",
        updated_at=row.updated_at,
    )


def _new_id() -> str:
    return secrets.token_hex(6)


def _row(page: InfoPage) -> store.PageRow:
    return store.PageRow(
        page.id, page.slug, page.title, page.body, page.position, msgspec.to_builtins(page.translations), ""
    )


class VenueService:
    """The Info pages, floor plans and pins.

    Args:
        db: The database.
        on_pages_written: Called after a committed change to the Info pages (open apps are told to read them).
    """

    def __init__(self, db: Database, *, on_pages_written: Callable[[], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.on_pages_written = on_pages_written

    async def _pages_written(self) -> None:
        if self.on_pages_written is not None:
            await self.on_pages_written()

    # --- information pages

    async def pages(self) -> list[InfoPage]:
        async with self.db.read() as conn:
            return [_page(row) for row in await store.list_pages(conn)]

    async def create_page(self, data: InfoPage, *, actor: str = SYSTEM) -> InfoPage:
        page_id = data.id or _new_id()
        async with self.db.write() as conn:
            if await store.get_page(conn, page_id) is not None:
                raise Conflict(f"an info page with id {page_id} exists already", field="id")
            if await store.slug_taken(conn, data.slug, page_id):
                raise Conflict(f"another info page has the address {data.slug}", field="slug")
            if len(await store.list_pages(conn)) >= MAX_PAGES:
                raise PayloadTooLarge(f"at most {MAX_PAGES} info pages are kept; delete one first")
            page = msgspec.structs.replace(data, id=page_id, updated_at="")
            page = await translations.track(conn, "page", page_id, None, page)
            row = await store.put_page(conn, _row(page))
            await history.record(conn, actor, "created", "info page", page_id, page.title)
        await self._pages_written()
        return _page(row)

    async def update_page(self, page_id: str, data: InfoPageUpdate, *, actor: str = SYSTEM) -> InfoPage:
        async with self.db.write() as conn:
            old = await store.get_page(conn, page_id)
            if old is None:
                raise NotFound(f"no info page {page_id}")
            slug = old.slug if data.slug is msgspec.UNSET else data.slug
            if await store.slug_taken(conn, slug, page_id):
                raise Conflict(f"another info page has the address {slug}", field="slug")
            before = _page(old)
            changes = {
                field: value
                for field in ("slug", "title", "body", "position", "translations")
                if (value := getattr(data, field)) is not msgspec.UNSET
            }
            after = msgspec.structs.replace(before, **changes)
            after = await translations.track(conn, "page", page_id, before, after)
            row = await store.put_page(conn, _row(after))
            await history.record(conn, actor, "updated", "info page", page_id, after.title)
        await self._pages_written()
        return _page(row)

    async def delete_page(self, page_id: str, *, actor: str = SYSTEM) -> None:
        async with self.db.write() as conn:
            old = await store.get_page(conn, page_id)
            if old is None or not await store.delete_page(conn, page_id):
                raise NotFound(f"no info page {page_id}")
            await translations.forget(conn, "page", page_id)
            await history.record(conn, actor, "deleted", "info page", page_id, old.title)
        await self._pages_written()

    # --- floor plans and pins

    async def venue(self) -> Venue:
        async with self.db.read() as conn:
            plans = await store.list_plans(conn)
            pins = await store.list_pins(conn)
        return Venue(
            plans=[_plan(row) for row in plans],
            pins=[RoomPin(room_id=room, plan_id=plan, x=x, y=y) for room, plan, x, y in pins],
        )

    async def upload_plan(self, floor: str, data: bytes, *, actor: str = SYSTEM) -> FloorPlan:
        floor = floor.strip()
        if not floor or len(floor) > 300:
            raise Invalid("floor: name the floor (as rooms name it), 1 to 300 characters", field="floor")
        full, small = await asyncio.to_thread(check_image, data)
        async with self.db.write() as conn:
            plan_id = await store.plan_id_of_floor(conn, floor)
            if plan_id is None:
                plans = await store.list_plans(conn)
                if len(plans) >= MAX_PLANS:
                    raise PayloadTooLarge(f"at most {MAX_PLANS} floor plans are kept; delete one first")
                plan_id = _new_id()
                position = max((plan.position for plan in plans), default=-1) + 1
            else:
                existing = await store.get_plan(conn, plan_id)
                position = existing.position if existing else 0
            row = await store.put_plan(conn, plan_id, floor, position, full, small)
            await history.record(conn, actor, "updated", "floor plan", plan_id, floor)
        return _plan(row)

    async def update_plan(self, plan_id: str, data: FloorPlanUpdate) -> FloorPlan:
        async with self.db.write() as conn:
            if data.position is not msgspec.UNSET and not await store.set_plan_position(conn, plan_id, data.position):
                raise NotFound(f"no floor plan {plan_id}")
            row = await store.get_plan(conn, plan_id)
        if row is None:
            raise NotFound(f"no floor plan {plan_id}")
        return _plan(row)

    async def delete_plan(self, plan_id: str, *, actor: str = SYSTEM) -> None:
        async with self.db.write() as conn:
            old = await store.get_plan(conn, plan_id)
            if old is None or not await store.delete_plan(conn, plan_id):
                raise NotFound(f"no floor plan {plan_id}")
            await history.record(conn, actor, "deleted", "floor plan", plan_id, old.floor)

    async def image(self, plan_id: str, small: bool) -> tuple[int, store.Image]:
        async with self.db.read() as conn:
            found = await store.plan_image(conn, plan_id, small)
        if found is None:
            raise NotFound(f"no floor plan {plan_id}")
        return found

    async def pin(self, plan_id: str, room_id: str, pin: Pin) -> RoomPin:
        async with self.db.write() as conn:
            if await store.get_plan(conn, plan_id) is None:
                raise NotFound(f"no floor plan {plan_id}")
            if not await store.room_exists(conn, room_id):
                raise NotFound(f"no room {room_id}")
            await store.put_pin(conn, room_id, plan_id, pin.x, pin.y)
        return RoomPin(room_id=room_id, plan_id=plan_id, x=pin.x, y=pin.y)

    async def unpin(self, room_id: str) -> None:
        async with self.db.write() as conn:
            if not await store.delete_pin(conn, room_id):
                raise NotFound(f"room {room_id} has no pin")
