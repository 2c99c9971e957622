"""The organiser console: sign-in with a cookie and CSRF token, passwords, organisers, history and warnings."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
from argon2 import PasswordHasher

from server.app import create_app
from server.errors import Conflict, Unauthorized
from server.services.auth import Organiser, Role
from server.services.console import DUMMY_HASH, ConsoleService
from server.services.ratelimit import RateLimiter
from server.settings import Settings
from server.storage import organisers as organisers_store
from server.storage.db import Database
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens

Client = AppClient
NEW_PASSWORD = "correct horse battery"
ANOTHER_PASSWORD = "staple ring lantern"


@dataclass
class Made:
    """An organiser made for a test: id, name, API token and one-time password."""

    id: int
    name: str
    token: str
    one_time_password: str


async def make_organiser(client: Client, role: str, name: str | None = None) -> Made:
    console: ConsoleService = client.app.state.console
    ref, token, password = await console.create_organiser(name or f"{role} Dewi", Role(role), actor="test")
    return Made(ref.id, ref.name, token, password)


@asynccontextmanager
async def browser(
    client: Client, *, base_url: str = "http://testserver.local", address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same running app, with its own cookie jar (a second browser)."""
    transport = httpx.ASGITransport(app=client.app, client=(address, 123))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as other:
        yield other


async def query(client: Client, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Rows read straight from the app's database."""
    db: Database = client.app.state.db
    async with db.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql, parameters)]


async def execute(client: Client, sql: str, *parameters: Any) -> None:
    """Write straight to the app's database, as an operator at its shell would."""
    db: Database = client.app.state.db
    async with db.write() as conn:
        await conn.execute(sql, parameters)


def stop_the_clock(client: Client) -> None:
    """Freeze the rate limiter's clock, so slow password checks cannot refill a bucket mid-test."""
    limiter: RateLimiter = client.app.state.limiter
    stopped = time.monotonic()
    limiter.clock = lambda: stopped


async def sign_in(web: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await web.post("/api/admin/login", json={"name": name, "password": password})


async def signed_in(web: httpx.AsyncClient, made: Made, password: str = NEW_PASSWORD) -> dict[str, str]:
    """Sign in with the one-time password, choose ``password``; returns the CSRF header."""
    response = await sign_in(web, made.name, made.one_time_password)
    assert response.status_code == 200, response.text
    csrf = {"X-CSRF-Token": response.json()["csrfToken"]}
    changed = await web.post(
        "/api/admin/password",
        json={"currentPassword": made.one_time_password, "newPassword": password},
        headers=csrf,
    )
    assert changed.status_code == 204, changed.text
    return csrf


def cookie_attributes(response: httpx.Response) -> dict[str, str]:
    """The attributes of the console's Set-Cookie header, lower-cased names."""
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("kumpul_console=")]
    parts = [part.strip() for part in header.split(";")]
    attributes = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        attributes[key.lower()] = value
    attributes["value"] = parts[0].partition("=")[2]
    return attributes


async def any_session_id(client: Client) -> str:
    session_id: str = (await client.get("/api/sessions")).json()[0]["id"]
    return session_id


# -- sign-in ---------------------------------------------------------------------------------


