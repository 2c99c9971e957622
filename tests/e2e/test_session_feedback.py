"""Session feedback in real Chromium: written offline, sent on reconnect, counted in the console; a change of
rating replaces the attendee's rating instead of adding one. Screenshots of the form at 360x740, light and dark."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ContextFactory,
    RunningServer,
    axe_violations,
    describe_violations,
    h1,
    screenshot,
    wait_until_offline_ready,
)
from tests.e2e.console_helpers import admin_token, organiser, sign_in

#: A demo session of July 2024: it has started by the page's clock and the server's.
SESSION = "wg-legal-route-1"


def feedback_form(page: Page) -> None:
    page.goto(f"/sessions/{SESSION}")
    expect(page.get_by_role("heading", level=2, name="Your feedback")).to_be_visible()


def status(page: Page, text: str) -> None:
    expect(page.get_by_role("region", name="Your feedback").get_by_role("status")).to_have_text(text)


def counted(server: RunningServer, token: str) -> dict[str, object]:
    answer = httpx.get(
        f"{server.url}/api/admin/feedback/{SESSION}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    summary: dict[str, object] = answer.json()["summary"]
    return summary


def test_feedback_written_offline_is_counted_after_reconnect_and_a_change_replaces_it(
    new_context: ContextFactory, server: RunningServer
) -> None:
    attendee = new_context(server)
    page = attendee.new_page()
    page.goto("/")
    wait_until_offline_ready(page)
    feedback_form(page)

    attendee.context.set_offline(True)
    page.get_by_role("radio", name="4 out of 5").check()
    page.get_by_role("textbox", name="Comment (optional)").fill("<b>Clear</b> and practical")
    page.get_by_role("button", name="Send feedback").click()
    status(page, "Saved on this device. It will be sent when you are back online.")
    token = admin_token(server)
    assert counted(server, token)["count"] == 0, "nothing reaches the server while offline"

    attendee.context.set_offline(False)
    status(page, "Thank you: your feedback was sent.")
    assert counted(server, token)["count"] == 1

    console = new_context(server, viewport={"width": 1280, "height": 800}).new_page()
    sign_in(console, organiser(server, "editor", token), "/admin/feedback")
    expect(h1(console, "Session feedback")).to_be_visible()
    title = str(httpx.get(f"{server.url}/api/sessions/{SESSION}", timeout=10).json()["title"])
    row = console.get_by_role("row").filter(has_text=title)
    expect(row.get_by_role("cell")).to_have_text(["1", "4.00", "1: 0, 2: 0, 3: 0, 4: 1, 5: 0"])
    row.get_by_role("button", name=f"Show 1 comment on {title}").click()
    comments = console.get_by_role("list", name=f"Comments on {title}, newest first")
    expect(comments).to_contain_text("<b>Clear</b> and practical")  # inert: the markup shows as text

    # Changing the rating replaces it: still one rating, now a 2.
    page.get_by_role("radio", name="2 out of 5").check()
    page.get_by_role("button", name="Send feedback").click()
    status(page, "Thank you: your feedback was sent.")
    summary = counted(server, token)
    assert (summary["count"], summary["distribution"]) == (1, [0, 1, 0, 0, 0])
    console.reload()
    expect(row.get_by_role("cell")).to_have_text(["1", "2.00", "1: 0, 2: 1, 3: 0, 4: 0, 5: 0"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_feedback_form_screenshots(new_context: ContextFactory, server: RunningServer, scheme: str) -> None:
    page = new_context(server, color_scheme=scheme).new_page()  # type: ignore[arg-type]
    feedback_form(page)
    page.get_by_role("radio", name="4 out of 5").check()
    page.get_by_role("textbox", name="Comment (optional)").fill("The examples from Surabaya helped.")
    # The heading a little below the top, clear of the app's notices.
    page.get_by_role("heading", level=2, name="Your feedback").evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 96)"
    )
    screenshot(page, "session-feedback")
    violations = axe_violations(page)
    assert not violations, describe_violations(f"session feedback ({scheme})", violations)
