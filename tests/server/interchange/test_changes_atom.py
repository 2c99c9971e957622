"""GET /api/changes.atom: programme changes as an Atom feed (RFC 4287) that feed readers accept."""

from __future__ import annotations

import re

from lxml import etree

from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient
A = "{http://www.w3.org/2005/Atom}"
#: RFC 3339 date-time, as RFC 4287 section 3.3 requires.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def valid_atom(body: bytes) -> etree._Element:
    """The parsed feed, after checking what RFC 4287 requires of a feed and of each entry."""
    feed = etree.fromstring(body)
    assert feed.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{tag}")) == 1, f"a feed has exactly one atom:{tag}"
    assert RFC3339.match(feed.findtext(f"{A}updated") or "")
    feed_authors = feed.findall(f"{A}author")
    assert all(author.findtext(f"{A}name") for author in feed_authors)
    self_links = [link for link in feed.findall(f"{A}link") if link.get("rel") == "self"]
    assert len(self_links) == 1
    ids = []
    for entry in feed.findall(f"{A}entry"):
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{tag}")) == 1, f"an entry has exactly one atom:{tag}"
        assert RFC3339.match(entry.findtext(f"{A}updated") or "")
        assert feed_authors or entry.findall(f"{A}author"), "every entry needs an author, its own or the feed's"
        has_alternate = any(link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{A}link"))
        assert entry.find(f"{A}content") is not None or has_alternate or entry.find(f"{A}summary") is not None
        ids.append(entry.findtext(f"{A}id"))
    assert all(item and item.startswith("urn:uuid:") for item in ids)
    assert len(set(ids)) == len(ids)
    return feed


def entries(feed: etree._Element) -> list[tuple[str, str, str]]:
    """``(category, title, summary)`` of each entry, newest first."""
    return [
        (entry.find(f"{A}category").get("term"), entry.findtext(f"{A}title"), entry.findtext(f"{A}summary"))  # type: ignore[union-attr]
        for entry in feed.findall(f"{A}entry")
    ]


async def edit(client: Client, tokens: Tokens, session_id: str, change: dict[str, object]) -> None:
    answer = await client.patch(f"/api/admin/sessions/{session_id}", json=change, headers=tokens.header("editor"))
    assert answer.status_code == 200, answer.text


async def test_moves_room_changes_cancellations_and_additions_are_entries(client: Client, tokens: Tokens) -> None:
    before = valid_atom((await client.get("/api/changes.atom")).content)
    await edit(
        client, tokens, "plenary-aml", {"start": "2024-07-23T11:00:00+08:00", "end": "2024-07-23T12:30:00+08:00"}
    )
    await edit(client, tokens, "plenary-opening", {"roomId": "room-hall-a"})
    answer = await client.delete("/api/admin/sessions/d1-coffee-am", headers=tokens.header("editor"))
    assert answer.status_code in (200, 204), answer.text
    await edit(client, tokens, "d1-registration", {"status": "cancelled"})
    response = await client.get("/api/changes.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert response.headers["access-control-allow-origin"] == "*"
    feed = valid_atom(response.content)
    new = entries(feed)[: len(entries(feed)) - len(entries(before))]
    assert [kind for kind, _, _ in new] == ["cancelled", "removed", "re-roomed", "moved"]
    moved = next(summary for kind, _, summary in new if kind == "moved")
    assert moved == "Moved from Tue 23 Jul 10:30-12:00 to Tue 23 Jul 11:00-12:30 (Asia/Makassar)."
    roomed = next(summary for kind, _, summary in new if kind == "re-roomed")
    assert roomed == "Now in Hall A (Kecak) (was Segara Plenary Hall), Tue 23 Jul 08:30-10:00 (Asia/Makassar)."
    assert new[0][1].startswith("Cancelled: ")
    assert new[1][2].startswith("Removed from the programme: was Tue 23 Jul 10:00-")


async def test_an_added_session_links_to_its_page(client: Client, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions/plenary-aml")).json()
    added = {key: session[key] for key in ("title", "start", "end", "roomId", "format")} | {
        "id": "late-addition",
        "title": "A late addition",
    }
    answer = await client.post("/api/admin/sessions", json=added, headers=tokens.header("editor"))
    assert answer.status_code == 201, answer.text
    feed = valid_atom((await client.get("/api/changes.atom")).content)
    first = feed.find(f"{A}entry")
    assert first is not None
    assert first.findtext(f"{A}title") == "Added: A late addition"
    assert first.find(f"{A}link").get("href") == "http://testserver.local/sessions/late-addition"  # type: ignore[union-attr]


async def test_the_feed_revalidates(client: Client, tokens: Tokens) -> None:
    first = await client.get("/api/changes.atom")
    again = await client.get("/api/changes.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    await edit(client, tokens, "plenary-opening", {"roomId": "room-hall-b"})
    changed = await client.get("/api/changes.atom", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
