"""A property: whatever organisers do, an anonymous speaker's former identity never shows again.

Hypothesis draws sequences of edits and imports: saved programme documents and frab / C3VOC exports
taken before the speaker was made anonymous and before sessions opted out of recording (dry and real,
cancelling or deleting what the file lacks), stale console forms, identifying fields, loosened recording
policies, deleting the speaker and adding them again. After every step, no response, export, change
feed, history row or error message holds anything that identified the speaker, and no session is less
private than it was made.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.settings import Settings
from sync import Cursor
from tests.asgi import AppClient, app_client
from tests.postgres import NewDatabase
from tests.server.test_anonymous_speakers import ANONYMOUS, PSEUDONYM, PUBLIC, leaks

#: The sessions the speaker speaks in, and the policies they are given after the stale snapshots are taken.
TIGHTENED = {"plenary-opening": "off-the-record", "plenary-aml": "no-recording", "wg-legal-route-1": "off-the-record"}
LEVEL = {"public": 0, "no-recording": 1, "off-the-record": 2}
FORMATS = {"kumpul-json": "/api/programme", "frab-xml": "/api/schedule.xml", "c3voc-json": "/api/schedule.json"}
HIDDEN = ("organisation", "role", "country", "photoUrl", "links", "translations")

Step = tuple[Any, ...]

steps = st.one_of(
    st.tuples(
        st.just("import"),
        st.sampled_from(sorted(FORMATS)),
        st.sampled_from(["stale", "anonymous"]),
        st.booleans(),
        st.sampled_from(["cancel", "delete"]),
    ),
    st.tuples(st.just("stale form"), st.sets(st.sampled_from(sorted(PUBLIC)), min_size=1)),
    st.tuples(st.just("hidden field"), st.sampled_from(HIDDEN)),
    st.tuples(st.just("loosen"), st.sampled_from(sorted(TIGHTENED)), st.sampled_from(["public", "no-recording"])),
    st.tuples(st.just("pronouns"), st.sampled_from(["they/them", "she/her", "ze/zir"])),
    st.tuples(st.just("delete speaker")),
    st.tuples(st.just("add again"), st.booleans()),
)


@dataclass
class World:
    """One app with the speaker made anonymous, the snapshots taken before and after, and who may do what."""

    client: AppClient
    editor: dict[str, str]
    admin: dict[str, str]
    speaker_id: str
    snapshots: dict[tuple[str, str], bytes] = field(default_factory=dict)


async def build(client: AppClient) -> World:
    auth: AuthService = client.app.state.auth
    editor = {"Authorization": f"Bearer {(await auth.add_organiser('editor', Role.EDITOR))[1]}"}
    admin = {"Authorization": f"Bearer {(await auth.add_organiser('admin', Role.ADMIN))[1]}"}
    demo = demo_programme()
    sessions = [s for s in demo.sessions if s.id in TIGHTENED or s.id in ("d1-registration", "wg-prevention-1")]
    await client.app.state.programme.import_programme(msgspec.structs.replace(demo, sessions=sessions))
    made = await client.post("/api/admin/speakers", json=PUBLIC, headers=editor)
    assert made.status_code == 201, made.text
    world = World(client, editor, admin, made.json()["id"])
    for session_id in TIGHTENED:
        session = (await client.get(f"/api/sessions/{session_id}")).json()
        body = {"speakerIds": [*session["speakerIds"], world.speaker_id]}
        assert (await client.patch(f"/api/admin/sessions/{session_id}", json=body, headers=editor)).is_success
    for fmt, path in FORMATS.items():
        world.snapshots[fmt, "stale"] = (await client.get(path)).content
    assert leaks(world.snapshots["kumpul-json", "stale"].decode())
    made_anonymous = await client.patch(f"/api/admin/speakers/{world.speaker_id}", json=ANONYMOUS, headers=editor)
    assert made_anonymous.status_code == 200, made_anonymous.text
    for session_id, recording in TIGHTENED.items():
        tightened = await client.patch(
            f"/api/admin/sessions/{session_id}", json={"recording": recording}, headers=editor
        )
        assert tightened.status_code == 200, tightened.text
    for fmt, path in FORMATS.items():
        world.snapshots[fmt, "anonymous"] = (await client.get(path)).content
    return world


async def take(world: World, step: Step) -> Any:
    """Do one step as an editor would; the response."""
    client, speaker = world.client, f"/api/admin/speakers/{world.speaker_id}"
    match step:
        case ("import", fmt, when, dry_run, missing):
            params = {"dryRun": str(dry_run).lower(), "missing": missing}
            data = world.snapshots[fmt, when]
            return await client.post("/api/admin/import", content=data, params=params, headers=world.editor)
        case ("stale form", keys):
            body = {key: PUBLIC[key] for key in keys} | {"anonymous": False}
            return await client.patch(speaker, json=body, headers=world.editor)
        case ("hidden field", key):
            return await client.patch(speaker, json={key: PUBLIC[key]}, headers=world.editor)
        case ("loosen", session_id, recording):
            body = {"recording": recording}
            return await client.patch(f"/api/admin/sessions/{session_id}", json=body, headers=world.editor)
        case ("pronouns", pronouns):
            return await client.patch(speaker, json={"pronouns": pronouns}, headers=world.editor)
        case ("delete speaker",):
            return await client.delete(speaker, headers=world.editor)
        case ("add again", anonymous):
            body = {"id": world.speaker_id, **(ANONYMOUS if anonymous else {"name": PUBLIC["name"]})}
            return await client.post("/api/admin/speakers", json=body, headers=world.editor)
    raise AssertionError(f"unknown step {step}")


async def everything(world: World) -> dict[str, str]:
    """What phones, calendars and organisers can read: the programme, the whole change feed, exports, history."""
    client = world.client
    start = Cursor(Cursor.decode((await client.get("/healthz")).json()["cursor"]).epoch, 0).encode()
    texts = {path: (await client.get(path)).text for path in ("/api/programme", "/api/schedule.ics", *FORMATS.values())}
    texts["/api/changes"] = (await client.get("/api/changes", params={"since": start})).text
    history = await client.get("/api/admin/history", params={"limit": "200"}, headers=world.admin)
    texts["/api/admin/history"] = history.text
    return texts


async def check(world: World, step: Step, response: Any) -> None:
    assert response.status_code < 500, f"{step}: {response.status_code} {response.text}"
    assert not leaks(response.text), f"{step} answered with the former identity: {response.text}"
    for path, text in (await everything(world)).items():
        assert not leaks(text), f"after {step}, {path} shows the former identity"
    speaker = await world.client.get(f"/api/speakers/{world.speaker_id}")
    if speaker.status_code == 200:
        assert speaker.json()["anonymous"] is True, step
        assert speaker.json()["name"] == PSEUDONYM, step
    for session_id, recording in TIGHTENED.items():
        session = await world.client.get(f"/api/sessions/{session_id}")
        if session.status_code == 200:
            assert LEVEL[session.json()["recording"]] >= LEVEL[recording], f"{step} loosened {session_id}"


async def scenario(db_path: Path, url: str | None, sequence: list[Step]) -> None:
    settings = Settings(db_path=db_path, database_url=url, change_poll_seconds=0.05)
    async with app_client(create_app(settings)) as client:
        world = await build(client)
        for step in sequence:
            await check(world, step, await take(world, step))


@settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(steps, min_size=1, max_size=6))
def test_no_sequence_of_edits_and_imports_brings_back_who_an_anonymous_speaker_was(
    new_database: NewDatabase, sequence: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as folder, new_database() as url:
        asyncio.run(scenario(Path(folder) / "kumpul.db", url, sequence))
