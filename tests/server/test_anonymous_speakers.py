"""Anonymous speakers, proven: nothing that identified them is served again, on any read, to anyone.

An anonymous speaker is stored as a pseudonym, pronouns and a bio and nothing else (the console and the
README say so), so there is no "real name" for organisers either: every caller, public, attendee,
announcer, editor and admin, sees the same speaker. These tests plant distinctive identifying values in
every field a speaker has, make the speaker anonymous, and then read every GET route of the app (found
from the app's own routes, so a new route is walked too) as every kind of caller and in every encoding,
plus the live stream's backlog and the push payloads, looking for any trace in the decoded bytes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
import pytest
from litestar.routes import HTTPRoute

from server.app import create_app
from server.push.payloads import alert_message, announcement_message
from server.services.auth import AuthService, Role
from server.settings import Settings
from server.storage.db import Database
from sync import Cursor
from tests.asgi import AppClient, app_client, http_scope
from tests.conftest import Tokens
from tests.postgres import NewDatabase
from tests.sync_devices import Device

Client = AppClient

#: The speaker as they were known before they asked to be anonymous: a value in every field.
PUBLIC = {
    "name": "Siti Quenzaleth",
    "pronouns": "she/her",
    "bio": "Quenzabio: founded the Vorthall shelter in Kampong Zerith.",
    "organisation": "Vorthall Shelter Foundation",
    "role": "Zarnwick coordinator",
    "country": "Plovdania",
    "photoUrl": "https://photos.example/quenzaleth-face.jpg",
    "links": [{"title": "Brixelton profile", "url": "https://social.example/@quenzaleth"}],
    "translations": {"id": {"role": "Koordinator Zarnwick", "bio": "Quenzabio: pendiri penampungan Vorthall."}},
}
#: Lower-case pieces of those values; none may appear anywhere once the speaker is anonymous.
IDENTIFYING = (
    "quenzaleth",
    "quenzabio",
    "vorthall",
    "zerith",
    "zarnwick",
    "plovdania",
    "brixelton",
    "photos.example",
    "social.example",
)
#: What the speaker is known by from then on.
PSEUDONYM = "Kenanga Lumisari"
ANONYMOUS = {
    "anonymous": True,
    "name": PSEUDONYM,
    "pronouns": "they/them",
    "bio": "Lumibio: speaks about recovery and coming home.",
    "translations": {"id": {"bio": "Lumibio: berbicara tentang pemulihan."}},
}
#: Two working groups at the same time in different rooms: a speaker in both is a console warning.
SESSION, OTHER_SESSION = "wg-legal-route-1", "wg-prevention-1"
ENCODINGS = ("identity", "gzip", "br")
_DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


def leaks(text: str) -> list[str]:
    """The identifying pieces found in ``text`` (iCalendar lines unfolded, case ignored)."""
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").casefold()
    return [piece for piece in IDENTIFYING if piece in unfolded]


async def fetch(
    client: Client, path: str, headers: dict[str, str], encoding: str, params: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET, the body taken raw off the wire and decoded here."""
    request_headers = {**headers, "Accept-Encoding": encoding}
    async with client.stream("GET", path, params=params, headers=request_headers) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    coding = response.headers.get("content-encoding", "identity")
    body = _DECODE[coding](raw) if coding in _DECODE else raw
    if response.headers.get("content-type", "").startswith("application/gzip") and response.status_code == 200:
        body = gzip.decompress(body)  # the programme's fixed bytes per cursor, whole or one day's part
    return response.status_code, body.decode("utf-8", errors="replace"), dict(response.headers)


async def live_backlog(client: Client, last_event_id: str) -> str:
    """What ``/api/live`` sends a reconnecting app before it waits for news: hello, missed events, a poke."""
    received = bytearray()
    poked = asyncio.Event()
    disconnect = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            received.extend(message.get("body", b""))
            if b"event: programme" in received:
                poked.set()

    scope = http_scope("GET", "/api/live", {"Last-Event-ID": last_event_id})
    task = asyncio.create_task(client.app(scope, receive, send))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(poked.wait(), timeout=30)  # a guard against hanging, not a timing claim
    finally:
        disconnect.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return received.decode()


def get_routes(client: Client) -> list[str]:
    """Every path the app answers GET on."""
    return sorted(
        {route.path for route in client.app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods}
    )


