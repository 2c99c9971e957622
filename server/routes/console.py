"""The organiser console's API: sign-in (cookie and CSRF token), organisers, the history and warnings."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, Parameter

from server.errors import Unauthorized
from server.routes.deps import CONSOLE_COOKIE, ConsoleDep, FeedDep, client_address, requires, trusts_proxy
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors, no_content
from server.routes.params import RowIdParam, row_id
from server.schemas.console import (
    ConsoleSessionInfo,
    HistoryEntry,
    OneTimePassword,
    OrganiserCreate,
    OrganiserCreated,
    OrganiserListItem,
    OrganiserRef,
    OrganiserToken,
    PasswordChange,
    PasswordReset,
    ScheduleWarning,
    SignIn,
)
from server.services.auth import Caller, Organiser, Permission, Role
from server.services.console import DEVICE_LIFETIME, SESSION_LIFETIME
from server.services.warnings import programme_warnings

#: The cookie reaches only the admin API, never the attendee API or the pages.
COOKIE_PATH = "/api/admin"
#: A browser that signed in before: sent only to sign-in, where it spares its owner strangers' limits.
DEVICE_COOKIE = "kumpul_device"
DEVICE_COOKIE_PATH = "/api/admin/login"
MAX_HISTORY_LIMIT = 200


def _is_https(request: Request) -> bool:  # type: ignore[type-arg]
    """Whether the browser reached us over https (as told by a trusted proxy, when there is one)."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "")
    return trusts_proxy(request) and forwarded.split(",")[0].strip().lower() == "https"


def _caller(request: Request) -> Caller:  # type: ignore[type-arg]
    return Caller(request.state.organiser, request.state.console)


def _info(organiser: Organiser, csrf_token: str, must_change_password: bool) -> ConsoleSessionInfo:
    return ConsoleSessionInfo(
        organiser=OrganiserRef(id=organiser.id, name=organiser.name, role=organiser.role.value),
        csrf_token=csrf_token,
        must_change_password=must_change_password,
    )


def _set_cookie(
    response: Response[object],
    request: Request,  # type: ignore[type-arg]
    value: str,
    max_age: int,
    *,
    name: str = CONSOLE_COOKIE,
    path: str = COOKIE_PATH,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=_is_https(request),
        samesite="strict",
    )


class ConsoleController(Controller):
    path = "/api/admin"
    tags = ["console"]

    @post(
        "/login",
        status_code=200,
        summary="Sign in to the console",
        description=(
            "Sets the HttpOnly cookie `kumpul_console` (12 hours). Requests with it that change something "
            "must send the returned `csrfToken` as `X-CSRF-Token`, and the HttpOnly cookie `kumpul_device` "
            "(30 days, sent only here) marks this browser as one that signed in before. A wrong name or password "
            "is one 401; too many attempts from one browser or address, or for one name from new browsers, get "
            "429 with Retry-After."
        ),
        responses=errors(400, 401, 413, 429),
    )
    async def login(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[SignIn],
        console: ConsoleDep,
    ) -> Response[ConsoleSessionInfo]:
        signed = await console.sign_in(
            data.name, data.password, client_address(request), request.cookies.get(DEVICE_COOKIE)
        )
        response = Response(_info(signed.organiser, signed.csrf_token, signed.must_change_password))
        _set_cookie(response, request, signed.cookie_token, int(SESSION_LIFETIME.total_seconds()))  # type: ignore[arg-type]
        _set_cookie(
            response,  # type: ignore[arg-type]
            request,
            signed.device_token,
            int(DEVICE_LIFETIME.total_seconds()),
            name=DEVICE_COOKIE,
            path=DEVICE_COOKIE_PATH,
        )
        return response

    @get(
        "/me",
        summary="Who is signed in to the console",
        guards=[requires(None, before_password_change=True)],
        security=[{"console": []}],
        responses=errors(401),
    )
    async def me(self, request: Request) -> ConsoleSessionInfo:  # type: ignore[type-arg]
        caller = _caller(request)
        if caller.console is None:
            raise Unauthorized("no console sign-in: sign in at /admin (a bearer token has no console session)")
        return _info(caller.organiser, caller.console.csrf_token, caller.console.must_change_password)

    @post(
        "/logout",
        status_code=204,
        summary="Sign out of the console",
        guards=[requires(None, before_password_change=True)],
        security=ORGANISER_SECURITY,
        responses={**no_content("Signed out: the cookie is cleared"), **errors(*ORGANISER)},
    )
    async def logout(self, request: Request, console: ConsoleDep) -> Response[None]:  # type: ignore[type-arg]
        await console.sign_out(_caller(request))
        response: Response[None] = Response(None, status_code=204)
        _set_cookie(response, request, "", 0)  # type: ignore[arg-type]
        return response

    @post(
        "/password",
        status_code=204,
        summary="Choose your own password",
        description="At least 10 characters. Your other console sessions end; this one stays signed in.",
        guards=[requires(None, before_password_change=True)],
        security=ORGANISER_SECURITY,
        responses=errors(*ORGANISER, 400, 413, 429),
    )
    async def change_password(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[PasswordChange],
        console: ConsoleDep,
    ) -> None:
        await console.change_password(_caller(request), data.current_password, data.new_password)


