"""Encrypts messages and posts them to push services, a batch at a time, and says what happened (RFC 8030)."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from server.errors import Invalid
from server.push.cipher_process import CipherProcess
from server.push.crypto import PayloadCipher
from server.push.endpoints import Resolver, check_endpoint, resolve_host
from server.push.transport import Answer, OriginPool, TransportError, Withdrawn
from server.push.vapid import VapidSigner

log = logging.getLogger(__name__)

#: ``unsent``: withdrawn before it reached the push service (a stopping server), to be sent again at once.
Result = Literal["sent", "gone", "retry", "failed", "unsent"]
REQUEST_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
#: Connections kept per push-service origin. Each carries one request at a time, so this is also how many
#: requests are in flight to one push service; enough to cover its round trip while the CPU encrypts the rest.
CONNECTIONS_PER_ORIGIN = 32
_HOST_CHECK_SECONDS = 300.0
_TARGET = re.compile(r"/[\x21-\x22\x24-\x7e]*")  # printable ASCII but "#": what a request line can carry


@dataclass(frozen=True, slots=True)
class Message:
    """One push message before encryption.

    Attributes:
        payload: The plaintext (JSON), at most 3,993 bytes.
        ttl: Seconds the push service may keep it for an offline device (never 0).
        urgency: ``very-low``, ``low``, ``normal`` or ``high`` (RFC 8030 section 5.3).
        topic: Replaces a pending message with the same topic (RFC 8030 section 5.4).
    """

    payload: bytes
    ttl: int
    urgency: str
    topic: str


@dataclass(frozen=True, slots=True)
class Push:
    """One message for one subscription."""

    endpoint: str
    p256dh: str
    auth: str
    message: Message


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    status: int | None = None
    retry_after: float | None = None


FAILED = Outcome("failed")
RETRY = Outcome("retry")
UNSENT = Outcome("unsent")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def classify(status: int, retry_after: str | None) -> Outcome:
    """What a push service's answer means for the message and the subscription."""
    if 200 <= status < 300:
        return Outcome("sent", status)
    if status in (404, 410):
        return Outcome("gone", status)
    if status == 429 or status >= 500:
        return Outcome("retry", status, retry_after_seconds(retry_after))
    return Outcome("failed", status)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where requests to one origin go: its pool and Host header, and when its host was last checked."""

    pool: OriginPool
    host_header: str
    checked_at: float


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch ready to post: outcomes known already (refused, not encrypted) and ``(index, pool, request)``."""

    outcomes: list[Outcome | None]
    requests: list[tuple[int, OriginPool, bytes]]


@dataclass(frozen=True, slots=True)
class Posting:
    """Requests on their way: ``outcomes`` (in the order prepared) fill in as answers come; ``done`` when all did.

    An outcome still None has no answer yet.
    """

    outcomes: list[Outcome | None]
    done: asyncio.Future[None]


