"""A lean HTTP/1.1 client for push requests: a few keep-alive connections per push service, no per-request objects.

A fan-out sends the same kind of small POST thousands of times to a handful of origins and needs only the status
and ``Retry-After`` of each answer. A general client (httpx) spent about 2 ms of CPU per request here, mostly in
scanning its pool and in per-request models; this one writes each request with one ``write`` and parses the
answer in the protocol callback, so a request costs a few tens of microseconds.

Each connection carries one request at a time (no pipelining, which push services need not support); requests
wait in a queue per origin for a free connection. Connections go to addresses the caller vetted (see
:func:`server.push.endpoints.vetted_addresses`), never to a fresh DNS answer, so a rebinding name cannot point
them inside the network. A request that fails on a reused connection before any byte of its answer came back
(the service closed the idle connection as the request left) is sent once more on a fresh connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Largest response head (status line and headers) accepted.
MAX_HEAD_BYTES = 64 * 1024
#: Keep-alive connections unused this long are closed rather than reused.
IDLE_SECONDS = 30.0
#: How often requests are checked against their deadline (so a timeout fires up to this much late).
SWEEP_SECONDS = 0.5


class TransportError(Exception):
    """A request that got no complete answer: refused connection, reset, malformed answer or timeout."""


class Withdrawn(TransportError):
    """A request taken back before it was written to any connection: the push service never saw it."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a push service answered: the status and any ``Retry-After``."""

    status: int
    retry_after: str | None = None


#: Called once per request with its answer or the error that ended it.
Callback = Callable[[Answer | TransportError], None]


class _Request:
    __slots__ = ("callback", "data", "retried")

    def __init__(self, data: bytes, callback: Callback) -> None:
        self.data = data
        self.callback = callback
        self.retried = False


class _Connection(asyncio.Protocol):
    """One keep-alive connection; parses each answer as it arrives and hands the connection back to its pool."""

    def __init__(self, pool: OriginPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.request: _Request | None = None
        self.buffer = bytearray()
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self.deadline = 0.0  # when the request in flight times out
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.retry_after: str | None = None
        self.remaining = -1  # body bytes still to skip; -1: chunked or until close
        self.chunked = False
        self.until_close = False
        self.keep_alive = True
        self.got_bytes = False

    # -- asyncio.Protocol ------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.request is None:
            self.close()  # an answer nobody asked for: the connection is out of step
            return
        self.got_bytes = True
        self.buffer += data
        try:
            self._parse()
        except (ValueError, IndexError) as error:
            self._fail(TransportError(f"malformed answer: {error}"))

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.request is not None:
            if self.until_close and self.status:
                self._complete()
            else:
                reason = f"connection lost ({type(exc).__name__ if exc else 'closed by the push service'})"
                self._fail(TransportError(reason), retry=self.reused and not self.got_bytes)
        self.pool._forget(self)

    # -- requests --------------------------------------------------------------------------------------------------

    def start(self, request: _Request, timeout: float) -> None:
        """Send ``request``; its callback runs when the answer is complete, or on failure or timeout."""
        assert self.transport is not None
        self.request = request
        self.deadline = self.pool.loop.time() + timeout
        self.pool._busy.add(self)
        self.transport.write(request.data)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: TransportError, *, retry: bool = False) -> None:
        request, self.request = self.request, None
        self.pool._busy.discard(self)
        self.close()
        if request is None:
            return
        if retry and not request.retried:
            request.retried = True
            self.pool._retry(request)
        else:
            request.callback(error)

    def _complete(self) -> None:
        request, self.request = self.request, None
        self.pool._busy.discard(self)
        answer = Answer(self.status, self.retry_after)
        reusable = self.keep_alive and not self.until_close and not self.buffer and not self.closed
        self._reset()
        if reusable:
            self.reused = True
            self.pool._release(self)
        else:
            self.close()
        assert request is not None
        request.callback(answer)

    # -- parsing ---------------------------------------------------------------------------------------------------

    def _parse(self) -> None:
        buffer = self.buffer
        while self.request is not None:
            if not self.status:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD_BYTES:
                        raise ValueError("response head too large")
                    return
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                self._head(head)
                continue
            if self.until_close:
                buffer.clear()  # the body ends when the connection does
                return
            if not self.chunked:
                take = min(len(buffer), self.remaining)
                del buffer[:take]
                self.remaining -= take
                if self.remaining == 0:
                    self._complete()
                return
            if not self._skip_chunks():
                return

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ValueError(f"bad status line {lines[0][:80]!r}")
        status = int(code)
        if status < 200:
            return  # 1xx: an interim answer; the final one follows
        length: int | None = None
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise ValueError(f"bad header line {line[:80]!r}")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
                if length < 0:
                    raise ValueError("negative Content-Length")
            elif name == b"transfer-encoding":
                self.chunked = b"chunked" in value.lower()
            elif name == b"connection":
                if b"close" in value.lower():
                    self.keep_alive = False
            elif name == b"retry-after":
                self.retry_after = value.strip().decode("latin-1")
        if version == b"HTTP/1.0":
            self.keep_alive = False
        self.status = status
        if status in (204, 304):
            self.remaining = 0
        elif self.chunked:
            self.remaining = -1
        elif length is not None:
            self.remaining = length
        else:
            self.until_close = True
            self.keep_alive = False
        if self.remaining == 0:
            self._complete()

    def _skip_chunks(self) -> bool:
        """Skip whole chunks; True once the last chunk and trailers are gone, False when more bytes are needed."""
        buffer = self.buffer
        while True:
            if self.remaining > 0:  # inside a chunk (its data and the CRLF after it)
                take = min(len(buffer), self.remaining)
                del buffer[:take]
                self.remaining -= take
                if self.remaining:
                    return False
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise ValueError("chunk line too long")
                return False
            line = bytes(buffer[:end])
            del buffer[: end + 2]
            if self.remaining == -2:  # trailers, up to an empty line
                if not line:
                    self._complete()
                    return True
                continue
            size = int(line.split(b";", 1)[0].strip(), 16)
            self.remaining = size + 2 if size else -2


