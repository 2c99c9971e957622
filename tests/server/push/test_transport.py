"""The push client's HTTP/1.1 connections: keep-alive reuse, the per-origin limit, answers of every framing, failures.

Each test talks to a small scripted HTTP server on loopback, which answers every request with what the test says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.push.transport import Answer, OriginPool, TransportError

REQUEST = b"POST /push/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
CREATED = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"

#: What the server answers to the n-th request (counted from 0): bytes to write, or None to never answer.
Script = Callable[[int], bytes | None]


@dataclass
class ScriptedServer:
    """Reads whole requests (Content-Length bodies), answers each as the script says, and counts what it saw."""

    script: Script
    close_after: set[int] = field(default_factory=set)
    drop: set[int] = field(default_factory=set)
    requests: int = 0
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    delay: float = 0.0
    port: int = 0
    received: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                number = self.requests
                self.requests += 1
                self.received.set()
                if number in self.drop:
                    return  # close without answering, as a service closing an idle connection does
                if self.delay:
                    await asyncio.sleep(self.delay)
                answer = self.script(number)
                if answer is None:
                    await reader.read()  # never answer; wait for the client to give up
                    return
                writer.write(answer)
                await writer.drain()
                if number in self.close_after:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open_now -= 1
            writer.close()


Serve = Callable[..., Awaitable[ScriptedServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start scripted servers on loopback; they stop when the test ends."""
    servers: list[asyncio.Server] = []

    async def start(script: Script, **options: Any) -> ScriptedServer:
        scripted = ScriptedServer(script, **options)
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
        scripted.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return scripted

    yield start
    for server in servers:
        server.close()


def pool_for(scripted: ScriptedServer, *, limit: int = 4, timeout: float = 5.0) -> OriginPool:
    pool = OriginPool(
        "http", "127.0.0.1", scripted.port, limit=limit, timeout=timeout, connect_timeout=2.0, ssl_context=None
    )
    pool.addresses = ["127.0.0.1"]
    return pool


async def send(pool: OriginPool, count: int, request: bytes = REQUEST) -> list[Answer | TransportError]:
    """Submit ``count`` requests at once and wait for every answer."""
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(count)]
    for future in futures:
        pool.submit(request, future.set_result)
    return list(await asyncio.wait_for(asyncio.gather(*futures), 10))


async def test_requests_reuse_one_keep_alive_connection(serve: Serve) -> None:
    scripted = await serve(lambda n: CREATED)
    pool = pool_for(scripted, limit=1)
    for _ in range(5):
        assert await send(pool, 1) == [Answer(201)]
    assert scripted.requests == 5
    assert scripted.connections == 1
    pool.close()


async def test_no_more_connections_than_the_limit(serve: Serve) -> None:
    scripted = await serve(lambda n: CREATED, delay=0.02)
    pool = pool_for(scripted, limit=4)
    answers = await send(pool, 40)
    assert answers == [Answer(201)] * 40
    assert scripted.most_open <= 4
    assert scripted.connections == 4
    assert pool.idle == 4
    pool.close()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'HTTP/1.1 201 Created\r\nContent-Length: 13\r\n\r\n{"ok": true}\n', Answer(201)),
        (
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nslow \r\n5\r\ndown!\r\n0\r\nX-Trailer: 1\r\n\r\n",
            Answer(429, "30"),
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", Answer(201)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", Answer(204)),
        (b"HTTP/1.1 410 Gone\r\ncontent-length: 4\r\n\r\ngone", Answer(410)),
    ],
)
async def test_answers_of_every_framing_keep_the_connection(serve: Serve, answer: bytes, expected: Answer) -> None:
    scripted = await serve(lambda n: answer)
    pool = pool_for(scripted, limit=1)
    assert await send(pool, 3) == [expected] * 3
    assert scripted.connections == 1
    pool.close()


async def test_answer_ended_by_closing_and_connection_close(serve: Serve) -> None:
    until_close = b"HTTP/1.1 500 Internal Server Error\r\n\r\nsomething broke"
    closing = b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    scripted = await serve(lambda n: until_close if n == 0 else closing, close_after={0, 1, 2})
    pool = pool_for(scripted, limit=1)
    assert await send(pool, 1) == [Answer(500)]
    assert await send(pool, 2) == [Answer(201), Answer(201)]
    assert scripted.connections == 3, "no connection is reused after its answer ended it"
    pool.close()


async def test_idle_connection_closed_by_the_service_is_replaced(serve: Serve) -> None:
    scripted = await serve(lambda n: CREATED, close_after={0})
    pool = pool_for(scripted, limit=1)
    assert await send(pool, 1) == [Answer(201)]
    await asyncio.sleep(0.05)  # the service closes the idle connection
    assert await send(pool, 1) == [Answer(201)]
    assert scripted.requests == 2, "each message reached the service once"
    assert scripted.connections == 2
    pool.close()


async def test_request_on_a_reused_connection_closed_unanswered_is_sent_again(serve: Serve) -> None:
    scripted = await serve(lambda n: CREATED, drop={1})
    pool = pool_for(scripted, limit=1)
    assert await send(pool, 1) == [Answer(201)]
    assert await send(pool, 1) == [Answer(201)], "sent again on a fresh connection"
    assert scripted.requests == 3
    assert scripted.connections == 2
    scripted.drop = {3}
    pool2 = pool_for(scripted, limit=1)
    [outcome] = await send(pool2, 1)
    assert isinstance(outcome, TransportError), "a fresh connection closed unanswered is not retried"
    pool.close()


async def test_a_request_without_an_answer_times_out(serve: Serve) -> None:
    scripted = await serve(lambda n: None)
    pool = pool_for(scripted, timeout=0.2)
    [outcome] = await send(pool, 1)
    assert isinstance(outcome, TransportError)
    assert "timed out" in str(outcome)
    pool.close()


async def test_malformed_answer_is_an_error(serve: Serve) -> None:
    scripted = await serve(lambda n: b"SPDY/3 200 OK\r\n\r\n")
    pool = pool_for(scripted)
    [outcome] = await send(pool, 1)
    assert isinstance(outcome, TransportError)
    assert "malformed" in str(outcome)
    pool.close()


async def test_refused_connection_fails_every_waiting_request() -> None:
    scripted = ScriptedServer(lambda n: CREATED, port=1)  # nothing listens on port 1
    pool = pool_for(scripted, limit=2)
    outcomes = await send(pool, 5)
    assert all(isinstance(outcome, TransportError) for outcome in outcomes)
    assert "cannot connect" in str(outcomes[0])
    assert pool.connections == 0


async def test_close_fails_requests_in_flight(serve: Serve) -> None:
    scripted = await serve(lambda n: None)
    pool = pool_for(scripted, limit=1)
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    for future in futures:
        pool.submit(REQUEST, future.set_result)
    await asyncio.wait_for(scripted.received.wait(), 5)
    pool.close()
    outcomes = await asyncio.wait_for(asyncio.gather(*futures), 5)
    assert all(isinstance(outcome, TransportError) for outcome in outcomes)
