"""Security headers on every response: each route of the app, the error answers, the pages and the live stream."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, Response, get
from litestar.routes import HTTPRoute

from server.app import MAX_BODY_BYTES, create_app
from server.headers import is_private
from server.settings import Settings
from tests.asgi import AppClient, app_client, http_scope
from tests.conftest import Tokens

Client = AppClient
Headers = httpx.Headers

#: The same value on every response, whatever it is.
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}
#: Powerful features a page of Kumpul must never be granted, nor anything it embeds.
REFUSED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics")
#: What runs as a page or a worker: the attendee app's shell, the console, the service worker and the app's scripts.
PAGES = {
    "index.html": "<!doctype html><title>Kumpul</title><div id=app></div>",
    "admin.html": "<!doctype html><title>Kumpul console</title><div id=console></div>",
    "sw.js": "self.addEventListener('fetch', () => {});",
    "assets/index-a1b2c3.js": "export const app = 1;",
}
#: Built files that only ever load into a page, never run as one.
RESOURCES = {
    "assets/index-a1b2c3.css": "body { margin: 0 }",
    "manifest.webmanifest": '{"name": "Kumpul"}',
    "icons/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
}


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """The app's settings, serving a small PWA build of pages and resources."""
    build = tmp_path / "dist"
    for name, text in {**PAGES, **RESOURCES}.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text(text)
    return Settings(db_path=tmp_path / "kumpul.db", database_url=database_url, change_poll_seconds=0.05, pwa_dir=build)


def policy(headers: Headers) -> dict[str, list[str]]:
    """The one Content-Security-Policy of a response, as its directives and their sources."""
    values = headers.get_list("content-security-policy")
    assert len(values) == 1, f"expected one Content-Security-Policy, got {values}"
    directives: dict[str, list[str]] = {}
    for directive in values[0].split(";"):
        name, *sources = directive.split()
        assert name not in directives, f"{name} appears twice in {values[0]}"
        directives[name] = sources
    return directives


def assert_secured(headers: Headers, *, page: bool = False, what: str = "") -> None:
    """The response carries each security header once; ``page``: a policy under which the PWA runs."""
    for name, value in FIXED.items():
        assert headers.get_list(name) == [value], f"{what}: {name}"
    features = dict(item.strip().split("=", 1) for item in headers["permissions-policy"].split(","))
    assert all(features[feature] == "()" for feature in REFUSED_FEATURES), f"{what}: {features}"
    directives = policy(headers)
    assert directives["frame-ancestors"] == ["'none'"], what
    assert directives["base-uri"] == ["'none'"], what
    assert directives["default-src"] == ["'none'"], what
    assert directives.get("object-src", ["'none'"]) == ["'none'"], what
    allowed = {source for sources in directives.values() for source in sources}
    # Nothing inline, nothing evaluated, no other origin or scheme: the server's own origin at most.
    assert allowed <= {"'self'", "'none'"}, f"{what}: {allowed}"
    if page:
        for kind in ("script-src", "style-src", "connect-src", "img-src", "manifest-src", "worker-src"):
            assert directives[kind] == ["'self'"], f"{what}: {kind}"
    else:
        assert allowed == {"'none'"}, f"{what}: a resource allows loading {allowed}"
    assert "strict-transport-security" not in headers, f"{what}: HSTS over plain http"


async def request_head(
    app: Litestar, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, Headers]:
    """The status and headers the app starts its response with, over plain http.

    The ASGI app is called directly, so that streams that never end (the live stream) are read up to their
    headers, then left, as a browser that closes the page leaves them.
    """
    scope = http_scope(method, path, headers)
    if body:
        scope["headers"] += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    started = asyncio.Event()
    start: dict[str, Any] = {}
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await started.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            started.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    assert started.is_set(), f"{method} {path} sent no response"
    return start["status"], Headers([(name.decode(), value.decode()) for name, value in start["headers"]])


