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


class ImportRefusal(Base, kw_only=True):
    """An entry of the file that would reveal an anonymous speaker or loosen a session's recording policy.

    ``label`` is the stored name or title (an anonymous speaker's pseudonym), never a name from the file.
    """

    id: str
    label: str
    reason: str


class ImportKind(Base, kw_only=True):
    """The changes to one kind. ``removed`` holds sessions cancelled (missing=cancel) or entities deleted.

    ``refused`` lists entries a real import refuses the whole file for (a dry run lists them and goes on).
    """

    kind: ImportKindName
    added: list[ImportItem] = []
    changed: list[ImportItem] = []
    removed: list[ImportItem] = []
    refused: list[ImportRefusal] = []


class ImportReport(Base, kw_only=True):
    """The outcome of ``POST /api/admin/import`` and ``kumpul import``: the same for dry and real runs."""

    format: ImportFormat
    dry_run: bool
    missing: MissingPolicy
    kinds: list[ImportKind]


__all__ = [
    "ImportFormat",
    "ImportItem",
    "ImportKind",
    "ImportKindName",
    "ImportRefusal",
    "ImportReport",
    "MissingPolicy",
]
