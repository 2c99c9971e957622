"""Session feedback: an attendee rates a session once (and may change it); organisers see counts and comments
without anyone's identity; erasing an attendee takes their feedback with it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from server.storage import feedback as feedback_store
from server.storage.db import Database
from server.storage.purge import delete_attendee_data
from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient
#: A demo session that took place in July 2024, and one of another kind.
PAST = "wg-legal-route-1"


async def attendee(client: Client) -> dict[str, str]:
    created = await client.post("/api/attendees")
    assert created.status_code == 201
    return {"Authorization": f"Bearer {created.json()['token']}"}


async def rate(client: Client, who: dict[str, str], session: str, rating: Any, comment: str = "") -> Any:
    return await client.put(f"/api/me/feedback/{session}", json={"rating": rating, "comment": comment}, headers=who)


async def summary(client: Client, tokens: Tokens, session: str) -> dict[str, Any]:
    answer = await client.get(f"/api/admin/feedback/{session}", headers=tokens.header("editor"))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_ratings_are_counted_and_a_second_rating_replaces_the_first(client: Client, tokens: Tokens) -> None:
    asih, bayu = await attendee(client), await attendee(client)
    assert (await rate(client, asih, PAST, 2, "Too fast")).status_code == 200
    assert (await rate(client, bayu, PAST, 5, "")).status_code == 200
    changed = await rate(client, asih, PAST, 4, "  Too fast, but the handout helped  ")
    assert changed.status_code == 200
    assert changed.json()["rating"] == 4
    assert changed.json()["comment"] == "Too fast, but the handout helped"

    found = await summary(client, tokens, PAST)
    assert found["summary"]["count"] == 2
    assert found["summary"]["mean"] == 4.5
    assert found["summary"]["distribution"] == [0, 0, 0, 1, 1]
    assert found["comments"] == [{"rating": 4, "comment": "Too fast, but the handout helped"}]
    listed = (await client.get("/api/admin/feedback", headers=tokens.header("admin"))).json()
    row = next(item for item in listed if item["sessionId"] == PAST)
    assert (row["count"], row["mean"], row["comments"]) == (2, 4.5, 1)
    assert all(item["count"] == 0 for item in listed if item["sessionId"] != PAST)
    mine = (await client.get("/api/me/feedback", headers=asih)).json()
    assert [(item["sessionId"], item["rating"]) for item in mine] == [(PAST, 4)]


async def test_organisers_see_no_attendee_and_no_time(client: Client, tokens: Tokens) -> None:
    asih = await attendee(client)
    attendee_id = (await client.get("/api/attendees/me", headers=asih)).json()["attendeeId"]
    await rate(client, asih, PAST, 3, "Fine")
    for path in (f"/api/admin/feedback/{PAST}", "/api/admin/feedback", "/api/admin/feedback.csv"):
        answer = await client.get(path, headers=tokens.header("editor"))
        assert answer.status_code == 200
        assert attendee_id not in answer.text
        assert "updatedAt" not in answer.text
        assert datetime.now(UTC).date().isoformat() not in answer.text, "no time of giving, which logs could match"


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "five", None])
async def test_a_rating_outside_1_to_5_is_400_naming_it(client: Client, tokens: Tokens, rating: Any) -> None:
    answer = await rate(client, await attendee(client), PAST, rating)
    assert answer.status_code == 400, answer.text
    assert "`rating`" in answer.json()["detail"]
    assert (await summary(client, tokens, PAST))["summary"]["count"] == 0


async def test_a_long_comment_is_400(client: Client) -> None:
    answer = await rate(client, await attendee(client), PAST, 4, "x" * 2001)
    assert answer.status_code == 400
    assert "`comment`" in answer.json()["detail"]
    assert (await rate(client, await attendee(client), PAST, 4, "x" * 2000)).status_code == 200


async def test_no_feedback_before_the_start_or_on_a_cancelled_session(client: Client, tokens: Tokens) -> None:
    programme = (await client.get("/api/programme")).json()
    base = {"roomId": programme["rooms"][0]["id"], "format": programme["formats"][0]["id"]}
    future = {**base, "title": "Next year", "start": "2999-07-24T09:00:00+08:00", "end": "2999-07-24T10:00:00+08:00"}
    made = await client.post("/api/admin/sessions", json=future, headers=tokens.header("editor"))
    who = await attendee(client)
    early = await rate(client, who, made.json()["id"], 5)
    assert early.status_code == 409
    assert "not started yet" in early.json()["detail"]

    edited = await client.patch(
        f"/api/admin/sessions/{PAST}", json={"status": "cancelled"}, headers=tokens.header("editor")
    )
    assert edited.status_code == 200
    cancelled = await rate(client, who, PAST, 5)
    assert cancelled.status_code == 409
    assert "cancelled" in cancelled.json()["detail"]
    assert (await rate(client, who, "no-such-session", 5)).status_code == 404


async def test_withdrawing_removes_the_rating(client: Client, tokens: Tokens) -> None:
    who = await attendee(client)
    await rate(client, who, PAST, 1, "Could not hear")
    assert (await client.delete(f"/api/me/feedback/{PAST}", headers=who)).status_code == 204
    assert (await client.delete(f"/api/me/feedback/{PAST}", headers=who)).status_code == 404
    assert (await summary(client, tokens, PAST))["summary"]["count"] == 0


async def test_erasing_an_attendee_erases_their_feedback_only(client: Client, tokens: Tokens) -> None:
    asih, bayu = await attendee(client), await attendee(client)
    await rate(client, asih, PAST, 1, "asih was here")
    await rate(client, bayu, PAST, 5, "bayu was here")
    assert (await client.delete("/api/attendees/me", headers=asih)).status_code == 204
    found = await summary(client, tokens, PAST)
    assert found["summary"]["distribution"] == [0, 0, 0, 0, 1]
    assert found["comments"] == [{"rating": 5, "comment": "bayu was here"}]


async def test_the_csv_export_is_safe_to_open_in_a_spreadsheet(client: Client, tokens: Tokens) -> None:
    for comment in ('=HYPERLINK("https://evil.example","click")', "+1", "-2", "@SUM(A1)", "plain, with comma"):
        await rate(client, await attendee(client), PAST, 3, comment)
    answer = await client.get("/api/admin/feedback.csv", headers=tokens.header("editor"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    comments = {row["comment"] for row in rows}
    assert comments == {'\'=HYPERLINK("https://evil.example","click")', "'+1", "'-2", "'@SUM(A1)", "plain, with comma"}
    assert {row["session_id"] for row in rows} == {PAST}
    assert all(row["rating"] == "3" for row in rows)


async def test_comments_are_kept_as_text_and_newest_first(client: Client, tokens: Tokens) -> None:
    first, second = await attendee(client), await attendee(client)
    await rate(client, first, PAST, 2, "<img src=x onerror=alert(1)>")
    await rate(client, second, PAST, 4, "Second")
    comments = (await summary(client, tokens, PAST))["comments"]
    assert [item["comment"] for item in comments] == ["Second", "<img src=x onerror=alert(1)>"]


async def test_feedback_is_rate_limited_with_retry_after(client: Client) -> None:
    who = await attendee(client)
    answers = [(await rate(client, who, PAST, 4)).status_code for _ in range(61)]
    assert answers[:60] == [200] * 60
    assert answers[60] == 429
    last = await rate(client, who, PAST, 4)
    assert int(last.headers["Retry-After"]) >= 1
    assert "feedback from one attendee" in last.json()["detail"]


async def test_the_attendee_purge_keeps_ratings_but_ties_them_to_no_one(client: Client, tokens: Tokens) -> None:
    who = await attendee(client)
    await rate(client, who, PAST, 5, "kept for the organisers")
    db: Database = client.app.state.db
    async with db.read() as conn:
        key = await feedback_store.rater_key(conn)
    async with db.write() as conn:
        await delete_attendee_data(conn)
    async with db.read() as conn:
        assert await feedback_store.rater_key(conn) != key, "no attendee that was can be matched to a rating"
    found = await summary(client, tokens, PAST)
    assert found["comments"] == [{"rating": 5, "comment": "kept for the organisers"}]
