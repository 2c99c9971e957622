"""Who may call what: every route of the app, for every kind of caller, answers as the table below says.

Callers: anonymous, an attendee (bearer token), and organisers of each role (bearer token; the console cookie is
checked for every organiser route too). A caller who may call a route gets through (2xx, or the route's own
answer); one who may not gets 401 with ``WWW-Authenticate`` when the credential is missing or of the wrong kind,
and 403 when an organiser's role lacks the permission. The routes come from the app, so a route added without an
entry here fails :func:`test_every_route_has_an_expected_access`. CSRF for console writes and one-time passwords
are covered in tests/server/routes/test_console.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from server.routes.deps import CONSOLE_COOKIE
from server.services.auth import AuthService, Role
from server.services.console import ConsoleService
from server.settings import Settings
from tests.asgi import AppClient, http_scope
from tests.conftest import Tokens
from tests.push_service import BrowserSubscription
from tests.server.routes.test_console import NEW_PASSWORD, browser, make_organiser, signed_in

ROLES = ("announcer", "editor", "admin", "volunteer")
CALLERS = ("anonymous", "attendee", *ROLES)


@dataclass(frozen=True)
class Access:
    """Which callers get through, and what a refused caller lacks (so whether a refusal is 401 or 403)."""

    callers: frozenset[str]
    needs: str  # "nothing", "attendee token", "organiser" (a role with the permission) or "console sign-in"


PUBLIC = Access(frozenset(CALLERS), "nothing")
ATTENDEE = Access(frozenset({"attendee"}), "attendee token")
#: Anyone, but a token sent along must be an attendee's (push subscriptions follow the attendee's bookmarks).
DEVICE = Access(frozenset({"anonymous", "attendee"}), "attendee token")
ORGANISER = Access(frozenset(ROLES), "organiser")
EDITOR = Access(frozenset({"editor", "admin"}), "organiser")
ANNOUNCER = Access(frozenset({"announcer", "admin"}), "organiser")
ADMIN = Access(frozenset({"admin"}), "organiser")
#: Door staff (and admins): a room's status, nothing else.
ROOM_STATUS = Access(frozenset({"volunteer", "admin"}), "organiser")
#: Every organiser but door staff.
STAFF = Access(frozenset({"announcer", "editor", "admin"}), "organiser")
#: Only a console sign-in (a bearer token has no console session to describe).
CONSOLE = Access(frozenset(), "console sign-in")

EXPECTED: dict[tuple[str, str], Access] = {
    # the programme, read by anyone
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/event"): PUBLIC,
    ("GET", "/api/programme"): PUBLIC,
    ("GET", "/api/programme/at/{cursor:str}"): PUBLIC,
    ("GET", "/api/programme/at/{cursor:str}/day/{day:str}"): PUBLIC,
    ("GET", "/api/programme/at/{cursor:str}/today"): PUBLIC,
    ("GET", "/api/changes"): PUBLIC,
    ("GET", "/api/sessions"): PUBLIC,
    ("GET", "/api/sessions/{session_id:str}"): PUBLIC,
    ("GET", "/api/speakers"): PUBLIC,
    ("GET", "/api/speakers/{speaker_id:str}"): PUBLIC,
    ("GET", "/api/rooms"): PUBLIC,
    ("GET", "/api/rooms/{room_id:str}"): PUBLIC,
    ("GET", "/api/info-pages"): PUBLIC,
    ("GET", "/api/venue"): PUBLIC,
    ("GET", "/api/floor-plans/{plan_id:str}/image"): PUBLIC,
    ("GET", "/api/tracks"): PUBLIC,
    ("GET", "/api/tracks/{track_id:str}"): PUBLIC,
    ("GET", "/api/formats"): PUBLIC,
    ("GET", "/api/formats/{format_id:str}"): PUBLIC,
    ("GET", "/api/schedule.ics"): PUBLIC,
    ("GET", "/api/schedule.json"): PUBLIC,
    ("GET", "/api/schedule.xml"): PUBLIC,
    ("GET", "/api/changes.atom"): PUBLIC,
    ("GET", "/api/releases"): PUBLIC,
    ("GET", "/api/live"): PUBLIC,
    ("GET", "/api/push/key"): PUBLIC,
    ("GET", "/api/room-status"): PUBLIC,
    # room status, set by door staff
    ("PUT", "/api/admin/room-status/{room_id:str}"): ROOM_STATUS,
    # the programme, written by editors
    ("PUT", "/api/admin/event"): EDITOR,
    ("POST", "/api/admin/sessions"): EDITOR,
    ("PATCH", "/api/admin/sessions/{session_id:str}"): EDITOR,
    ("DELETE", "/api/admin/sessions/{session_id:str}"): EDITOR,
    ("POST", "/api/admin/speakers"): EDITOR,
    ("PATCH", "/api/admin/speakers/{speaker_id:str}"): EDITOR,
    ("DELETE", "/api/admin/speakers/{speaker_id:str}"): EDITOR,
    ("POST", "/api/admin/speakers/{speaker_id:str}/reveal"): ADMIN,
    ("POST", "/api/admin/sessions/{session_id:str}/recording"): ADMIN,
    ("POST", "/api/admin/rooms"): EDITOR,
    ("PATCH", "/api/admin/rooms/{room_id:str}"): EDITOR,
    ("DELETE", "/api/admin/rooms/{room_id:str}"): EDITOR,
    ("POST", "/api/admin/info-pages"): EDITOR,
    ("PATCH", "/api/admin/info-pages/{page_id:str}"): EDITOR,
    ("DELETE", "/api/admin/info-pages/{page_id:str}"): EDITOR,
    ("POST", "/api/admin/floor-plans"): EDITOR,
    ("PATCH", "/api/admin/floor-plans/{plan_id:str}"): EDITOR,
    ("DELETE", "/api/admin/floor-plans/{plan_id:str}"): EDITOR,
    ("PUT", "/api/admin/floor-plans/{plan_id:str}/pins/{room_id:str}"): EDITOR,
    ("DELETE", "/api/admin/pins/{room_id:str}"): EDITOR,
    ("POST", "/api/admin/tracks"): EDITOR,
    ("PATCH", "/api/admin/tracks/{track_id:str}"): EDITOR,
    ("DELETE", "/api/admin/tracks/{track_id:str}"): EDITOR,
    ("POST", "/api/admin/formats"): EDITOR,
    ("PATCH", "/api/admin/formats/{format_id:str}"): EDITOR,
    ("DELETE", "/api/admin/formats/{format_id:str}"): EDITOR,
    ("POST", "/api/admin/import"): EDITOR,
    ("POST", "/api/admin/releases"): EDITOR,
    ("GET", "/api/admin/source"): EDITOR,
    ("PUT", "/api/admin/source"): EDITOR,
    ("DELETE", "/api/admin/source"): EDITOR,
    ("POST", "/api/admin/source/pull"): EDITOR,
    ("GET", "/api/admin/warnings"): EDITOR,
    ("GET", "/api/admin/translations"): EDITOR,
    # session feedback, read by editors (never who gave it)
    ("GET", "/api/admin/feedback"): EDITOR,
    ("GET", "/api/admin/feedback/{session_id:str}"): EDITOR,
    ("GET", "/api/admin/feedback.csv"): EDITOR,
    # announcements, by announcers
    ("GET", "/api/admin/announcements"): ANNOUNCER,
    ("POST", "/api/admin/announcements"): ANNOUNCER,
    ("GET", "/api/admin/announcements/{announcement_id:str}"): ANNOUNCER,
    ("PATCH", "/api/admin/announcements/{announcement_id:str}"): ANNOUNCER,
    ("DELETE", "/api/admin/announcements/{announcement_id:str}"): ANNOUNCER,
    ("GET", "/api/admin/announcements/{announcement_id:str}/delivery"): ANNOUNCER,
    # the console and organiser accounts
    ("POST", "/api/admin/login"): PUBLIC,
    ("GET", "/api/admin/me"): CONSOLE,
    ("POST", "/api/admin/logout"): ORGANISER,
    ("POST", "/api/admin/password"): ORGANISER,
    ("GET", "/api/admin/history"): STAFF,
    ("GET", "/api/admin/organisers"): ADMIN,
    ("POST", "/api/admin/organisers"): ADMIN,
    ("DELETE", "/api/admin/organisers/{organiser_id:int}"): ADMIN,
    ("POST", "/api/admin/organisers/{organiser_id:int}/password-reset"): ADMIN,
    # another organiser's token (their own: tests/server/routes/test_console.py)
    ("POST", "/api/admin/organisers/{organiser_id:int}/token"): ADMIN,
    # attendees: anyone may become one; the rest needs the attendee's token
    ("POST", "/api/attendees"): PUBLIC,
    ("POST", "/api/attendees/link"): PUBLIC,
    ("POST", "/api/attendees/link/preview"): PUBLIC,
    ("GET", "/api/attendees/me"): ATTENDEE,
    ("GET", "/api/attendees/me/devices"): ATTENDEE,
    ("PATCH", "/api/attendees/me/device"): ATTENDEE,
    ("POST", "/api/attendees/me/devices/{device_id:str}/revoke"): ATTENDEE,
    ("POST", "/api/attendees/me/keys"): ATTENDEE,
    ("PATCH", "/api/attendees/me"): ATTENDEE,
    ("DELETE", "/api/attendees/me"): ATTENDEE,
    ("POST", "/api/attendees/me/link-code"): ATTENDEE,
    ("POST", "/api/attendees/me/calendar"): ATTENDEE,
    ("DELETE", "/api/attendees/me/calendar"): ATTENDEE,
    ("PUT", "/api/attendees/me/calendar/language"): ATTENDEE,
    ("POST", "/api/me/sync"): ATTENDEE,
    ("GET", "/api/me/feedback"): ATTENDEE,
    ("PUT", "/api/me/feedback/{session_id:str}"): ATTENDEE,
    ("DELETE", "/api/me/feedback/{session_id:str}"): ATTENDEE,
    # secret addresses: the calendar key, the push endpoint
    ("GET", "/api/calendar/{filename:str}"): PUBLIC,
    ("POST", "/api/push/subscriptions"): DEVICE,
    ("DELETE", "/api/push/subscriptions"): DEVICE,
    # the PWA and the API's documentation
    ("GET", "/"): PUBLIC,
    ("GET", "/{path:path}"): PUBLIC,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/schema/openapi.yaml"): PUBLIC,
    ("GET", "/schema/openapi.yml"): PUBLIC,
    ("GET", "/schema/swagger"): PUBLIC,
    ("GET", "/schema/redoc"): PUBLIC,
    ("GET", "/schema/rapidoc"): PUBLIC,
    ("GET", "/schema/elements"): PUBLIC,
    ("GET", "/schema/oauth2-redirect.html"): PUBLIC,
    ("GET", "/schema/{path:str}"): PUBLIC,
}


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """``(method, path)`` of every handler; the OPTIONS answers Litestar adds for CORS preflights are left out."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.handler_name != "options_handler":
                    found.update((method, route.path) for method in handler.http_methods)
    return found