class OrganiserController(Controller):
    path = "/api/admin/organisers"
    tags = ["console"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.ORGANISERS)]

    @get("/", summary="Every organiser (admin)", responses=errors(*ORGANISER))
    async def list_organisers(self, console: ConsoleDep) -> list[OrganiserListItem]:
        return await console.list_organisers()

    @post(
        "/",
        summary="Create an organiser with an API token and a one-time password (admin)",
        responses=errors(*ORGANISER, 400, 409, 413),
    )
    async def create_organiser(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[OrganiserCreate],
        console: ConsoleDep,
    ) -> OrganiserCreated:
        actor: Organiser = request.state.organiser
        organiser, token, password = await console.create_organiser(data.name, Role(data.role), actor=actor.name)
        return OrganiserCreated(organiser=organiser, token=token, one_time_password=password)

    @delete(
        "/{organiser_id:int}",
        summary="Delete an organiser: their token and sign-ins stop working (admin)",
        responses=errors(*ORGANISER, 404, 409),
    )
    async def delete_organiser(
        self,
        request: Request,  # type: ignore[type-arg]
        organiser_id: FromPath[RowIdParam],
        console: ConsoleDep,
    ) -> None:
        await console.delete_organiser(organiser_id, by=request.state.organiser)

    @post(
        "/{organiser_id:int}/password-reset",
        status_code=200,
        summary="Give an organiser a new one-time password; their sign-ins end and their API token is revoked (admin)",
        description=(
            'Send `{"revokeToken": false}` to keep their API token working; without a body it is revoked, and '
            "they (once signed in) or an admin issue a new one with POST /api/admin/organisers/{id}/token."
        ),
        responses=errors(*ORGANISER, 400, 404, 413),
    )
    async def reset_password(
        self,
        request: Request,  # type: ignore[type-arg]
        organiser_id: FromPath[RowIdParam],
        console: ConsoleDep,
        data: JSONBody[PasswordReset | None] = None,
    ) -> OneTimePassword:
        actor: Organiser = request.state.organiser
        revoke = data.revoke_token if data is not None else True
        password = await console.reset_password(organiser_id, actor=actor.name, revoke_token=revoke)
        return OneTimePassword(one_time_password=password, token_revoked=revoke)


class OrganiserTokenController(Controller):
    path = "/api/admin/organisers/{organiser_id:int}/token"
    tags = ["console"]
    security = ORGANISER_SECURITY
    guards = [requires(None)]

    @post(
        "/",
        status_code=200,
        summary="Issue a new API token; the previous one stops working (admin, or the organiser themselves)",
        responses=errors(*ORGANISER, 404),
    )
    async def issue_token(
        self,
        request: Request,  # type: ignore[type-arg]
        organiser_id: FromPath[RowIdParam],
        console: ConsoleDep,
    ) -> OrganiserToken:
        organiser, token = await console.issue_token(organiser_id, by=request.state.organiser)
        return OrganiserToken(organiser=organiser, token=token)


class HistoryController(Controller):
    path = "/api/admin/history"
    tags = ["console"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.HISTORY)]

    @get(
        "/",
        summary="Who changed what, when: newest first (every role but volunteers)",
        responses=errors(*ORGANISER, 400),
    )
    async def list_history(
        self,
        console: ConsoleDep,
        limit: Annotated[int, Parameter(ge=1, le=MAX_HISTORY_LIMIT, description="Most entries")] = 50,
        before: Annotated[int | None, row_id("Entries older than this id")] = None,
    ) -> list[HistoryEntry]:
        return await console.history(limit, before)


class WarningsController(Controller):
    path = "/api/admin/warnings"
    tags = ["console"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @get(
        "/",
        summary="Rooms and speakers booked for two scheduled sessions at once (editor)",
        responses=errors(*ORGANISER),
    )
    async def list_warnings(self, feed: FeedDep) -> list[ScheduleWarning]:
        return programme_warnings((await feed.programme()).snapshot)
