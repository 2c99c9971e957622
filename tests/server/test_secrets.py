"""Secrets: stored only as hashes, never compared with ``==``, and never written to a log.

Secrets are the organisers' API tokens and passwords (one-time and chosen), console session cookies, attendee
device tokens, link codes and calendar feed keys; what attendees keep private is their note text and their push
subscription (endpoint and keys), which the server must store as they are but never log.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc, Map

from server.services.auth import hash_token
from server.settings import Settings
from server.storage.db import Database
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.push_service import PushService
from tests.server.routes.test_console import browser, sign_in
from tests.sync_devices import b64
from tests.tables import table_names

ROOT = Path(__file__).resolve().parents[2]
NOTE_TEXT = "Met Ibu Sari at the north gate; her testimony stays off the record 7731"
CHOSEN_PASSWORD = "lantern ring harbour 42"
WRONG_PASSWORD = "lantern ring harbour 24"
MADE_UP_TOKEN = "kpo_thisTokenWasMadeUpByAnAttackerAndIsNotValid"


@dataclass
class Secrets:
    """What a representative flow handed out or received, by kind."""

    hashed: dict[str, str] = field(default_factory=dict)  # stored only as a hash
    private: dict[str, str] = field(default_factory=dict)  # stored as they are, never logged

    def every(self) -> dict[str, str]:
        return {**self.hashed, **self.private}


def note_update(text: str) -> dict[str, object]:
    """Private words in the profile (notes themselves are encrypted on the device and never reach the server)."""
    doc: Doc[Map[str]] = Doc()
    doc["preferences"] = Map({"memo": text})
    return {
        "cursor": None,
        "docs": [{"id": "profile", "stateVector": b64(Doc().get_state()), "update": b64(doc.get_update())}],
    }


async def attendee_flow(client: AppClient, found: Secrets) -> dict[str, str]:
    """An attendee on a phone: a token, a note, a laptop linked by code, a calendar feed. The phone's auth header."""
    phone = (await client.post("/api/attendees")).json()["token"]
    found.hashed["attendee token"] = phone
    auth = {"Authorization": f"Bearer {phone}"}
    synced = await client.post("/api/me/sync", json=note_update(NOTE_TEXT), headers=auth)
    assert synced.status_code == 200, synced.text
    found.private["note text"] = NOTE_TEXT
    code = (await client.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
    found.hashed["link code"], found.hashed["link code as typed"] = code, code.replace("-", "")
    linked = await client.post("/api/attendees/link", json={"code": code})
    found.hashed["linked device token"] = linked.json()["token"]
    feed = (await client.post("/api/attendees/me/calendar", headers=auth)).json()["url"]
    found.hashed["calendar key"] = feed.rsplit("/", 1)[1].removesuffix(".ics")
    assert (await client.get(feed.split("testserver.local", 1)[1])).status_code == 200
    return auth


async def organiser_flow(client: AppClient, tokens: Tokens, found: Secrets) -> dict[str, str]:
    """An admin makes an announcer, who signs in to the console and chooses a password. The announcer's token."""
    found.hashed["admin token"] = tokens.admin
    made = await client.post(
        "/api/admin/organisers", json={"name": "Dewi", "role": "announcer"}, headers=tokens.header("admin")
    )
    assert made.status_code == 201, made.text
    found.hashed["organiser token"] = made.json()["token"]
    found.hashed["one-time password"] = made.json()["oneTimePassword"]
    async with browser(client) as web:
        assert (await sign_in(web, "Dewi", WRONG_PASSWORD)).status_code == 401
        found.hashed["wrong password"] = WRONG_PASSWORD
        signed = await sign_in(web, "Dewi", found.hashed["one-time password"])
        found.hashed["console cookie"] = signed.cookies["kumpul_console"]
        csrf = {"X-CSRF-Token": signed.json()["csrfToken"]}
        found.private["csrf token"] = csrf["X-CSRF-Token"]
        body = {"currentPassword": found.hashed["one-time password"], "newPassword": CHOSEN_PASSWORD}
        assert (await web.post("/api/admin/password", json=body, headers=csrf)).status_code == 204
        found.hashed["chosen password"] = CHOSEN_PASSWORD
    refused = await client.get("/api/admin/history", headers={"Authorization": f"Bearer {MADE_UP_TOKEN}"})
    assert refused.status_code == 401
    found.hashed["made-up token"] = MADE_UP_TOKEN
    return {"Authorization": f"Bearer {found.hashed['organiser token']}"}


# -- stored only as hashes ---------------------------------------------------------------------------------------


async def stored_values(db: Database) -> list[tuple[str, object]]:
    """``("table.column", value)`` for every value of every column of every table."""
    values: list[tuple[str, object]] = []
    async with db.read() as conn:
        for table in await table_names(conn):
            for row in await conn.execute_fetchall(f'SELECT * FROM "{table}"'):  # noqa: S608 -- names from the schema
                columns = [f"{table}.{column}" for column in list(row.keys())]
                values.extend(zip(columns, row, strict=True))
    return values


def contains(value: object, secret: str) -> bool:
    if isinstance(value, str):
        return secret in value
    if isinstance(value, bytes):
        return secret.encode() in value
    return False


async def test_secrets_are_stored_only_as_hashes(client: AppClient, tokens: Tokens, settings: Settings) -> None:
    found = Secrets()
    await attendee_flow(client, found)
    await organiser_flow(client, tokens, found)
    values = await stored_values(client.app.state.db)
    db = settings.db_path
    # The SQLite database, its journal, and the files kept beside it (the encoded programme's directory among them);
    # on PostgreSQL only these local files are here, and the values above are all the database holds.
    kept = [path for found_path in db.parent.glob(f"{db.name}*") for path in (found_path, *found_path.rglob("*"))]
    raw = b"".join(path.read_bytes() for path in kept if path.is_file())
    for name, secret in found.hashed.items():
        assert not [where for where, value in values if contains(value, secret)], f"the {name} is stored"
        assert secret.encode() not in raw, f"the {name} is in the database files"
    for name in ("attendee token", "linked device token", "admin token", "organiser token", "calendar key"):
        digest = hash_token(found.hashed[name])
        assert [where for where, value in values if value == digest], f"the {name} is looked up by its hash"
    assert [where for where, value in values if value == hash_token(found.hashed["link code as typed"])]
    hashes = [value for where, value in values if where == "organisers.password_hash" and value]
    assert hashes
    assert all(isinstance(value, str) and value.startswith("$argon2id$") for value in hashes)


def test_secrets_are_never_compared_with_equals() -> None:
    """A plain ``==`` on a secret can leak it a byte at a time; lookups go by hash, checks by compare_digest."""
    secret = re.compile(r"(token|csrf|password|secret|cookie|p256dh|calendar_key|link_code)s?$", re.IGNORECASE)
    plain = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            names = {
                sub.id if isinstance(sub, ast.Name) else sub.attr
                for side in (node.left, *node.comparators)
                for sub in ast.walk(side)
                if isinstance(sub, ast.Name | ast.Attribute)
            }
            if any(secret.search(name) for name in names):
                plain.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert plain == []


# -- never logged ------------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        db_path=tmp_path / "kumpul.db", database_url=database_url, change_poll_seconds=0.05, allow_insecure_push=True
    )


