"""Following the source of record: pulling a pretalx or frab export on a schedule and importing what changed.

Each pull asks with ``If-None-Match``/``If-Modified-Since``; a new file goes through the same idempotent importer
as ``kumpul import`` (sessions the file lacks are cancelled, the safety rules hold, phones get small deltas), and
every pull is noted in the history. A source that fails (unreachable, an error status, a hang past the timeout,
a malformed file, a file that lists no sessions, one the safety rules refuse) changes nothing: the import is one
transaction, the file's validators are kept only after a successful import, and the next try waits longer each
time (up to the normal interval). Only ``https`` addresses of public hosts are followed, checked like push
endpoints, and the request goes to the addresses checked, never to a fresh DNS answer.

Every worker of a server runs :meth:`SourceService.run`; the pull is claimed through a lease in the database,
so one worker pulls at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from server import __version__
from server.errors import Conflict, KumpulError, NotFound
from server.interchange.detect import parse
from server.push.endpoints import Resolver, check_endpoint, resolve_host
from server.schemas.releases import Source
from server.services.importer import ImportService, entities_written
from server.services.live import raise_if_cancelled
from server.services.programme import ProgrammeService
from server.storage import history
from server.storage import source as store
from server.storage.db import Database, transient

log = logging.getLogger(__name__)

#: Who the history names for the source's pulls and the changes they import.
ACTOR = "source of record"
#: How long a pull may hold its lease beyond the download's timeout (a big import takes a while).
IMPORT_MARGIN_SECONDS = 600.0
#: The largest file followed: the console's import limit.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PullResult:
    result: str
    detail: str


class SourceFailed(Exception):
    """A pull that got no usable file; the message says why in plain words."""


class SourceService:
    """Configures the source of record, pulls it, and runs the follow loop.

    Args:
        db: The database.
        programme: The programme service imports write through (its listeners tell phones).
        allow_insecure_loopback: Also follow ``http`` and ``https`` on loopback (tests, development).
        timeout: Seconds a whole download may take, a hanging source included.
        retry_seconds: The first retry's wait after a failed pull; it doubles after each failure.
        poll_seconds: How often the loop looks whether a pull is due.
        resolve: Looks up host names (tests give their own).
    """

    def __init__(
        self,
        db: Database,
        programme: ProgrammeService,
        *,
        allow_insecure_loopback: bool = False,
        timeout: float = 30.0,
        retry_seconds: float = 15.0,
        poll_seconds: float = 5.0,
        resolve: Resolver = resolve_host,
    ) -> None:
        self.db = db
        self.programme = programme
        self.allow_insecure_loopback = allow_insecure_loopback
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.poll_seconds = poll_seconds
        self.resolve = resolve
        self.owner = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def check(self, url: str) -> list[str]:
        """Refuse an address the server must not fetch (as for push endpoints); the addresses it may use."""
        return await check_endpoint(
            url,
            allow_insecure_loopback=self.allow_insecure_loopback,
            resolve=self.resolve,
            field="url",
            service="schedule source",
        )

    async def configure(self, url: str, every_seconds: int, actor: str, *, pull: bool = True) -> Source:
        """Follow ``url`` every ``every_seconds``, pulling it at once (unless ``pull`` is False: then it is due).

        Raises:
            Invalid: The address is not an https URL of a public host.
        """
        await self.check(url)
        async with self.db.write() as conn:
            await store.configure(conn, url, every_seconds)
            await history.record(conn, actor, "configured", "source", "source", f"follow {url} every {every_seconds}s")
        if pull:
            await self.pull(force=True)  # another worker's loop may have claimed it first: then that one pulls
        status = await self.status()
        assert status is not None
        return status

    async def remove(self, actor: str) -> None:
        """Stop following.

        Raises:
            NotFound: No source is configured.
        """
        async with self.db.write() as conn:
            if not await store.remove(conn):
                raise NotFound("no source of record is configured")
            await history.record(conn, actor, "removed", "source", "source", "stopped following the source")

    async def status(self) -> Source | None:
        """The source and how its last pull went; None when none is configured."""
        async with self.db.read() as conn:
            row = await store.get(conn)
        if row is None:
            return None
        return Source(
            url=row.url,
            every_seconds=row.every_seconds,
            last_pull_at=row.last_pull_at,
            last_result=row.last_result,  # type: ignore[arg-type]
            last_detail=row.last_detail,
            last_success_at=row.last_success_at,
            failures=row.failures,
            next_pull_at=row.next_pull_at,
        )

    async def pull_now(self) -> Source:
        """Pull at once, whatever the schedule.

        Raises:
            NotFound: No source is configured.
            Conflict: Another worker is pulling right now.
        """
        async with self.db.read() as conn:
            row = await store.get(conn)
        if row is None:
            raise NotFound("no source of record is configured")
        if await self.pull(force=True) is None:
            raise Conflict("a pull of the source is under way; its result shows here when it ends")
        status = await self.status()
        assert status is not None
        return status

    async def pull(self, *, force: bool = False) -> PullResult | None:
        """Pull the source when it is due (or ``force``) and no other worker is pulling; None when not pulled."""
        async with self.db.write() as conn:
            row = await store.claim(conn, self.owner, self.timeout + IMPORT_MARGIN_SECONDS, force=force)
        if row is None:
            return None
        etag = last_modified = None
        keep = True
        try:
            status, body, etag, last_modified = await self._download(row.url, row.etag, row.last_modified)
            if status == 304:
                outcome = PullResult("unchanged", "not modified since the last pull")
            else:
                outcome = await self._import(body)
                keep = False
        except asyncio.CancelledError:
            # Stopped mid-pull (the server is shutting down): give the lease back so that the next worker or
            # the next start pulls at once, instead of waiting for the lease to run out.
            with contextlib.suppress(Exception):
                async with self.db.write() as conn:
                    await store.release(conn, self.owner)
            raise
        except SourceFailed as error:
            outcome = PullResult("failed", str(error))
        except KumpulError as error:
            outcome = PullResult("failed", f"nothing was imported: {error.detail}")
        except Exception as error:
            if not transient(error):
                log.exception("pulling the source of record failed")
            outcome = PullResult("failed", f"nothing was imported: {type(error).__name__}: {error}")
        next_in = row.every_seconds
        if outcome.result == "failed":
            next_in = min(self.retry_seconds * 2**row.failures, row.every_seconds)
        async with self.db.write() as conn:
            await store.finish(
                conn,
                self.owner,
                result=outcome.result,
                detail=outcome.detail,
                next_in=next_in,
                etag=etag,
                last_modified=last_modified,
                keep_validators=keep,
            )
            await history.record(conn, ACTOR, "pulled", "source", "source", f"{outcome.result}: {outcome.detail}")
        return outcome

    async def _import(self, body: bytes) -> PullResult:
        parsed = await asyncio.to_thread(parse, body)
        if not parsed.programme.sessions:
            raise SourceFailed(
                f"the file ({parsed.format}) lists no sessions; nothing was imported (a source that suddenly"
                " lists nothing is taken as broken, so the programme is not cancelled)"
            )
        report = await ImportService(self.programme).import_file(body, missing="cancel", actor=ACTOR)
        written = entities_written(report)
        counts = ", ".join(
            f"{kind.kind} +{len(kind.added)} ~{len(kind.changed)} -{len(kind.removed)}"
            for kind in report.kinds
            if kind.added or kind.changed or kind.removed
        )
        if not written:
            return PullResult("unchanged", f"{report.format}: the file matches the programme")
        return PullResult("imported", f"{report.format}: {written} entities written ({counts})")

    async def _download(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> tuple[int, bytes, str | None, str | None]:
        """GET the source from the addresses checked now: status, body, ETag and Last-Modified."""
        try:
            addresses = await self.check(url)
        except KumpulError as error:
            raise SourceFailed(error.detail) from None
        parts = urlsplit(url)
        host = parts.hostname or ""
        address = ipaddress.ip_address(addresses[0])
        pinned = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{pinned}:{parts.port}" if parts.port else pinned
        target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        headers = {
            "Host": parts.netloc,
            "User-Agent": f"Kumpul/{__version__} (following the source of record)",
            "Accept": "application/xml, application/json;q=0.9, */*;q=0.5",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.timeout), httpx.AsyncClient(follow_redirects=False) as client:
                request = client.build_request("GET", target, headers=headers, extensions={"sni_hostname": host})
                response = await client.send(request, stream=True)
                try:
                    if response.status_code == 304:
                        return 304, b"", None, None
                    if 300 <= response.status_code < 400:
                        where = response.headers.get("location", "elsewhere")
                        raise SourceFailed(
                            f"the source answered {response.status_code}, moved to {where}; follow that address"
                        )
                    if response.status_code != 200:
                        raise SourceFailed(f"the source answered HTTP {response.status_code}")
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_IMPORT_BYTES:
                            raise SourceFailed(f"the file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise SourceFailed(f"the source did not answer in full within {self.timeout:g} seconds") from None
        except httpx.HTTPError as error:
            raise SourceFailed(f"the source could not be reached: {error or type(error).__name__}") from None
        return 200, b"".join(chunks), response.headers.get("etag"), response.headers.get("last-modified")

    async def run(self) -> None:
        """The follow loop: pull whenever the source is due, until cancelled."""
        while True:
            try:
                async with self.db.read() as conn:
                    row = await store.get(conn)
                if row is not None:
                    await self.pull()
            except Exception as error:
                if not transient(error):
                    log.exception("the follow loop met an error; it goes on")
            raise_if_cancelled()
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for returns normally when the wake and a cancellation
            # come together, and the cancelled loop would go on forever (a server that never stops).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()

    def start(self) -> None:
        """Run the follow loop in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="kumpul-follow")

    async def stop(self) -> None:
        """End the follow loop (a pull under way is cancelled and gives its lease back)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