class OriginPool:
    """Keep-alive connections to one push-service origin, at most ``limit`` at a time."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        *,
        limit: int,
        timeout: float,
        connect_timeout: float,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.scheme = scheme
        self.host = host
        self.port = port
        self.limit = limit
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context if scheme == "https" else None
        self.addresses: list[str] = []
        self.connections = 0  # open or opening
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._waiting: deque[_Request] = deque()
        self._opening: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> int:
        """Open connections waiting for a request."""
        return len(self._idle)

    def submit(self, data: bytes, callback: Callback) -> None:
        """Send one request (the whole request, head and body); ``callback`` gets the answer or the error."""
        self._waiting.append(_Request(data, callback))
        self._pump()

    def withdraw(self, reason: str) -> int:
        """Fail the requests not yet written to a connection (they were never sent); return how many."""
        count = len(self._waiting)
        self._fail_waiting(Withdrawn(reason))
        return count

    def close(self) -> None:
        """Close every connection and fail what is waiting."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self._busy):
            connection._fail(TransportError("the push sender is closing"))
        for task in self._opening:
            task.cancel()
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        self._fail_waiting(TransportError("the push sender is closing"))

    def _sweep(self) -> None:
        """Fail requests past their deadline; runs every ``SWEEP_SECONDS`` while requests are in flight.

        One timer per pool rather than one per request: a request costs no timer handle to make and cancel.
        """
        self._sweeper = None
        now = self.loop.time()
        late = [c for c in self._busy if c.deadline <= now]
        for connection in late:
            connection._fail(TransportError("timed out waiting for the push service"))
        if late:
            # A service that lets requests time out would make each request queued behind them wait a whole
            # timeout more: fail them now (they were never sent), the outbox retries them after a backoff.
            self._fail_waiting(TransportError(f"{self.host} did not answer in time; not sent"))
        if self._busy:
            self._sweeper = self.loop.call_later(SWEEP_SECONDS, self._sweep)

    def _pump(self) -> None:
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(SWEEP_SECONDS, self._sweep)
        waiting, idle = self._waiting, self._idle
        now = 0.0
        while waiting and idle:
            connection = idle.pop()
            if connection.closed:
                continue
            if not now:
                now = self.loop.time()
            if now - connection.idle_since > IDLE_SECONDS:
                connection.close()
                continue
            connection.start(waiting.popleft(), self.timeout)
        while len(waiting) > len(self._opening) and self.connections < self.limit:
            self.connections += 1
            task = self.loop.create_task(self._open())
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    async def _open(self) -> None:
        error: Exception | None = None
        for address in self.addresses or [self.host]:
            try:
                async with asyncio.timeout(self.connect_timeout):
                    _, connection = await self.loop.create_connection(
                        lambda: _Connection(self),
                        address,
                        self.port,
                        ssl=self.ssl_context,
                        server_hostname=self.host if self.ssl_context else None,
                    )
            except (OSError, TimeoutError, ssl.SSLError) as failed:
                error = failed
                continue
            except asyncio.CancelledError:
                self.connections -= 1
                raise
            if self._waiting:
                connection.start(self._waiting.popleft(), self.timeout)
            else:
                self._release(connection)
            return
        self.connections -= 1
        # Every request waiting here would meet the same refusal: fail them now, the outbox retries later.
        self._fail_waiting(TransportError(f"cannot connect to {self.host}:{self.port} ({error!r})"))

    def _release(self, connection: _Connection) -> None:
        if self._waiting:
            connection.start(self._waiting.popleft(), self.timeout)
            return
        connection.idle_since = self.loop.time()
        self._idle.append(connection)

    def _retry(self, request: _Request) -> None:
        self._waiting.appendleft(request)
        self.loop.call_soon(self._pump)

    def _forget(self, connection: _Connection) -> None:
        self.connections -= 1
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)
        if self._waiting:
            self._pump()

    def _fail_waiting(self, error: TransportError) -> None:
        waiting, self._waiting = self._waiting, deque()
        for request in waiting:
            request.callback(error)