async def test_sign_in_and_out(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        assert (await web.get("/api/admin/me")).status_code == 401
        csrf = await signed_in(web, made)
        me = await web.get("/api/admin/me")
        assert me.status_code == 200
        assert me.json() == {
            "organiser": {"id": made.id, "name": made.name, "role": "editor"},
            "csrfToken": csrf["X-CSRF-Token"],
            "mustChangePassword": False,
        }
        out = await web.post("/api/admin/logout", headers=csrf)
        assert out.status_code == 204
        cleared = cookie_attributes(out)
        assert cleared["value"] in ("", '""')
        assert cleared["max-age"] == "0"
        assert (await web.get("/api/admin/me")).status_code == 401


async def test_logged_out_cookie_is_refused_even_if_kept(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        await signed_in(web, made)
        again = await sign_in(web, made.name, NEW_PASSWORD)
        kept = cookie_attributes(again)["value"]
        await web.post("/api/admin/logout", headers={"X-CSRF-Token": again.json()["csrfToken"]})
    async with browser(client) as web:
        web.cookies.set("kumpul_console", kept, domain="testserver.local", path="/api/admin")
        response = await web.get("/api/admin/me")
        assert response.status_code == 401
        assert "sign in again" in response.json()["detail"]


async def test_expired_sessions_are_refused_and_cleaned_up(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        await signed_in(web, made)
        await execute(client, "UPDATE console_sessions SET expires_at = '2020-01-01T00:00:00.000Z'")
        expired = await web.get("/api/admin/me")
        assert expired.status_code == 401
        assert "sign in again" in expired.json()["detail"]
        assert (await sign_in(web, made.name, NEW_PASSWORD)).status_code == 200
    assert await query(client, "SELECT count(*) FROM console_sessions") == [(1,)]


async def test_wrong_password_and_unknown_name_give_the_same_401(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        await signed_in(web, made)
        wrong = await sign_in(web, made.name, "not the password")
        unknown = await sign_in(web, "Nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"] == "name or password is wrong"
    assert "set-cookie" not in wrong.headers


async def test_organiser_without_a_password_cannot_sign_in(client: Client, tokens: Tokens) -> None:
    response = await sign_in(client, "editor organiser", "")
    assert response.status_code == 401
    assert response.json()["detail"] == "name or password is wrong"


async def test_one_time_password_must_be_replaced_first(client: Client) -> None:
    made = await make_organiser(client, "admin")
    async with browser(client) as web:
        first = await sign_in(web, made.name, made.one_time_password)
        assert first.status_code == 200
        assert first.json()["mustChangePassword"] is True
        csrf = {"X-CSRF-Token": first.json()["csrfToken"]}
        for method, path in [("GET", "/api/admin/history"), ("GET", "/api/admin/organisers")]:
            blocked = await web.request(method, path, headers=csrf)
            assert blocked.status_code == 403
            assert blocked.json()["detail"] == "set your own password first"
        blocked = await web.patch(
            f"/api/admin/sessions/{await any_session_id(client)}", json={"subtitle": "x"}, headers=csrf
        )
        assert blocked.status_code == 403
        assert (await web.get("/api/admin/me")).json()["mustChangePassword"] is True

        short = await web.post(
            "/api/admin/password",
            json={"currentPassword": made.one_time_password, "newPassword": "short"},
            headers=csrf,
        )
        assert short.status_code == 400
        assert "at least 10 characters" in short.json()["detail"]
        same = await web.post(
            "/api/admin/password",
            json={"currentPassword": made.one_time_password, "newPassword": made.one_time_password},
            headers=csrf,
        )
        assert same.status_code == 400
        wrong = await web.post(
            "/api/admin/password",
            json={"currentPassword": "guess guess guess", "newPassword": NEW_PASSWORD},
            headers=csrf,
        )
        assert wrong.status_code == 400
        assert wrong.json()["detail"] == "the current password is wrong"
        changed = await web.post(
            "/api/admin/password",
            json={"currentPassword": made.one_time_password, "newPassword": NEW_PASSWORD},
            headers=csrf,
        )
        assert changed.status_code == 204
        assert (await web.get("/api/admin/me")).json()["mustChangePassword"] is False
        assert (await web.get("/api/admin/history")).status_code == 200

    async with browser(client) as web:
        assert (await sign_in(web, made.name, made.one_time_password)).status_code == 401
        again = await sign_in(web, made.name, NEW_PASSWORD)
        assert again.status_code == 200
        assert again.json()["mustChangePassword"] is False


async def test_one_time_password_looks_readable(client: Client) -> None:
    made = await make_organiser(client, "editor")
    groups = made.one_time_password.split("-")
    assert [len(group) for group in groups] == [4, 4, 4, 4]
    assert not set(made.one_time_password) & set("01ilo")


async def test_passwords_are_stored_as_argon2_hashes(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        await signed_in(web, made)
    [(stored, must_change)] = await query(
        client, "SELECT password_hash, must_change_password FROM organisers WHERE id = ?", made.id
    )
    assert stored.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored
    assert must_change == 0


async def test_old_hash_parameters_are_upgraded_at_sign_in(client: Client) -> None:
    cheap = ConsoleService(
        client.app.state.db, RateLimiter(), PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    )
    ref, _, password = await cheap.create_organiser("Old Hash", Role.EDITOR, actor="test")

    async def stored_hash() -> str:
        [(value,)] = await query(client, "SELECT password_hash FROM organisers WHERE id = ?", ref.id)
        return str(value)

    assert "m=8192,t=1,p=1" in await stored_hash()
    assert (await sign_in(client, "Old Hash", password)).status_code == 200
    assert not PasswordHasher().check_needs_rehash(await stored_hash())
    assert PasswordHasher().verify(await stored_hash(), password)


async def test_unknown_names_cost_a_full_password_check_too(client: Client) -> None:
    """An unknown name runs the same argon2 check as a wrong password, so timing does not tell them apart."""
    assert not PasswordHasher().check_needs_rehash(DUMMY_HASH), "the dummy uses the parameters of real hashes"
    checked: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            checked.append(str(hash))
            return super().verify(hash, password)

    console = ConsoleService(client.app.state.db, RateLimiter(), CountingHasher())
    await console.create_organiser("Dewi Known", Role.EDITOR, actor="test")
    with pytest.raises(Unauthorized) as unknown:
        await console.sign_in("Nobody", "wrong password", address="192.0.2.1")
    with pytest.raises(Unauthorized) as wrong:
        await console.sign_in("Dewi Known", "wrong password", address="192.0.2.2")
    assert unknown.value.detail == wrong.value.detail
    assert len(checked) == 2
    assert checked[0] == DUMMY_HASH
    assert checked[1].startswith("$argon2id$")
    assert checked[1] != DUMMY_HASH


# -- the cookie --------------------------------------------------------------------------------


async def test_cookie_attributes_over_http(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        response = await sign_in(web, made.name, made.one_time_password)
    attributes = cookie_attributes(response)
    assert len(attributes["value"]) >= 43, "256 random bits"
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/api/admin"
    assert attributes["max-age"] == str(12 * 3600)
    assert "secure" not in attributes
    stored = [row[0] for row in await query(client, "SELECT token_hash FROM console_sessions")]
    assert stored == [hashlib.sha256(attributes["value"].encode()).digest()], "stored hashed"


async def test_cookie_is_secure_over_https(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client, base_url="https://testserver.local") as web:
        response = await sign_in(web, made.name, made.one_time_password)
        assert "secure" in cookie_attributes(response)
        assert (await web.get("/api/admin/me")).status_code == 200


async def test_forwarded_proto_counts_only_behind_a_trusted_proxy(settings: Settings, client: Client) -> None:
    made = await make_organiser(client, "editor")
    forwarded = {"X-Forwarded-Proto": "https"}
    untrusted = await client.post(
        "/api/admin/login", json={"name": made.name, "password": made.one_time_password}, headers=forwarded
    )
    assert "secure" not in cookie_attributes(untrusted)
    trusting = create_app(msgspec.structs.replace(settings, trust_proxy=True))
    async with app_client(trusting) as behind_proxy:
        response = await behind_proxy.post(
            "/api/admin/login", json={"name": made.name, "password": made.one_time_password}, headers=forwarded
        )
        assert response.status_code == 200
        assert "secure" in cookie_attributes(response)
        plain = await behind_proxy.post(
            "/api/admin/login", json={"name": made.name, "password": made.one_time_password}
        )
        assert "secure" not in cookie_attributes(plain)


# -- CSRF --------------------------------------------------------------------------------------


async def test_cookie_writes_need_the_csrf_token(client: Client) -> None:
    made = await make_organiser(client, "editor")
    session_id = await any_session_id(client)
    path = f"/api/admin/sessions/{session_id}"
    async with browser(client) as web:
        csrf = await signed_in(web, made)
        missing = await web.patch(path, json={"subtitle": "Moved"})
        assert missing.status_code == 403
        assert "CSRF token is missing" in missing.json()["detail"]
        wrong = await web.patch(path, json={"subtitle": "Moved"}, headers={"X-CSRF-Token": "x" + csrf["X-CSRF-Token"]})
        assert wrong.status_code == 403
        assert "CSRF token is wrong" in wrong.json()["detail"]
        assert (await client.get(f"/api/sessions/{session_id}")).json()["subtitle"] != "Moved"
        right = await web.patch(path, json={"subtitle": "Moved"}, headers=csrf)
        assert right.status_code == 200
        assert right.json()["subtitle"] == "Moved"
        assert (await web.get("/api/admin/warnings")).status_code == 200, "reads need no CSRF token"
        assert (await web.post("/api/admin/logout")).status_code == 403


async def test_bearer_requests_need_no_csrf_token(client: Client, tokens: Tokens) -> None:
    made = await make_organiser(client, "editor")
    session_id = await any_session_id(client)
    plain = await client.patch(
        f"/api/admin/sessions/{session_id}", json={"subtitle": "By token"}, headers=tokens.header("editor")
    )
    assert plain.status_code == 200
    async with browser(client) as web:
        await signed_in(web, made)
        with_cookie_too = await web.patch(
            f"/api/admin/sessions/{session_id}", json={"subtitle": "Token wins"}, headers=tokens.header("editor")
        )
        assert with_cookie_too.status_code == 200
    fresh = await make_organiser(client, "editor", "Fresh")
    assert (
        await client.get("/api/admin/warnings", headers={"Authorization": f"Bearer {fresh.token}"})
    ).status_code == (200), "a token works before the one-time password is replaced"


# -- rate limits -------------------------------------------------------------------------------


async def test_sign_in_attempts_are_limited_per_address(client: Client) -> None:
    stop_the_clock(client)
    made = await make_organiser(client, "editor")
    async with browser(client, address="198.51.100.7") as web:
        for attempt in range(10):
            assert (await sign_in(web, f"Guess {attempt}", "wrong password")).status_code == 401
        limited = await sign_in(web, made.name, made.one_time_password)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many sign-in attempts from this address" in limited.json()["detail"]
    async with browser(client, address="198.51.100.8") as elsewhere:
        assert (await sign_in(elsewhere, made.name, made.one_time_password)).status_code == 200


async def test_sign_in_attempts_are_limited_per_name(client: Client) -> None:
    stop_the_clock(client)
    made = await make_organiser(client, "editor")
    for attempt in range(10):
        async with browser(client, address=f"203.0.113.{attempt}") as web:
            assert (await sign_in(web, made.name, "wrong password")).status_code == 401
    async with browser(client, address="203.0.113.99") as web:
        limited = await sign_in(web, made.name, made.one_time_password)
        assert limited.status_code == 429
        assert "Retry-After" in limited.headers
        assert "too many sign-in attempts for this name" in limited.json()["detail"]
        assert (await sign_in(web, "Someone else", "wrong password")).status_code == 401


class Clock:
    """The limiter's clock, moved by the test: nothing refills unless the test says time passed."""

    def __init__(self, client: Client) -> None:
        self.now = time.monotonic()
        limiter: RateLimiter = client.app.state.limiter
        limiter.clock = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def test_a_stranger_guessing_from_rotating_addresses_cannot_keep_the_organiser_out(client: Client) -> None:
    """Four wrong guesses every six seconds from ever new addresses, for over a minute: the name's budget for new
    browsers is spent, yet the organiser signs in from their browser anywhere, and from their usual network."""
    clock = Clock(client)
    made = await make_organiser(client, "editor")
    async with browser(client, address="198.51.100.20") as laptop:
        await signed_in(laptop, made)
        assert laptop.cookies.get("kumpul_device")
        refused = 0
        for second in range(0, 78, 6):
            for guess in range(4):
                async with browser(client, address=f"203.0.113.{second + guess}") as guesser:
                    answer = await sign_in(guesser, made.name, f"guess {second} {guess}")
                    assert answer.status_code in (401, 429)
                    refused += answer.status_code == 429
            # The organiser, from their own browser on another network, at any moment of the attack.
            laptop.cookies.delete("kumpul_console")
            transport = httpx.ASGITransport(app=client.app, client=(f"192.0.2.{second}", 123))  # type: ignore[arg-type]
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver.local", cookies=laptop.cookies
            ) as travelling:
                assert (await sign_in(travelling, made.name, NEW_PASSWORD)).status_code == 200, second
            clock.advance(6)
        assert refused > 0, "the guesser did run out of budget"
    # A new browser on the organiser's usual network gets in too.
    async with browser(client, address="198.51.100.20") as new_browser:
        assert (await sign_in(new_browser, made.name, NEW_PASSWORD)).status_code == 200


async def test_guessing_one_name_from_many_addresses_stays_under_one_a_second(client: Client) -> None:
    clock = Clock(client)
    made = await make_organiser(client, "editor")
    checked = 0
    for second in range(60):
        for guess in range(5):  # five addresses, each guessing once a second
            async with browser(client, address=f"203.0.{second}.{guess}") as guesser:
                answer = await sign_in(guesser, made.name, f"guess {second} {guess}")
                if answer.status_code == 429:
                    assert int(answer.headers["Retry-After"]) >= 1
                    assert "too many sign-in attempts for this name" in answer.json()["detail"]
                else:
                    assert answer.status_code == 401
                    checked += 1
        clock.advance(1)
    assert checked <= 10 + 20, "a burst of ten, then twenty a minute"
    assert checked < 60, "slower than one a second"


async def test_one_organisers_browser_does_not_spare_another_name_from_the_limit(client: Client) -> None:
    Clock(client)
    dewi = await make_organiser(client, "editor", "Dewi")
    budi = await make_organiser(client, "editor", "Budi")
    async with browser(client, address="198.51.100.30") as laptop:
        await signed_in(laptop, dewi)
        statuses = []
        for attempt in range(12):
            async with browser(client, address=f"203.0.113.{attempt}") as elsewhere:
                # Dewi's device cookie, guessing Budi's password from other addresses.
                elsewhere.cookies.set("kumpul_device", laptop.cookies["kumpul_device"], path="/api/admin/login")
                statuses.append((await sign_in(elsewhere, budi.name, f"guess {attempt}")).status_code)
    assert statuses == [401] * 10 + [429] * 2


async def test_the_device_cookie_is_httponly_and_sent_only_to_sign_in(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as web:
        response = await sign_in(web, made.name, made.one_time_password)
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("kumpul_device=")]
    attributes = {part.strip().partition("=")[0].lower(): part.strip().partition("=")[2] for part in header.split(";")}
    assert attributes["path"] == "/api/admin/login"
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert int(attributes["max-age"]) == 30 * 24 * 3600


# -- sessions end ------------------------------------------------------------------------------


async def test_password_change_ends_other_sessions(client: Client) -> None:
    made = await make_organiser(client, "editor")
    async with browser(client) as laptop, browser(client) as phone:
        csrf = await signed_in(laptop, made)
        assert (await sign_in(phone, made.name, NEW_PASSWORD)).status_code == 200
        assert (await phone.get("/api/admin/me")).status_code == 200
        changed = await laptop.post(
            "/api/admin/password", json={"currentPassword": NEW_PASSWORD, "newPassword": ANOTHER_PASSWORD}, headers=csrf
        )
        assert changed.status_code == 204
        assert (await phone.get("/api/admin/me")).status_code == 401
        assert (await laptop.get("/api/admin/me")).status_code == 200


async def test_deleted_organiser_cookie_and_token_stop_working(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    async with browser(client) as admin_web, browser(client) as editor_web:
        admin_csrf = await signed_in(admin_web, admin)
        await signed_in(editor_web, editor)
        bearer = {"Authorization": f"Bearer {editor.token}"}
        assert (await client.get("/api/admin/warnings", headers=bearer)).status_code == 200
        deleted = await admin_web.delete(f"/api/admin/organisers/{editor.id}", headers=admin_csrf)
        assert deleted.status_code == 204
        assert (await editor_web.get("/api/admin/me")).status_code == 401
        assert (await editor_web.get("/api/admin/warnings")).status_code == 401
        assert (await client.get("/api/admin/warnings", headers=bearer)).status_code == 401
        assert (await sign_in(editor_web, editor.name, NEW_PASSWORD)).status_code == 401


# -- organisers --------------------------------------------------------------------------------


async def test_admin_manages_organisers(client: Client) -> None:
    admin = await make_organiser(client, "admin", "Ayu")
    async with browser(client) as web:
        csrf = await signed_in(web, admin)
        created = await web.post("/api/admin/organisers", json={"name": "Budi", "role": "announcer"}, headers=csrf)
        assert created.status_code == 201
        body = created.json()
        assert body["organiser"]["name"] == "Budi"
        assert body["organiser"]["role"] == "announcer"
        assert body["token"].startswith("kpo_")
        assert len(body["oneTimePassword"]) == 19
        listed = (await web.get("/api/admin/organisers")).json()
        assert [(o["name"], o["role"], o["hasPassword"]) for o in listed] == [
            ("Ayu", "admin", True),
            ("Budi", "announcer", True),
        ]
        assert all(
            set(o) == {"id", "name", "role", "createdAt", "hasPassword", "tokenIssuedAt", "tokenLastUsedAt"}
            for o in listed
        )
        assert (
            await client.get("/api/admin/history", headers={"Authorization": f"Bearer {body['token']}"})
        ).status_code == 200

        taken = await web.post("/api/admin/organisers", json={"name": "Budi", "role": "editor"}, headers=csrf)
        assert taken.status_code == 409
        bad = await web.post("/api/admin/organisers", json={"name": "Citra", "role": "owner"}, headers=csrf)
        assert bad.status_code == 400
        assert "role" in bad.text

        reset = await web.post(
            f"/api/admin/organisers/{body['organiser']['id']}/password-reset",
            json={"revokeToken": False},
            headers=csrf,
        )
        assert reset.status_code == 200
        assert reset.json()["tokenRevoked"] is False
        fresh = reset.json()["oneTimePassword"]
        assert fresh != body["oneTimePassword"]
        async with browser(client) as budi:
            assert (await sign_in(budi, "Budi", body["oneTimePassword"])).status_code == 401
            again = await sign_in(budi, "Budi", fresh)
            assert again.status_code == 200
            assert again.json()["mustChangePassword"] is True

        yourself = await web.delete(f"/api/admin/organisers/{admin.id}", headers=csrf)
        assert yourself.status_code == 409
        assert "yourself" in yourself.json()["detail"]
        missing = await web.delete("/api/admin/organisers/999999", headers=csrf)
        assert missing.status_code == 404
        assert (await web.delete(f"/api/admin/organisers/{body['organiser']['id']}", headers=csrf)).status_code == 204
        assert [o["name"] for o in (await web.get("/api/admin/organisers")).json()] == ["Ayu"]

        history = (await web.get("/api/admin/history")).json()
        organiser_changes = [(h["actor"], h["action"], h["summary"]) for h in history if h["kind"] == "organiser"]
        assert organiser_changes[:3] == [
            ("Ayu", "deleted", "Budi (announcer)"),
            ("Ayu", "password-reset", "Budi"),
            ("Ayu", "created", "Budi (announcer)"),
        ]


async def test_password_reset_ends_the_organisers_sessions(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    async with browser(client) as admin_web, browser(client) as editor_web:
        admin_csrf = await signed_in(admin_web, admin)
        await signed_in(editor_web, editor)
        reset = await admin_web.post(f"/api/admin/organisers/{editor.id}/password-reset", headers=admin_csrf)
        assert reset.status_code == 200
        assert (await editor_web.get("/api/admin/me")).status_code == 401


async def test_the_last_admin_stays(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    console: ConsoleService = client.app.state.console
    with pytest.raises(Conflict, match="last admin"):
        await console.delete_organiser(admin.id, by=Organiser(editor.id, editor.name, Role.EDITOR))


async def test_organiser_without_a_password_sets_one_with_their_token(client: Client, tokens: Tokens) -> None:
    response = await client.post(
        "/api/admin/password",
        json={"currentPassword": "", "newPassword": NEW_PASSWORD},
        headers=tokens.header("announcer"),
    )
    assert response.status_code == 204
    assert (await sign_in(client, "announcer organiser", NEW_PASSWORD)).status_code == 200


# -- history -----------------------------------------------------------------------------------


async def test_history_names_who_changed_what_and_when(client: Client) -> None:
    editor = await make_organiser(client, "editor", "Wayan")
    announcer = await make_organiser(client, "announcer", "Putu")
    session_id = await any_session_id(client)
    async with browser(client) as web:
        csrf = await signed_in(web, editor)
        edited = await web.patch(f"/api/admin/sessions/{session_id}", json={"title": "Renamed plenary"}, headers=csrf)
        assert edited.status_code == 200
        latest = (await web.get("/api/admin/history", params={"limit": 1})).json()
    [entry] = latest
    assert entry["actor"] == "Wayan"
    assert entry["action"] == "updated"
    assert entry["kind"] == "session"
    assert entry["entityId"] == session_id
    assert "Renamed plenary" in entry["summary"]
    assert entry["at"].endswith("Z")

    bearer = {"Authorization": f"Bearer {announcer.token}"}
    posted = await client.post("/api/admin/announcements", json={"title": "Lunch", "body": "At noon"}, headers=bearer)
    announcement_id = posted.json()["id"]
    await client.patch(f"/api/admin/announcements/{announcement_id}", json={"body": "At one"}, headers=bearer)
    await client.delete(f"/api/admin/announcements/{announcement_id}", headers=bearer)
    history = (await client.get("/api/admin/history", params={"limit": 3}, headers=bearer)).json()
    assert [(h["actor"], h["action"], h["kind"], h["entityId"]) for h in history] == [
        ("Putu", "retracted", "announcement", announcement_id),
        ("Putu", "corrected", "announcement", announcement_id),
        ("Putu", "announced", "announcement", announcement_id),
    ]
    assert history[2]["summary"] == "Lunch"
    assert history[0]["id"] > history[1]["id"] > history[2]["id"]
    older = (
        await client.get("/api/admin/history", params={"limit": 2, "before": history[1]["id"]}, headers=bearer)
    ).json()
    assert [h["id"] for h in older] == [history[2]["id"], entry["id"]]


async def test_history_rejects_a_bad_limit(client: Client, tokens: Tokens) -> None:
    response = await client.get("/api/admin/history", params={"limit": 0}, headers=tokens.header("announcer"))
    assert response.status_code == 400
    assert "limit" in response.text


# -- warnings ----------------------------------------------------------------------------------


async def _post(client: Client, tokens: Tokens, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=tokens.header("editor"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_warnings_for_room_and_speaker_clashes(client: Client, tokens: Tokens) -> None:
    fmt = (await client.get("/api/formats")).json()[0]["id"]
    hall = (await _post(client, tokens, "/api/admin/rooms", {"name": "Clash Hall"}))["id"]
    annex = (await _post(client, tokens, "/api/admin/rooms", {"name": "Annex"}))["id"]
    speaker = (await _post(client, tokens, "/api/admin/speakers", {"name": "Sari Lestari"}))["id"]

    async def session(title: str, room: str, start: str, end: str, **extra: Any) -> str:
        body = {"title": title, "roomId": room, "format": fmt, "start": start, "end": end, **extra}
        created: str = (await _post(client, tokens, "/api/admin/sessions", body))["id"]
        return created

    day = "2024-07-25T"
    first = await session("Data ethics", hall, f"{day}09:00:00+08:00", f"{day}10:00:00+08:00", speakerIds=[speaker])
    clash = await session("Survivor voices", hall, f"{day}09:30:00+08:00", f"{day}10:30:00+08:00")
    touching = await session("After", hall, f"{day}10:30:00+08:00", f"{day}11:00:00+08:00")
    elsewhere = await session("Policy lab", annex, f"{day}09:45:00+08:00", f"{day}10:15:00+08:00", speakerIds=[speaker])
    cancelled = await session(
        "Cancelled talk", hall, f"{day}09:00:00+08:00", f"{day}11:00:00+08:00", status="cancelled", speakerIds=[speaker]
    )
    ours = {first, clash, touching, elsewhere, cancelled}

    response = await client.get("/api/admin/warnings", headers=tokens.header("editor"))
    assert response.status_code == 200
    mine = [w for w in response.json() if set(w["sessionIds"]) & ours]
    assert mine == [
        {
            "kind": "room-double-booked",
            "sessionIds": [first, clash],
            "roomId": hall,
            "message": mine[0]["message"],
        },
        {
            "kind": "speaker-double-booked",
            "sessionIds": [first, elsewhere],
            "speakerId": speaker,
            "message": mine[1]["message"],
        },
    ]
    assert "Clash Hall" in mine[0]["message"]
    assert "Data ethics" in mine[0]["message"]
    assert "Survivor voices" in mine[0]["message"]
    assert "09:00-10:00" in mine[0]["message"], "times in the event's time zone"
    assert "Sari Lestari" in mine[1]["message"]

    await client.patch(f"/api/admin/sessions/{clash}", json={"status": "cancelled"}, headers=tokens.header("editor"))
    after = (await client.get("/api/admin/warnings", headers=tokens.header("editor"))).json()
    assert [w["kind"] for w in after if set(w["sessionIds"]) & ours] == ["speaker-double-booked"]


# -- API tokens --------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def listed(client: Client, admin_token: str, organiser_id: int) -> dict[str, Any]:
    organisers = (await client.get("/api/admin/organisers", headers=bearer(admin_token))).json()
    found: dict[str, Any] = next(o for o in organisers if o["id"] == organiser_id)
    return found


async def test_a_password_reset_revokes_the_organisers_token(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    assert (await client.get("/api/admin/warnings", headers=bearer(editor.token))).status_code == 200
    reset = await client.post(f"/api/admin/organisers/{editor.id}/password-reset", headers=bearer(admin.token))
    assert reset.status_code == 200
    assert reset.json()["tokenRevoked"] is True
    refused = await client.get("/api/admin/warnings", headers=bearer(editor.token))
    assert refused.status_code == 401
    assert "replaced or revoked" in refused.json()["detail"]
    assert (await listed(client, admin.token, editor.id))["tokenIssuedAt"] is None
    history = (await client.get("/api/admin/history", headers=bearer(admin.token))).json()
    assert [h["action"] for h in history if h["kind"] == "organiser"][:2] == ["token-revoked", "password-reset"]


async def test_an_admin_issues_a_new_token_and_the_old_one_stops(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    issued = await client.post(f"/api/admin/organisers/{editor.id}/token", headers=bearer(admin.token))
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["organiser"] == {"id": editor.id, "name": editor.name, "role": "editor"}
    assert body["token"].startswith("kpo_")
    assert body["token"] != editor.token
    assert (await client.get("/api/admin/warnings", headers=bearer(editor.token))).status_code == 401
    assert (await client.get("/api/admin/warnings", headers=bearer(body["token"]))).status_code == 200
    assert (await listed(client, admin.token, editor.id))["tokenIssuedAt"] is not None


async def test_an_organiser_reissues_their_own_token_but_nobody_elses(client: Client) -> None:
    editor = await make_organiser(client, "editor")
    announcer = await make_organiser(client, "announcer")
    own = await client.post(f"/api/admin/organisers/{editor.id}/token", headers=bearer(editor.token))
    assert own.status_code == 200
    fresh = own.json()["token"]
    assert (await client.get("/api/admin/warnings", headers=bearer(editor.token))).status_code == 401
    other = await client.post(f"/api/admin/organisers/{announcer.id}/token", headers=bearer(fresh))
    assert other.status_code == 403
    assert "admin, or the organiser themselves" in other.json()["detail"]
    assert (await client.get("/api/admin/history", headers=bearer(announcer.token))).status_code == 200, "unchanged"
    missing = await client.post("/api/admin/organisers/999999/token", headers=bearer(fresh))
    assert missing.status_code == 403, "no hint whether another organiser exists"


async def test_a_console_session_reissues_its_token_after_a_reset(client: Client) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    reset = await client.post(f"/api/admin/organisers/{editor.id}/password-reset", headers=bearer(admin.token))
    async with browser(client) as web:
        csrf = await signed_in(web, Made(editor.id, editor.name, editor.token, reset.json()["oneTimePassword"]))
        issued = await web.post(f"/api/admin/organisers/{editor.id}/token", headers=csrf)
        assert issued.status_code == 200
    assert (await client.get("/api/admin/warnings", headers=bearer(issued.json()["token"]))).status_code == 200


async def test_the_console_sees_when_a_token_was_last_used_written_once_a_minute(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_organiser(client, "admin")
    editor = await make_organiser(client, "editor")
    assert (await listed(client, admin.token, editor.id))["tokenLastUsedAt"] is None
    writes: list[int] = []
    mark = organisers_store.mark_token_used

    async def counted(conn: Any, organiser_id: int, *args: Any) -> None:
        writes.append(organiser_id)
        await mark(conn, organiser_id, *args)

    monkeypatch.setattr(organisers_store, "mark_token_used", counted)
    burst = await asyncio.gather(*(client.get("/api/admin/warnings", headers=bearer(editor.token)) for _ in range(20)))
    assert {response.status_code for response in burst} == {200}
    for _ in range(5):
        assert (await client.get("/api/admin/warnings", headers=bearer(editor.token))).status_code == 200
    used = (await listed(client, admin.token, editor.id))["tokenLastUsedAt"]
    assert used is not None
    assert writes.count(editor.id) == 1, "twenty-five uses within a minute: one write"
