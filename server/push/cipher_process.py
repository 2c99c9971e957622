"""Payload encryption in a child process, so a fan-out's ECDH work neither holds the server's GIL nor its core.

``cryptography`` keeps the GIL during an ECDH exchange, so encrypting in a thread still stalls the event loop
(each I/O wake-up waits for the thread to yield the GIL) and uses one core. One long-lived child process does
the encryption instead: the server sends it a batch of ``(payload, p256dh, auth)`` and gets the bodies back,
as length-prefixed msgpack frames over its stdin and stdout. If the child cannot start or dies, the batch is
encrypted in a thread of the server and the child is started again at the next batch.

Run as ``python -m server.push.cipher_process`` by :class:`CipherProcess`; not meant to be started by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import struct
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import msgspec

from server.push.crypto import PayloadCipher

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
#: Largest frame either side accepts (a batch of 256 full-size messages is about 1.1 MB).
MAX_FRAME = 64 * 1024 * 1024
#: How long the child may take for a batch before it is taken for stuck (and stopped): generous, as a busy
#: machine may give it little CPU, but bounded so a stuck child cannot stall the outbox.
CHILD_SECONDS = 30.0
CHILD_SECONDS_PER_ITEM = 0.05
Items = Sequence[tuple[bytes, str, str]]
#: A body, or the reason it could not be encrypted.
Result = bytes | ValueError
_encoder = msgspec.msgpack.Encoder()
_request = msgspec.msgpack.Decoder(list[tuple[bytes, str, str]])
_response = msgspec.msgpack.Decoder(list[tuple[bytes, str]])  # (body, error text or '')


class CipherProcess:
    """Encrypts batches in a child process, falling back to a thread of this process."""

    def __init__(self, cipher: PayloadCipher | None = None) -> None:
        self.cipher = cipher or PayloadCipher()
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._fallback = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kumpul-push-crypto")

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def start(self) -> None:
        """Start the child ahead of the first batch (it takes a few hundred milliseconds to import)."""
        async with self._lock:
            try:
                await self._started()
            except OSError as error:
                log.warning("push encryption process did not start (%s); will try again at the first batch", error)

    async def encrypt_many(self, items: Items) -> list[Result]:
        """Encrypt a batch; the results are in the order of ``items``."""
        if not items:
            return []
        async with self._lock:
            try:
                async with asyncio.timeout(CHILD_SECONDS + CHILD_SECONDS_PER_ITEM * len(items)):
                    return await self._in_child(items)
            except (OSError, EOFError, ValueError, TimeoutError, msgspec.DecodeError) as error:
                log.warning("push encryption process failed (%r); encrypting this batch in a thread", error)
                await self._stop()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._fallback, self.cipher.encrypt_many, items)

    async def close(self) -> None:
        """Stop the child and the fallback thread."""
        async with self._lock:
            await self._stop()
        self._fallback.shutdown(wait=False, cancel_futures=True)

    async def _started(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is None or process.returncode is not None:
            process = self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server.push.cipher_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        return process

    async def _in_child(self, items: Items) -> list[Result]:
        process = await self._started()
        assert process.stdin is not None
        assert process.stdout is not None
        frame = _encoder.encode(list(items))
        process.stdin.write(_LENGTH.pack(len(frame)) + frame)
        await process.stdin.drain()
        (length,) = _LENGTH.unpack(await process.stdout.readexactly(_LENGTH.size))
        if length > MAX_FRAME:
            raise ValueError(f"encryption process answered a frame of {length} bytes")
        answers = _response.decode(await process.stdout.readexactly(length))
        if len(answers) != len(items):
            raise ValueError(f"encryption process answered {len(answers)} of {len(items)}")
        return [ValueError(error) if error else body for body, error in answers]

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def serve(source: BinaryIO | None = None, sink: BinaryIO | None = None) -> None:
    """The child's loop: read a batch, answer its bodies (or error texts), until its input closes."""
    source = source or sys.stdin.buffer
    sink = sink or sys.stdout.buffer
    # The server ends the child by closing its input; a Ctrl+C meant for the server must not kill it mid-batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cipher = PayloadCipher()
    read, write, flush = source.read, sink.write, sink.flush
    while True:
        head = read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        (length,) = _LENGTH.unpack(head)
        if length > MAX_FRAME:
            return
        items = _request.decode(read(length))
        answers = [
            (result, "") if isinstance(result, bytes) else (b"", str(result)) for result in cipher.encrypt_many(items)
        ]
        frame = _encoder.encode(answers)
        write(_LENGTH.pack(len(frame)) + frame)
        flush()


if __name__ == "__main__":
    serve()
