"""The encoded programme per cursor, in files beside the database, shared by every worker.

Encoding the programme (one JSON document, compressed) is the most expensive thing the server does after an edit.
The first worker that needs cursor N's bytes builds them while holding a lock file, and writes each form
atomically (a temporary file renamed into place); the others wait for that lock and then read the files. So the
programme is encoded once per cursor for the whole server, not once per worker. Nodes sharing a PostgreSQL database
each keep the files in their own local folder: each node encodes a cursor once, into the same bytes as the others.

The files of a cursor never change once written: they are the immutable bytes that ``/api/programme/{cursor}``
serves with range requests, so an interrupted download resumes. The newest :data:`KEEP` cursors are kept, older
ones removed (a download of a removed cursor gets 404 and starts again at the current one).

Layout: ``<database>.programme/<cursor>.json`` (identity), ``.json.br``, ``.json.gz``, ``.app.json.gz`` and
``.privacy`` (see :class:`Forms`), and ``build.lock``.

The brotli form is written after the others (:meth:`EncodedStore.save_br`): it costs three times as much CPU as
the rest of a build, so the first phones after an edit get gzip while it is made, instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

#: Cursors whose bytes are kept, newest first: enough for downloads started a few edits ago to resume.
KEEP = 12
#: The forms written together; the identity file is written last, so its presence means the set is complete.
#: The brotli form comes later, on its own (it may be missing while it is made, or if its builder died).
FORMS = ("privacy", "gzip", "app", "identity")
_SUFFIX = {"identity": ".json", "br": ".json.br", "gzip": ".json.gz", "app": ".app.json.gz", "privacy": ".privacy"}
_LOCK_POLL_SECONDS = 0.005
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Forms:
    """A cursor's programme in each encoding, and the privacy floors it was built under.

    ``privacy`` is a digest of every speaker's and session's privacy floor at that cursor: once a speaker turns
    anonymous (or a session off the record) the floors change, and the bytes of older cursors, which still name
    them, are not served any more.
    """

    identity: bytes
    br: bytes | None
    gzip: bytes
    privacy: bytes = b""
    #: The app's document (without the fields the app never reads) as gzip: the resumable download.
    app: bytes = b""


class EncodedStore:
    """The per-cursor files of one database (``directory`` is ``<database>.programme``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def beside(cls, database: Path) -> EncodedStore:
        return cls(database.with_name(database.name + ".programme"))

    def path(self, cursor: str, form: str) -> Path:
        return self.directory / f"{cursor}{_SUFFIX[form]}"

    def load(self, cursor: str) -> Forms | None:
        """The forms of ``cursor``, or None when they were not written (or were removed)."""
        try:
            identity = self.path(cursor, "identity").read_bytes()
            return Forms(
                identity,
                self.load_br(cursor),
                self.path(cursor, "gzip").read_bytes(),
                self.path(cursor, "privacy").read_bytes(),
                self.path(cursor, "app").read_bytes(),
            )
        except OSError:  # not written, removed, or the folder unusable (see :meth:`building`)
            return None

    def load_br(self, cursor: str) -> bytes | None:
        """The brotli form of ``cursor``, or None while it is being made (or was never made)."""
        try:
            return self.path(cursor, "br").read_bytes()
        except OSError:
            return None

    def save(self, cursor: str, forms: Forms) -> None:
        """Write ``forms`` atomically (each file renamed into place, identity last) and drop old cursors.

        The brotli form is written too when ``forms`` has it; else later, by :meth:`save_br`.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        if forms.br is not None:
            self._write(cursor, "br", forms.br)
        for form in FORMS:
            self._write(cursor, form, getattr(forms, form))
        self._prune(forms.privacy)

    def save_br(self, cursor: str, data: bytes) -> None:
        """Add the brotli form of a cursor already saved (unless it was pruned meanwhile)."""
        if self.path(cursor, "identity").exists():
            self._write(cursor, "br", data)

    def _write(self, cursor: str, form: str, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".building-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, self.path(cursor, form))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def _prune(self, privacy: bytes) -> None:
        """Keep the newest :data:`KEEP` cursors, and none built under other privacy floors than ``privacy``: their
        bytes may name a speaker who is anonymous now, and must not stay on the disk either."""

        def written(path: Path) -> int:
            try:
                return path.stat().st_mtime_ns
            except FileNotFoundError:  # another worker pruned it meanwhile
                return 0

        identities = sorted(self.directory.glob("*.json"), key=written)
        old = identities[:-KEEP]
        for kept in identities[-KEEP:]:
            try:
                if kept.with_suffix(".privacy").read_bytes() != privacy:
                    old.append(kept)
            except FileNotFoundError:
                old.append(kept)
        for path in self.directory.glob("*.json.br"):  # a brotli form finished after its cursor was pruned
            if not path.with_suffix("").exists():
                old.append(path.with_suffix(""))
        for path in old:
            cursor = path.name.removesuffix(".json")
            for form in ("identity", "br", "gzip", "app", "privacy"):  # identity first: the set is incomplete then
                with contextlib.suppress(FileNotFoundError):
                    self.path(cursor, form).unlink()

    @contextlib.asynccontextmanager
    async def building(self) -> AsyncIterator[None]:
        """Hold the build lock, shared by every process serving this database, without blocking the event loop.

        A non-blocking ``flock`` polled, so a cancelled waiter leaves no thread behind holding the lock. When the
        folder cannot be used (a full disk, no permission) each worker builds for itself, as before the folder.
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / "build.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            log.warning("cannot use %s (%s): this worker encodes the programme for itself", self.directory, error)
            yield
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(_LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
