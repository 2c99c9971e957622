"""The programme feed: change records, snapshot ordering, and applying changes to a snapshot.

A snapshot is the decoded JSON of ``GET /api/programme``. Changes are the records of
``GET /api/changes``. Both sides order collections with :func:`sort_collection`, so applying the
changes after a snapshot's cursor to that snapshot gives exactly the newer snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from sync.errors import ChangeError

Entity = dict[str, Any]

#: The snapshot key of every collection kind. ``event`` is a single object, not a collection.
COLLECTIONS: Mapping[str, str] = {
    "room": "rooms",
    "track": "tracks",
    "format": "formats",
    "speaker": "speakers",
    "session": "sessions",
    "announcement": "announcements",
}
SINGLE_KINDS = frozenset({"event"})
KINDS = frozenset(COLLECTIONS) | SINGLE_KINDS


class Change(msgspec.Struct, frozen=True, rename="camel"):
    """One record of the change feed.

    Attributes:
        type: The kind of entity (``session``, ``speaker``, ``room``, ``track``, ``format``, ``event``).
        id: The entity's id within its kind.
        seq: The change sequence of this change; records arrive in rising ``seq``.
        deleted: True for a tombstone.
        data: The entity as it is now (upserts), or None (tombstones).
    """

    type: str
    id: str
    seq: int
    deleted: bool = False
    data: Entity | None = None


class ChangesPage(msgspec.Struct, frozen=True, rename="camel"):
    """A page of the change feed.

    Attributes:
        changes: Records in rising ``seq``.
        cursor: What to send as ``since`` next.
        more: True when another page follows at once.
    """

    changes: list[Change]
    cursor: str
    more: bool


def _instant(value: object) -> float:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return 0.0


def _by_position(item: Entity) -> tuple[Any, ...]:
    return (item.get("position", 0), str(item.get("name", "")).casefold(), item["id"])


def _by_name(item: Entity) -> tuple[Any, ...]:
    return (str(item.get("name", "")).casefold(), item["id"])


def _by_time(item: Entity) -> tuple[Any, ...]:
    return (_instant(item.get("start")), _instant(item.get("end")), item["id"])


def _newest_first(item: Entity) -> tuple[Any, ...]:
    return (-_instant(item.get("publishedAt")), item["id"])


_SORT_KEYS: Mapping[str, Callable[[Entity], tuple[Any, ...]]] = {
    "room": _by_position,
    "track": _by_position,
    "format": _by_position,
    "speaker": _by_name,
    "session": _by_time,
    "announcement": _newest_first,
}


def sort_collection(kind: str, items: Iterable[Entity]) -> list[Entity]:
    """Order a collection as snapshots order it.

    Rooms, tracks and formats by ``position`` then name; speakers by name; sessions by start, end
    and id; announcements newest first. Ties always end on the id, so the order is total.

    Raises:
        ChangeError: ``kind`` is not a collection kind.
    """
    try:
        key = _SORT_KEYS[kind]
    except KeyError:
        raise ChangeError(f"unknown collection kind {kind!r}") from None
    return sorted(items, key=key)


def build_snapshot(cursor: str, event: Entity | None, entities: Iterable[tuple[str, Entity]]) -> dict[str, Any]:
    """Assemble a programme snapshot from entities in any order.

    Args:
        cursor: The cursor of the newest change the entities include.
        event: The event, if one is configured.
        entities: ``(kind, entity)`` pairs for every collection kind.

    Raises:
        ChangeError: An entity of an unknown kind.
    """
    grouped: dict[str, list[Entity]] = {kind: [] for kind in COLLECTIONS}
    for kind, entity in entities:
        if kind not in grouped:
            raise ChangeError(f"unknown collection kind {kind!r}")
        grouped[kind].append(entity)
    snapshot: dict[str, Any] = {"cursor": cursor, "event": event}
    for kind, key in COLLECTIONS.items():
        snapshot[key] = sort_collection(kind, grouped[kind])
    return snapshot


def apply_changes(snapshot: Mapping[str, Any], changes: Iterable[Change], cursor: str) -> dict[str, Any]:
    """Apply change records to a snapshot and return the new snapshot; the input is not modified.

    Args:
        snapshot: A decoded programme snapshot.
        changes: Records after the snapshot's cursor, in order.
        cursor: The cursor the feed returned with the last page.

    Raises:
        ChangeError: A record of an unknown kind, or an upsert without data.
    """
    event = snapshot.get("event")
    collections: dict[str, dict[str, Entity]] = {
        kind: {item["id"]: item for item in snapshot.get(key, [])} for kind, key in COLLECTIONS.items()
    }
    for change in changes:
        if not change.deleted and change.data is None:
            raise ChangeError(f"upsert of {change.type} {change.id!r} carries no data")
        if change.type in SINGLE_KINDS:
            event = None if change.deleted else change.data
            continue
        if change.type not in collections:
            raise ChangeError(f"unknown kind {change.type!r} in change {change.seq}")
        target = collections[change.type]
        if change.deleted:
            target.pop(change.id, None)
        else:
            assert change.data is not None
            target[change.id] = change.data
    result = dict(snapshot)
    result["cursor"] = cursor
    result["event"] = event
    for kind, key in COLLECTIONS.items():
        result[key] = sort_collection(kind, collections[kind].values())
    return result