async def path_values(client: Client, tokens: Tokens) -> tuple[dict[str, str], str]:
    """A plausible value for every path parameter of the app's routes, and an attendee's token."""
    programme = (await client.get("/api/programme")).json()
    created = (await client.post("/api/attendees")).json()
    attendee = created["token"]
    as_attendee = {"Authorization": f"Bearer {attendee}"}
    feed = await client.post("/api/attendees/me/calendar", headers=as_attendee)
    announcement = await client.post(
        "/api/admin/announcements", json={"title": "Doors open at 8"}, headers=tokens.header("announcer")
    )
    organisers = (await client.get("/api/admin/organisers", headers=tokens.header("admin"))).json()
    page = await client.post(
        "/api/admin/info-pages", json={"slug": "wifi", "title": "Wifi"}, headers=tokens.header("editor")
    )
    plan = await client.post(
        "/api/admin/floor-plans", params={"floor": "Ground floor"}, content=PLAN_PNG, headers=tokens.header("editor")
    )
    values = {
        "page_id": page.json()["id"],
        "plan_id": plan.json()["id"],
        "session_id": programme["sessions"][0]["id"],
        "speaker_id": programme["speakers"][0]["id"],
        "room_id": programme["rooms"][0]["id"],
        "track_id": programme["tracks"][0]["id"],
        "format_id": programme["formats"][0]["id"],
        "announcement_id": announcement.json()["id"],
        "organiser_id": str(next(o["id"] for o in organisers if o["role"] == "editor")),
        "filename": feed.json()["url"].rsplit("/", 1)[-1],
        "cursor": programme["cursor"],
        "day": programme["sessions"][0]["start"][:10],
        "device_id": created["deviceId"],
        # The PWA's deep link (``/{path:path}``) and an OpenAPI viewer (``/schema/{path:str}``).
        "path": "programme",
    }
    return values, attendee


#: A one-pixel PNG floor plan.
PLAN_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)


def fill(route: HTTPRoute, values: dict[str, str]) -> str:
    """The route's path with a plausible value for each parameter."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"add a plausible value for `{name}` so the walk reaches {route.path}"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)


def credentials(path: str, tokens: Tokens, attendee: str) -> dict[str, str]:
    """Who may call ``path``: an admin for the organisers' API, the attendee for their own resources."""
    if path.startswith("/api/admin"):
        return tokens.header("admin")
    if path.startswith(("/api/attendees/me", "/api/me/", "/api/push/subscriptions")):
        return {"Authorization": f"Bearer {attendee}"}
    return {}


# --- every route ----------------------------------------------------------------------------------------------


async def test_every_route_and_method_answers_with_the_security_headers(client: Client, tokens: Tokens) -> None:
    values, attendee = await path_values(client, tokens)
    routes = [route for route in client.app.routes if isinstance(route, HTTPRoute)]
    assert len(routes) == len(client.app.routes), "a route that is not HTTP: walk it too"
    # Reads first, then writes, deletions last: a deleted session must not turn the reads into 404s.
    order = {"GET": 0, "OPTIONS": 0, "PUT": 1, "POST": 1, "PATCH": 1, "DELETE": 2}
    calls = sorted(
        ((method, fill(route, values)) for route in routes for method in route.methods),
        key=lambda call: order[call[0]],
    )
    # The change feed answered from memory, outside the route handlers, when its query is plain.
    cursor = (await client.get("/api/programme")).json()["cursor"]
    calls.insert(0, ("GET", f"/api/changes?since={cursor}"))
    answered: dict[str, int] = {}
    for method, path in calls:
        body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
        status, headers = await request_head(client.app, method, path, credentials(path, tokens, attendee), body)
        assert status < 500, f"{method} {path} failed: {status}"
        page = headers.get("content-type", "").startswith(("text/html", "text/javascript"))
        assert_secured(headers, page=page, what=f"{method} {path} ({status})")
        if is_private(path.partition("?")[0]):
            assert headers.get_list("cache-control") == ["no-store"], f"{method} {path} ({status}) may be stored"
        else:
            assert "no-store" not in headers.get("cache-control", ""), f"{method} {path} is public"
        answered[f"{method} {path}"] = status
    # The walk reached the handlers, not only the router: reads of the programme and the stream answered 200.
    assert answered["GET /api/programme"] == 200
    assert answered[f"GET /api/changes?since={cursor}"] == 200
    assert answered["GET /api/live"] == 200
    assert answered[f"GET /api/calendar/{values['filename']}"] == 200
    assert answered["GET /healthz"] == 200


