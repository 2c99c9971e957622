"""Translated programme content and Info pages: staleness across edits and imports, the console's list, the
event's setting, ``?lang=`` on the exports and the agenda feed."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from lxml import etree

from server.demo import demo_info_pages, demo_programme
from server.schemas.programme import ProgrammeImport
from server.services.importer import ImportService
from server.services.programme import ProgrammeService
from server.services.venue import VenueService
from server.storage import translations as sources_store
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import valid_xml
from tests.server.routes.test_calendar_feed import bookmark, new_device, path_of

Client = AppClient
SESSION = "plenary-opening"
INDONESIAN_TITLE = "Pleno pembukaan: Lebih kuat bersama — peta jalan kemitraan untuk kawasan"


async def session(client: Client, session_id: str = SESSION) -> dict[str, Any]:
    response = await client.get(f"/api/sessions/{session_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def edit(client: Client, tokens: Tokens, body: dict[str, Any], session_id: str = SESSION) -> dict[str, Any]:
    response = await client.patch(f"/api/admin/sessions/{session_id}", json=body, headers=tokens.header("editor"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def status(client: Client, tokens: Tokens, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/api/admin/translations{query}", headers=tokens.header("editor"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stale_gaps(report: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(gap["kind"], gap["id"], gap["lang"], gap["field"]) for gap in report["gaps"] if gap["state"] == "stale"}


async def test_a_changed_source_makes_its_translations_stale_until_they_are_edited(
    client: Client, tokens: Tokens
) -> None:
    before = await session(client)
    assert before["translations"]["id"]["title"] == INDONESIAN_TITLE
    assert "stale" not in before["translations"]["id"]
    assert (await status(client, tokens, "?state=stale"))["total"] == 0

    await edit(client, tokens, {"title": "Opening plenary: a roadmap for the region"})

    after = await session(client)
    assert after["translations"]["id"]["stale"] == ["title"]
    assert after["translations"]["th"]["stale"] == ["title"]
    programme = (await client.get("/api/programme")).json()
    served = next(item for item in programme["sessions"] if item["id"] == SESSION)
    assert served["translations"]["id"]["stale"] == ["title"]
    report = await status(client, tokens, "?state=stale")
    assert stale_gaps(report) == {("session", SESSION, "id", "title"), ("session", SESSION, "th", "title")}
    assert {item["lang"]: item["stale"] for item in report["languages"]} == {"id": 1, "th": 1}

    # Another field, or the same text again, changes nothing.
    await edit(client, tokens, {"capacity": 700, "title": "Opening plenary: a roadmap for the region"})
    assert (await session(client))["translations"]["id"]["stale"] == ["title"]

    # Editing the Indonesian title makes it fresh; the Thai one stays stale.
    translations = after["translations"]
    translations["id"] = {**translations["id"], "title": "Pleno pembukaan: peta jalan untuk kawasan"}
    await edit(client, tokens, {"translations": translations})
    fresh = await session(client)
    assert "stale" not in fresh["translations"]["id"]
    assert fresh["translations"]["th"]["stale"] == ["title"]
    assert stale_gaps(await status(client, tokens, "?state=stale")) == {("session", SESSION, "th", "title")}

    # Changing the source back to the text the Thai title was made from makes it fresh again.
    await edit(client, tokens, {"title": before["title"]})
    back = await session(client)
    assert "stale" not in back["translations"]["th"]
    assert back["translations"]["id"]["stale"] == ["title"]


async def test_a_stale_list_sent_by_a_client_is_ignored(client: Client, tokens: Tokens) -> None:
    stored = await session(client)
    translations = stored["translations"]
    translations["id"]["stale"] = ["title", "abstract"]
    await edit(client, tokens, {"translations": translations})
    assert "stale" not in (await session(client))["translations"]["id"]


async def test_other_kinds_and_the_event_track_staleness_too(client: Client, tokens: Tokens) -> None:
    event = (await client.get("/api/event")).json()
    response = await client.put(
        "/api/admin/event", json={**event, "description": "A new description."}, headers=tokens.header("editor")
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/api/event")).json()["translations"]["id"]["stale"] == ["description"]

    speaker = next(item for item in (await client.get("/api/speakers")).json() if item.get("translations"))
    lang, fields = next(iter(speaker["translations"].items()))
    field = next(name for name in ("bio", "role") if fields.get(name))
    response = await client.patch(
        f"/api/admin/speakers/{speaker['id']}", json={field: "Changed."}, headers=tokens.header("editor")
    )
    assert response.status_code == 200, response.text
    report = await status(client, tokens, "?state=stale")
    assert ("event", "event", "id", "description") in stale_gaps(report)
    assert ("speaker", speaker["id"], lang, field) in stale_gaps(report)
    only = await status(client, tokens, f"?state=stale&kind=speaker&lang={lang}")
    assert {(gap["kind"], gap["lang"]) for gap in only["gaps"]} == {("speaker", lang)}


async def test_missing_translations_are_counted_per_language(client: Client, tokens: Tokens) -> None:
    report = await status(client, tokens, "?state=missing&lang=id&kind=session")
    assert report["source"] == "en"
    assert [item["lang"] for item in report["languages"]] == ["id", "th"]
    assert all(gap["state"] == "missing" and gap["lang"] == "id" for gap in report["gaps"])
    before = report["total"]
    stored = await session(client)
    assert "subtitle" not in stored["translations"]["id"]
    await edit(client, tokens, {"subtitle": "The roadmap"})
    after = await status(client, tokens, "?state=missing&lang=id&kind=session")
    assert after["total"] == before + 1
    assert {"kind": "session", "id": SESSION, "lang": "id", "field": "subtitle", "state": "missing"}.items() <= next(
        gap for gap in after["gaps"] if gap["id"] == SESSION and gap["field"] == "subtitle"
    ).items()


async def test_the_translation_list_refuses_an_unknown_kind_and_is_for_programme_editors(
    client: Client, tokens: Tokens
) -> None:
    response = await client.get("/api/admin/translations?kind=planet", headers=tokens.header("editor"))
    assert response.status_code == 400
    assert "planet" in response.json()["detail"]
    assert (await client.get("/api/admin/translations", headers=tokens.header("announcer"))).status_code == 403
    assert (await client.get("/api/admin/translations")).status_code == 401


async def test_a_kumpul_import_keeps_translations_and_marks_changed_sources_stale(client: Client) -> None:
    programme: ProgrammeService = client.app.state.programme
    document = msgspec.to_builtins(demo_programme())
    for item in document["sessions"]:
        item["translations"] = {}
        if item["id"] == SESSION:
            item["title"] = "Opening plenary, renamed in the file"
    await programme.import_programme(msgspec.convert(document, ProgrammeImport))
    stored = await session(client)
    assert stored["title"] == "Opening plenary, renamed in the file"
    assert stored["translations"]["id"]["title"] == INDONESIAN_TITLE
    assert stored["translations"]["id"]["stale"] == ["title"]
    other = await session(client, "d2-survivor-speakers")
    assert other["translations"]
    assert all("stale" not in item for item in other["translations"].values())


async def test_a_frab_import_keeps_translations_and_marks_changed_sources_stale(client: Client) -> None:
    xml = (await client.get("/api/schedule.xml")).content
    root = valid_xml(xml)
    for event in root.iter("event"):
        if event.findtext("slug", "").endswith(SESSION) or event.get("guid") == (await session(client))["guid"]:
            title = event.find("title")
            assert title is not None
            title.text = "Opening plenary, renamed in frab"
    await ImportService(client.app.state.programme).import_file(etree.tostring(root))
    stored = await session(client)
    assert stored["title"] == "Opening plenary, renamed in frab"
    assert stored["translations"]["id"]["title"] == INDONESIAN_TITLE
    assert stored["translations"]["id"]["stale"] == ["title"]
    assert "stale" not in (await session(client, "d2-survivor-speakers"))["translations"].get("id", {})


async def test_the_exports_take_a_language(client: Client) -> None:
    english = json.loads((await client.get("/api/schedule.json")).content)
    indonesian_response = await client.get("/api/schedule.json?lang=id")
    assert indonesian_response.status_code == 200
    assert "-id.json" in indonesian_response.headers["content-disposition"]
    indonesian = json.loads(indonesian_response.content)
    assert indonesian["schedule"]["conference"]["title"] == "Konferensi Anti-Perdagangan Orang Kawasan Asia 2024"
    assert english["schedule"]["conference"]["title"] == "Asia Region Anti-Trafficking Conference 2024"
    assert INDONESIAN_TITLE in json.dumps(indonesian, ensure_ascii=False)
    assert INDONESIAN_TITLE not in json.dumps(english, ensure_ascii=False)
    assert (await client.get("/api/schedule.json?lang=en")).content == (await client.get("/api/schedule.json")).content

    xml = (await client.get("/api/schedule.xml?lang=id")).content.decode()
    assert INDONESIAN_TITLE in xml
    ics = (await client.get("/api/schedule.ics?lang=th")).content.decode()
    thai = (await session(client))["translations"]["th"]["title"]
    assert thai[:20] in ics.replace("\r\n ", "")


async def test_an_unknown_language_is_refused_by_name(client: Client) -> None:
    for path in ("/api/schedule.json", "/api/schedule.xml", "/api/schedule.ics"):
        response = await client.get(f"{path}?lang=km")
        assert response.status_code == 400, path
        assert "'km'" in response.json()["detail"]
        assert response.json()["detail"].startswith("lang:")
    assert (await client.get("/api/schedule.json?lang=not a language")).status_code == 400


async def test_the_event_setting_chooses_between_a_stale_translation_and_the_original(
    client: Client, tokens: Tokens
) -> None:
    await edit(client, tokens, {"title": "Opening plenary: a roadmap for the region"})
    marked = (await client.get("/api/schedule.json?lang=id")).content.decode()
    assert INDONESIAN_TITLE in marked

    event = (await client.get("/api/event")).json()
    assert event["staleTranslations"] == "mark"
    response = await client.put(
        "/api/admin/event", json={**event, "staleTranslations": "original"}, headers=tokens.header("editor")
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/api/programme")).json()["event"]["staleTranslations"] == "original"
    original = (await client.get("/api/schedule.json?lang=id")).content.decode()
    assert INDONESIAN_TITLE not in original
    assert "Opening plenary: a roadmap for the region" in original
    bad = await client.put(
        "/api/admin/event", json={**event, "staleTranslations": "hide"}, headers=tokens.header("editor")
    )
    assert bad.status_code == 400


async def test_the_agenda_feed_is_written_in_the_attendees_language(client: Client) -> None:
    phone = await new_device(client)
    await bookmark(client, phone, SESSION)
    response = await client.post("/api/attendees/me/calendar?lang=id", headers=phone.headers)
    assert response.status_code == 201, response.text
    url = path_of(response.json()["url"])
    assert INDONESIAN_TITLE[:30] in (await client.get(url)).content.decode().replace("\r\n ", "")

    response = await client.put("/api/attendees/me/calendar/language", json={"lang": "th"}, headers=phone.headers)
    assert response.status_code == 200, response.text
    thai = (await session(client))["translations"]["th"]["title"]
    feed = (await client.get(url)).content.decode().replace("\r\n ", "")
    assert thai[:15] in feed
    assert INDONESIAN_TITLE[:30] not in feed

    # A language the event does not offer: the main one.
    await client.put("/api/attendees/me/calendar/language", json={"lang": "km"}, headers=phone.headers)
    assert "Opening plenary" in (await client.get(url)).content.decode()
    bad = await client.put("/api/attendees/me/calendar/language", json={"lang": "no such"}, headers=phone.headers)
    assert bad.status_code == 400

    await client.delete("/api/attendees/me/calendar", headers=phone.headers)
    gone = await client.put("/api/attendees/me/calendar/language", json={"lang": "id"}, headers=phone.headers)
    assert gone.status_code == 404


# -- Info pages ---------------------------------------------------------------------------------------------


async def info_page(client: Client, page_id: str) -> dict[str, Any]:
    listed: list[dict[str, Any]] = (await client.get("/api/info-pages")).json()
    return next(page for page in listed if page["id"] == page_id)


async def edit_page(client: Client, tokens: Tokens, page_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.patch(f"/api/admin/info-pages/{page_id}", json=body, headers=tokens.header("editor"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_an_info_page_translation_goes_stale_with_its_source_until_edited(client: Client, tokens: Tokens) -> None:
    created = await client.post(
        "/api/admin/info-pages",
        json={
            "slug": "wifi",
            "title": "Wifi",
            "body": "Network ARAT, password survivor2024.",
            "translations": {
                "id": {"title": "Wifi", "body": "Jaringan ARAT, kata sandi survivor2024.", "stale": ["body"]}
            },
        },
        headers=tokens.header("editor"),
    )
    assert created.status_code == 201, created.text
    page_id = created.json()["id"]
    assert "stale" not in created.json()["translations"]["id"], "a stale list sent by a client is ignored"
    report = await status(client, tokens, "?kind=page")
    assert {(gap["id"], gap["lang"], gap["field"], gap["state"]) for gap in report["gaps"]} == {
        (page_id, "th", "title", "missing"),
        (page_id, "th", "body", "missing"),
    }
    assert {item["lang"]: item["missing"] for item in (await status(client, tokens, "?kind=page"))["languages"]}[
        "th"
    ] >= 2

    changed = await edit_page(client, tokens, page_id, {"body": "Network ARAT-2024, password survivor2024."})
    assert changed["translations"]["id"]["stale"] == ["body"]
    assert (await info_page(client, page_id))["translations"]["id"]["stale"] == ["body"]
    report = await status(client, tokens, "?state=stale")
    assert stale_gaps(report) == {("page", page_id, "id", "body")}
    assert {item["lang"]: item["stale"] for item in report["languages"]} == {"id": 1, "th": 0}
    assert next(gap for gap in report["gaps"] if gap["kind"] == "page")["label"] == "Wifi"

    # The title or position changing leaves the body's state alone; the same body again changes nothing.
    await edit_page(client, tokens, page_id, {"position": 3, "body": "Network ARAT-2024, password survivor2024."})
    assert (await info_page(client, page_id))["translations"]["id"]["stale"] == ["body"]

    # Editing the Indonesian body makes it fresh.
    await edit_page(
        client,
        tokens,
        page_id,
        {"translations": {"id": {"title": "Wifi", "body": "Jaringan ARAT-2024, kata sandi survivor2024."}}},
    )
    assert "stale" not in (await info_page(client, page_id))["translations"]["id"]
    assert (await status(client, tokens, "?state=stale"))["total"] == 0


async def test_deleting_an_info_page_forgets_its_translations(client: Client, tokens: Tokens) -> None:
    created = await client.post(
        "/api/admin/info-pages",
        json={"slug": "venue", "title": "Venue", "body": "Hall A.", "translations": {"id": {"body": "Aula A."}}},
        headers=tokens.header("editor"),
    )
    page_id = created.json()["id"]
    await edit_page(client, tokens, page_id, {"body": "Hall B."})
    assert ("page", page_id, "id", "body") in stale_gaps(await status(client, tokens, "?state=stale"))
    db = client.app.state.programme.db
    async with db.read() as conn:
        assert await sources_store.sources(conn, "page", page_id)

    deleted = await client.delete(f"/api/admin/info-pages/{page_id}", headers=tokens.header("editor"))
    assert deleted.status_code == 204
    assert not [gap for gap in (await status(client, tokens, "?kind=page"))["gaps"] if gap["id"] == page_id]
    async with db.read() as conn:
        assert await sources_store.sources(conn, "page", page_id) == {}
    # A new page under the same id starts with no history of the old one.
    again = await client.post(
        "/api/admin/info-pages",
        json={
            "id": page_id,
            "slug": "venue",
            "title": "Venue",
            "body": "Hall B.",
            "translations": {"id": {"body": "Aula A."}},
        },
        headers=tokens.header("editor"),
    )
    assert again.status_code == 201, again.text
    assert "stale" not in again.json()["translations"]["id"]


async def test_the_demo_info_pages_indonesian_translations_are_current(client: Client, tokens: Tokens) -> None:
    venue: VenueService = client.app.state.venue
    for page in demo_info_pages():
        await venue.create_page(page)
    report = await status(client, tokens, "?kind=page")
    assert not [gap for gap in report["gaps"] if gap["state"] == "stale"]
    translated = {page.id for page in demo_info_pages() if "id" in page.translations}
    assert translated, "the demo has Indonesian Info pages"
    assert not [gap for gap in report["gaps"] if gap["lang"] == "id" and gap["id"] in translated]
    page_id = sorted(translated)[0]
    await edit_page(client, tokens, page_id, {"title": "Changed"})
    assert stale_gaps(await status(client, tokens, "?state=stale&kind=page")) == {("page", page_id, "id", "title")}
