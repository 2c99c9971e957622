"""Double-booking warnings: which sessions overlap, found by one sweep instead of comparing every pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from server.services.warnings import Slot, overlapping_pairs, programme_warnings

BASE = datetime(2024, 7, 24, 1, 0, tzinfo=UTC)


def slot(name: str, start: int, end: int) -> Slot:
    """A slot from minute ``start`` to minute ``end`` after 09:00 in Bali."""
    return Slot(BASE + timedelta(minutes=start), BASE + timedelta(minutes=end), name, name.title())


def pairs(slots: list[Slot]) -> set[tuple[str, str]]:
    return {(a.id, b.id) for a, b in overlapping_pairs(slots)}


def test_touching_slots_do_not_overlap() -> None:
    assert pairs([slot("a", 0, 60), slot("b", 60, 90)]) == set()


def test_overlapping_and_nested_slots() -> None:
    slots = [slot("long", 0, 180), slot("early", 30, 90), slot("late", 120, 150), slot("after", 180, 200)]
    assert pairs(slots) == {("long", "early"), ("long", "late")}


def test_identical_times_overlap() -> None:
    assert pairs([slot("b", 0, 30), slot("a", 0, 30)]) == {("a", "b")}


intervals = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 120)).map(lambda t: (t[0], t[0] + t[1])), max_size=25
)


@given(intervals)
@settings(max_examples=200, deadline=None)
def test_sweep_finds_exactly_the_overlapping_pairs(spans: list[tuple[int, int]]) -> None:
    slots = [slot(f"s{index:02d}", start, end) for index, (start, end) in enumerate(spans)]
    expected = {tuple(sorted((a.id, b.id))) for a, b in combinations(slots, 2) if a.start < b.end and b.start < a.end}
    found = [tuple(sorted(pair)) for pair in pairs(slots)]
    assert len(found) == len(set(found)), "each pair once"
    assert set(found) == expected


def session(session_id: str, room: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": session_id,
        "title": session_id.title(),
        "roomId": room,
        "start": (BASE + timedelta(minutes=start)).isoformat(),
        "end": (BASE + timedelta(minutes=end)).isoformat(),
        "speakerIds": [],
        "status": "scheduled",
        **extra,
    }


def snapshot(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "event": {"timeZone": "Asia/Makassar"},
        "rooms": [{"id": "hall", "name": "Main Hall"}, {"id": "annex", "name": "Annex"}],
        "speakers": [{"id": "sari", "name": "Sari"}],
        "sessions": sessions,
    }


def test_room_and_speaker_clashes_cancelled_ignored() -> None:
    warnings = programme_warnings(
        snapshot(
            [
                session("opening", "hall", 0, 60, speakerIds=["sari", "sari"]),
                session("panel", "hall", 30, 90),
                session("lab", "annex", 45, 75, speakerIds=["sari"]),
                session("gone", "annex", 0, 120, status="cancelled", speakerIds=["sari"]),
                session("next", "hall", 90, 120),
            ]
        )
    )
    assert [(w.kind, w.session_ids, w.room_id, w.speaker_id) for w in warnings] == [
        ("room-double-booked", ["opening", "panel"], "hall", UNSET),
        ("speaker-double-booked", ["opening", "lab"], UNSET, "sari"),
    ]
    assert warnings[0].message == (
        "Main Hall is double-booked: “Opening” (Wed 24 Jul 09:00-10:00) and “Panel” (Wed 24 Jul 09:30-10:30) overlap"
    )
    assert warnings[1].message.startswith("Sari is in two sessions at once: “Opening”")


def test_a_thousand_sessions_yield_just_their_clashes() -> None:
    sessions = [
        session(f"s{index:04d}", f"room-{index % 25}", (index // 25) * 60, (index // 25) * 60 + 60)
        for index in range(1000)
    ]
    sessions.append(session("extra", "room-3", 30, 90))
    warnings = programme_warnings(snapshot(sessions))
    assert [w.session_ids for w in warnings] == [["s0003", "extra"], ["extra", "s0028"]]