def taken_credentials(route: HTTPRoute) -> bool:
    """Whether a route checks credentials (a guard) or says it takes them (OpenAPI security)."""
    return any(handler.resolve_guards() or handler.resolve_security() for handler in route.route_handlers)


#: Private routes that take no credentials: they hand out a secret (a new attendee's token, a linked device's
#: token) or are reached through one (a calendar feed's secret address).
SECRET_WITHOUT_CREDENTIALS = {"/api/attendees", "/api/attendees/link", "/api/calendar/{filename:str}"}


def test_every_route_that_takes_credentials_or_hands_out_a_secret_is_private(client: Client) -> None:
    routes = [route for route in client.app.routes if isinstance(route, HTTPRoute)]
    private = {route.path for route in routes if taken_credentials(route)} | SECRET_WITHOUT_CREDENTIALS
    assert private - {route.path for route in routes} == set(), "a route named here is gone"
    assert sorted(path for path in private if not is_private(path)) == []
    assert {"/api/admin/me", "/api/me/sync", "/api/attendees/me", "/api/attendees/me/link-code"} <= private
    assert [path for path in ("/api/programme", "/api/push/key", "/admin", "/api/administer") if is_private(path)] == []


async def test_private_answers_replace_the_routes_own_cache_control(client: Client, tokens: Tokens) -> None:
    values, _ = await path_values(client, tokens)
    feed = await client.get(f"/api/calendar/{values['filename']}")
    assert feed.status_code == 200
    assert feed.headers.get_list("cache-control") == ["no-store"]
    assert (await client.get("/api/admin/me")).headers.get_list("cache-control") == ["no-store"], "a 401 too"


