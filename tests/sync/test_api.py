"""The sync package's public API, cursors and applying changes, without any server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sync
from sync import Change, ChangeError, Cursor, CursorError, StaleCursorError, apply_changes, build_snapshot

SYNC_DIR = Path(sync.__file__).parent


def test_public_api_is_declared_and_importable() -> None:
    assert sorted(sync.__all__) == sorted(set(sync.__all__))
    for name in sync.__all__:
        assert getattr(sync, name) is not None


def test_sync_imports_no_framework_or_driver() -> None:
    for path in SYNC_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"litestar", "aiosqlite", "server", "sqlite3"}, (path, name)


def test_cursor_round_trip() -> None:
    cursor = Cursor("0123456789ab", 42)
    assert cursor.encode() == "0123456789ab.42"
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("text", ["", "42", "0123456789ab", "0123456789AB.1", "0123456789ab.-1", "0123456789ab.x"])
def test_malformed_cursor(text: str) -> None:
    with pytest.raises(CursorError):
        Cursor.decode(text)


def test_stale_cursors() -> None:
    sync.check_servable(Cursor("aaaaaaaaaaaa", 5), epoch="aaaaaaaaaaaa", seq=9, floor=5)
    for cursor in (Cursor("bbbbbbbbbbbb", 5), Cursor("aaaaaaaaaaaa", 4), Cursor("aaaaaaaaaaaa", 10)):
        with pytest.raises(StaleCursorError):
            sync.check_servable(cursor, epoch="aaaaaaaaaaaa", seq=9, floor=5)


def session(sid: str, start: str) -> dict[str, str]:
    return {"id": sid, "start": start, "end": start.replace("T09", "T10")}


def test_apply_changes_upserts_deletes_and_reorders() -> None:
    old = build_snapshot(
        "c.1",
        {"name": "E"},
        [
            ("session", session("b", "2024-07-23T09:00:00+08:00")),
            ("session", session("a", "2024-07-24T09:00:00+08:00")),
            ("room", {"id": "r", "name": "Hall", "position": 0}),
        ],
    )
    assert [s["id"] for s in old["sessions"]] == ["b", "a"]
    new = apply_changes(
        old,
        [
            Change("session", "a", 2, data=session("a", "2024-07-22T09:00:00+08:00")),
            Change("room", "r", 3, deleted=True),
            Change("event", "event", 4, data={"name": "F"}),
        ],
        "c.4",
    )
    assert [s["id"] for s in new["sessions"]] == ["a", "b"]
    assert new["rooms"] == []
    assert new["event"] == {"name": "F"}
    assert new["cursor"] == "c.4"
    assert [s["id"] for s in old["sessions"]] == ["b", "a"], "input untouched"


def test_session_order_compares_instants_across_offsets() -> None:
    snapshot = build_snapshot(
        "c",
        None,
        [
            ("session", {"id": "x", "start": "2024-07-23T09:00:00+08:00", "end": "2024-07-23T10:00:00+08:00"}),
            ("session", {"id": "y", "start": "2024-07-23T02:30:00+00:00", "end": "2024-07-23T03:00:00+00:00"}),
        ],
    )
    assert [s["id"] for s in snapshot["sessions"]] == ["x", "y"]


def test_bad_changes() -> None:
    with pytest.raises(ChangeError):
        apply_changes(build_snapshot("c", None, []), [Change("planet", "p", 1, data={})], "c")
    with pytest.raises(ChangeError):
        apply_changes(build_snapshot("c", None, []), [Change("room", "r", 1)], "c")
