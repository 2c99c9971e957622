"""POST /api/admin/import: what organisers and phones see when a programme file is imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.storage import history
from tests.asgi import AppClient
from tests.conftest import Tokens

DATA = Path(__file__).parent / "data"
Client = AppClient


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


async def upload(client: Client, tokens: Tokens, data: bytes, *, role: str = "editor", **params: str) -> dict[str, Any]:
    response = await client.post("/api/admin/import", content=data, params=params, headers=tokens.header(role))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def kind(report: dict[str, Any], name: str) -> dict[str, list[str]]:
    """The labels added, changed and removed for one kind."""
    entry = next(k for k in report["kinds"] if k["kind"] == name)
    return {bucket: [item["label"] for item in entry[bucket]] for bucket in ("added", "changed", "removed")}


def nothing_changed(report: dict[str, Any]) -> bool:
    return all(not (k["added"] or k["changed"] or k["removed"]) for k in report["kinds"])


async def cursor_of(client: Client) -> str:
    cursor: str = (await client.get("/healthz")).json()["cursor"]
    return cursor


async def session_titled(client: Client, title: str) -> dict[str, Any]:
    sessions = (await client.get("/api/sessions")).json()
    return next(session for session in sessions if session["title"] == title)


async def test_import_a_frab_xml_schedule(empty_client: Client, tokens: Tokens) -> None:
    report = await upload(empty_client, tokens, read("schedule.xml"))
    assert report["format"] == "frab-xml"
    assert report["dryRun"] is False
    assert report["missing"] == "cancel"
    assert [k["kind"] for k in report["kinds"]] == ["event", "room", "track", "format", "speaker", "session"]
    assert kind(report, "event")["added"] == ["Southeast Asia Safe Migration Summit 2025"]
    assert len(kind(report, "room")["added"]) == 4
    assert len(kind(report, "speaker")["added"]) == 24
    assert len(kind(report, "session")["added"]) == 35

    event = (await empty_client.get("/api/event")).json()
    assert event["timeZone"] == "Asia/Bangkok"
    assert event["startDate"] == "2025-03-11"
    panel = await session_titled(empty_client, "Recruitment fees: who pays, who profits")
    room = (await empty_client.get(f"/api/rooms/{panel['roomId']}")).json()
    assert room["name"] == "Main Hall"
    assert panel["start"] == "2025-03-11T10:30:00+07:00"
    speakers = [(await empty_client.get(f"/api/speakers/{sid}")).json()["name"] for sid in panel["speakerIds"]]
    assert speakers == ["Ravi Menon", "Maya Reyes", "Tanvir Hasan"]
    shelters = await session_titled(empty_client, "Listening to survivors: lessons from the shelters")
    assert shelters["recording"] == "no-recording"


async def test_import_the_real_exports(empty_client: Client, tokens: Tokens) -> None:
    report = await upload(empty_client, tokens, read("frab-camp2019.json"))
    assert report["format"] == "c3voc-json"
    assert len(kind(report, "session")["added"]) == 79
    opening = await session_titled(empty_client, "Opening Ceremony")
    assert opening["start"] == "2019-08-21T11:00:00+02:00"
    assert (await empty_client.get(f"/api/rooms/{opening['roomId']}")).json()["name"] == "Curie"

    report = await upload(empty_client, tokens, read("pretalx-democon.json"))
    assert len(kind(report, "session")["added"]) == 36
    assert len(kind(report, "session")["removed"]) == 79, "the camp's sessions are cancelled"
    loyalty = await session_titled(empty_client, "Monitored 24hour customer loyalty")
    assert loyalty["recording"] == "no-recording"
    assert (await empty_client.get(f"/api/rooms/{loyalty['roomId']}")).json()["name"] == "Tan Room"


async def test_reimporting_the_same_file_changes_nothing(empty_client: Client, tokens: Tokens) -> None:
    for name in ("schedule.xml", "pretalx-democon.json"):
        await upload(empty_client, tokens, read(name))
        cursor = await cursor_of(empty_client)
        again = await upload(empty_client, tokens, read(name))
        assert nothing_changed(again), again
        assert await cursor_of(empty_client) == cursor


async def test_an_updated_export_changes_sessions_in_place(empty_client: Client, tokens: Tokens) -> None:
    await upload(empty_client, tokens, read("schedule.xml"))
    before = await session_titled(empty_client, "Children on the move")
    cursor = await cursor_of(empty_client)

    report = await upload(empty_client, tokens, read("schedule-updated.xml"))
    sessions = kind(report, "session")
    assert sorted(sessions["changed"]) == ["Children on the move", "Tech for good, tech for harm: the debate"]
    assert sessions["added"] == ["Late addition: questions for the ministries"]
    assert sessions["removed"] == ["Measuring prevalence responsibly"]
    assert kind(report, "speaker")["changed"] == ["Jonah K. Kaplan"]
    assert kind(report, "room") == {"added": [], "changed": [], "removed": []}

    moved = await session_titled(empty_client, "Children on the move")
    assert moved["id"] == before["id"]
    assert moved["start"] == "2025-03-12T17:15:00+07:00"
    assert (await empty_client.get(f"/api/rooms/{moved['roomId']}")).json()["name"] == "Chao Phraya Room"

    response = await empty_client.get("/api/changes", params={"since": cursor})
    assert response.status_code == 200, "a phone holding the old cursor catches up; it does not start over"
    changes = response.json()["changes"]
    assert [c["id"] for c in changes].count(moved["id"]) == 1
    record = next(c for c in changes if c["id"] == moved["id"])
    assert record["deleted"] is False
    assert record["data"]["start"] == "2025-03-12T17:15:00+07:00"
    assert len(changes) == 5, "two changed, one added, one cancelled session and one renamed speaker"
    dropped = await session_titled(empty_client, "Measuring prevalence responsibly")
    assert dropped["status"] == "cancelled"


async def test_missing_sessions_cancelled_or_deleted(empty_client: Client, tokens: Tokens) -> None:
    await upload(empty_client, tokens, read("schedule.xml"))
    dropped = await session_titled(empty_client, "Measuring prevalence responsibly")
    await upload(empty_client, tokens, read("schedule-updated.xml"), missing="cancel")
    assert (await empty_client.get(f"/api/sessions/{dropped['id']}")).json()["status"] == "cancelled"
    cursor = await cursor_of(empty_client)

    again = await upload(empty_client, tokens, read("schedule-updated.xml"), missing="cancel")
    assert nothing_changed(again), "a cancelled session is not cancelled twice"

    report = await upload(empty_client, tokens, read("schedule-updated.xml"), missing="delete")
    assert report["missing"] == "delete"
    assert kind(report, "session")["removed"] == ["Measuring prevalence responsibly"]
    assert (await empty_client.get(f"/api/sessions/{dropped['id']}")).status_code == 404
    changes = (await empty_client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert [(c["type"], c["id"], c["deleted"]) for c in changes] == [("session", dropped["id"], True)]


async def test_delete_missing_clears_what_the_file_no_longer_has(client: Client, tokens: Tokens) -> None:
    """Over the demo: its sessions go, and so do its rooms, tracks, formats and speakers nobody uses."""
    demo_formats = {fmt["id"] for fmt in (await client.get("/api/formats")).json()}
    report = await upload(client, tokens, read("schedule.xml"), missing="delete")
    assert len(kind(report, "session")["removed"]) == 69
    assert len(kind(report, "speaker")["removed"]) == 40
    assert len(kind(report, "room")["removed"]) == 8
    assert "Workshop" not in kind(report, "format")["removed"], "the file's workshops use the demo's format"
    formats = {fmt["id"]: fmt for fmt in (await client.get("/api/formats")).json()}
    assert "workshop" in demo_formats
    assert "workshop" in formats
    assert formats["workshop"]["translations"]["id"]["name"] == "Lokakarya", "kept from the demo"
    assert len((await client.get("/api/sessions")).json()) == 35
    assert len((await client.get("/api/rooms")).json()) == 4


async def test_cancel_missing_keeps_everything_else(client: Client, tokens: Tokens) -> None:
    demo = (await client.get("/api/sessions")).json()
    already = sum(session["status"] == "cancelled" for session in demo)
    report = await upload(client, tokens, read("schedule.xml"))
    assert len(kind(report, "session")["removed"]) == 69 - already, "the demo's cancelled one is not counted again"
    assert all(not k["removed"] for k in report["kinds"] if k["kind"] != "session")
    sessions = (await client.get("/api/sessions")).json()
    assert len(sessions) == 69 + 35
    assert sum(session["status"] == "cancelled" for session in sessions) == 69
    event = (await client.get("/api/event")).json()
    assert event["name"] == "Southeast Asia Safe Migration Summit 2025"
    assert event["venueName"] == "Nusa Dua Ocean Convention Centre", "a field frab XML cannot carry is kept"
    assert event["acronym"] == "ARAT 2024", "frab's acronym is a slug; the stored one is kept"


async def test_dry_run_reports_and_writes_nothing(client: Client, tokens: Tokens) -> None:
    cursor = await cursor_of(client)
    sessions = (await client.get("/api/sessions")).json()
    report = await upload(client, tokens, read("schedule.xml"), dryRun="true", missing="delete")
    assert report["dryRun"] is True
    assert len(kind(report, "session")["added"]) == 35
    assert len(kind(report, "session")["removed"]) == 69
    assert "Recruitment fees: who pays, who profits" in kind(report, "session")["added"]
    assert await cursor_of(client) == cursor
    assert (await client.get("/api/sessions")).json() == sessions
    real = await upload(client, tokens, read("schedule.xml"), missing="delete")
    assert real["kinds"] == report["kinds"], "the dry run reported exactly what the real run did"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("malformed-syntax.xml", "line 20: the XML is not well-formed"),
        ("missing-duration.xml", "line 21, <event>, duration"),
        ("zero-duration.xml", "line 17, <duration>"),
        ("duplicate-guid.xml", "line 21, <event>, guid"),
        ("billion-laughs.xml", "line 2: a schedule.xml must not declare a DOCTYPE"),
        ("external-entity.xml", "line 2: a schedule.xml must not declare a DOCTYPE"),
    ],
)
async def test_a_broken_file_is_refused_and_nothing_written(
    client: Client, tokens: Tokens, name: str, where: str
) -> None:
    cursor = await cursor_of(client)
    response = await client.post("/api/admin/import", content=read(name), headers=tokens.header("editor"))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(where)
    assert await cursor_of(client) == cursor


async def test_a_broken_json_file_names_the_field(client: Client, tokens: Tokens) -> None:
    document = json.loads(read("pretalx-democon.json"))
    del document["schedule"]["conference"]["days"][1]["rooms"]["Tan Room"][2]["duration"]
    cursor = await cursor_of(client)
    response = await client.post(
        "/api/admin/import", content=json.dumps(document).encode(), headers=tokens.header("editor")
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("schedule.conference.days[1].rooms.Tan Room[2].duration:")
    assert body["extra"][0]["key"] == "schedule.conference.days[1].rooms.Tan Room[2].duration"
    assert await cursor_of(client) == cursor

    programme = json.loads((await client.get("/api/programme")).content)
    programme["sessions"][3]["roomId"] = "nowhere"
    response = await client.post(
        "/api/admin/import", content=json.dumps(programme).encode(), headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("sessions[3]")
    assert "roomId" in response.json()["detail"]
    assert await cursor_of(client) == cursor


async def test_who_may_import(empty_client: Client, tokens: Tokens) -> None:
    data = read("schedule.xml")
    nobody = await empty_client.post("/api/admin/import", content=data)
    assert nobody.status_code == 401
    announcer = await empty_client.post("/api/admin/import", content=data, headers=tokens.header("announcer"))
    assert announcer.status_code == 403
    assert (await empty_client.get("/api/event")).status_code == 404, "nothing was written"
    await upload(empty_client, tokens, data, role="admin", dryRun="true")
    await upload(empty_client, tokens, data, role="editor")


async def test_bad_query_and_body(empty_client: Client, tokens: Tokens) -> None:
    headers = tokens.header("editor")
    empty = await empty_client.post("/api/admin/import", content=b"", headers=headers)
    assert empty.status_code == 400
    assert "empty" in empty.json()["detail"]
    wrong = await empty_client.post("/api/admin/import?missing=ignore", content=read("schedule.xml"), headers=headers)
    assert wrong.status_code == 400
    assert "missing" in wrong.text


async def test_files_up_to_20_mb(empty_client: Client, tokens: Tokens) -> None:
    """Past the app's usual 1 MB limit, up to 20 MB."""
    padded = read("frab-camp2019.json") + b" " * (3 * 1024 * 1024)
    report = await upload(empty_client, tokens, padded, dryRun="true")
    assert len(kind(report, "session")["added"]) == 79
    too_big = b" " * (20 * 1024 * 1024 + 1)
    response = await empty_client.post("/api/admin/import", content=too_big, headers=tokens.header("editor"))
    assert response.status_code == 413
    assert "20480 KB" in response.json()["detail"]