def leaks(lines: list[str], found: Secrets) -> list[str]:
    return [f"{name} in: {line[:300]}" for line in lines for name, secret in found.every().items() if secret in line]


async def test_no_secret_reaches_any_log_line(
    client: AppClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    found = Secrets()
    async with PushService(vapid_public_key=client.app.state.vapid_keys.application_server_key) as service:
        auth = await attendee_flow(client, found)
        device = service.subscribe()
        found.private |= {"push endpoint": device.endpoint, "p256dh": device.p256dh, "push auth": device.auth}
        body = {**device.as_json(), "alertSessions": []}
        assert (await client.post("/api/push/subscriptions", json=body, headers=auth)).status_code == 201
        bad_endpoint = {**body, "endpoint": device.endpoint.replace("127.0.0.1", "10.0.0.8")}
        assert (await client.post("/api/push/subscriptions", json=bad_endpoint, headers=auth)).status_code == 400
        announcer = await organiser_flow(client, tokens, found)
        posted = await client.post(
            "/api/admin/announcements", json={"title": "Tea", "body": "Foyer"}, headers=announcer
        )
        assert posted.status_code == 201
        async with asyncio.timeout(30):  # a guard against a hang, not a measurement
            while service.delivered < 1:  # noqa: ASYNC110 -- the push service runs in a thread of its own
                await asyncio.sleep(0.02)
        forget = {"endpoint": device.endpoint, "auth": device.auth}
        assert (await client.request("DELETE", "/api/push/subscriptions", json=forget)).status_code == 204
        assert (await client.delete("/api/attendees/me", headers=auth)).status_code == 204
    # The test's own HTTP client logs each URL it requests (calendar feed keys are in URLs); the server uses none.
    lines = [
        record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    ]
    assert any("published announcement" in line for line in lines), "the server's own lines are captured"
    assert not leaks(lines, found), "\n".join(leaks(lines, found))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: The served app (server.serving's factory) under uvicorn, logging at DEBUG with access lines.
RUN_LOUDLY = """
import logging, sys, uvicorn
from server.serving import app_from_env

def loud():
    app = app_from_env()
    logging.getLogger().setLevel(logging.DEBUG)  # after the app set up its logging, at INFO
    return app

uvicorn.run(loud, factory=True, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, log_level="debug",
            access_log=True)
"""


def test_no_secret_on_the_real_servers_stderr(tmp_path: Path, database_url: str | None) -> None:
    """The same flow against the real server in its own process, logging everything, access lines too.

    A calendar feed's key is part of its URL, which an access log records (so Kumpul serves with access logs
    off): this flow leaves the calendar out.
    """
    db = tmp_path / "kumpul.db"
    env = {**os.environ, "KUMPUL_DB": str(db), "KUMPUL_ALLOW_INSECURE_PUSH": "1", "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["KUMPUL_DATABASE_URL"] = database_url
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "organiser", "add", "Admin", "--role", "admin", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    admin = {"Authorization": f"Bearer {made.stdout.strip()}"}
    found = Secrets(hashed={"admin token": made.stdout.strip()})
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as stderr, PushService(vapid_public_key=None) as service:
        process = subprocess.Popen(
            [sys.executable, "-c", RUN_LOUDLY, str(port)], stdout=stderr, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as web:
                deadline = time.monotonic() + 30
                while True:  # until it listens
                    try:
                        web.get("/healthz")
                        break
                    except httpx.TransportError:
                        assert process.poll() is None, log.read_text()
                        assert time.monotonic() < deadline, "the server listens within 30 s"
                        time.sleep(0.1)
                phone = web.post("/api/attendees").json()["token"]
                found.hashed["attendee token"] = phone
                auth = {"Authorization": f"Bearer {phone}"}
                assert web.post("/api/me/sync", json=note_update(NOTE_TEXT), headers=auth).status_code == 200
                found.private["note text"] = NOTE_TEXT
                device = service.subscribe()
                found.private |= {"push endpoint": device.endpoint, "p256dh": device.p256dh, "push auth": device.auth}
                body = {**device.as_json(), "alertSessions": []}
                assert web.post("/api/push/subscriptions", json=body, headers=auth).status_code == 201
                made_organiser = web.post(
                    "/api/admin/organisers", json={"name": "Dewi", "role": "announcer"}, headers=admin
                )
                found.hashed["organiser token"] = made_organiser.json()["token"]
                one_time = made_organiser.json()["oneTimePassword"]
                found.hashed["one-time password"] = one_time
                assert (
                    web.post("/api/admin/login", json={"name": "Dewi", "password": WRONG_PASSWORD}).status_code == 401
                )
                found.hashed["wrong password"] = WRONG_PASSWORD
                signed = web.post("/api/admin/login", json={"name": "Dewi", "password": one_time})
                found.hashed["console cookie"] = signed.cookies["kumpul_console"]
                found.private["csrf token"] = signed.json()["csrfToken"]
                csrf = {"X-CSRF-Token": signed.json()["csrfToken"]}
                change = {"currentPassword": one_time, "newPassword": CHOSEN_PASSWORD}
                assert web.post("/api/admin/password", json=change, headers=csrf).status_code == 204
                found.hashed["chosen password"] = CHOSEN_PASSWORD
                posted = web.post("/api/admin/announcements", json={"title": "Tea", "body": "Foyer"}, headers=csrf)
                assert posted.status_code == 201, posted.text
                while service.delivered < 1:
                    assert time.monotonic() < deadline + 30, "the announcement reached the push service"
                    time.sleep(0.05)
        finally:
            process.terminate()
            process.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert any("POST /api/me/sync" in line for line in lines), "access lines are logged"
    assert not leaks(lines, found), "\n".join(leaks(lines, found))


async def test_an_error_on_a_secret_address_logs_the_route_not_the_address(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    from litestar import get
    from litestar.params import FromPath

    @get("/api/test-feed/{key:str}", sync_to_thread=False)
    def fail(key: FromPath[str]) -> None:
        raise RuntimeError("a failure inside the route")

    client.app.register(fail)
    secret = "k7Qd9vZl2xSecretFeedKey"
    with caplog.at_level(logging.DEBUG):
        response = await client.get(f"/api/test-feed/{secret}")
    assert response.status_code == 500
    # The server's own records (the test's HTTP client logs the URL it requested).
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("httpx"))
    assert "unhandled error on GET /api/test-feed/{key}" in logged
    assert secret not in logged
