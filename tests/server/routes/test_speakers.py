"""Speakers, and the promise that an anonymous speaker shows only pseudonym, pronouns and bio."""

from __future__ import annotations

from typing import Any

from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient
HIDDEN = ("organisation", "role", "country", "photoUrl", "links")


def assert_anonymous_shape(speaker: dict[str, Any]) -> None:
    assert speaker["anonymous"] is True
    assert speaker["organisation"] == speaker["role"] == speaker["country"] == ""
    assert speaker["photoUrl"] is None
    assert speaker["links"] == []
    assert all(not t.get("role") for t in speaker["translations"].values())


async def test_list_and_get_speakers(client: Client) -> None:
    speakers = (await client.get("/api/speakers")).json()
    assert len(speakers) >= 30
    names = [s["name"].casefold() for s in speakers]
    assert names == sorted(names)
    assert (await client.get(f"/api/speakers/{speakers[0]['id']}")).json() == speakers[0]
    assert (await client.get("/api/speakers/nobody")).status_code == 404


async def test_demo_anonymous_speakers_expose_nothing_else(client: Client) -> None:
    anonymous = [s for s in (await client.get("/api/speakers")).json() if s["anonymous"]]
    assert anonymous
    for speaker in anonymous:
        assert_anonymous_shape(speaker)
        assert_anonymous_shape((await client.get(f"/api/speakers/{speaker['id']}")).json())
        assert speaker["bio"]


async def test_anonymous_speaker_with_a_hidden_field_is_refused(client: Client, tokens: Tokens) -> None:
    for field, value in (
        ("organisation", "Shelter"),
        ("country", "KH"),
        ("role", "Advocate"),
        ("photoUrl", "https://photos.example/x.jpg"),
        ("links", [{"title": "Site", "url": "https://x.example"}]),
    ):
        response = await client.post(
            "/api/admin/speakers",
            json={"name": "Melati", "anonymous": True, field: value},
            headers=tokens.header("editor"),
        )
        assert response.status_code == 400, field
        assert field in response.json()["detail"]


async def test_making_a_speaker_anonymous_erases_what_would_identify_them(client: Client, tokens: Tokens) -> None:
    created = await client.post(
        "/api/admin/speakers",
        json={
            "name": "Real Name",
            "organisation": "Shelter Org",
            "country": "Cambodia",
            "role": "Case worker",
            "photoUrl": "https://photos.example/x.jpg",
            "links": [{"title": "Site", "url": "https://x.example"}],
            "bio": "Works with survivors.",
            "translations": {"id": {"role": "Pekerja kasus", "bio": "Bekerja dengan penyintas."}},
        },
        headers=tokens.header("editor"),
    )
    speaker_id = created.json()["id"]
    cursor = (await client.get("/healthz")).json()["cursor"]
    response = await client.patch(
        f"/api/admin/speakers/{speaker_id}",
        json={"anonymous": True, "name": "Kenanga"},
        headers=tokens.header("editor"),
    )
    assert response.status_code == 200
    assert_anonymous_shape(response.json())
    assert_anonymous_shape((await client.get(f"/api/speakers/{speaker_id}")).json())
    programme = (await client.get("/api/programme")).text
    changes = (await client.get("/api/changes", params={"since": cursor})).text
    for text in (programme, changes):
        assert "Shelter Org" not in text
        assert "Case worker" not in text
        assert "Pekerja kasus" not in text
        assert "photos.example" not in text


async def test_deleting_a_speaker_takes_them_off_sessions(client: Client, tokens: Tokens) -> None:
    sessions = (await client.get("/api/sessions")).json()
    session = next(s for s in sessions if s["speakerIds"])
    speaker_id = session["speakerIds"][0]
    cursor = (await client.get("/healthz")).json()["cursor"]
    response = await client.delete(f"/api/admin/speakers/{speaker_id}", headers=tokens.header("editor"))
    assert response.status_code == 204
    after = (await client.get(f"/api/sessions/{session['id']}")).json()
    assert speaker_id not in after["speakerIds"]
    changes = (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert {"type": "speaker", "id": speaker_id, "deleted": True} in [
        {k: c[k] for k in ("type", "id", "deleted")} for c in changes
    ]
    assert any(c["type"] == "session" and c["id"] == session["id"] for c in changes)


async def test_a_speaker_listed_twice_is_refused(client: Client, tokens: Tokens) -> None:
    session = next(s for s in (await client.get("/api/sessions")).json() if s["speakerIds"])
    twice = [session["speakerIds"][0]] * 2
    response = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"speakerIds": twice}, headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert "twice" in response.json()["detail"]