async def test_kumpul_json_and_the_programme_document_import(client: Client, tokens: Tokens) -> None:
    programme = (await client.get("/api/programme")).content
    report = await upload(client, tokens, programme)
    assert report["format"] == "kumpul-json"
    assert nothing_changed(report)


async def test_what_the_console_set_survives_a_reimport(empty_client: Client, tokens: Tokens) -> None:
    """Fields the file cannot carry, anonymity and off-the-record stay as organisers set them in Kumpul."""
    headers = tokens.header("editor")
    await upload(empty_client, tokens, read("schedule.xml"))
    room = next(r for r in (await empty_client.get("/api/rooms")).json() if r["name"] == "Main Hall")
    patch = {"floor": "Level 2", "accessibility": "Step-free from the river entrance"}
    assert (await empty_client.patch(f"/api/admin/rooms/{room['id']}", json=patch, headers=headers)).is_success
    shelters = await session_titled(empty_client, "Listening to survivors: lessons from the shelters")
    speaker_id = shelters["speakerIds"][0]
    real_name = (await empty_client.get(f"/api/speakers/{speaker_id}")).json()["name"]
    anonymous = {"anonymous": True, "name": "Seng", "pronouns": "she/her"}
    assert (await empty_client.patch(f"/api/admin/speakers/{speaker_id}", json=anonymous, headers=headers)).is_success
    off = {"recording": "off-the-record", "streamUrl": "https://stream.example.org/main", "languages": ["th", "en"]}
    assert (await empty_client.patch(f"/api/admin/sessions/{shelters['id']}", json=off, headers=headers)).is_success
    cursor = await cursor_of(empty_client)

    # The file still names the speaker as they were known: it is refused until it gives their pseudonym.
    refused = await empty_client.post("/api/admin/import", content=read("schedule.xml"), headers=headers)
    assert refused.status_code == 409
    assert speaker_id in refused.json()["detail"]
    assert real_name.casefold() not in refused.text.casefold()
    assert await cursor_of(empty_client) == cursor
    pseudonymous = read("schedule.xml").replace(real_name.encode(), b"Seng")
    assert nothing_changed(await upload(empty_client, tokens, pseudonymous))
    assert await cursor_of(empty_client) == cursor
    assert (await empty_client.get(f"/api/rooms/{room['id']}")).json()["floor"] == "Level 2"
    speaker = (await empty_client.get(f"/api/speakers/{speaker_id}")).json()
    assert (speaker["name"], speaker["anonymous"]) == ("Seng", True), "the file's real name does not come back"
    session = (await empty_client.get(f"/api/sessions/{shelters['id']}")).json()
    assert session["recording"] == "off-the-record"
    assert session["streamUrl"] == "https://stream.example.org/main"
    assert session["languages"] == ["th", "en"], "frab's one language is among them"


