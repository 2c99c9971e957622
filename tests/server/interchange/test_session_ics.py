"""GET /api/sessions/{id}.ics: one session as an iCalendar, by the rules of the whole programme's calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import vobject

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import calendar, events_by_url
from tests.server.interchange.test_export_clients import AUTUMN, _dst_programme, _instants
from tests.server.test_anonymous_speakers import PSEUDONYM, PUBLIC, make_anonymous, public_speaker

Client = AppClient


async def test_a_session_calendar_is_the_programme_calendar_event(client: Client) -> None:
    answer = await client.get("/api/sessions/plenary-opening.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert answer.headers["content-disposition"] == 'inline; filename="plenary-opening.ics"'
    alone = events_by_url(calendar(answer.content))
    assert list(alone) == ["plenary-opening"]
    whole = events_by_url(calendar((await client.get("/api/schedule.ics")).content))["plenary-opening"]
    event = alone["plenary-opening"]
    for name in ("UID", "SEQUENCE", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS"):
        assert event[name] == whole[name], name
    assert event.start == whole.start
    assert event.end == whole.end
    parsed = vobject.readOne(answer.text)
    assert parsed.vevent.uid.value == str(whole["UID"])
    again = await client.get("/api/sessions/plenary-opening.ics", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


async def test_the_json_of_a_session_is_still_there(client: Client) -> None:
    answer = await client.get("/api/sessions/plenary-opening")
    assert answer.status_code == 200
    assert answer.json()["id"] == "plenary-opening"


async def test_an_unknown_session_is_404(client: Client) -> None:
    answer = await client.get("/api/sessions/no-such-session.ics")
    assert answer.status_code == 404
    assert "no-such-session" in answer.json()["detail"]


async def test_a_cancelled_session_says_so(client: Client, tokens: Tokens) -> None:
    edit = await client.patch(
        "/api/admin/sessions/plenary-aml", json={"status": "cancelled"}, headers=tokens.header("editor")
    )
    assert edit.status_code == 200
    event = events_by_url(calendar((await client.get("/api/sessions/plenary-aml.ics")).content))["plenary-aml"]
    assert event["STATUS"] == "CANCELLED"


async def test_an_anonymous_speaker_appears_by_pseudonym_alone(client: Client, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    await make_anonymous(client, tokens, speaker_id)
    programme = (await client.get("/api/programme")).json()
    theirs = [session["id"] for session in programme["sessions"] if speaker_id in session["speakerIds"]]
    assert theirs
    text = (await client.get(f"/api/sessions/{theirs[0]}.ics")).text.replace("\r\n ", "")
    assert f"{PSEUDONYM} (pseudonym)" in text
    assert PUBLIC["name"] not in text
    assert str(PUBLIC["organisation"]) not in text


async def test_around_a_daylight_saving_change_times_are_utc_and_parsers_agree(empty_client: Client) -> None:
    await empty_client.app.state.programme.import_programme(_dst_programme("2026-10-25", AUTUMN))
    expected = _instants(AUTUMN)
    for session_id, _, _ in AUTUMN:
        body = (await empty_client.get(f"/api/sessions/{session_id}.ics")).content
        assert b"DTSTART:" in body, "times are written in UTC, without a TZID"
        assert b"Z\r\n" in body
        (event,) = calendar(body).events
        by_icalendar = (event.decoded("DTSTART").astimezone(UTC), event.decoded("DTEND").astimezone(UTC))
        parsed = vobject.readOne(body.decode()).vevent
        by_vobject = (parsed.dtstart.value.astimezone(UTC), parsed.dtend.value.astimezone(UTC))
        assert by_icalendar == by_vobject == expected[f"Session {session_id}"]
        assert isinstance(by_icalendar[0], datetime)