async def test_the_programme_revalidated_keeps_its_stored_policy(client: Client) -> None:
    first = await client.get("/api/programme")
    assert_secured(first.headers)
    again = await client.get("/api/programme", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    # A 304 updates the stored response's headers: it sends no policy, so the stored one stays.
    assert "content-security-policy" not in again.headers
    for name, value in FIXED.items():
        assert again.headers.get_list(name) == [value]


# --- pages and resources of the PWA ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/programme",
        "/sessions/d1-registration",
        "/admin",
        "/admin/sessions/d1-registration",
        "/admin.html",
        "/sw.js",
        "/assets/index-a1b2c3.js",
    ],
)
async def test_pages_and_scripts_get_a_policy_that_lets_the_app_run_from_its_own_origin_only(
    client: Client, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert_secured(response.headers, page=True, what=path)
    directives = policy(response.headers)
    assert directives["object-src"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


@pytest.mark.parametrize("path", ["/assets/index-a1b2c3.css", "/manifest.webmanifest", "/icons/icon.svg"])
async def test_files_that_only_load_into_a_page_allow_nothing_when_opened(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert_secured(response.headers, what=path)


async def test_the_console_page_is_never_stored_and_carries_one_policy(client: Client) -> None:
    response = await client.get("/admin")
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert_secured(response.headers, page=True, what="/admin")


async def test_the_openapi_document_is_served_but_its_viewers_cannot_load_from_cdns(client: Client) -> None:
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Kumpul"
    assert_secured(document.headers, what="/schema/openapi.json")
    # The HTML viewers pull their scripts from CDNs, which the pages' policy refuses: they stay blank.
    viewer = await client.get("/schema/redoc")
    assert_secured(viewer.headers, page=True, what="/schema/redoc")


# --- errors ---------------------------------------------------------------------------------------------------


async def test_error_answers_carry_the_security_headers(client: Client, tokens: Tokens) -> None:
    as_admin = tokens.header("admin")
    unknown = await client.get("/api/no-such-thing")
    missing_file = await client.get("/assets/missing-0000.js")
    wrong_method = await client.delete("/api/programme")
    unauthorised = await client.get("/api/admin/me")
    invalid = await client.post("/api/admin/sessions", json={"title": 5}, headers=as_admin)
    malformed = await client.post(
        "/api/admin/sessions", content=b"{", headers={**as_admin, "Content-Type": "application/json"}
    )
    oversized = await client.post(
        "/api/admin/sessions",
        content=b"{" + b" " * MAX_BODY_BYTES + b"}",
        headers={**as_admin, "Content-Type": "application/json"},
    )
    created = (await client.post("/api/attendees")).json()
    attendee = created["token"]
    codes = [
        await client.post("/api/attendees/me/link-code", headers={"Authorization": f"Bearer {attendee}"})
        for _ in range(10)
    ]
    answers = {
        404: unknown,
        405: wrong_method,
        401: unauthorised,
        400: invalid,
        413: oversized,
        429: codes[-1],
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert_secured(response.headers, what=f"{status} {response.request.url.path}")
    for response in (missing_file, malformed):
        assert response.status_code in (400, 404)
        assert_secured(response.headers, what=f"{response.status_code} {response.request.url.path}")


async def test_an_unexpected_failure_answers_500_with_the_security_headers(client: Client) -> None:
    @get("/api/test-failure", sync_to_thread=False)
    def fail() -> None:
        raise RuntimeError("a bug")

    client.app.register(fail)
    response = await client.get("/api/test-failure")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("Internal error")
    assert_secured(response.headers, what="500")


async def test_an_unbuilt_app_answers_503_with_the_security_headers(settings: Settings, tmp_path: Path) -> None:
    unbuilt = msgspec.structs.replace(settings, pwa_dir=tmp_path / "not-built")
    async with app_client(create_app(unbuilt)) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert_secured(response.headers, what="503")


async def test_a_header_a_route_sets_itself_is_kept_and_never_doubled(client: Client) -> None:
    own_policy = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'"

    @get("/api/test-own-policy", sync_to_thread=False)
    def own() -> Response[str]:
        return Response("text", headers={"Content-Security-Policy": own_policy, "Referrer-Policy": "no-referrer"})

    client.app.register(own)
    response = await client.get("/api/test-own-policy")
    assert response.headers.get_list("content-security-policy") == [own_policy]
    assert_secured(response.headers, what="a route's own policy")


# --- Strict-Transport-Security --------------------------------------------------------------------------------


@pytest.fixture
async def behind_a_proxy(settings: Settings) -> AsyncIterator[Client]:
    """A client of an app told to trust the reverse proxy in front of it."""
    async with app_client(create_app(msgspec.structs.replace(settings, trust_proxy=True))) as trusting:
        yield trusting


def hsts(response: httpx.Response) -> int | None:
    """The max-age that Strict-Transport-Security asks for, or None without it."""
    values = response.headers.get_list("strict-transport-security")
    if not values:
        return None
    assert len(values) == 1
    match = re.fullmatch(r"max-age=(\d+)", values[0])
    assert match, values[0]
    return int(match.group(1))


async def test_hsts_only_over_https(client: Client) -> None:
    assert hsts(await client.get("/api/programme")) is None
    assert hsts(await client.get("/")) is None
    transport = httpx.ASGITransport(app=client.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://kumpul.example") as secure:
        for path in ("/api/programme", "/", "/admin", "/api/no-such-thing"):
            response = await secure.get(path)
            max_age = hsts(response)
            assert max_age is not None, path
            assert max_age >= 365 * 24 * 3600, path


async def test_hsts_behind_a_trusted_proxy_that_says_https(behind_a_proxy: Client) -> None:
    said_https = await behind_a_proxy.get("/", headers={"X-Forwarded-Proto": "https"})
    assert hsts(said_https) is not None
    said_http = await behind_a_proxy.get("/", headers={"X-Forwarded-Proto": "http"})
    assert hsts(said_http) is None
    assert hsts(await behind_a_proxy.get("/")) is None


async def test_no_hsts_when_an_untrusted_client_claims_https(client: Client) -> None:
    response = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert hsts(response) is None
