"""A small real filesystem that tests can fill up: a tmpfs mounted in a user and mount namespace of its own.

No root is needed where unprivileged user namespaces are allowed (``unshare --user --map-root-user --mount``). The
mount is private to the namespace, where a server runs; the test reaches its files through ``/proc/PID/root``,
which resolves paths in that process's mounts. When the disk is full, writes fail with ``ENOSPC`` as on a real
full disk, and SQLite answers ``SQLITE_FULL``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

_FILLER = ".filler"
#: A new user namespace (this user as its root) with a mount namespace of its own.
NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


@functools.cache
def available() -> bool:
    """Whether this machine lets an unprivileged process mount a tmpfs in a namespace of its own."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    with tempfile.TemporaryDirectory() as where:
        try:
            result = subprocess.run(
                [*NAMESPACE, "mount", "-t", "tmpfs", "-o", "size=64k", "kumpul-test", where],
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return result.returncode == 0


def require() -> None:
    """Skip the test where no small disk can be made."""
    if not available():
        pytest.skip("unprivileged user and mount namespaces are not available here (unshare -Urm)")


class SmallDisk:
    """A tmpfs of ``size`` bytes; :meth:`fill` takes every free byte, :meth:`free` gives them back.

    The process that holds the mount (a server) is started with :meth:`command`, then :meth:`attach` its pid.
    SQLite resolves the ``/proc/PID/root`` link to ``/`` in the caller's own namespace, so only processes inside
    the namespace (the server, or :meth:`inside`) may open a database on the disk; files can be written and
    removed through :attr:`path` from anywhere.
    """

    def __init__(self, size: int = 32 * 1024 * 1024) -> None:
        self.size = size
        self.mountpoint = Path(tempfile.mkdtemp(prefix="kumpul-disk-"))
        self._pid: int | None = None

    def command(self, then: Sequence[str], *, copy_from: Path | None = None) -> list[str]:
        """The argv that mounts the disk in a new namespace, copies the files of ``copy_from`` onto it, prints
        ``ready`` and becomes ``then`` (same pid, same namespace)."""
        script = 'mount -t tmpfs -o size="$1",mode=0700 kumpul-test "$2" || exit 1\n'
        if copy_from is not None:
            script += 'cp -p "$3"/* "$2"/ || exit 1\n'
        script += 'echo ready\nshift 3\nexec "$@"\n'
        return [*NAMESPACE, "sh", "-c", script, "sh", str(self.size), str(self.mountpoint), str(copy_from), *then]

    def attach(self, pid: int) -> None:
        """The disk is held by process ``pid`` (started with :meth:`command`)."""
        self._pid = pid

    def inside(self, argv: Sequence[str]) -> list[str]:
        """The argv that runs ``argv`` in the namespace that sees the disk."""
        assert self._pid is not None, "the disk is not mounted"
        return ["nsenter", "--target", str(self._pid), "--user", "--mount", "--preserve-credentials", *argv]

    def remove_mountpoint(self) -> None:
        """Remove the (empty) folder the disk was mounted on, once nothing holds the mount."""
        with contextlib.suppress(OSError):
            self.mountpoint.rmdir()

    @property
    def path(self) -> Path:
        """The folder on the small disk, as every process outside the namespace reaches it."""
        assert self._pid is not None, "the disk is not mounted"
        return Path(f"/proc/{self._pid}/root") / self.mountpoint.relative_to("/")

    def fill(self) -> None:
        """Write a file until the disk has no byte left (ENOSPC)."""
        chunk = b"\0" * (1024 * 1024)
        with (self.path / _FILLER).open("ab", buffering=0) as filler:
            while chunk:
                try:
                    while True:
                        filler.write(chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                chunk = chunk[: len(chunk) // 2] if len(chunk) > 512 else b""
        assert self.free_bytes() == 0

    def free(self) -> None:
        """Give back the space :meth:`fill` took."""
        (self.path / _FILLER).unlink(missing_ok=True)

    def free_bytes(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize
