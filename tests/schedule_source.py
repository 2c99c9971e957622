"""A local schedule source for the follow tests: serves a changing export, hangs, or serves a broken file.

A real HTTP server on loopback in a thread, answering ``If-None-Match`` with 304 as pretalx does, and
noting the conditional headers of every request it gets.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class SourceState:
    """What the source serves now: ``mode`` is ``serve``, ``hang`` (never finishes the body) or ``status``."""

    body: bytes = b""
    mode: str = "serve"
    status: int = 500
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    #: Set when a request arrives.
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'


@dataclass
class ScheduleSource:
    url: str
    state: SourceState


@contextmanager
def schedule_source(path: str = "/schedule.xml") -> Iterator[ScheduleSource]:
    """Serve a schedule at ``http://127.0.0.1:PORT{path}`` until the block ends."""
    state = SourceState()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append({key.lower(): value for key, value in self.headers.items()})
            state.arrived.set()
            if state.mode == "status":
                self.send_response(state.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.mode == "serve" and self.headers.get("If-None-Match") == state.etag:
                self.send_response(304)
                self.send_header("ETag", state.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(state.body)))
            self.send_header("ETag", state.etag)
            self.end_headers()
            if state.mode == "hang":
                self.wfile.write(state.body[:100])
                self.wfile.flush()
                state.release.wait(30)  # a source that stops sending halfway
                return
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ScheduleSource(f"http://127.0.0.1:{server.server_address[1]}{path}", state)
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
