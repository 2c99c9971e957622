"""Programme warnings for the console: rooms and speakers booked for two sessions at once.

Computed from the programme snapshot the feed already holds in memory. Each room's (and each
speaker's) sessions are sorted by start and swept once, keeping the sessions still running, so the
cost is O(n log n) plus one step per clash rather than a comparison of every pair.
"""

from __future__ import annotations

import heapq
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from server.schemas.console import ScheduleWarning


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A scheduled session's time span; ordered by start, then end, then id."""

    start: datetime
    end: datetime
    id: str
    title: str


def overlapping_pairs(slots: list[Slot]) -> Iterator[tuple[Slot, Slot]]:
    """Every pair of slots that overlap in time, the earlier-starting first.

    Slots that only touch (one ends when the other starts) do not overlap.
    """
    running: list[tuple[datetime, int, Slot]] = []
    for index, slot in enumerate(sorted(slots)):
        while running and running[0][0] <= slot.start:
            heapq.heappop(running)
        for _, _, earlier in sorted(running, key=lambda item: item[2]):
            yield earlier, slot
        heapq.heappush(running, (slot.end, index, slot))


def _zone(event: Mapping[str, Any] | None) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(str((event or {}).get("timeZone") or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _span(slot: Slot, zone: tzinfo) -> str:
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    day = f"{start:%a} {start.day} {start:%b}"
    if end.date() != start.date():
        return f"{day} {start:%H:%M} to {end:%a} {end.day} {end:%b} {end:%H:%M}"
    return f"{day} {start:%H:%M}-{end:%H:%M}"


def _both(first: Slot, second: Slot, zone: tzinfo) -> str:
    return f"“{first.title}” ({_span(first, zone)}) and “{second.title}” ({_span(second, zone)})"


def programme_warnings(snapshot: Mapping[str, Any]) -> list[ScheduleWarning]:
    """Rooms and speakers double-booked among the scheduled sessions of a programme snapshot.

    Args:
        snapshot: A programme as ``/api/programme`` serves it (camelCase keys).

    Returns:
        One warning per clashing pair of sessions and room or speaker, in order of the clash's start.
    """
    zone = _zone(snapshot.get("event"))
    room_names = {room["id"]: room["name"] for room in snapshot.get("rooms", [])}
    speaker_names = {speaker["id"]: speaker["name"] for speaker in snapshot.get("speakers", [])}
    by_room: dict[str, list[Slot]] = defaultdict(list)
    by_speaker: dict[str, list[Slot]] = defaultdict(list)
    for session in snapshot.get("sessions", []):
        if session.get("status", "scheduled") != "scheduled":
            continue
        slot = Slot(
            datetime.fromisoformat(session["start"]),
            datetime.fromisoformat(session["end"]),
            session["id"],
            session.get("title", session["id"]),
        )
        if slot.end <= slot.start:
            continue
        by_room[session["roomId"]].append(slot)
        for speaker_id in dict.fromkeys(session.get("speakerIds", [])):
            by_speaker[speaker_id].append(slot)

    found: list[tuple[tuple[datetime, datetime, str, str, str], ScheduleWarning]] = []
    for room_id, slots in by_room.items():
        room = room_names.get(room_id, room_id)
        for first, second in overlapping_pairs(slots):
            warning = ScheduleWarning(
                kind="room-double-booked",
                session_ids=[first.id, second.id],
                room_id=room_id,
                message=f"{room} is double-booked: {_both(first, second, zone)} overlap",
            )
            found.append(((second.start, first.start, warning.kind, room_id, first.id + second.id), warning))
    for speaker_id, slots in by_speaker.items():
        speaker = speaker_names.get(speaker_id, speaker_id)
        for first, second in overlapping_pairs(slots):
            warning = ScheduleWarning(
                kind="speaker-double-booked",
                session_ids=[first.id, second.id],
                speaker_id=speaker_id,
                message=f"{speaker} is in two sessions at once: {_both(first, second, zone)}",
            )
            found.append(((second.start, first.start, warning.kind, speaker_id, first.id + second.id), warning))
    found.sort(key=lambda item: item[0])
    return [warning for _, warning in found]
