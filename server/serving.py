"""``kumpul serve``: prepare the database once, then run the app in one or several worker processes.

Workers share nothing but the SQLite file: each has its own cached programme, live hub and push outbox, and
notices the others' writes through the feed's ``data_version`` watcher. What must happen once per database
(migrations, the demo, the VAPID key pair) happens before any worker starts, so workers never race for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from server.push.vapid import keys_of
from server.settings import Settings, settings_from_env
from server.storage.db import open_database

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp

    from server.services.live import LiveHub

log = logging.getLogger("kumpul")

ServerName = Literal["granian", "uvicorn"]
SERVERS: tuple[ServerName, ...] = ("granian", "uvicorn")
#: The fastest here by measurement (bench/serving.md).
DEFAULT_SERVER: ServerName = "granian"
#: What each worker imports: it builds its app from the environment (``KUMPUL_DB`` and the other ``KUMPUL_*``).
APP_FACTORY = "server.serving:app_from_env"
#: Set for the workers to the supervisor's pid, so a worker can tell that its supervisor is gone.
SUPERVISOR_ENV = "KUMPUL_SUPERVISOR_PID"
#: Requests in flight get this long to finish on shutdown; then the server stops waiting for them.
GRACEFUL_SHUTDOWN_SECONDS = 3
#: Connections the kernel queues before they are accepted: a reconnect storm is thousands at once.
CONNECTION_BACKLOG = 4096
#: Requests a worker serves at once, open live streams included (each is a queue and a few KB).
MAX_OPEN_REQUESTS_PER_WORKER = 20_000
ORPHAN_CHECK_SECONDS = 1.0
#: How long a client may take to send a request's headers, or pause while sending its body, before it is dropped:
#: a stalled client (or one trickling bytes on purpose) then holds no connection or worker task for long.
CLIENT_TIMEOUT_SECONDS = 30.0
CLIENT_TIMEOUT_ENV = "KUMPUL_CLIENT_TIMEOUT_SECONDS"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Handler = Callable[[int, FrameType | None], Any] | int | None


def default_workers() -> int:
    """One worker per CPU core (bench/serving.md): a worker serves the programme from memory, so it is busy with
    the CPU, not waiting for the database. On two cores a third worker gained at most 10 % on a quiet machine and
    lost on a busy one, for another process's memory, connections and push outbox."""
    return max(1, os.cpu_count() or 1)


async def prepare(settings: Settings) -> None:
    """Apply pending migrations and make the VAPID key pair, once, before any worker starts.

    Push messages a stopped server left mid-send need nothing here: any worker claims them again once their lease
    has run out (:mod:`server.push.outbox`), which also spares the claims of servers still running on a shared
    database.
    """
    db = open_database(settings.db_path, settings.database_url, readers=1)
    await db.open()
    try:
        await keys_of(db, settings.db_path.parent)
    finally:
        await db.close()


def client_timeout() -> float:
    """Seconds a client may take over its headers, or pause in its body (``KUMPUL_CLIENT_TIMEOUT_SECONDS``)."""
    value = os.environ.get(CLIENT_TIMEOUT_ENV)
    return float(value) if value else CLIENT_TIMEOUT_SECONDS


def app_from_env() -> ASGIApp:
    """The app of one worker process, for the settings in the environment.

    Besides the app of :func:`server.app.create_app`, a served app ends its open live streams as soon as it is
    told to stop (they never end by themselves, and the server waits for open responses before it shuts the app
    down), a worker whose supervisor is gone stops by itself, and a request whose body stalls ends
    (:class:`server.body_timeout.BodyTimeout`).
    """
    # The command line imports this module, and needs no web framework.
    from server.app import create_app
    from server.body_timeout import BodyTimeout

    settings = settings_from_env()
    app = create_app(settings)
    app.on_startup.append(_on_start)
    app.on_shutdown.append(_on_stop)
    return BodyTimeout(app, client_timeout())


async def _on_start(app: Litestar) -> None:
    app.state.restore_signals = _end_live_streams_on_signal(app.state.live)
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor and supervisor == str(os.getppid()):
        app.state.orphan_watch = asyncio.create_task(_stop_when_orphaned(int(supervisor)), name="kumpul-orphan-watch")


async def _on_stop(app: Litestar) -> None:
    app.state.restore_signals()
    watch: asyncio.Task[None] | None = app.state.get("orphan_watch")
    if watch is not None:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch


def _end_live_streams_on_signal(live: LiveHub) -> Callable[[], None]:
    """On SIGINT or SIGTERM, end every open live stream, then pass the signal on to the server's own handler.

    Signal handlers added with ``loop.add_signal_handler`` (granian) keep working: the loop learns of the signal
    through its wake-up file descriptor, whichever Python handler is installed. Returns a function that puts the
    previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Handler] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(live.close_all)
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)
        elif before in (signal.SIG_DFL, None):
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for sig in _STOP_SIGNALS:
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, before if before is not None else signal.SIG_DFL)

    return restore


async def _stop_when_orphaned(supervisor: int) -> None:
    """Stop this worker gracefully once its supervisor is gone (killed with SIGKILL, it cannot stop its workers)."""
    while os.getppid() == supervisor:  # noqa: ASYNC110 -- nothing announces a parent's death: it is polled
        await asyncio.sleep(ORPHAN_CHECK_SECONDS)
    log.warning("the supervising process %d is gone: stopping worker %d", supervisor, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


def _log_config() -> dict[str, Any]:
    """Uvicorn's logging, plus Kumpul's own loggers in every worker process (a spawned worker starts afresh)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["formatters"] = {**LOGGING_CONFIG["formatters"], "kumpul": {"format": "%(levelname)s %(name)s: %(message)s"}}
    config["handlers"] = {
        **LOGGING_CONFIG["handlers"],
        "kumpul": {"formatter": "kumpul", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    }
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "server": {"handlers": ["kumpul"], "level": "INFO", "propagate": False},
        "kumpul": {"handlers": ["kumpul"], "level": "INFO", "propagate": False},
    }
    return config


def _raise_open_file_limit() -> None:
    """Let the workers (which inherit it) hold as many sockets as the system allows: every open app keeps one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(settings: Settings, *, host: str, port: int, workers: int, server: ServerName = DEFAULT_SERVER) -> None:
    """Serve until interrupted: each worker builds its app with :func:`app_from_env`.

    The settings reach the workers through the environment, so the database path is put there first.
    """
    os.environ["KUMPUL_DB"] = str(settings.db_path.resolve())
    if settings.database_url:
        os.environ["KUMPUL_DATABASE_URL"] = settings.database_url
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    _raise_open_file_limit()
    if server == "granian":
        from granian.constants import Interfaces, Loops
        from granian.http import HTTP1Settings
        from granian.server import Server as Granian

        Granian(
            APP_FACTORY,
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            # Python's own event loop, even where uvloop is installed: the push transport needs asyncio's transports.
            loop=Loops.asyncio,
            workers=workers,
            # Open /api/live streams are requests that never end: granian's default limit of concurrent
            # requests (backlog / workers, 512 each) would leave the 1,025th open app waiting forever.
            backlog=CONNECTION_BACKLOG,
            backpressure=MAX_OPEN_REQUESTS_PER_WORKER,
            log_access=False,
            # Headers not complete within the client timeout: the connection is closed (granian allows up to 60 s).
            http1_settings=HTTP1Settings(header_read_timeout=max(1, min(60_000, int(client_timeout() * 1000)))),
            respawn_failed_workers=True,
            workers_kill_timeout=GRACEFUL_SHUTDOWN_SECONDS,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        log_config=_log_config(),
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
