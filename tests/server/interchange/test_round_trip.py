"""Round trip: a programme exported as frab XML, C3VOC JSON or Kumpul JSON and imported into an empty
database comes back as the same programme, as far as the format carries it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.services.auth import AuthService, Role
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.postgres import NewDatabase


@pytest.fixture
async def copy(tmp_path: Path, new_database: NewDatabase) -> AsyncIterator[tuple[AppClient, dict[str, str]]]:
    """A second, empty Kumpul and an editor's credentials for it."""
    with new_database() as url:
        settings = Settings(db_path=tmp_path / "copy" / "kumpul.db", database_url=url)
        async with app_client(create_app(settings)) as client:
            auth: AuthService = client.app.state.auth
            _, token = await auth.add_organiser("importer", Role.EDITOR)
            yield client, {"Authorization": f"Bearer {token}"}


async def programme(client: AppClient) -> dict[str, Any]:
    response = await client.get("/api/programme")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def carried(document: dict[str, Any]) -> dict[str, Any]:
    """What frab XML and C3VOC JSON carry of a programme: its scheduled sessions, by guid, with the
    names of their room, track, format and speakers (ids are the importer's own)."""
    names = {kind: {item["id"]: item["name"] for item in document[kind]} for kind in ("rooms", "tracks", "formats")}
    speakers = {item["id"]: item["name"] for item in document["speakers"]}
    sessions = {}
    for session in document["sessions"]:
        if session["status"] != "scheduled":
            continue
        sessions[session["guid"]] = {
            "title": session["title"],
            "subtitle": session["subtitle"],
            "abstract": session["abstract"],
            "description": session["description"],
            "start": datetime.fromisoformat(session["start"]),
            "end": datetime.fromisoformat(session["end"]),
            "room": names["rooms"][session["roomId"]],
            "track": names["tracks"].get(session["trackId"]),
            "format": names["formats"][session["format"]],
            "languages": session["languages"],
            "speakers": [speakers[sid] for sid in session["speakerIds"]],
            "recording": session["recording"],
        }
    event = document["event"]
    return {
        "event": (event["name"], event["timeZone"], event["startDate"], event["endDate"]),
        "sessions": sessions,
    }


@pytest.mark.parametrize("export", ["/api/schedule.xml", "/api/schedule.json"])
async def test_an_exported_schedule_imports_as_the_same_programme(
    client: AppClient, copy: tuple[AppClient, dict[str, str]], export: str
) -> None:
    target, editor = copy
    exported = await client.get(export)
    assert exported.status_code == 200

    imported = await target.post("/api/admin/import", content=exported.content, headers=editor)
    assert imported.status_code == 200, imported.text

    original, copied = carried(await programme(client)), carried(await programme(target))
    assert copied["event"] == original["event"]
    assert copied["sessions"].keys() == original["sessions"].keys()
    differing = {guid for guid, session in original["sessions"].items() if copied["sessions"][guid] != session}
    assert not differing, [(original["sessions"][g], copied["sessions"][g]) for g in sorted(differing)[:2]]
    assert any(s["recording"] == "off-the-record" for s in copied["sessions"].values())

    again = await target.post("/api/admin/import", content=exported.content, headers=editor)
    assert all(not (k["added"] or k["changed"] or k["removed"]) for k in again.json()["kinds"])


async def test_kumpul_json_round_trips_every_field(client: AppClient, copy: tuple[AppClient, dict[str, str]]) -> None:
    target, editor = copy
    exported = await client.get("/api/programme")

    imported = await target.post("/api/admin/import", content=exported.content, headers=editor)
    assert imported.status_code == 200, imported.text

    original, copied = await programme(client), await programme(target)
    for kind in ("event", "rooms", "tracks", "formats", "speakers", "sessions"):
        assert copied[kind] == original[kind], kind
