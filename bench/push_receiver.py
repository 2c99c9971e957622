"""A cheap loopback push receiver for bench/push.py: answers every ``POST /push/ID`` 201, in a process of its own.

It does as little as a receiver can (no TLS, no decryption, no VAPID check), so the sender measured in the other
process gets the CPU it needs and the figures are the sender's. It counts requests and distinct subscriptions, and
keeps the body and headers of a few sampled subscriptions so the bench can check afterwards that they decrypt and
carry a valid VAPID JWT.

    python bench/push_receiver.py [--sample-every N]   # prints its port, serves until stdin closes

Control: ``GET /stats`` (JSON counts and samples), ``POST /reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import socket
import sys

OK = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
OK_CLOSE = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Stats:
    def __init__(self, sample_every: int) -> None:
        self.sample_every = sample_every
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.seen: set[bytes] = set()
        self.samples: dict[str, dict[str, str]] = {}
        self.connections = 0

    def as_json(self) -> bytes:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return json.dumps(
            {
                "requests": self.requests,
                "distinct": len(self.seen),
                "connections": self.connections,
                "samples": self.samples,
                "cpu": usage.ru_utime + usage.ru_stime,
            }
        ).encode()


class Receiver(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            lines = head.split(b"\r\n")
            length = 0
            close = False
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lower = name.strip().lower()
                if lower == b"content-length":
                    length = int(value)
                elif lower == b"connection" and b"close" in value.lower():
                    close = True
                headers[lower.decode()] = value.strip().decode("latin-1")
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, target = lines[0].split(b" ")[:2]
            self.handle(method, target, headers, body, close)

    def handle(self, method: bytes, target: bytes, headers: dict[str, str], body: bytes, close: bool) -> None:
        assert self.transport is not None
        if method == b"POST" and target.startswith(b"/push/"):
            stats = self.stats
            stats.requests += 1
            sub_id = target[6:]
            stats.seen.add(sub_id)
            if int(sub_id) % stats.sample_every == 0:
                stats.samples[sub_id.decode()] = {"body": base64.b64encode(body).decode(), **headers}
            self.transport.write(OK_CLOSE if close else OK)
        else:
            if target == b"/reset":
                self.stats.reset()
                answer = b"{}"
            else:
                answer = self.stats.as_json()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(answer)
                + answer
            )
        if close:
            self.transport.close()
            self.transport = None


async def serve(sample_every: int) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    stats = Stats(sample_every)
    server = await loop.create_server(lambda: Receiver(stats), sock=sock, backlog=4096)
    print(sock.getsockname()[1], flush=True)
    # Serve until the bench closes our stdin (or dies), so a crashed bench leaves no receiver behind.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample-every", type=int, default=500, help="keep the body of every Nth subscription")
    args = parser.parse_args()
    asyncio.run(serve(args.sample_every))


if __name__ == "__main__":
    main()
