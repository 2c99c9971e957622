"""Anonymity and off-the-record are sticky: no edit or import loosens them; an admin does, on purpose.

A speaker known by distinctive values is made anonymous and a session off the record; then every way of
writing them is tried: stale ``GET /api/programme`` documents and frab / C3VOC exports taken before,
PATCH, deleting and adding again, the command line. Each loosening is refused naming the id (never the
name), nothing is written, and a dry run lists the refusal. The admin actions do what the edits may not.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.settings import Settings
from server.storage import history
from server.storage.db import Database
from sync import Cursor
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens
from tests.server.test_anonymous_speakers import (
    ANONYMOUS,
    PSEUDONYM,
    PUBLIC,
    SESSION,
    cursor_of,
    expected_speaker,
    leaks,
    make_anonymous,
    public_speaker,
)

Client = AppClient
#: A public session of the demo.
PLENARY = "plenary-aml"
SNAPSHOTS = {"kumpul-json": "/api/programme", "frab-xml": "/api/schedule.xml", "c3voc-json": "/api/schedule.json"}


async def snapshots(client: Client) -> dict[str, bytes]:
    """The programme in every format it can be saved in and imported from."""
    return {fmt: (await client.get(path)).content for fmt, path in SNAPSHOTS.items()}


async def off_the_record(client: Client, tokens: Tokens, session_id: str = SESSION) -> None:
    response = await client.patch(
        f"/api/admin/sessions/{session_id}", json={"recording": "off-the-record"}, headers=tokens.header("editor")
    )
    assert response.status_code == 200, response.text


async def everything_organisers_and_phones_see(client: Client, tokens: Tokens) -> str:
    """The programme, every change since the start, every export and the whole history, as one text."""
    texts = [
        (await client.get(path)).text
        for path in ("/api/programme", "/api/speakers", "/api/schedule.ics", "/api/schedule.xml", "/api/schedule.json")
    ]
    start = Cursor(Cursor.decode(await cursor_of(client)).epoch, 0).encode()
    texts.append((await client.get("/api/changes", params={"since": start})).text)
    rows = await client.get("/api/admin/history", params={"limit": "200"}, headers=tokens.header("admin"))
    texts.append(rows.text)
    return "\n".join(texts)


async def import_(client: Client, tokens: Tokens, data: bytes, **params: str) -> Any:
    return await client.post("/api/admin/import", content=data, params=params, headers=tokens.header("editor"))


def refused(report: dict[str, Any], kind: str) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = next(k for k in report["kinds"] if k["kind"] == kind)["refused"]
    return entries


# -- imports of stale snapshots ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(SNAPSHOTS))
async def test_a_snapshot_from_before_a_speaker_was_anonymous_is_refused(
    client: Client, tokens: Tokens, fmt: str
) -> None:
    speaker_id = await public_speaker(client, tokens)
    stale = (await snapshots(client))[fmt]
    await make_anonymous(client, tokens, speaker_id)
    cursor = await cursor_of(client)

    dry = await import_(client, tokens, stale, dryRun="true")
    assert dry.status_code == 200, dry.text
    assert not leaks(dry.text)
    [refusal] = refused(dry.json(), "speaker")
    assert (refusal["id"], refusal["label"]) == (speaker_id, PSEUDONYM)
    assert "anonymous" in refusal["reason"]

    for missing in ("cancel", "delete"):
        response = await import_(client, tokens, stale, missing=missing)
        assert response.status_code == 409, response.text
        assert speaker_id in response.json()["detail"]
        assert not leaks(response.text)
    assert await cursor_of(client) == cursor, "nothing was written"
    assert (await client.get(f"/api/speakers/{speaker_id}")).json() == expected_speaker(speaker_id)
    assert not leaks(await everything_organisers_and_phones_see(client, tokens))


@pytest.mark.parametrize("fmt", list(SNAPSHOTS))
async def test_a_snapshot_from_before_a_session_was_off_the_record_is_refused(
    client: Client, tokens: Tokens, fmt: str
) -> None:
    before = (await client.get(f"/api/sessions/{PLENARY}")).json()
    assert before["recording"] == "public"
    stale = (await snapshots(client))[fmt]
    await off_the_record(client, tokens, PLENARY)
    cursor = await cursor_of(client)

    dry = await import_(client, tokens, stale, dryRun="true")
    assert dry.status_code == 200, dry.text
    assert [r["id"] for r in refused(dry.json(), "session")] == [PLENARY]
    assert all(item["id"] != PLENARY for k in dry.json()["kinds"] for item in k["changed"])
    response = await import_(client, tokens, stale)
    assert response.status_code == 409, response.text
    assert PLENARY in response.json()["detail"]
    assert "off the record" in response.json()["detail"]
    assert await cursor_of(client) == cursor
    assert (await client.get(f"/api/sessions/{PLENARY}")).json()["recording"] == "off-the-record"


async def test_the_file_imports_once_the_loosening_entries_are_removed(client: Client, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    stale = json.loads((await client.get("/api/programme")).content)
    await make_anonymous(client, tokens, speaker_id)
    await off_the_record(client, tokens, PLENARY)
    stale["speakers"] = [s for s in stale["speakers"] if s["id"] != speaker_id]
    stale["sessions"] = [s for s in stale["sessions"] if s["id"] != PLENARY]
    for session in stale["sessions"]:
        session["speakerIds"] = [sid for sid in session["speakerIds"] if sid != speaker_id]
    stale["sessions"][0]["subtitle"] = "Edited in the saved file"
    response = await import_(client, tokens, json.dumps(stale).encode())
    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/sessions/{stale['sessions'][0]['id']}")).json()["subtitle"] == (
        "Edited in the saved file"
    )
    assert (await client.get(f"/api/speakers/{speaker_id}")).json() == expected_speaker(speaker_id)


async def test_a_file_may_make_things_stricter(client: Client, tokens: Tokens) -> None:
    document = json.loads((await client.get("/api/programme")).content)
    [session] = [s for s in document["sessions"] if s["id"] == PLENARY]
    session["recording"] = "no-recording"
    response = await import_(client, tokens, json.dumps(document).encode())
    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/sessions/{PLENARY}")).json()["recording"] == "no-recording"


# -- edits through the API ------------------------------------------------------------------------


async def test_edits_cannot_reveal_or_loosen(client: Client, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    await make_anonymous(client, tokens, speaker_id)
    await off_the_record(client, tokens)
    cursor = await cursor_of(client)
    for role in ("editor", "admin"):
        stale_form = {**PUBLIC, "anonymous": False}
        response = await client.patch(f"/api/admin/speakers/{speaker_id}", json=stale_form, headers=tokens.header(role))
        assert response.status_code == 409, response.text
        assert speaker_id in response.json()["detail"]
        assert not leaks(response.text)
        for recording in ("public", "no-recording"):
            response = await client.patch(
                f"/api/admin/sessions/{SESSION}", json={"recording": recording}, headers=tokens.header(role)
            )
            assert response.status_code == 409, response.text
            assert SESSION in response.json()["detail"]
    assert await cursor_of(client) == cursor
    assert (await client.get(f"/api/speakers/{speaker_id}")).json() == expected_speaker(speaker_id)


async def test_deleting_and_adding_again_keeps_them_anonymous(client: Client, tokens: Tokens) -> None:
    editor = tokens.header("editor")
    speaker_id = await public_speaker(client, tokens)
    stale = (await snapshots(client))["kumpul-json"]
    await make_anonymous(client, tokens, speaker_id)
    assert (await client.delete(f"/api/admin/speakers/{speaker_id}", headers=editor)).status_code == 204

    again = await client.post("/api/admin/speakers", json={"id": speaker_id, "name": "Siti Quenzaleth"}, headers=editor)
    assert again.status_code == 409, again.text
    assert not leaks(again.text)
    for fmt, data in {"kumpul-json": stale, **(await snapshots(client))}.items():
        response = await import_(client, tokens, data)
        assert not leaks(response.text), fmt
    response = await import_(client, tokens, stale)
    assert response.status_code == 409
    assert speaker_id in response.json()["detail"]
    assert (await client.get(f"/api/speakers/{speaker_id}")).status_code == 404
    back = await client.post("/api/admin/speakers", json={"id": speaker_id, **ANONYMOUS}, headers=editor)
    assert back.status_code == 201, back.text
    assert not leaks(await everything_organisers_and_phones_see(client, tokens))


async def test_a_public_speaker_deleted_and_added_again_as_anonymous_leaves_no_name(
    client: Client, tokens: Tokens
) -> None:
    editor = tokens.header("editor")
    speaker_id = await public_speaker(client, tokens)
    assert (await client.delete(f"/api/admin/speakers/{speaker_id}", headers=editor)).status_code == 204
    back = await client.post("/api/admin/speakers", json={"id": speaker_id, **ANONYMOUS}, headers=editor)
    assert back.status_code == 201, back.text
    rows = (await client.get("/api/admin/history", params={"limit": "200"}, headers=editor)).json()
    about = [(row["action"], row["summary"]) for row in rows if row["entityId"] == speaker_id]
    assert ("deleted", PSEUDONYM) in about
    assert not leaks(json.dumps(rows))


# -- the admin actions ----------------------------------------------------------------------------


async def test_only_an_admin_reveals_a_speaker_and_the_history_keeps_the_pseudonym(
    client: Client, tokens: Tokens
) -> None:
    speaker_id = await public_speaker(client, tokens)
    await make_anonymous(client, tokens, speaker_id)
    path = f"/api/admin/speakers/{speaker_id}/reveal"
    assert (await client.post(path, headers=tokens.header("editor"))).status_code == 403
    assert (await client.get(f"/api/speakers/{speaker_id}")).json()["anonymous"] is True

    response = await client.post(path, headers=tokens.header("admin"))
    assert response.status_code == 200, response.text
    assert response.json() == {**expected_speaker(speaker_id), "anonymous": False}
    rows = (await client.get("/api/admin/history", headers=tokens.header("editor"))).json()
    assert (rows[0]["action"], rows[0]["entityId"], rows[0]["summary"]) == ("revealed", speaker_id, PSEUDONYM)

    # Revealed, the speaker takes edits like anyone: the editor may now give their organisation.
    patched = await client.patch(
        f"/api/admin/speakers/{speaker_id}", json={"organisation": "Open Shelter"}, headers=tokens.header("editor")
    )
    assert patched.status_code == 200, patched.text
    assert (await client.post("/api/admin/speakers/nobody/reveal", headers=tokens.header("admin"))).status_code == 404


async def test_only_an_admin_loosens_a_recording_policy(client: Client, tokens: Tokens) -> None:
    await off_the_record(client, tokens)
    path = f"/api/admin/sessions/{SESSION}/recording"
    body = {"recording": "no-recording"}
    assert (await client.post(path, json=body, headers=tokens.header("editor"))).status_code == 403
    response = await client.post(path, json=body, headers=tokens.header("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["recording"] == "no-recording"
    rows = (await client.get("/api/admin/history", headers=tokens.header("editor"))).json()
    assert rows[0]["action"] == "recording-changed"
    assert "off-the-record -> no-recording" in rows[0]["summary"]
    # The new policy is the floor now: an edit may go back up, not below it.
    public = await client.patch(
        f"/api/admin/sessions/{SESSION}", json={"recording": "public"}, headers=tokens.header("editor")
    )
    assert public.status_code == 409
    bad = await client.post(path, json={"recording": "sometimes"}, headers=tokens.header("admin"))
    assert bad.status_code == 400


# -- history written before, the command line -------------------------------------------------------


async def test_history_rows_that_name_an_anonymous_speaker_are_scrubbed_at_start(
    settings: Settings, tokens: Tokens, client: Client
) -> None:
    """Rows written by older versions (a delete and re-add under the same id) are rewritten at start-up."""
    speaker_id = await public_speaker(client, tokens)
    await make_anonymous(client, tokens, speaker_id)
    db: Database = client.app.state.db
    async with db.write() as conn:
        await history.record(conn, "old version", "deleted", "speaker", speaker_id, PUBLIC["name"])
        await history.record(conn, "old version", "updated", "speaker", speaker_id, f"{PUBLIC['name']}: bio")
    async with app_client(create_app(settings)) as restarted:
        rows = (
            await restarted.get("/api/admin/history", params={"limit": "200"}, headers=tokens.header("admin"))
        ).json()
    assert ("deleted", PSEUDONYM) in [(r["action"], r["summary"]) for r in rows]
    assert ("updated", f"{PSEUDONYM}: bio") in [(r["action"], r["summary"]) for r in rows]
    assert not leaks(json.dumps(rows))


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


async def test_kumpul_import_refuses_a_stale_file(
    client: Client, tokens: Tokens, settings: Settings, tmp_path: Path
) -> None:
    speaker_id = await public_speaker(client, tokens)
    stale = tmp_path / "saved.json"
    stale.write_bytes((await client.get("/api/programme")).content)
    await make_anonymous(client, tokens, speaker_id)
    cursor = await cursor_of(client)
    database = ["--database-url", settings.database_url] if settings.database_url else []
    command = [sys.executable, "-m", "server.cli", "import", str(stale), "--db", str(settings.db_path), *database]
    dry = await asyncio.to_thread(run, [*command, "--dry-run"])
    assert dry.returncode == 0, dry.stderr
    assert f"refused speaker {PSEUDONYM} ({speaker_id})" in dry.stdout
    real = await asyncio.to_thread(run, command)
    assert real.returncode == 1
    assert speaker_id in real.stderr
    assert not leaks(dry.stdout + dry.stderr + real.stdout + real.stderr)
    assert await cursor_of(client) == cursor
