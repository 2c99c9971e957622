"""What an import did, or would do: per kind, the entities added, changed and removed."""

from __future__ import annotations

from typing import Literal

from server.schemas.base import Base

ImportFormat = Literal["frab-xml", "c3voc-json", "kumpul-json"]
MissingPolicy = Literal["cancel", "delete"]
ImportKindName = Literal["event", "room", "track", "format", "speaker", "session"]


class ImportItem(Base, kw_only=True):
    """One entity, by id and by the name or title people know it by."""

    id: str
    label: str


class ImportKind(Base, kw_only=True):
    """The changes to one kind. ``removed`` holds sessions cancelled (missing=cancel) or entities deleted."""

    kind: ImportKindName
    added: list[ImportItem] = []
    changed: list[ImportItem] = []
    removed: list[ImportItem] = []


class ImportReport(Base, kw_only=True):
    """The outcome of ``POST /api/admin/import`` and ``kumpul import``: the same for dry and real runs."""

    format: ImportFormat
    dry_run: bool
    missing: MissingPolicy
    kinds: list[ImportKind]


__all__ = ["ImportFormat", "ImportItem", "ImportKind", "ImportKindName", "ImportReport", "MissingPolicy"]