def fill(path: str, values: dict[str, str]) -> str:
    """``path`` with its parameters replaced by ``values``; a parameter this test does not know fails it."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{path}: tell this test what to put in {{{name}}}"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def cursor_of(client: Client) -> str:
    cursor: str = (await client.get("/healthz")).json()["cursor"]
    return cursor


async def new_attendee(client: Client) -> Device:
    response = await client.post("/api/attendees")
    assert response.status_code == 201
    return Device(response.json()["token"])


async def bookmark(client: Client, device: Device, session_id: str) -> None:
    device.bookmarks()[session_id] = True
    device.edit("profile")
    await device.ready(client)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    device.receive(response.json())


async def add_to_sessions(client: Client, tokens: Tokens, speaker_id: str, *session_ids: str) -> None:
    for session_id in session_ids:
        session = (await client.get(f"/api/sessions/{session_id}")).json()
        body = {"speakerIds": [*session["speakerIds"], speaker_id]}
        response = await client.patch(f"/api/admin/sessions/{session_id}", json=body, headers=tokens.header("editor"))
        assert response.status_code == 200, response.text


async def public_speaker(client: Client, tokens: Tokens) -> str:
    """A speaker known by every identifying value, speaking in two sessions at once; their id."""
    response = await client.post("/api/admin/speakers", json=PUBLIC, headers=tokens.header("editor"))
    assert response.status_code == 201, response.text
    speaker_id: str = response.json()["id"]
    await add_to_sessions(client, tokens, speaker_id, SESSION, OTHER_SESSION)
    return speaker_id


async def make_anonymous(client: Client, tokens: Tokens, speaker_id: str) -> None:
    response = await client.patch(f"/api/admin/speakers/{speaker_id}", json=ANONYMOUS, headers=tokens.header("editor"))
    assert response.status_code == 200, response.text


def expected_speaker(speaker_id: str) -> dict[str, Any]:
    """The anonymous speaker exactly as every caller must see them."""
    return {
        "id": speaker_id,
        "name": PSEUDONYM,
        "anonymous": True,
        "pronouns": ANONYMOUS["pronouns"],
        "bio": ANONYMOUS["bio"],
        "organisation": "",
        "role": "",
        "country": "",
        "photoUrl": None,
        "links": [],
        "translations": ANONYMOUS["translations"],
    }


# -- the whole walk ---------------------------------------------------------------------------------


async def test_once_anonymous_no_read_by_anyone_shows_who_they_were(client: Client, tokens: Tokens) -> None:
    epoch = Cursor.decode(await cursor_of(client)).epoch
    before_them = await cursor_of(client)
    device = await new_attendee(client)
    await bookmark(client, device, SESSION)
    feed = (await client.post("/api/attendees/me/calendar", headers=device.headers)).json()
    calendar_path = urlsplit(feed["url"]).path
    assert urlsplit(feed["webcalUrl"]).path == calendar_path
    speaker_id = await public_speaker(client, tokens)
    assert not leaks(speaker_id), "a speaker's id is not made from their name"

    # While public, every cached form carries them: the walk below could see them if they stayed.
    cached_reads = ["/api/programme", "/api/schedule.ics", "/api/schedule.xml", "/api/schedule.json", calendar_path]
    old_etags: dict[tuple[str, str], str] = {}
    for path in cached_reads:
        for encoding in ENCODINGS:
            status, body, headers = await fetch(client, path, {}, encoding)
            assert status == 200, path
            assert "quenzaleth" in leaks(body), f"{path} ({encoding}) showed the public speaker"
            old_etags[path, encoding] = headers["etag"]
    while_public = await cursor_of(client)
    status, body, _ = await fetch(client, "/api/changes", {}, "br", {"since": before_them})
    assert "vorthall" in leaks(body)

    await make_anonymous(client, tokens, speaker_id)
    announced = await client.post(
        "/api/admin/announcements",
        json={"title": "Working group moved", "body": "The legal route group meets in Hall B.", "audience": "everyone"},
        headers=tokens.header("announcer"),
    )
    assert announced.status_code == 201, announced.text
    announcement_id = announced.json()["id"]

    callers = {
        "public": {},
        "attendee": device.headers,
        "announcer": tokens.header("announcer"),
        "editor": tokens.header("editor"),
        "admin": tokens.header("admin"),
    }
    session = (await client.get(f"/api/sessions/{SESSION}")).json()
    values = {
        "speaker_id": speaker_id,
        "session_id": SESSION,
        "room_id": session["roomId"],
        "track_id": session["trackId"],
        "format_id": session["format"],
        "announcement_id": announcement_id,
        "filename": calendar_path.rsplit("/", 1)[1],
        "path": f"speakers/{speaker_id}",
        "cursor": while_public,  # the programme's bytes at that cursor named them: now 410
        "plan_id": "no-such-plan",  # a floor plan is an image: its 404 is read all the same
        "day": session["start"][:10],
    }
    queries: dict[str, list[dict[str, str]]] = {
        "/api/changes": [{"since": c} for c in (Cursor(epoch, 0).encode(), before_them, while_public)],
        "/api/admin/history": [{"limit": "200"}],
    }
    routes = [path for path in get_routes(client) if path != "/api/live"]
    assert {"/api/programme", "/api/speakers/{speaker_id:str}", "/api/calendar/{filename:str}"} <= set(routes)
    read = 0
    for route in routes:
        path = fill(route, values)
        for params in queries.get(route, [{}]):
            for caller, headers in callers.items():
                for encoding in ENCODINGS:
                    status, body, _ = await fetch(client, path, headers, encoding, params)
                    assert not leaks(body), f"GET {path} {params} as {caller} ({encoding}), status {status}"
                    read += 1
    assert read > 400

    # What they are known by now is there, and every caller sees exactly the same speaker.
    for caller, headers in callers.items():
        response = await client.get(f"/api/speakers/{speaker_id}", headers=headers)
        assert response.json() == expected_speaker(speaker_id), caller
    programme = (await client.get("/api/programme")).json()
    assert expected_speaker(speaker_id) in programme["speakers"]
    for since in (before_them, while_public):
        changes = (await client.get("/api/changes", params={"since": since})).json()["changes"]
        upserts = [c["data"] for c in changes if c["type"] == "speaker" and c["id"] == speaker_id]
        assert upserts == [expected_speaker(speaker_id)], "a client syncing from an old cursor gets the new speaker"
    for path in ("/api/schedule.ics", "/api/schedule.xml", "/api/schedule.json"):
        assert PSEUDONYM in (await client.get(path)).text.replace("\r\n ", "")
    history = (await client.get("/api/admin/history", params={"limit": "200"}, headers=tokens.header("editor"))).json()
    about = [entry for entry in history if entry["entityId"] == speaker_id]
    assert about
    assert all(entry["summary"].startswith(PSEUDONYM) for entry in about)
    warnings = (await client.get("/api/admin/warnings", headers=tokens.header("editor"))).json()
    assert any(PSEUDONYM in json.dumps(warning) for warning in warnings), "the clash names the pseudonym"

    # Copies cached under the old ETags are not confirmed: revalidating gets the new bytes.
    for path, encoding in old_etags:
        request = {"If-None-Match": old_etags[path, encoding], "Accept-Encoding": encoding}
        response = await client.get(path, headers=request)
        assert response.status_code == 200, path
        assert response.headers["etag"] != old_etags[path, encoding]
        assert not leaks(response.text)

    # The live stream's catch-up for an app last seen while the speaker was public.
    backlog = await live_backlog(client, while_public)
    assert "event: announcement" in backlog
    assert not leaks(backlog)

    # Push messages (an announcement, a session alert) are built from stored data at send time.
    db: Database = client.app.state.db
    async with db.read() as conn:
        messages = [await announcement_message(conn, announcement_id), await alert_message(conn, SESSION)]
    for message in messages:
        assert message is not None
        assert not leaks(message.payload.decode())


# -- creating, renaming, the history ----------------------------------------------------------------


@pytest.mark.parametrize("field", ["organisation", "role", "country", "photoUrl", "links", "translations"])
async def test_an_anonymous_speaker_with_an_identifying_field_is_refused_and_nothing_kept(
    client: Client, tokens: Tokens, field: str
) -> None:
    cursor = await cursor_of(client)
    body = {**ANONYMOUS, field: PUBLIC[field]}
    response = await client.post("/api/admin/speakers", json=body, headers=tokens.header("editor"))
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert await cursor_of(client) == cursor
    speakers = (await client.get("/api/speakers")).text
    history = (await client.get("/api/admin/history", headers=tokens.header("admin"))).text
    assert PSEUDONYM not in speakers
    assert not leaks(speakers + history)


async def test_every_caller_sees_an_anonymous_speaker_alike(client: Client, tokens: Tokens) -> None:
    response = await client.post("/api/admin/speakers", json=ANONYMOUS, headers=tokens.header("editor"))
    assert response.status_code == 201, response.text
    speaker_id = response.json()["id"]
    assert response.json() == expected_speaker(speaker_id)
    device = await new_attendee(client)
    for headers in ({}, device.headers, tokens.header("announcer"), tokens.header("editor"), tokens.header("admin")):
        assert (await client.get(f"/api/speakers/{speaker_id}", headers=headers)).json() == expected_speaker(speaker_id)


async def test_a_new_speakers_id_does_not_spell_their_name(client: Client, tokens: Tokens) -> None:
    """An id stays when the speaker becomes anonymous, so it is never made from the name."""
    ids = set()
    for _ in range(3):
        response = await client.post(
            "/api/admin/speakers", json={"name": "Siti Quenzaleth"}, headers=tokens.header("editor")
        )
        assert response.status_code == 201
        ids.add(response.json()["id"])
    assert len(ids) == 3
    assert all(re.fullmatch(r"spk-[0-9a-f]{8}", speaker_id) for speaker_id in ids), ids


async def test_the_history_forgets_the_former_name(client: Client, tokens: Tokens) -> None:
    editor = tokens.header("editor")
    speaker_id = (await client.post("/api/admin/speakers", json=PUBLIC, headers=editor)).json()["id"]
    await client.patch(f"/api/admin/speakers/{speaker_id}", json={"bio": "Quenzabio, shorter."}, headers=editor)
    await make_anonymous(client, tokens, speaker_id)
    await client.patch(f"/api/admin/speakers/{speaker_id}", json={"pronouns": "ze/zir"}, headers=editor)
    history = (await client.get("/api/admin/history", headers=tokens.header("announcer"))).json()
    about = [(entry["action"], entry["summary"]) for entry in history if entry["entityId"] == speaker_id]
    assert about[::-1] == [
        ("created", PSEUDONYM),
        ("updated", f"{PSEUDONYM}: bio"),
        (
            "updated",
            f"{PSEUDONYM}: name, anonymous, pronouns, bio, organisation, role, country, photoUrl, links, translations",
        ),
        ("updated", f"{PSEUDONYM}: pronouns"),
    ]
    assert not leaks(json.dumps(history))


# -- imports ----------------------------------------------------------------------------------------


@pytest.fixture
async def copy(tmp_path: Path, new_database: NewDatabase) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    """A second, empty Kumpul and an editor's credentials for it."""
    with new_database() as url:
        settings = Settings(db_path=tmp_path / "copy" / "kumpul.db", database_url=url)
        async with app_client(create_app(settings)) as other:
            _, token = await AuthService(other.app.state.db).add_organiser("importer", Role.EDITOR)
            yield other, {"Authorization": f"Bearer {token}"}