# -- requests that succeed with enough rights ---------------------------------------------------------------------

_unique = count()


@dataclass
class Scene:
    """The demo programme, an admin's token for setting things up, and ids to use."""

    client: AppClient
    admin: dict[str, str]
    ids: dict[str, str]

    async def make(self, path: str, body: dict[str, Any]) -> str:
        response = await self.client.post(path, json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        made: str = response.json()["id"]
        return made

    async def session(self) -> str:
        n = next(_unique)
        body = {
            "title": f"Spare {n}",
            "start": "2024-07-24T09:00:00+08:00",
            "end": "2024-07-24T10:00:00+08:00",
            "roomId": self.ids["room"],
            "format": self.ids["format"],
        }
        return await self.make("/api/admin/sessions", body)

    async def announcement(self) -> str:
        return await self.make("/api/admin/announcements", {"title": f"Tea {next(_unique)}", "body": "In the foyer"})

    async def attendee(self) -> dict[str, str]:
        token: str = (await self.client.post("/api/attendees")).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    async def calendar_path(self) -> str:
        made = await self.client.post("/api/attendees/me/calendar", headers=await self.attendee())
        url: str = made.json()["url"]
        return "/api/calendar/" + url.rsplit("/", 1)[1]

    async def link_code(self) -> str:
        code: str = (await self.client.post("/api/attendees/me/link-code", headers=await self.attendee())).json()[
            "code"
        ]
        return code

    async def organiser(self, password: bool = False) -> tuple[int, str, str]:
        """A new editor: id, name and one-time password (argon2 runs only when a password is wanted)."""
        name = f"Made {next(_unique)}"
        if password:
            console: ConsoleService = self.client.app.state.console
            ref, _, one_time = await console.create_organiser(name, Role.EDITOR, actor="test")
            return ref.id, name, one_time
        auth: AuthService = self.client.app.state.auth
        organiser, _ = await auth.add_organiser(name, Role.EDITOR)
        return organiser.id, name, ""


Send = Callable[[Scene, httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


def get(path: str) -> Send:
    async def send(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
        return await web.get(path.format(**scene.ids), headers=auth)

    return send


def write(method: str, path: str, body: dict[str, Any] | None = None) -> Send:
    async def send(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
        return await web.request(method, path.format(**scene.ids), json=body, headers=auth)

    return send


async def calendar_language(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Change the language of a calendar feed, made first when the caller may make one."""
    await web.post("/api/attendees/me/calendar", headers=auth)
    return await web.put("/api/attendees/me/calendar/language", json={"lang": "id"}, headers=auth)


def created(
    method: str, path: str, make: Callable[[Scene], Awaitable[str]], body: dict[str, Any] | None = None
) -> Send:
    """A request to something made for it alone, as deleting or retracting uses it up."""

    async def send(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
        return await web.request(method, path.format(id=await make(scene)), json=body, headers=auth)

    return send


def fresh(kind: str, body: dict[str, Any]) -> Callable[[Scene], Awaitable[str]]:
    async def make(scene: Scene) -> str:
        return await scene.make(f"/api/admin/{kind}", {**body, "name": f"Spare {next(_unique)}"})

    return make


async def changes(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    cursor = (await scene.client.get("/api/programme")).json()["cursor"]
    return await web.get("/api/changes", params={"since": cursor}, headers=auth)


async def programme_at(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    cursor = (await scene.client.get("/api/programme")).json()["cursor"]
    return await web.get(f"/api/programme/at/{cursor}", headers=auth)


async def programme_day(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    programme = (await scene.client.get("/api/programme")).json()
    day = programme["sessions"][0]["start"][:10]  # written in the event's zone
    return await web.get(f"/api/programme/at/{programme['cursor']}/day/{day}", headers=auth)


async def put_event(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    event = (await scene.client.get("/api/event")).json()
    return await web.put("/api/admin/event", json=event, headers=auth)


async def import_file(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    document = (await scene.client.get("/api/programme")).content
    return await web.post("/api/admin/import", params={"dryRun": "true"}, content=document, headers=auth)


async def link(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.post("/api/attendees/link", json={"code": await scene.link_code()}, headers=auth)


async def preview_link(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.post("/api/attendees/link/preview", json={"code": await scene.link_code()}, headers=auth)


async def next_key(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Register the attendee's next notebook key id (the caller's own attendee, whoever it is)."""
    me = await web.get("/api/attendees/me", headers=auth)
    current = me.json()["keyId"] if me.status_code == 200 else 0
    body = {"keyId": current + 1, "previous": current, "wrapped": []}
    return await web.post("/api/attendees/me/keys", json=body, headers=auth)


async def revoke_device(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Revoke a device linked to the caller just now (a made-up one for a caller without an attendee)."""
    target, rotation = "dev_not_linked", None
    me = await web.get("/api/attendees/me", headers=auth)
    if me.status_code == 200:
        code = (await web.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
        target = (await web.post("/api/attendees/link", json={"code": code})).json()["deviceId"]
        current = me.json()["keyId"]
        rotation = {"keyId": current + 1, "previous": current, "wrapped": []} if current else None
    return await web.post(f"/api/attendees/me/devices/{target}/revoke", json={"rotation": rotation}, headers=auth)


async def withdraw_feedback(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Take back feedback the caller gave just now (nothing to give for a caller who is not an attendee)."""
    path = f"/api/me/feedback/{scene.ids['session']}"
    await web.put(path, json={"rating": 4}, headers=auth)
    return await web.delete(path, headers=auth)


async def calendar_feed(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.get(await scene.calendar_path(), headers=auth)


def push_body() -> dict[str, Any]:
    return {**BrowserSubscription(f"http://127.0.0.1:9/push/{next(_unique)}").as_json(), "alertSessions": []}


async def subscribe(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.post("/api/push/subscriptions", json=push_body(), headers=auth)


async def unsubscribe(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    body = push_body()
    assert (await scene.client.post("/api/push/subscriptions", json=body)).status_code == 201
    # The subscription's own browser: its endpoint and auth secret (tests/server/routes/test_push_subscriptions.py
    # covers who else may).
    forget = {"endpoint": body["endpoint"], "auth": body["keys"]["auth"]}
    return await web.request("DELETE", "/api/push/subscriptions", json=forget, headers=auth)


async def live(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """The status of the live stream, read from the start of its response (the stream itself never ends)."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future[int] = loop.create_future()

    async def receive() -> dict[str, Any]:
        await started
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message["status"])

    scope = http_scope("GET", "/api/live", auth)
    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        await asyncio.gather(scene.client.app(scope, receive, send), started)  # type: ignore[arg-type]
    return httpx.Response(started.result())


async def login(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    _, name, password = await scene.organiser(password=True)
    return await web.post("/api/admin/login", json={"name": name, "password": password}, headers=auth)


async def password(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """Organisers made with a token alone choose a password with it; a console session knows its current one."""
    current = NEW_PASSWORD if web.cookies.get(CONSOLE_COOKIE) else ""
    body = {"currentPassword": current, "newPassword": f"lantern ring {next(_unique)}"}
    return await web.post("/api/admin/password", json=body, headers=auth)


async def delete_organiser(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    organiser_id, _, _ = await scene.organiser()
    return await web.delete(f"/api/admin/organisers/{organiser_id}", headers=auth)


async def reset_password(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    organiser_id, _, _ = await scene.organiser()
    return await web.post(f"/api/admin/organisers/{organiser_id}/password-reset", headers=auth)


async def issue_token(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    organiser_id, _, _ = await scene.organiser()
    return await web.post(f"/api/admin/organisers/{organiser_id}/token", headers=auth)


#: A one-pixel PNG, as a floor plan.
PLAN_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63f8ffff3f0005fe02fe0def46b80000000049454e44ae426082"
)


async def info_page(scene: Scene) -> str:
    n = next(_unique)
    return await scene.make("/api/admin/info-pages", {"slug": f"page-{n}", "title": f"Page {n}"})


async def floor_plan(scene: Scene) -> str:
    response = await scene.client.post(
        "/api/admin/floor-plans", params={"floor": "Checked floor"}, content=PLAN_PNG, headers=scene.admin
    )
    assert response.status_code == 201, response.text
    made: str = response.json()["id"]
    return made


async def plan_image(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.get(f"/api/floor-plans/{await floor_plan(scene)}/image", params={"v": 1}, headers=auth)


async def upload_plan(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await web.post("/api/admin/floor-plans", params={"floor": "Checked floor"}, content=PLAN_PNG, headers=auth)


async def pin_room(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    plan = await floor_plan(scene)
    return await web.put(
        f"/api/admin/floor-plans/{plan}/pins/{scene.ids['room']}", json={"x": 0.5, "y": 0.5}, headers=auth
    )


async def unpin_room(scene: Scene, web: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    plan = await floor_plan(scene)
    pinned = await scene.client.put(
        f"/api/admin/floor-plans/{plan}/pins/{scene.ids['room']}", json={"x": 0.5, "y": 0.5}, headers=scene.admin
    )
    assert pinned.status_code == 200, pinned.text
    return await web.delete(f"/api/admin/pins/{scene.ids['room']}", headers=auth)


REQUESTS: dict[tuple[str, str], Send] = {
    ("GET", "/api/info-pages"): get("/api/info-pages"),
    ("GET", "/api/venue"): get("/api/venue"),
    ("GET", "/api/floor-plans/{plan_id:str}/image"): plan_image,
    ("POST", "/api/admin/info-pages"): lambda scene, web, auth: web.post(
        "/api/admin/info-pages", json={"slug": f"added-{next(_unique)}", "title": "Added"}, headers=auth
    ),
    ("PATCH", "/api/admin/info-pages/{page_id:str}"): created(
        "PATCH", "/api/admin/info-pages/{id}", info_page, {"body": "Checked"}
    ),
    ("DELETE", "/api/admin/info-pages/{page_id:str}"): created("DELETE", "/api/admin/info-pages/{id}", info_page),
    ("POST", "/api/admin/floor-plans"): upload_plan,
    ("PATCH", "/api/admin/floor-plans/{plan_id:str}"): created(
        "PATCH", "/api/admin/floor-plans/{id}", floor_plan, {"position": 3}
    ),
    ("DELETE", "/api/admin/floor-plans/{plan_id:str}"): created("DELETE", "/api/admin/floor-plans/{id}", floor_plan),
    ("PUT", "/api/admin/floor-plans/{plan_id:str}/pins/{room_id:str}"): pin_room,
    ("DELETE", "/api/admin/pins/{room_id:str}"): unpin_room,
    ("GET", "/healthz"): get("/healthz"),
    ("GET", "/api/event"): get("/api/event"),
    ("GET", "/api/programme"): get("/api/programme"),
    ("GET", "/api/programme/at/{cursor:str}"): programme_at,
    ("GET", "/api/programme/at/{cursor:str}/day/{day:str}"): programme_day,
    ("GET", "/api/programme/at/{cursor:str}/today"): get("/api/programme/at/current/today"),
    ("GET", "/api/changes"): changes,
    ("GET", "/api/sessions"): get("/api/sessions"),
    ("GET", "/api/sessions/{session_id:str}"): get("/api/sessions/{session}"),
    ("GET", "/api/speakers"): get("/api/speakers"),
    ("GET", "/api/speakers/{speaker_id:str}"): get("/api/speakers/{speaker}"),
    ("GET", "/api/rooms"): get("/api/rooms"),
    ("GET", "/api/rooms/{room_id:str}"): get("/api/rooms/{room}"),
    ("GET", "/api/tracks"): get("/api/tracks"),
    ("GET", "/api/tracks/{track_id:str}"): get("/api/tracks/{track}"),
    ("GET", "/api/formats"): get("/api/formats"),
    ("GET", "/api/formats/{format_id:str}"): get("/api/formats/{format}"),
    ("GET", "/api/schedule.ics"): get("/api/schedule.ics"),
    ("GET", "/api/schedule.json"): get("/api/schedule.json"),
    ("GET", "/api/schedule.xml"): get("/api/schedule.xml"),
    ("GET", "/api/changes.atom"): get("/api/changes.atom"),
    ("GET", "/api/releases"): get("/api/releases"),
    ("GET", "/api/live"): live,
    ("GET", "/api/push/key"): get("/api/push/key"),
    ("GET", "/api/room-status"): get("/api/room-status"),
    ("PUT", "/api/admin/room-status/{room_id:str}"): write(
        "PUT", "/api/admin/room-status/{room}", {"state": "filling", "message": "Seats at the back"}
    ),
    ("PUT", "/api/admin/event"): put_event,
    ("POST", "/api/admin/sessions"): lambda scene, web, auth: web.post(
        "/api/admin/sessions",
        json={
            "title": "Added",
            "start": "2024-07-24T11:00:00+08:00",
            "end": "2024-07-24T12:00:00+08:00",
            "roomId": scene.ids["room"],
            "format": scene.ids["format"],
        },
        headers=auth,
    ),
    ("PATCH", "/api/admin/sessions/{session_id:str}"): write(
        "PATCH", "/api/admin/sessions/{session}", {"subtitle": "Checked"}
    ),
    ("DELETE", "/api/admin/sessions/{session_id:str}"): created("DELETE", "/api/admin/sessions/{id}", Scene.session),
    ("POST", "/api/admin/speakers"): write("POST", "/api/admin/speakers", {"name": "Added"}),
    ("PATCH", "/api/admin/speakers/{speaker_id:str}"): write(
        "PATCH", "/api/admin/speakers/{speaker}", {"pronouns": "she/her"}
    ),
    ("DELETE", "/api/admin/speakers/{speaker_id:str}"): created(
        "DELETE", "/api/admin/speakers/{id}", fresh("speakers", {})
    ),
    ("POST", "/api/admin/speakers/{speaker_id:str}/reveal"): created(
        "POST", "/api/admin/speakers/{id}/reveal", fresh("speakers", {"anonymous": True})
    ),
    ("POST", "/api/admin/sessions/{session_id:str}/recording"): write(
        "POST", "/api/admin/sessions/{session}/recording", {"recording": "public"}
    ),
    ("POST", "/api/admin/rooms"): write("POST", "/api/admin/rooms", {"name": "Added"}),
    ("PATCH", "/api/admin/rooms/{room_id:str}"): write("PATCH", "/api/admin/rooms/{room}", {"floor": "2"}),
    ("DELETE", "/api/admin/rooms/{room_id:str}"): created("DELETE", "/api/admin/rooms/{id}", fresh("rooms", {})),
    ("POST", "/api/admin/tracks"): write("POST", "/api/admin/tracks", {"name": "Added"}),
    ("PATCH", "/api/admin/tracks/{track_id:str}"): write(
        "PATCH", "/api/admin/tracks/{track}", {"description": "Checked"}
    ),
    ("DELETE", "/api/admin/tracks/{track_id:str}"): created("DELETE", "/api/admin/tracks/{id}", fresh("tracks", {})),
    ("POST", "/api/admin/formats"): write("POST", "/api/admin/formats", {"name": "Added"}),
    ("PATCH", "/api/admin/formats/{format_id:str}"): write("PATCH", "/api/admin/formats/{format}", {"position": 7}),
    ("DELETE", "/api/admin/formats/{format_id:str}"): created(
        "DELETE", "/api/admin/formats/{id}", fresh("formats", {})
    ),
    ("POST", "/api/admin/import"): import_file,
    ("POST", "/api/admin/releases"): write("POST", "/api/admin/releases", {}),
    ("GET", "/api/admin/source"): get("/api/admin/source"),
    ("PUT", "/api/admin/source"): write("PUT", "/api/admin/source", {"url": "https://10.0.0.1/schedule.xml"}),
    ("DELETE", "/api/admin/source"): write("DELETE", "/api/admin/source"),
    ("POST", "/api/admin/source/pull"): write("POST", "/api/admin/source/pull"),
    ("GET", "/api/admin/warnings"): get("/api/admin/warnings"),
    ("GET", "/api/admin/translations"): get("/api/admin/translations"),
    ("GET", "/api/admin/feedback"): get("/api/admin/feedback"),
    ("GET", "/api/admin/feedback/{session_id:str}"): get("/api/admin/feedback/{session}"),
    ("GET", "/api/admin/feedback.csv"): get("/api/admin/feedback.csv"),
    ("GET", "/api/admin/announcements"): get("/api/admin/announcements"),
    ("POST", "/api/admin/announcements"): write("POST", "/api/admin/announcements", {"title": "Tea", "body": "Foyer"}),
    ("GET", "/api/admin/announcements/{announcement_id:str}"): created(
        "GET", "/api/admin/announcements/{id}", Scene.announcement
    ),
    ("PATCH", "/api/admin/announcements/{announcement_id:str}"): created(
        "PATCH", "/api/admin/announcements/{id}", Scene.announcement, {"body": "In the garden"}
    ),
    ("DELETE", "/api/admin/announcements/{announcement_id:str}"): created(
        "DELETE", "/api/admin/announcements/{id}", Scene.announcement
    ),
    ("GET", "/api/admin/announcements/{announcement_id:str}/delivery"): created(
        "GET", "/api/admin/announcements/{id}/delivery", Scene.announcement
    ),
    ("POST", "/api/admin/login"): login,
    ("GET", "/api/admin/me"): get("/api/admin/me"),
    ("POST", "/api/admin/logout"): write("POST", "/api/admin/logout"),
    ("POST", "/api/admin/password"): password,
    ("GET", "/api/admin/history"): get("/api/admin/history"),
    ("GET", "/api/admin/organisers"): get("/api/admin/organisers"),
    ("POST", "/api/admin/organisers"): lambda scene, web, auth: web.post(
        "/api/admin/organisers", json={"name": f"Added {next(_unique)}", "role": "announcer"}, headers=auth
    ),
    ("DELETE", "/api/admin/organisers/{organiser_id:int}"): delete_organiser,
    ("POST", "/api/admin/organisers/{organiser_id:int}/password-reset"): reset_password,
    ("POST", "/api/admin/organisers/{organiser_id:int}/token"): issue_token,
    ("POST", "/api/attendees"): write("POST", "/api/attendees"),
    ("POST", "/api/attendees/link"): link,
    ("POST", "/api/attendees/link/preview"): preview_link,
    ("GET", "/api/attendees/me"): get("/api/attendees/me"),
    ("GET", "/api/attendees/me/devices"): get("/api/attendees/me/devices"),
    ("PATCH", "/api/attendees/me/device"): write("PATCH", "/api/attendees/me/device", {"name": "Phone"}),
    ("POST", "/api/attendees/me/devices/{device_id:str}/revoke"): revoke_device,
    ("POST", "/api/attendees/me/keys"): next_key,
    ("PATCH", "/api/attendees/me"): write("PATCH", "/api/attendees/me", {"participation": "onsite"}),
    ("DELETE", "/api/attendees/me"): write("DELETE", "/api/attendees/me"),
    ("POST", "/api/attendees/me/link-code"): write("POST", "/api/attendees/me/link-code"),
    ("POST", "/api/attendees/me/calendar"): write("POST", "/api/attendees/me/calendar"),
    ("DELETE", "/api/attendees/me/calendar"): write("DELETE", "/api/attendees/me/calendar"),
    ("PUT", "/api/attendees/me/calendar/language"): calendar_language,
    ("POST", "/api/me/sync"): write("POST", "/api/me/sync", {"cursor": None, "docs": []}),
    ("GET", "/api/me/feedback"): get("/api/me/feedback"),
    ("PUT", "/api/me/feedback/{session_id:str}"): write(
        "PUT", "/api/me/feedback/{session}", {"rating": 5, "comment": "Clear and kind"}
    ),
    ("DELETE", "/api/me/feedback/{session_id:str}"): withdraw_feedback,
    ("GET", "/api/calendar/{filename:str}"): calendar_feed,
    ("POST", "/api/push/subscriptions"): subscribe,
    ("DELETE", "/api/push/subscriptions"): unsubscribe,
    ("GET", "/"): get("/"),
    ("GET", "/{path:path}"): get("/sessions/{session}"),
    ("GET", "/schema"): get("/schema"),
    ("GET", "/schema/openapi.json"): get("/schema/openapi.json"),
    ("GET", "/schema/openapi.yaml"): get("/schema/openapi.yaml"),
    ("GET", "/schema/openapi.yml"): get("/schema/openapi.yml"),
    ("GET", "/schema/swagger"): get("/schema/swagger"),
    ("GET", "/schema/redoc"): get("/schema/redoc"),
    ("GET", "/schema/rapidoc"): get("/schema/rapidoc"),
    ("GET", "/schema/elements"): get("/schema/elements"),
    ("GET", "/schema/oauth2-redirect.html"): get("/schema/oauth2-redirect.html"),
    ("GET", "/schema/{path:str}"): get("/schema/no-such-page"),
}
#: Routes whose successful answer is not a 2xx.
OWN_ANSWER = {
    ("GET", "/schema/{path:str}"): 404,
    # The source of record: no source is configured in the matrix's scene, and none on a private address may be.
    ("PUT", "/api/admin/source"): 400,
    ("DELETE", "/api/admin/source"): 404,
    ("POST", "/api/admin/source/pull"): 404,
    # The demo's dates are not today.
    ("GET", "/api/programme/at/{cursor:str}/today"): 404,
}


# -- the checks -----------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Push endpoints on loopback are allowed (no DNS), and a stand-in PWA build is served."""
    pwa = tmp_path / "pwa"
    pwa.mkdir()
    for page in ("index.html", "admin.html"):
        (pwa / page).write_text("<!doctype html><title>Kumpul</title>")
    return Settings(
        db_path=tmp_path / "kumpul.db",
        database_url=database_url,
        change_poll_seconds=0.05,
        allow_insecure_push=True,
        pwa_dir=pwa,
    )


@pytest.fixture
async def scene(client: AppClient, tokens: Tokens) -> Scene:
    programme = (await client.get("/api/programme")).json()
    kinds = {"session": "sessions", "speaker": "speakers", "room": "rooms", "track": "tracks", "format": "formats"}
    ids = {kind: programme[plural][0]["id"] for kind, plural in kinds.items()}
    return Scene(client, tokens.header("admin"), ids)


def expected_status(access: Access, caller: str, *, via_console: bool = False) -> int | None:
    """The status ``caller`` must get, or None for "gets through"."""
    if caller in access.callers or (via_console and access is CONSOLE):
        return None
    if access.needs == "organiser" and caller in ROLES:
        return 403
    return 401


def check(key: tuple[str, str], caller: str, response: httpx.Response, *, via_console: bool = False) -> str | None:
    """What is wrong with ``response``, or None."""
    refusal = expected_status(EXPECTED[key], caller, via_console=via_console)
    got = response.status_code
    where = f"{key[0]} {key[1]} as {caller}{' (console)' if via_console else ''}"
    if refusal is None:
        wanted = OWN_ANSWER.get(key)
        if (got != wanted) if wanted else not 200 <= got < 300:
            return f"{where}: expected to get through, got {got} {response.text[:200]}"
        return None
    if got != refusal:
        return f"{where}: expected {refusal}, got {got} {response.text[:200]}"
    if refusal == 401 and "bearer" not in response.headers.get("WWW-Authenticate", "").lower():
        return f"{where}: 401 without WWW-Authenticate: Bearer"
    return None


def test_every_route_has_an_expected_access(empty_client: AppClient) -> None:
    routes = app_routes(empty_client.app)
    missing = sorted(routes - EXPECTED.keys())
    assert not missing, "\n".join(f"route {method} {path} has no expected access" for method, path in missing)
    assert not sorted(EXPECTED.keys() - routes), "expected access for routes the app no longer has"
    assert REQUESTS.keys() == EXPECTED.keys(), "every route has a request that would succeed"


async def test_bearer_tokens_and_anonymous(scene: Scene, tokens: Tokens) -> None:
    problems = []
    for key, send in REQUESTS.items():
        for caller in CALLERS:
            if caller == "anonymous":
                auth = {}
            elif caller == "attendee":
                auth = await scene.attendee()
            else:
                auth = tokens.header(caller)
            problem = check(key, caller, await send(scene, scene.client, auth))
            if problem:
                problems.append(problem)
            scene.client.cookies.clear()  # signing in leaves a cookie; each caller sends only its own credentials
    assert not problems, "\n".join(problems)


async def test_console_sign_ins(scene: Scene) -> None:
    """Every organiser route answers a console session (cookie and CSRF token) as it answers the role's token."""
    logout = ("POST", "/api/admin/logout")
    # Signing out ends the session, so it comes last.
    organiser_routes = [key for key, access in EXPECTED.items() if access.needs in ("organiser", "console sign-in")]
    organiser_routes = [key for key in organiser_routes if key != logout] + [logout]
    problems = []
    for role in ROLES:
        made = await make_organiser(scene.client, role)
        async with browser(scene.client) as web:
            csrf = await signed_in(web, made)
            for key in organiser_routes:
                problem = check(key, role, await REQUESTS[key](scene, web, dict(csrf)), via_console=True)
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems)