def _parse_endpoint(endpoint: str) -> tuple[tuple[str, str, int], str] | None:
    """``((scheme, host, port), request target)`` of an endpoint, or None when it cannot be requested as is."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        log.warning("a push endpoint is not a URL; it is skipped")  # the endpoint itself is the device's secret address
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")  # the Host header and TLS name are ASCII
        except UnicodeError:
            log.warning("push endpoint host %r is not a valid name", host[:80])
            return None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if parts.scheme not in ("https", "http") or not host or not _TARGET.fullmatch(path):
        log.warning("push endpoint on %s cannot be requested as it is", host or "?")
        return None
    return (parts.scheme, host, port), path


class _Endpoints:
    """Splits endpoints into origin and request target, parsing each origin once.

    Endpoints of one push service share their ``scheme://host[:port]`` and differ in the path, so the origin
    part is looked up in a small cache and only the path is checked per endpoint. Anything unusual in the
    origin part (userinfo, a query or fragment before the path) goes through the full parse.
    """

    def __init__(self) -> None:
        self._origins: dict[str, tuple[str, str, int] | None] = {}

    def split(self, endpoint: str) -> tuple[tuple[str, str, int], str] | None:
        scheme_end = endpoint.find("://")
        slash = endpoint.find("/", scheme_end + 3) if scheme_end > 0 else -1
        origin = endpoint[:slash]
        if slash < 0 or any(mark in origin for mark in "?#@\\"):
            return _parse_endpoint(endpoint)
        if origin in self._origins:
            key = self._origins[origin]
        else:
            parsed = _parse_endpoint(origin + "/")
            key = parsed[0] if parsed is not None else None
            if len(self._origins) >= 1024:
                self._origins.clear()
            self._origins[origin] = key
        path = endpoint[slash:]
        if key is None or not _TARGET.fullmatch(path):
            return _parse_endpoint(endpoint)
        return key, path


class PushSender:
    """Encrypts and posts messages over keep-alive connections, one small pool per push-service origin.

    Encryption (an ECDH exchange per message, most of the CPU of a push) runs a batch at a time in a child
    process (:mod:`server.push.cipher_process`), so the event loop stays free to serve requests meanwhile and
    a fan-out can use a second core.
    """

    def __init__(
        self,
        cipher: PayloadCipher,
        signer: VapidSigner,
        *,
        allow_insecure_loopback: bool = False,
        connections_per_origin: int = CONNECTIONS_PER_ORIGIN,
        timeout: float = REQUEST_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        resolve: Resolver = resolve_host,
    ) -> None:
        self.cipher = cipher
        self.signer = signer
        self.allow_insecure_loopback = allow_insecure_loopback
        #: Looks up push service hosts; connections go to the addresses it gave when the host was checked.
        self.resolve = resolve
        self.connections_per_origin = connections_per_origin
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._pools: dict[tuple[str, str, int], OriginPool] = {}
        self._targets: dict[tuple[str, str, int], _Target] = {}
        self._endpoints = _Endpoints()
        self.encryption = CipherProcess(cipher)
        self._ssl: ssl.SSLContext | None = None

    @property
    def pools(self) -> dict[tuple[str, str, int], OriginPool]:
        """The connection pool of each origin sent to, by ``(scheme, host, port)``."""
        return self._pools

    async def start(self) -> None:
        """Start the encryption process now, so the first fan-out does not wait for it."""
        await self.encryption.start()

    async def close(self) -> None:
        """Close every connection and the encryption process."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._targets.clear()
        await self.encryption.close()

    def withdraw_unsent(self) -> int:
        """Take back every request still queued for a connection (outcome ``unsent``); return how many.

        A stopping server keeps on the wire only what one connection per slot already carries, so its stop
        waits for a few answers rather than for the rest of a fan-out.
        """
        return sum(pool.withdraw("the server is stopping; not sent") for pool in self._pools.values())

    async def send(self, endpoint: str, p256dh: str, auth: str, message: Message) -> Outcome:
        """Send one message; never raises for network trouble (that is a retry)."""
        return (await self.send_many([Push(endpoint, p256dh, auth, message)]))[0]

    async def send_many(self, pushes: Sequence[Push]) -> list[Outcome]:
        """Send a batch of messages concurrently; the outcomes are in the order of ``pushes``.

        Never raises for a refused endpoint, bad keys or network trouble: those are outcomes.
        """
        return await self.post(await self.prepare(pushes))

    async def prepare(self, pushes: Sequence[Push]) -> Prepared:
        """Check the endpoints' hosts and encrypt every message, ready to :meth:`post`.

        Split from posting so a caller can prepare the next batch while this one is on the wire.
        """
        outcomes: list[Outcome | None] = [None] * len(pushes)
        routes: list[tuple[OriginPool, str, str] | None] = [None] * len(pushes)
        origins: dict[tuple[str, str, int], _Target | None] = {}
        prefixes: dict[tuple[tuple[str, str, int], Message], str] = {}
        now = time.time()
        for index, push in enumerate(pushes):
            parsed = self._endpoints.split(push.endpoint)
            if parsed is None:
                outcomes[index] = FAILED
                continue
            key, path = parsed
            if key in origins:
                target = origins[key]
            else:
                target = origins[key] = await self._target(key, push.endpoint)
            if target is None:
                outcomes[index] = FAILED
                continue
            prefix = prefixes.get((key, push.message))
            if prefix is None:
                message = push.message
                prefix = prefixes[key, message] = (
                    f"Host: {target.host_header}\r\n"
                    f"Authorization: {self.signer.authorization(push.endpoint, now=now)}\r\n"
                    f"TTL: {max(1, message.ttl)}\r\nUrgency: {message.urgency}\r\nTopic: {message.topic}\r\n"
                    "Content-Encoding: aes128gcm\r\nContent-Type: application/octet-stream\r\n"
                )
            routes[index] = (target.pool, path, prefix)
        work = [index for index, route in enumerate(routes) if route is not None]
        requests: list[tuple[int, OriginPool, bytes]] = []
        if work:
            items = [(pushes[i].message.payload, pushes[i].p256dh, pushes[i].auth) for i in work]
            bodies = await self.encryption.encrypt_many(items)
            for index, body in zip(work, bodies, strict=True):
                if isinstance(body, ValueError):
                    log.warning("push to %s not encrypted: %s", urlsplit(pushes[index].endpoint).hostname, body)
                    outcomes[index] = FAILED
                    continue
                pool, path, prefix = routes[index]  # type: ignore[misc]
                head = f"POST {path} HTTP/1.1\r\n{prefix}Content-Length: {len(body)}\r\n\r\n"
                requests.append((index, pool, head.encode("latin-1") + body))
        return Prepared(outcomes, requests)

    async def post(self, prepared: Prepared) -> list[Outcome]:
        """Post prepared requests, all at once over the origins' pools; the outcomes in the order prepared."""
        posting = self.submit(prepared)
        await posting.done
        return [outcome or FAILED for outcome in posting.outcomes]

    def submit(self, prepared: Prepared) -> Posting:
        """Start posting prepared requests; their outcomes fill in as the answers come (see :class:`Posting`).

        Every request ends within the timeout: a push service that hangs holds up only its own requests.
        """
        outcomes = list(prepared.outcomes)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        remaining = len(prepared.requests)
        if not remaining:
            done.set_result(None)

        def answered(index: int, pool: OriginPool, answer: Answer | TransportError) -> None:
            nonlocal remaining
            if isinstance(answer, Answer):
                outcome = classify(answer.status, answer.retry_after)
                if outcome.result == "failed":
                    log.warning("push to %s failed with %d", pool.host, answer.status)
            elif isinstance(answer, Withdrawn):
                outcome = UNSENT
            else:
                log.info("push to %s did not complete (%s); will retry", pool.host, answer)
                outcome = RETRY
            outcomes[index] = outcome
            remaining -= 1
            if remaining == 0 and not done.done():
                done.set_result(None)

        for index, pool, data in prepared.requests:
            pool.submit(data, lambda answer, index=index, pool=pool: answered(index, pool, answer))  # type: ignore[misc]
        return Posting(outcomes, done)

    async def _target(self, key: tuple[str, str, int], endpoint: str) -> _Target | None:
        """The pool and Host header for an origin, checking its host again every few minutes.

        The check repeats at send time because DNS may have changed since the subscription was stored.
        """
        target = self._targets.get(key)
        now = time.monotonic()
        if target is not None and now - target.checked_at <= _HOST_CHECK_SECONDS:
            return target
        scheme, host, port = key
        try:
            addresses = await check_endpoint(
                endpoint, allow_insecure_loopback=self.allow_insecure_loopback, resolve=self.resolve
            )
        except Invalid as error:
            log.warning("push to %s refused: %s", host, error.detail)
            self._targets.pop(key, None)
            return None
        pool = self._pool(key)
        pool.addresses = addresses
        bracketed = f"[{host}]" if ":" in host else host
        default = 443 if scheme == "https" else 80
        target = _Target(pool, bracketed if port == default else f"{bracketed}:{port}", now)
        self._targets[key] = target
        return target

    def _pool(self, key: tuple[str, str, int]) -> OriginPool:
        pool = self._pools.get(key)
        if pool is None:
            scheme, host, port = key
            if scheme == "https" and self._ssl is None:
                self._ssl = ssl.create_default_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            pool = OriginPool(
                scheme,
                host,
                port,
                limit=self.connections_per_origin,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                ssl_context=self._ssl,
            )
            self._pools[key] = pool
        return pool
