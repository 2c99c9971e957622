"""What the attendee PWA's views show: sessions, speakers, filters, time zones, languages and privacy."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    NAV_LINKS,
    Browsing,
    ContextFactory,
    Demo,
    RunningServer,
    agenda_sessions,
    announce,
    bookmark,
    day_tab_name,
    every_view,
    h1,
    main,
    nav_link,
    open_view,
    session_link,
    wait_until_offline_ready,
)

THAI = re.compile(r"[\u0e00-\u0e7f]")
EVENT_ZONE = re.compile(r"WITA|GMT\+8|UTC\+8|Makassar|Central Indonesia")


@pytest.fixture(scope="module")
def demo(shared_server: RunningServer) -> Demo:
    return Demo.load(shared_server)


def time_range(start: str, end: str) -> re.Pattern[str]:
    """A time range such as 08:30 to 10:00 joined by a dash (the leading zero, AM/PM and the dash may vary)."""

    def clock(hhmm: str) -> str:
        return rf"0?{int(hhmm[:2]) % 24}[:.]{hhmm[3:]}"

    return re.compile(rf"{clock(start)}(\s*[AP]M)?\s*[\u2013\u2014-]\s*{clock(end)}", re.IGNORECASE)


def session_hrefs(page: Page) -> set[str]:
    links = main(page).get_by_role("link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return {href for href in links if href and href.startswith("/sessions/")}


def expect_sessions(page: Page, sessions: list[dict[str, Any]]) -> None:
    """The main content lists exactly these sessions."""
    expect(main(page).locator("a[href^='/sessions/']")).to_have_count(len(sessions))
    assert session_hrefs(page) == {f"/sessions/{s['id']}" for s in sessions}


def language_setting(page: Page) -> Locator:
    """The interface language <select> (en, id, th), told apart from the programme's Language filter by its options."""
    return (
        page.get_by_role("combobox")
        .filter(has=page.locator("option[value='th']"))
        .filter(has=page.locator("option[value='id']"))
        .filter(has_not=page.locator("option[value='']"))
    )


def find_setting(page: Page, control: Locator) -> Locator:
    """A setting from the header, or from Info when the header has none."""
    if control.count() == 0 or not control.first.is_visible():
        page.get_by_role("navigation").first.get_by_role("link").nth(len(NAV_LINKS) - 1).click()
    expect(control.first).to_be_visible()
    return control.first


