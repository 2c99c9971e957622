"""The real server as a subprocess on a free port, on its own SQLite file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

KUMPUL = [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    db: Path
    process: subprocess.Popen[bytes]

    def kumpul(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another ``kumpul`` command against the same database."""
        return subprocess.run(
            [*KUMPUL, *args, "--db", str(self.db)], capture_output=True, text=True, check=False, timeout=60
        )

    def organiser_token(self, role: str) -> str:
        result = self.kumpul("organiser", "add", f"{role}-{time.monotonic_ns()}", "--role", role)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]


def start_server(db: Path, *extra: str) -> RunningServer:
    port = free_port()
    with db.with_suffix(".log").open("ab") as log:
        process = subprocess.Popen(
            [*KUMPUL, "serve", "--port", str(port), "--db", str(db), *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {db.with_suffix('.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return RunningServer(url, db, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kumpul serve --demo`` on a fresh database."""
    running = start_server(tmp_path / "kumpul.db", "--demo")
    yield running
    stop_server(running)
