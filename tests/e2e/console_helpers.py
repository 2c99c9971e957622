"""Organisers for the console's browser tests: created as the documented flow does, then signed in through the UI."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import RunningServer

#: The password every test organiser chooses (the console asks for at least 10 characters).
PASSWORD = "quiet river lantern 42"


@dataclass(frozen=True)
class Organiser:
    name: str
    role: str
    password: str


def admin_token(server: RunningServer) -> str:
    """A new admin's API token, from ``kumpul organiser add NAME --role admin`` (the token alone on stdout)."""
    return server.organiser_token("admin")


def create_organiser(server: RunningServer, token: str, role: str, name: str | None = None) -> tuple[str, str]:
    """``POST /api/admin/organisers`` with an admin's bearer token: the new organiser's name and one-time password."""
    name = name or f"{role}-{time.monotonic_ns()}"
    response = httpx.post(
        f"{server.url}/api/admin/organisers",
        json={"name": name, "role": role},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    one_time: str = response.json()["oneTimePassword"]
    return name, one_time


def organiser(server: RunningServer, role: str, token: str | None = None) -> Organiser:
    """An organiser of ``role`` who has already chosen their password (through the API, as the console would)."""
    name, one_time = create_organiser(server, token or admin_token(server), role)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        signed = client.post("/api/admin/login", json={"name": name, "password": one_time})
        assert signed.status_code == 200, signed.text
        changed = client.post(
            "/api/admin/password",
            json={"currentPassword": one_time, "newPassword": PASSWORD},
            headers={"X-CSRF-Token": signed.json()["csrfToken"]},
        )
        assert changed.status_code == 204, changed.text
        client.post("/api/admin/logout", headers={"X-CSRF-Token": signed.json()["csrfToken"]})
    return Organiser(name, role, PASSWORD)


def h1(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("heading", level=1, name=name)


def sign_in(page: Page, who: Organiser, path: str = "/admin") -> None:
    """Open the console and sign in through its form; wait until the first view of the role is shown."""
    page.goto(path)
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()
    page.get_by_label("Name").fill(who.name)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {who.name}")).to_be_visible()
    expect(h1(page, "Sign in to the Kumpul console")).to_have_count(0)


def nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Console")


def saved(page: Page, text: str = "Saved") -> None:
    """Wait for the live region's confirmation."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()