def test_a_session_shows_everything_an_attendee_needs(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    session = demo.find(day=0, format="plenary")
    # While it runs, so that its stream is offered.
    page = new_context(shared_server, at=demo.start(session) + timedelta(minutes=10)).new_page()
    assert session["streamUrl"]
    assert "id" in session["interpretation"]
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    content = main(page)
    start, end = demo.start(session).strftime("%H:%M"), demo.end(session).strftime("%H:%M")
    expect(content).to_contain_text(time_range(start, end))
    expect(content).to_contain_text(EVENT_ZONE)
    expect(content).to_contain_text(demo.room_name(session["roomId"]))
    expect(content).to_contain_text(next(t["name"] for t in demo.data["tracks"] if t["id"] == session["trackId"]))
    expect(content).to_contain_text(next(f["name"] for f in demo.data["formats"] if f["id"] == session["format"]))
    expect(content).to_contain_text("English")
    expect(content).to_contain_text(session["abstract"][:60])
    for speaker_id in session["speakerIds"]:
        speaker = demo.speaker(speaker_id)
        link = content.get_by_role("link", name=speaker["name"], exact=True)
        expect(link).to_have_attribute("href", f"/speakers/{speaker_id}")
    expect(content.get_by_role("link", name="Watch live")).to_have_attribute("href", session["streamUrl"])
    interpretation = content.get_by_role("link", name="Interpretation: Bahasa Indonesia")
    expect(interpretation).to_have_attribute("href", session["interpretation"]["id"])
    toggle = content.get_by_role("button", name="Add to my agenda")
    expect(toggle).to_have_attribute("aria-pressed", "false")


def test_an_anonymous_speaker_shows_only_pseudonym_pronouns_and_bio(page: Page, demo: Demo) -> None:
    speaker = next(s for s in demo.data["speakers"] if s["anonymous"])
    page.goto("/speakers")
    expect(h1(page, "Speakers")).to_be_visible()
    main(page).get_by_role("link", name=speaker["name"], exact=True).click()
    expect(h1(page, speaker["name"])).to_be_visible()
    content = main(page)
    expect(content).to_contain_text(speaker["pronouns"])
    expect(content).to_contain_text(speaker["bio"][:60])
    expect(content).to_contain_text("Speaks under a pseudonym")
    for label in ("Organisation", "Organization", "Country", "Role"):
        expect(content).not_to_contain_text(re.compile(rf"\b{label}\b"))
    expect(content.get_by_role("img")).to_have_count(0)
    external = content.get_by_role("link").evaluate_all("links => links.map(a => a.href)")
    assert all(href.startswith(page.url.split("/speakers/")[0]) for href in external), external


def test_a_named_speaker_shows_their_organisation_and_sessions(page: Page, demo: Demo) -> None:
    speaker = next(s for s in demo.data["speakers"] if not s["anonymous"] and s["organisation"])
    sessions = [s for s in demo.sessions if speaker["id"] in s["speakerIds"]]
    page.goto(f"/speakers/{speaker['id']}")
    expect(h1(page, speaker["name"])).to_be_visible()
    expect(main(page)).to_contain_text(speaker["organisation"])
    expect(main(page)).to_contain_text(speaker["country"])
    expect(main(page)).not_to_contain_text("Speaks under a pseudonym")
    for session in sessions:
        expect(main(page).get_by_role("link", name=session["title"]).first).to_be_visible()


def test_off_the_record_and_cancelled_sessions_are_unmistakable(page: Page, demo: Demo) -> None:
    off_the_record = demo.find(recording="off-the-record")
    page.goto(f"/sessions/{off_the_record['id']}")
    expect(h1(page, off_the_record["title"])).to_be_visible()
    expect(main(page)).to_contain_text("Off the record")
    expect(main(page)).to_contain_text("No photos, no recording")

    public = demo.find(day=0, recording="public")
    page.goto(f"/sessions/{public['id']}")
    expect(h1(page, public["title"])).to_be_visible()
    expect(main(page)).not_to_contain_text("Off the record")

    cancelled = next(s for s in demo.sessions if s["status"] == "cancelled")
    page.goto(f"/sessions/{cancelled['id']}")
    expect(h1(page, cancelled["title"])).to_be_visible()
    expect(main(page)).to_contain_text("Cancelled")


def first_of(page: Page, ranges: list[re.Pattern[str]]) -> re.Pattern[str]:
    """Which of the time ranges the main content shows first: the one an attendee reads as the session's time."""
    text = main(page).inner_text()
    found = [(match.start(), pattern) for pattern in ranges if (match := pattern.search(text))]
    assert found, f"none of {[p.pattern for p in ranges]} in {text!r}"
    return min(found, key=lambda item: item[0])[1]


def test_times_switch_between_the_event_zone_and_the_device_zone(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    page = new_context(shared_server, timezone_id="Europe/London").new_page()
    session = demo.find(day=0, format="plenary")
    event_range = time_range(demo.start(session).strftime("%H:%M"), demo.end(session).strftime("%H:%M"))
    london = ZoneInfo("Europe/London")
    device_range = time_range(
        demo.start(session).astimezone(london).strftime("%H:%M"), demo.end(session).astimezone(london).strftime("%H:%M")
    )
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    expect(main(page)).to_contain_text(event_range)
    expect(main(page)).to_contain_text(EVENT_ZONE)
    assert first_of(page, [event_range, device_range]) is event_range

    page.get_by_role("banner").get_by_role("button", name=re.compile(r"^Times in .*: change$")).click()
    switch = page.get_by_role("checkbox", name="Show times in my time zone").or_(
        page.get_by_role("switch", name="Show times in my time zone")
    )
    find_setting(page, switch).check()
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    expect(main(page)).to_contain_text(device_range)
    expect(main(page)).to_contain_text(re.compile(r"BST|GMT\+1|UTC\+1|British|London"))
    assert first_of(page, [event_range, device_range]) is device_range


def test_the_interface_and_content_switch_language(page: Page, demo: Demo) -> None:
    session = demo.find(day=0, format="plenary")
    assert {"id", "th"} <= session["translations"].keys()
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    for name in NAV_LINKS:
        expect(nav_link(page, name)).to_be_visible()

    banner = page.get_by_role("banner")
    banner.get_by_role("link", name="English", exact=True).click()
    setting = find_setting(page, language_setting(page))
    expect(setting).to_have_accessible_name("Language")
    setting.select_option(label="Bahasa Indonesia")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^id"))
    navigation = page.get_by_role("navigation").first
    expect(navigation).to_contain_text("Pengumuman")
    expect(navigation).not_to_contain_text("Announcements")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(session["translations"]["id"]["title"])

    banner.get_by_role("link", name="Bahasa Indonesia", exact=True).click()
    find_setting(page, language_setting(page)).select_option(label="ไทย")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^th"))
    expect(navigation).to_contain_text(THAI)
    expect(navigation).not_to_contain_text("Pengumuman")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(session["translations"]["th"]["title"])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^th"))
    expect(page.get_by_role("heading", level=1)).to_have_text(session["translations"]["th"]["title"])


@pytest.mark.parametrize(("locale", "announcements"), [("id-ID", "Pengumuman"), ("th-TH", THAI)], ids=["id", "th"])
def test_the_interface_language_follows_the_browser(
    new_context: ContextFactory, shared_server: RunningServer, locale: str, announcements: str | re.Pattern[str]
) -> None:
    page = new_context(shared_server, locale=locale).new_page()
    page.goto("/programme")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{locale[:2]}"))
    navigation = page.get_by_role("navigation").first
    expect(navigation).to_contain_text(announcements)
    expect(navigation).not_to_contain_text("Announcements")


def test_filters_narrow_the_programme(page: Page, demo: Demo) -> None:
    day = demo.days()[0]
    on_day = [s for s in demo.sessions if demo.day(s) == day]
    track = demo.track("Survivor Inclusion")
    page.goto("/programme")
    expect(h1(page, "Programme")).to_be_visible()
    tab = page.get_by_role("tablist", name="Days").get_by_role("tab", name=day_tab_name(day))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect_sessions(page, on_day)
    page.get_by_role("button", name="Filter").click()
    for name in ("Theme", "Room", "Format", "Language"):
        select = page.get_by_role("combobox", name=name, exact=True).filter(has=page.locator("option[value='']"))
        expect(select).to_have_value("")
        expect(select.locator("option").first).to_have_text("All")

    theme = page.get_by_role("combobox", name="Theme", exact=True)
    theme.select_option(label="Survivor Inclusion")
    expect_sessions(page, [s for s in on_day if s["trackId"] == track["id"]])

    workshop = next(f for f in demo.data["formats"] if f["id"] == "workshop")
    page.get_by_role("combobox", name="Format", exact=True).select_option(label=workshop["name"])
    expect_sessions(page, [s for s in on_day if s["trackId"] == track["id"] and s["format"] == "workshop"])

    theme.select_option(value="")
    page.get_by_role("combobox", name="Format", exact=True).select_option(value="")
    room = next(r for r in demo.data["rooms"] if r["id"] == on_day[-1]["roomId"])
    page.get_by_role("combobox", name="Room", exact=True).select_option(label=room["name"])
    expect_sessions(page, [s for s in on_day if s["roomId"] == room["id"]])

    page.get_by_role("combobox", name="Room", exact=True).select_option(value="")
    expect_sessions(page, on_day)


def test_search_spans_all_days_and_every_content_language(page: Page, demo: Demo) -> None:
    page.goto("/programme")
    search = page.get_by_role("searchbox", name="Search the programme")
    target = demo.find(day=2)
    speaker = demo.speaker(target["speakerIds"][0])
    search.press_sequentially(speaker["name"], delay=20)
    expected = [s for s in demo.sessions if speaker["id"] in s["speakerIds"]]
    expect(session_link(page, target)).to_be_visible()
    assert {f"/sessions/{s['id']}" for s in expected} <= session_hrefs(page)
    live = page.locator("[aria-live=polite], [role=status]").filter(has_text=re.compile(r"\b\d+ sessions?\b"))
    expect(live.first).to_contain_text(f"{len(session_hrefs(page))} session")

    search.fill("")
    thai = next(
        s for s in demo.sessions if "title" in s["translations"].get("th", {}) and demo.day(s) != demo.days()[0]
    )
    search.press_sequentially(thai["translations"]["th"]["title"][:10], delay=20)
    expect(session_link(page, thai)).to_be_visible()


def test_no_request_leaves_the_server_origin_during_a_walk_through_every_view(browsing: Browsing, demo: Demo) -> None:
    page = browsing.new_page()
    for session in agenda_sessions(demo):
        bookmark(page, session)
    for view in every_view(demo):
        open_view(page, view)
    open_view(page, every_view(demo)[1])
    page.get_by_role("searchbox", name="Search the programme").press_sequentially("survivor", delay=20)
    wait_until_offline_ready(page)
    browsing.context.set_offline(True)
    page.reload()
    browsing.context.set_offline(False)
    page.wait_for_timeout(2_000)
    assert browsing.requests, "the walk recorded no requests at all"
    assert browsing.foreign_requests() == []


def test_the_agenda_flags_overlapping_bookmarks(page: Page, demo: Demo) -> None:
    first, second = agenda_sessions(demo)
    page.goto("/agenda")
    expect(h1(page, "My agenda")).to_be_visible()
    expect(main(page)).to_contain_text("No sessions in your agenda yet")
    bookmark(page, first)
    bookmark(page, second)
    nav_link(page, "My agenda").click()
    expect(session_link(page, first)).to_be_visible()
    expect(session_link(page, second)).to_be_visible()
    expect(main(page)).to_contain_text(f"Overlaps with {second['title']}")
    expect(main(page)).to_contain_text(f"Overlaps with {first['title']}")

    page.goto(f"/sessions/{first['id']}")
    page.get_by_role("button", name="Remove from my agenda").click()
    expect(page.get_by_role("button", name="Add to my agenda")).to_have_attribute("aria-pressed", "false")
    nav_link(page, "My agenda").click()
    expect(session_link(page, first)).to_have_count(0)
    expect(main(page)).not_to_contain_text("Overlaps with")


def test_announcements_are_newest_first_with_urgent_ones_pinned_and_unread_marked(
    new_context: ContextFactory, server: RunningServer
) -> None:
    announce(server, "Shuttle buses leave from the east gate")
    announce(server, "Hall B is closed, sessions move to Hall A", "urgent")
    announce(server, "Lunch is served on the terrace")
    browsing = new_context(server)
    page = browsing.new_page()
    page.goto("/announcements")
    expect(h1(page, "Announcements")).to_be_visible()
    content = main(page)
    expect(content).to_contain_text("Lunch is served on the terrace")
    expect(content.get_by_text("Urgent", exact=True)).to_have_count(1)
    expect(content.get_by_text("Unread", exact=True)).to_have_count(3)
    text = content.inner_text()
    order = ["Hall B is closed", "Lunch is served", "Shuttle buses leave"]
    assert sorted(order, key=text.index) == order, text

    wait_until_offline_ready(page)
    announce(server, "Wifi is back in the plenary hall")
    browsing.context.set_offline(True)
    browsing.context.set_offline(False)
    expect(content).to_contain_text("Wifi is back in the plenary hall", timeout=15_000)
    text = content.inner_text()
    order = ["Hall B is closed", "Wifi is back", "Lunch is served", "Shuttle buses leave"]
    assert sorted(order, key=text.index) == order, text


@pytest.mark.parametrize("path", ["/sessions/%E0%A4%A", "/speakers/%ZZ"])
def test_an_address_with_a_broken_percent_escape_shows_not_found_not_a_blank_page(page: Page, path: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("not found", re.IGNORECASE))
    assert errors == [], "the page shows its not-found view without an uncaught error"