async def upload(client: Client, headers: dict[str, str], data: bytes, **params: str) -> dict[str, Any]:
    response = await client.post("/api/admin/import", content=data, params=params, headers=headers)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.mark.parametrize("path", ["/api/schedule.xml", "/api/schedule.json"])
async def test_exports_of_a_speaker_made_anonymous_import_without_who_they_were(
    client: Client, tokens: Tokens, copy: tuple[Client, dict[str, str]], path: str
) -> None:
    """frab XML and C3VOC JSON have no field for anonymity: they carry the pseudonym alone."""
    speaker_id = await public_speaker(client, tokens)
    await make_anonymous(client, tokens, speaker_id)
    exported = (await client.get(path)).content
    assert not leaks(exported.decode())

    other, headers = copy
    await upload(other, headers, exported)
    elsewhere = (await other.get("/api/programme")).text
    assert PSEUDONYM in elsewhere
    assert not leaks(elsewhere)

    cursor = await cursor_of(client)
    report = await upload(client, tokens.header("editor"), exported)
    assert all(not entry["added"] for entry in report["kinds"]), "the pseudonym is matched, not added"
    assert (await client.get(f"/api/speakers/{speaker_id}")).json() == expected_speaker(speaker_id)
    assert all(
        c["id"] != speaker_id for c in (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    )


async def test_kumpul_json_refuses_an_anonymous_speaker_with_identifying_fields(client: Client, tokens: Tokens) -> None:
    document = (await client.get("/api/programme")).json()
    document["speakers"].append({"id": "spk-planted", **ANONYMOUS, "organisation": PUBLIC["organisation"]})
    cursor = await cursor_of(client)
    response = await client.post(
        "/api/admin/import", content=json.dumps(document).encode(), headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert "organisation" in response.json()["detail"]
    assert await cursor_of(client) == cursor
    assert (await client.get("/api/speakers/spk-planted")).status_code == 404


async def test_kumpul_json_that_makes_a_speaker_anonymous_erases_who_they_were(client: Client, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    document = (await client.get("/api/programme")).json()
    [speaker] = [s for s in document["speakers"] if s["id"] == speaker_id]
    speaker.update(expected_speaker(speaker_id))
    report = await upload(client, tokens.header("editor"), json.dumps(document).encode())
    changed = next(entry for entry in report["kinds"] if entry["kind"] == "speaker")["changed"]
    assert changed == [{"id": speaker_id, "label": PSEUDONYM}]
    assert (await client.get(f"/api/speakers/{speaker_id}")).json() == expected_speaker(speaker_id)
    history = (await client.get("/api/admin/history", params={"limit": "200"}, headers=tokens.header("admin"))).text
    assert not leaks(history)
    assert not leaks((await client.get("/api/programme")).text)
