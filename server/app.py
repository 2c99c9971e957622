"""The app factory: storage, services and routes wired into one Litestar app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from server import __version__
from server.errors import KumpulError, RangeNotSatisfiable, TooManyRequests, Unauthorized
from server.headers import security_headers_hook
from server.hot_reads import KumpulApp
from server.panics import contain_panics
from server.push.crypto import PayloadCipher
from server.push.outbox import OutboxWorker
from server.push.reminders import ReminderScheduler
from server.push.sender import PushSender
from server.push.vapid import VapidSigner, keys_of
from server.request import KumpulRequest, refuse_nul_in_url
from server.routes import announcements, attendees, formats, health, programme, pwa, rooms, sessions, speakers, tracks
from server.routes import console as console_routes
from server.routes import feedback as feedback_routes
from server.routes import interchange_import as import_routes
from server.routes import room_status as room_status_routes
from server.routes import schedule as schedule_routes
from server.routes import source as source_routes
from server.routes import translations as translation_routes
from server.routes import venue as venue_routes
from server.routes.deps import dependencies
from server.services.announcements import AnnouncementService
from server.services.attendees import AttendeeService
from server.services.auth import AuthService
from server.services.console import ConsoleService
from server.services.exports import ExportService
from server.services.feed import FeedService
from server.services.feedback import FeedbackService
from server.services.follow import SourceService
from server.services.live import LiveHub
from server.services.private_sync import PrivateSyncService
from server.services.programme import ProgrammeService
from server.services.push import PushSubscriptionService
from server.services.ratelimit import RateLimiter
from server.services.releases import ReleaseService
from server.services.room_status import RoomStatusService
from server.services.venue import VenueService
from server.settings import Settings
from server.storage.db import FULL_RETRY_AFTER, StorageError, database_busy, open_database, storage_full

log = logging.getLogger("server")
# aiosqlite's DEBUG lines print every query with its parameters (note text, push subscription keys): keep them
# out of the logs whatever level the root logger is given.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, detail: str, extra: list[dict[str, str]] | None = None) -> Response[dict[str, object]]:
    content: dict[str, object] = {"status_code": status, "detail": detail}
    if extra:
        content["extra"] = extra
    headers = {"WWW-Authenticate": 'Bearer realm="kumpul"'} if status == 401 else None
    return Response(content, status_code=status, headers=headers)


def _kumpul_error(_: Request, exc: KumpulError) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    extra = [{"key": exc.field, "message": exc.detail}] if exc.field else None
    response = _error(exc.status_code, exc.detail, extra)
    if exc.facts:
        response.content.update(exc.facts)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="kumpul"'
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, RangeNotSatisfiable):
        response.headers["Content-Range"] = f"bytes */{exc.length}"
    return response


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    problems = exc.extra if isinstance(exc.extra, list) else []
    sentences = []
    for problem in problems:
        if isinstance(problem, dict):
            key = problem.get("key")
            where = f" at `{key}`" if key and key != "data" else ""
            sentences.append(f"{problem.get('message', 'invalid value')}{where}")
    detail = "; ".join(sentences) or exc.detail
    return _error(400, f"Invalid request: {detail}", problems or None)


def _http_error(request: Request, exc: HTTPException) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    extra = exc.extra if isinstance(exc.extra, list) else None
    detail = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        detail = f"Malformed JSON in the request body: {detail}"
    if exc.status_code == 413:
        handler = request.scope.get("route_handler")
        route_limit = handler.resolve_request_max_body_size() if isinstance(handler, HTTPRouteHandler) else None
        limit = route_limit or MAX_BODY_BYTES
        detail = f"The request body is over the limit of {limit // 1024} KB"
    response = _error(exc.status_code, detail, extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _logged_path(request: Request) -> str:  # type: ignore[type-arg]
    """The route a request took, for a log line: its template, never the path itself, which may hold a secret
    (a calendar feed's key)."""
    template = request.scope.get("path_template")
    return template if isinstance(template, str) else "(unrouted)"


def _unexpected_error(request: Request, exc: Exception) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    log.exception("unhandled error on %s %s", request.method, _logged_path(request), exc_info=exc)
    return _error(500, "Internal error: the request was not completed; nothing was changed.")


def _database_error(request: Request, exc: Exception) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    """Storage conditions that pass: retryable, and nothing was written (the write transaction was rolled back).

    A full disk answers 507 Insufficient Storage; a database another process holds locked past the busy
    timeout answers 503. Both carry ``Retry-After``; reads go on meanwhile.
    """
    if storage_full(exc):
        log.error("storage full on %s %s: %s", request.method, _logged_path(request), exc)
        response = _error(
            507, "The server's storage is full; nothing was changed. Try again later, once space has been freed."
        )
        response.headers["Retry-After"] = str(FULL_RETRY_AFTER)
        return response
    if not database_busy(exc):
        return _unexpected_error(request, exc)
    log.warning("database busy on %s %s: %s", request.method, _logged_path(request), exc)
    response = _error(503, "The database is busy; nothing was changed. Try again in a moment.")
    response.headers["Retry-After"] = "1"
    return response


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings``; the database opens when the app starts."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = open_database(settings.db_path, settings.database_url, readers=settings.read_connections)
        await db.open()
        feed = FeedService(
            db,
            retention=timedelta(days=settings.tombstone_retention_days),
            poll_seconds=settings.change_poll_seconds,
        )
        await feed.start()
        keys = await keys_of(db, settings.db_path.parent)
        sender = PushSender(
            PayloadCipher(keys),
            VapidSigner(keys, settings.vapid_subject),
            allow_insecure_loopback=settings.allow_insecure_push,
        )
        outbox = OutboxWorker(db, sender, lease=settings.push_lease_seconds)
        await outbox.start()
        reminders = ReminderScheduler(db, wake=outbox.wake)
        reminders.start()
        live = LiveHub(db, max_per_address=settings.live_max_per_address, max_total=settings.live_max_total)
        feed.subscribe(live.programme_changed)
        feed.subscribe_commits(live.pages_maybe_changed)
        await live.pages_maybe_changed()  # the Info pages' revision as the server starts
        announcements = AnnouncementService(db, on_write=feed.written, wake_outbox=outbox.wake)
        await announcements.start()
        limiter = RateLimiter(db)
        app.state.limiter = limiter
        app.state.db = db
        app.state.feed = feed
        app.state.exports = ExportService(db, feed)
        app.state.vapid_keys = keys
        app.state.live = live
        app.state.outbox = outbox
        app.state.announcements = announcements
        app.state.programme = ProgrammeService(
            db, on_write=feed.written, on_alert=outbox.wake, alert_delay=settings.alert_delay_seconds
        )
        await app.state.programme.forget_former_names()
        app.state.releases = ReleaseService(db)
        follow = SourceService(
            db,
            app.state.programme,
            allow_insecure_loopback=settings.allow_insecure_source,
            timeout=settings.source_timeout_seconds,
            retry_seconds=settings.source_retry_seconds,
            poll_seconds=settings.source_poll_seconds,
        )
        app.state.source = follow
        follow.start()
        app.state.auth = AuthService(db)
        app.state.console = ConsoleService(db, limiter)
        app.state.venue = VenueService(db, on_pages_written=live.pages_maybe_changed)
        app.state.trust_proxy = settings.trust_proxy
        app.state.attendees = AttendeeService(db, limiter)
        app.state.private_sync = PrivateSyncService(db, limiter, quota_bytes=settings.attendee_quota_bytes)
        app.state.feedback = FeedbackService(db, limiter)
        app.state.push = PushSubscriptionService(db, limiter, allow_insecure_loopback=settings.allow_insecure_push)
        room_status = RoomStatusService(db, live, limiter, poll_seconds=settings.change_poll_seconds)
        await room_status.start()
        app.state.room_status = room_status
        app.state.pwa_dir = settings.pwa_dir
        try:
            yield
        finally:
            await follow.stop()
            await room_status.stop()
            live.close_all()
            await announcements.stop()
            await reminders.stop()
            await outbox.stop()
            await sender.close()
            await feed.stop()
            await db.close()

    return KumpulApp(
        route_handlers=[
            health.healthz,
            programme.ProgrammeController,
            programme.AdminEventController,
            sessions.SessionController,
            sessions.AdminSessionController,
            sessions.AdminRecordingController,
            speakers.SpeakerController,
            speakers.AdminSpeakerController,
            speakers.AdminRevealController,
            rooms.RoomController,
            rooms.AdminRoomController,
            room_status_routes.RoomStatusController,
            room_status_routes.AdminRoomStatusController,
            tracks.TrackController,
            tracks.AdminTrackController,
            formats.FormatController,
            formats.AdminFormatController,
            attendees.AttendeeController,
            attendees.MeController,
            attendees.PrivateSyncController,
            schedule_routes.ScheduleController,
            schedule_routes.AdminReleaseController,
            source_routes.AdminSourceController,
            announcements.AdminAnnouncementController,
            announcements.PushController,
            announcements.LiveController,
            console_routes.ConsoleController,
            console_routes.OrganiserController,
            console_routes.OrganiserTokenController,
            console_routes.HistoryController,
            console_routes.WarningsController,
            import_routes.AdminImportController,
            venue_routes.VenueController,
            venue_routes.AdminInfoPageController,
            venue_routes.AdminFloorPlanController,
            venue_routes.AdminPinController,
            translation_routes.AdminTranslationController,
            feedback_routes.FeedbackController,
            feedback_routes.AdminFeedbackController,
            pwa.pwa,
        ],
        lifespan=[lifespan],
        middleware=[contain_panics, refuse_nul_in_url],
        before_send=[security_headers_hook(trust_proxy=settings.trust_proxy)],
        dependencies=dependencies(),
        exception_handlers={
            KumpulError: _kumpul_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            **dict.fromkeys(StorageError, _database_error),
            Exception: _unexpected_error,
        },
        compression_config=CompressionConfig(
            backend="brotli", brotli_gzip_fallback=True, minimum_size=1024, exclude_opt_key="skip_compression"
        ),
        openapi_config=OpenAPIConfig(
            title="Kumpul",
            version=__version__,
            description="Offline-first conference companion: the programme, its change feed and organiser writes.",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="Organiser token"),
                    "console": SecurityScheme(
                        type="apiKey",
                        name="kumpul_console",
                        security_scheme_in="cookie",
                        description="Console sign-in (POST /api/admin/login); changing requests send X-CSRF-Token",
                    ),
                }
            ),
        ),
        request_max_body_size=MAX_BODY_BYTES,
        request_class=KumpulRequest,
    )
