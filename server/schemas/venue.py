"""The venue: information pages, floor plans and where each room is on its floor."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from server.schemas.base import Base, Id, LanguageCode, Position, ShortText, Title
from server.schemas.programme import StaleFields

Slug = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
        description="Lower-case letters, digits and '-', at most 64 characters: the page's address in the app",
        examples=["code-of-conduct"],
    ),
]
PageBody = Annotated[str, Meta(max_length=10000)]
Fraction = Annotated[float, Meta(ge=0.0, le=1.0, description="A fraction of the plan's width or height, 0 to 1")]


class InfoPageTranslation(Base, omit_defaults=True):
    title: ShortText = ""
    body: PageBody = ""
    stale: StaleFields = []


class InfoPage(Base, kw_only=True):
    """A short page of the Info section. ``body`` is plain text: blank lines part paragraphs, http(s) URLs link."""

    id: Id = ""
    slug: Slug
    title: Title
    body: PageBody = ""
    position: Position = 0
    translations: dict[LanguageCode, InfoPageTranslation] = {}
    updated_at: str = ""


class InfoPageUpdate(Base, kw_only=True):
    slug: Slug | UnsetType = UNSET
    title: Title | UnsetType = UNSET
    body: PageBody | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    translations: dict[LanguageCode, InfoPageTranslation] | UnsetType = UNSET


class Pin(Base, kw_only=True):
    """Where a room is on a floor plan."""

    x: Fraction
    y: Fraction


class RoomPin(Base, kw_only=True):
    room_id: str
    plan_id: str
    x: float
    y: float


class FloorPlan(Base, kw_only=True):
    """A floor's plan: its size, and the addresses of the image as uploaded and of the smaller copy for phones."""

    id: str
    floor: ShortText
    position: int
    version: int
    width: int
    height: int
    bytes: int
    url: str
    small_width: int
    small_height: int
    small_bytes: int
    small_url: str
    updated_at: str


class FloorPlanUpdate(Base, kw_only=True):
    position: Position | UnsetType = UNSET


class Venue(Base, kw_only=True):
    """Every floor plan (in order) and every pinned room."""

    plans: list[FloorPlan]
    pins: list[RoomPin]
