"""Dependency providers and guards shared by the route modules."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from server.services.announcements import AnnouncementService
from server.services.attendees import AttendeeService
from server.services.auth import AuthService, Organiser, Permission
from server.services.console import ConsoleService
from server.services.feed import FeedService
from server.services.feedback import FeedbackService
from server.services.live import LiveHub
from server.services.private_sync import PrivateSyncService
from server.services.programme import ProgrammeService
from server.services.push import PushSubscriptionService
from server.services.room_status import RoomStatusService
from server.services.venue import VenueService
from server.storage.attendees import AttendeeRow

#: Handler parameter types for the services (litestar injects them by parameter name).
FeedDep = NamedDependency[FeedService]
ProgrammeDep = NamedDependency[ProgrammeService]
AuthDep = NamedDependency[AuthService]
AttendeesDep = NamedDependency[AttendeeService]
PrivateSyncDep = NamedDependency[PrivateSyncService]
AttendeeDep = NamedDependency[AttendeeRow]
AnnouncementsDep = NamedDependency[AnnouncementService]
PushDep = NamedDependency[PushSubscriptionService]
LiveDep = NamedDependency[LiveHub]
ConsoleDep = NamedDependency[ConsoleService]
VenueDep = NamedDependency[VenueService]
FeedbackDep = NamedDependency[FeedbackService]
RoomStatusDep = NamedDependency[RoomStatusService]
#: The name of the organiser making the request, for the history.
ActorDep = NamedDependency[str]

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]  # type: ignore[type-arg]


#: The services kept in ``app.state`` by the lifespan, injected into handlers under the same names.
SERVICES = (
    "programme",
    "feed",
    "auth",
    "attendees",
    "private_sync",
    "announcements",
    "push",
    "live",
    "console",
    "venue",
    "feedback",
    "room_status",
)


def _from_state(name: str) -> Callable[[State], Any]:
    def provide(state: State) -> Any:
        return getattr(state, name)

    provide.__name__ = f"provide_{name}"
    return provide


def dependencies() -> dict[str, Provide]:
    """Litestar dependencies: every service by name, ``me`` (the attendee of the request) and ``actor``."""
    provided = {name: Provide(_from_state(name), sync_to_thread=False) for name in SERVICES}
    provided["me"] = Provide(provide_me, sync_to_thread=False)
    provided["actor"] = Provide(provide_actor, sync_to_thread=False)
    return provided


def provide_me(request: Request) -> AttendeeRow:  # type: ignore[type-arg]
    """The attendee that :func:`attendee_required` resolved for this request."""
    me: AttendeeRow = request.state.attendee
    return me


def provide_actor(request: Request) -> str:  # type: ignore[type-arg]
    """The name of the organiser that :func:`requires` let through."""
    organiser: Organiser = request.state.organiser
    return organiser.name


def trusts_proxy(connection: ASGIConnection) -> bool:  # type: ignore[type-arg]
    """Whether a reverse proxy in front sets ``X-Forwarded-For`` and ``X-Forwarded-Proto`` (KUMPUL_TRUST_PROXY=1)."""
    return bool(getattr(connection.app.state, "trust_proxy", False))


def client_address(connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    """Who is asking, as the per-address rate limits count them.

    The connection's peer; behind a trusted proxy, the address the proxy appended to ``X-Forwarded-For`` (the
    entries before it are whatever the client wrote). An IPv6 client counts as its /64, the block one network is
    given, so hopping between addresses inside it dodges no limit.
    """
    forwarded = connection.headers.get("x-forwarded-for", "")
    if trusts_proxy(connection) and forwarded.strip():
        host = forwarded.split(",")[-1].strip()
    else:
        host = connection.client.host if connection.client else ""
    return address_key(host)


def address_key(host: str) -> str:
    """The rate-limit key of an address: IPv4 as it is, IPv6 as its /64 network, anything else as written."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


async def attendee_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """A guard that lets through requests with a valid attendee token (checked before the body is read)."""
    attendees: AttendeeService = connection.app.state.attendees
    connection.state.attendee = await attendees.attendee_for(connection.headers.get("authorization"))


#: The console's sign-in cookie (HttpOnly, SameSite=Strict, Path=/api/admin).
CONSOLE_COOKIE = "kumpul_console"
#: Methods that change nothing, so a console session needs no CSRF token for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(permission: Permission | None, *, before_password_change: bool = False) -> Guard:
    """A guard that lets through organisers whose role holds ``permission`` (None: any organiser).

    Organisers send a bearer token or the console cookie; a console request that changes something
    must also carry the session's ``X-CSRF-Token``. ``before_password_change`` also admits console
    sessions still on a one-time password. The organiser is left in ``request.state.organiser`` for
    the handler, and the console session (or None for a bearer token) in ``request.state.console``.
    """

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        auth: AuthService = connection.app.state.auth
        caller = await auth.identify(
            authorization=connection.headers.get("authorization"),
            console_token=connection.cookies.get(CONSOLE_COOKIE),
            csrf_token=connection.headers.get("x-csrf-token"),
            unsafe=isinstance(connection, Request) and connection.method not in SAFE_METHODS,
        )
        auth.authorise(caller, permission, before_password_change=before_password_change)
        organiser: Organiser = caller.organiser
        connection.state.organiser = organiser
        connection.state.console = caller.console

    return guard