async def test_history_names_the_organiser(empty_client: Client, tokens: Tokens) -> None:
    await upload(empty_client, tokens, read("schedule.xml"))
    await upload(empty_client, tokens, read("schedule-updated.xml"))
    async with empty_client.app.state.db.read() as conn:
        rows = await history.latest(conn, 10)
    assert rows[0].action == "imported"
    assert rows[0].actor == "editor organiser"
    actions = {(row.action, row.summary.split(":")[0]) for row in rows}
    assert ("cancelled", "Measuring prevalence responsibly") in actions
    assert ("created", "Late addition: questions for the ministries") in {(r.action, r.summary) for r in rows}


@pytest.mark.parametrize("path", ["/api/schedule.xml", "/api/schedule.json"])
async def test_kumpuls_own_export_matches_what_is_stored(client: Client, tokens: Tokens, path: str) -> None:
    """Rooms, tracks, formats and speakers are found again by name, sessions by guid: nothing doubles."""
    export = await client.get(path)
    assert export.status_code == 200
    report = await upload(client, tokens, export.content, dryRun="true")
    for entry in report["kinds"]:
        assert entry["added"] == [], entry["kind"]
        assert entry["removed"] == [], entry["kind"]
        if entry["kind"] != "session":
            assert entry["changed"] == [], entry["kind"]


async def test_truncated_json_is_400_naming_where_it_ends(client: Client, tokens: Tokens) -> None:
    before = await cursor_of(client)
    whole = read("pretalx-democon.json")
    cut = whole[: len(whole) // 2]
    response = await client.post("/api/admin/import", content=cut, headers=tokens.header("editor"))
    assert response.status_code == 400, response.text
    line = cut.count(b"\n") + 1
    column = len(cut) - (cut.rfind(b"\n") + 1) + 1
    assert response.json()["detail"].startswith(f"line {line}, column {column} (byte {len(cut)}): ")
    assert "ends before the JSON does" in response.json()["detail"]
    assert await cursor_of(client) == before
