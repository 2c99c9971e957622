"""Named schedule versions and the source of record, as the API shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from server.schemas.base import Base


class ReleaseCreate(Base, kw_only=True):
    """A release to publish; without a name it is called ``v1``, ``v2``, …"""

    name: Annotated[str, Meta(max_length=64)] | None = None


class Release(Base, kw_only=True):
    """A named schedule version: ``?version=NAME`` on the exports serves the programme as it was then."""

    name: str
    created_at: str


class SourceUpdate(Base, kw_only=True):
    """Follow a pretalx or frab export (``schedule.xml`` or ``schedule.json``), pulling it every ``everySeconds``."""

    url: Annotated[str, Meta(max_length=2000)]
    every_seconds: Annotated[int, Meta(ge=10, le=7 * 24 * 3600)] = 300


class Source(Base, kw_only=True):
    """The source of record and how its last pull went."""

    url: str
    every_seconds: int
    last_pull_at: str | None
    last_result: Literal["imported", "unchanged", "failed"] | None
    last_detail: str
    last_success_at: str | None
    failures: int
    next_pull_at: str
