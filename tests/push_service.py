"""A loopback Web Push service (RFC 8030 + RFC 8291 aes128gcm + RFC 8292 VAPID) for tests.

The service runs uvicorn in a background thread with its own event loop, so it serves async tests, sync tests and a
Kumpul server running as a subprocess alike. It checks requests the way real push services do, decrypts every
accepted message as the subscribed browser would, and records what arrived.

Status codes follow the RFCs: 401 when VAPID authorization is absent or not the ``vapid`` scheme, 403 when it is
present but invalid (wrong ``k``, bad signature, bad or missing claims), 400 for a missing or malformed ``TTL``,
``Urgency``, ``Topic`` or ``Content-Encoding``, 413 for bodies over 4096 bytes, 404 for an unknown subscription and 410
for one the browser has unsubscribed.

A message whose body does not decrypt is still answered 201, as a real push service cannot tell (the browser drops it
silently); it is recorded in ``failures`` and never counts as a delivery. Pass ``reject_undecryptable=True`` to answer
400 instead.

A message is recorded as delivered only when its response is sent: if the client disconnects during ``delay`` the
attempt is recorded as a failure with status 0, so a sender restarted mid-fan-out can achieve exactly-once delivery.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import http_ece
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_VAPID_EXP_SECONDS",
    "BrowserSubscription",
    "DecryptionError",
    "Delivery",
    "Failure",
    "PushService",
    "ResponseSpec",
    "b64url_decode",
    "b64url_encode",
    "parse_vapid_header",
    "vapid_claims",
]

MAX_BODY_BYTES = 4096
MAX_VAPID_EXP_SECONDS = 24 * 60 * 60
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
TOPIC_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
TTL_RE = re.compile(r"[0-9]+")
AES128GCM_HEADER_BYTES = 16 + 4 + 1
P256_POINT_BYTES = 65

ResponseSpec = int | Literal["hang"]
"""What ``PushService.respond`` makes a subscription answer: an HTTP status, or ``"hang"`` to never answer."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
KeySource = str | Callable[[], str | None] | None


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding, as Web Push keys are published."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raise ValueError on anything else."""
    stripped = text.strip().rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", stripped):
        raise ValueError(f"not base64url: {text!r}")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64url: {text!r}") from exc


def parse_vapid_header(authorization: str) -> tuple[str, str]:
    """Split ``vapid t=<JWT>, k=<key>`` into ``(t, k)``; raise ValueError if it is not that shape."""
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"authorization scheme is {scheme!r}, not 'vapid'")
    values: dict[str, str] = {}
    for part in params.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            values[name.strip().lower()] = value.strip().strip('"')
    if not values.get("t") or not values.get("k"):
        raise ValueError("vapid authorization needs both t= and k=")
    return values["t"], values["k"]


def vapid_claims(authorization_header: str) -> dict[str, Any]:
    """Return the (unverified) JWT claims of a ``vapid t=..., k=...`` Authorization header."""
    token, _ = parse_vapid_header(authorization_header)
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


class DecryptionError(ValueError):
    """A push message body that the subscribing browser could not decrypt."""


class BrowserSubscription:
    """A push subscription as a browser makes one: a P-256 key pair and a 16-byte auth secret."""

    def __init__(self, endpoint: str, sub_id: str | None = None) -> None:
        """Create fresh keys for ``endpoint``; ``sub_id`` defaults to the endpoint's last path segment."""
        self.endpoint: str = endpoint
        self.sub_id: str = sub_id if sub_id is not None else endpoint.rstrip("/").rsplit("/", 1)[-1]
        self.private_key: ec.EllipticCurvePrivateKey = ec.generate_private_key(ec.SECP256R1())
        self.public_key_bytes: bytes = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        self.auth_secret: bytes = os.urandom(16)
        self.p256dh: str = b64url_encode(self.public_key_bytes)
        self.auth: str = b64url_encode(self.auth_secret)

    def __repr__(self) -> str:
        """Show the endpoint only."""
        return f"BrowserSubscription({self.endpoint!r})"

    def as_json(self) -> dict[str, Any]:
        """Return the subscription as ``PushSubscription.toJSON()`` gives it to the page."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> bytes:
        """Decrypt an RFC 8291 aes128gcm body; raise DecryptionError as a browser would drop it."""
        if len(body) < AES128GCM_HEADER_BYTES + P256_POINT_BYTES + 17:
            raise DecryptionError(f"body of {len(body)} bytes is too short for an aes128gcm push message")
        record_size = struct.unpack("!L", body[16:20])[0]
        id_len = body[20]
        if id_len != P256_POINT_BYTES:
            raise DecryptionError(f"keyid is {id_len} bytes, not the sender's 65-byte uncompressed P-256 key")
        keyid = body[AES128GCM_HEADER_BYTES : AES128GCM_HEADER_BYTES + id_len]
        if keyid[0] != 0x04:
            raise DecryptionError("keyid is not an uncompressed P-256 point")
        ciphertext = body[AES128GCM_HEADER_BYTES + id_len :]
        if len(ciphertext) > record_size:
            raise DecryptionError(f"message spans several records (rs={record_size}); RFC 8291 allows one")
        try:
            plaintext: bytes = http_ece.decrypt(
                body, private_key=self.private_key, dh=None, auth_secret=self.auth_secret, version="aes128gcm"
            )
        except http_ece.ECEException as exc:
            raise DecryptionError(exc.message) from exc
        except ValueError as exc:  # an invalid sender point in keyid
            raise DecryptionError(str(exc)) from exc
        return plaintext


@dataclass(frozen=True, slots=True)
class Delivery:
    """A push message the service accepted (2xx) and the browser decrypted."""

    sub_id: str
    plaintext: bytes
    ttl: int
    urgency: str | None
    topic: str | None
    headers: dict[str, str]
    received_at: float
    content_type: str | None = None
    status: int = 201
    claims: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """Parse the plaintext as JSON."""
        return json.loads(self.plaintext)


@dataclass(frozen=True, slots=True)
class Failure:
    """A request that did not become a delivery; status 0 means no response was sent (the client gave up)."""

    sub_id: str | None
    status: int
    reason: str
    headers: dict[str, str]
    received_at: float


@dataclass(slots=True)
class _Rule:
    """A configured answer for one subscription; ``remaining`` None means until changed."""

    status: ResponseSpec
    retry_after: int | None
    remaining: int | None


@dataclass(slots=True)
class _Outcome:
    """What the service decided for one request, before the response is sent."""

    status: ResponseSpec
    reason: str
    sub_id: str | None
    delivery: Delivery | None = None
    retry_after: int | None = None
    failure: bool = False


class _Rejected(Exception):
    """Raised while validating a request to answer it with ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        """Carry the status and a reason for ``failures``."""
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PushService:
    """A loopback push service on 127.0.0.1 serving ``POST /push/{sub_id}`` from a uvicorn thread."""

    def __init__(self, vapid_public_key: KeySource, *, reject_undecryptable: bool = False) -> None:
        """Expect VAPID key ``k`` = ``vapid_public_key`` (base64url, or a callable read per request; None: any key)."""
        self.vapid_public_key: KeySource = vapid_public_key
        self.reject_undecryptable = reject_undecryptable
        self.delay: float = 0.0
        self._held = False
        self._released: asyncio.Event | None = None
        self._lock = threading.RLock()  # re-entrant so wait predicates may call the query methods
        self._changed = threading.Condition(self._lock)
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._gone: set[str] = set()
        self._rules: dict[str, _Rule] = {}
        self._deliveries: list[Delivery] = []
        self._failures: list[Failure] = []
        self._counts: dict[str, int] = {}
        self._arrived = 0
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        # Signature-verified JWTs by (token, k): senders reuse one token for many messages; claims are rechecked.
        self._verified: dict[tuple[str, bytes], dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The service's origin, ``http://127.0.0.1:PORT``."""
        if self._port is None:
            raise RuntimeError("PushService is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def origin(self) -> str:
        """The origin VAPID ``aud`` must equal (the same as ``url``)."""
        return self.url

    def start(self) -> Self:
        """Serve from a background thread (on a free port, or the previous one on restart); return once listening."""
        if self._thread is not None:
            raise RuntimeError("PushService is already started")
        # proto=IPPROTO_TCP, or asyncio leaves Nagle on for accepted sockets and responses stall 40 ms on delayed ACKs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self._port or 0))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            log_level="warning",
            access_log=False,
            interface="asgi3",
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
            backlog=4096,
        )
        self._server = uvicorn.Server(config)
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"push-service-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"push service did not start: {self._error!r}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Answer hanging requests 503, shut uvicorn down and join its thread."""
        server, thread, loop, stopping = self._server, self._thread, self._loop, self._stopping
        if server is None or thread is None:
            return
        server.should_exit = True
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("push service thread did not stop")
        self._server = self._thread = self._loop = self._stopping = None

    def _run(self, sock: socket.socket) -> None:
        """Thread body: run uvicorn on its own event loop."""
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:
            self._error = exc
        finally:
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        """Record the loop, then serve until ``should_exit``."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._released = asyncio.Event()
        assert self._server is not None
        await self._server.serve(sockets=[sock])

    def __enter__(self) -> Self:
        """Start for a ``with`` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop at the end of a ``with`` block."""
        self.stop()

    async def __aenter__(self) -> Self:
        """Start for an ``async with`` block without blocking the caller's loop."""
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop at the end of an ``async with`` block."""
        await asyncio.to_thread(self.stop)

    # -- subscriptions and behaviour -------------------------------------------------------------------------------

    def subscribe(self) -> BrowserSubscription:
        """Create a browser subscription whose endpoint is ``{url}/push/{sub_id}``."""
        sub_id = secrets.token_urlsafe(12)
        subscription = BrowserSubscription(f"{self.url}/push/{sub_id}", sub_id)
        with self._lock:
            self._subscriptions[sub_id] = subscription
            self._counts[sub_id] = 0
        return subscription

    def subscriptions(self, n: int) -> list[BrowserSubscription]:
        """Create ``n`` browser subscriptions."""
        return [self.subscribe() for _ in range(n)]

    def unsubscribe(self, sub: str | BrowserSubscription) -> None:
        """Expire a subscription as the browser unsubscribing does: later messages get 410 Gone."""
        sub_id = _sub_id(sub)
        with self._lock:
            self._gone.add(sub_id)

    def respond(
        self,
        sub: str | BrowserSubscription,
        status: ResponseSpec,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Answer valid requests to ``sub`` with ``status`` (or ``"hang"``), for the next ``times`` only if given."""
        if status != "hang" and not (isinstance(status, int) and 200 <= status <= 599):
            raise ValueError(f"status must be an HTTP status 200-599 or 'hang', not {status!r}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._rules[_sub_id(sub)] = _Rule(status, retry_after, times)

    def hold(self) -> None:
        """Hold every answer back until ``release``: requests still arrive (``arrived`` counts them) and wait."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Answer the held requests and stop holding."""
        with self._lock:
            self._held = False
        loop, released = self._loop, self._released
        if loop is not None and released is not None:
            loop.call_soon_threadsafe(released.set)

    def reset(self) -> None:
        """Forget deliveries, failures and configured responses (subscriptions stay)."""
        with self._lock:
            self._deliveries.clear()
            self._failures.clear()
            self._rules.clear()
            self._counts = dict.fromkeys(self._subscriptions, 0)
            self._arrived = 0

    # -- queries ---------------------------------------------------------------------------------------------------

    def deliveries(self, sub_id: str | BrowserSubscription | None = None) -> list[Delivery]:
        """Successful deliveries in arrival order, all or for one subscription."""
        with self._lock:
            if sub_id is None:
                return list(self._deliveries)
            wanted = _sub_id(sub_id)
            return [d for d in self._deliveries if d.sub_id == wanted]

    def counts(self) -> dict[str, int]:
        """Number of successful (2xx) deliveries per sub_id, 0 for subscriptions that got none."""
        with self._lock:
            return dict(self._counts)

    @property
    def failures(self) -> list[Failure]:
        """Requests that were rejected, answered non-2xx, undecryptable, or abandoned by the client."""
        with self._lock:
            return list(self._failures)

    @property
    def arrived(self) -> int:
        """Requests received whole so far, answered or not yet (a ``delay`` or ``"hang"`` holds the answer back)."""
        with self._lock:
            return self._arrived

    @property
    def delivered(self) -> int:
        """Total number of successful deliveries."""
        with self._lock:
            return len(self._deliveries)

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[Delivery]:  # noqa: ASYNC109 -- the harness API
        """Await until at least ``n`` successful deliveries are recorded; return them all or raise TimeoutError."""
        await self.wait_until(lambda: len(self._deliveries) >= n, timeout, f"{n} deliveries")
        return self.deliveries()

    def wait_for_sync(self, n: int, timeout: float = 10.0) -> list[Delivery]:
        """Block (thread-safely) until at least ``n`` successful deliveries are recorded; return them all."""
        self.wait_until_sync(lambda: len(self._deliveries) >= n, timeout, f"{n} deliveries")
        return self.deliveries()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 -- mirrors wait_until_sync
        what: str = "condition",
    ) -> None:
        """Await until ``predicate()`` (evaluated under the service lock) holds, else raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate():
                    return
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what, timeout))
            await asyncio.sleep(0.005)

    def wait_until_sync(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        """Block until ``predicate()`` (evaluated under the service lock) holds, else raise TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(predicate, timeout):
                raise TimeoutError(self._timeout_message(what, timeout, locked=True))

    def _timeout_message(self, what: str, timeout: float, *, locked: bool = False) -> str:
        """Describe the state when a wait times out."""
        with contextlib.nullcontext() if locked else self._lock:
            recent = "; ".join(f"{f.sub_id}: {f.status} {f.reason}" for f in self._failures[-5:])
            return (
                f"no {what} within {timeout} s: {len(self._deliveries)} deliveries, "
                f"{len(self._failures)} failures (last: {recent or 'none'})"
            )

    # -- recording -------------------------------------------------------------------------------------------------

    def _record_delivery(self, delivery: Delivery) -> None:
        """Store a delivery and wake waiters."""
        with self._changed:
            self._deliveries.append(delivery)
            self._counts[delivery.sub_id] = self._counts.get(delivery.sub_id, 0) + 1
            self._changed.notify_all()

    def _record_failure(
        self, sub_id: str | None, status: int, reason: str, headers: dict[str, str], received_at: float
    ) -> None:
        """Store a failure and wake waiters."""
        with self._changed:
            self._failures.append(Failure(sub_id, status, reason, headers, received_at))
            self._changed.notify_all()

    # -- the ASGI app ----------------------------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI request."""
        if scope["type"] != "http":
            return
        received_at = time.time()
        headers = _headers(scope)
        body = await _read_body(receive)
        if body is None:  # the client went away before sending the whole body
            return
        with self._changed:
            self._arrived += 1
            held = self._held
            self._changed.notify_all()
        if held and await self._held_back(receive):
            return
        outcome = self._decide(scope, headers, body, received_at)
        if outcome.status == "hang":
            await self._hang(outcome, receive, send, headers, received_at)
            return
        if self.delay > 0 and await self._client_left(receive, self.delay):
            self._record_failure(
                outcome.sub_id, 0, f"client disconnected during delay ({outcome.reason})", headers, received_at
            )
            return
        if outcome.delivery is not None:
            self._record_delivery(outcome.delivery)
        if outcome.failure:
            self._record_failure(outcome.sub_id, outcome.status, outcome.reason, headers, received_at)
        await _respond(send, outcome.status, outcome.reason, self._response_headers(outcome))

    def _response_headers(self, outcome: _Outcome) -> list[tuple[bytes, bytes]]:
        """Headers for a response: Location and TTL on 201, Retry-After when configured."""
        extra: list[tuple[bytes, bytes]] = []
        if outcome.delivery is not None:
            extra.append((b"location", f"{self.url}/message/{secrets.token_urlsafe(12)}".encode()))
            extra.append((b"ttl", str(outcome.delivery.ttl).encode()))
        if outcome.retry_after is not None:
            extra.append((b"retry-after", str(outcome.retry_after).encode()))
        return extra

    async def _hang(
        self, outcome: _Outcome, receive: Receive, send: Send, headers: dict[str, str], received_at: float
    ) -> None:
        """Never answer: wait for the client to give up (recorded, status 0) or the service to stop (503)."""
        if await self._client_left(receive, None):
            self._record_failure(outcome.sub_id, 0, "hang: client gave up", headers, received_at)
            return
        self._record_failure(outcome.sub_id, 503, "hang: service stopped", headers, received_at)
        await _respond(send, 503, "service stopping", [])

    async def _held_back(self, receive: Receive) -> bool:
        """Wait for ``release`` (or stop); True if the client disconnected meanwhile (then nothing is answered)."""
        assert self._released is not None
        assert self._stopping is not None
        while True:
            with self._lock:
                if not self._held:
                    return False
            self._released.clear()
            with self._lock:
                if not self._held:  # released between the check and the clear
                    return False
            released = asyncio.ensure_future(self._released.wait())
            disconnect = asyncio.ensure_future(receive())
            stopping = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({released, disconnect, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if disconnect.done() and disconnect.result().get("type") == "http.disconnect":
                    return True
                if stopping.done():
                    return False
            finally:
                for task in (released, disconnect, stopping):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(released, disconnect, stopping, return_exceptions=True)

    async def _client_left(self, receive: Receive, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: forever) or until stop; return True if the client disconnected meanwhile."""
        assert self._stopping is not None
        disconnect = asyncio.ensure_future(receive())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({disconnect, stopping}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            return disconnect.done() and disconnect.result().get("type") == "http.disconnect"
        finally:
            for task in (disconnect, stopping):
                if not task.done():
                    task.cancel()
            await asyncio.gather(disconnect, stopping, return_exceptions=True)

    def _decide(self, scope: Scope, headers: dict[str, str], body: bytes, received_at: float) -> _Outcome:
        """Validate the request like a push service, decrypt like the browser, apply any configured response."""
        sub_id: str | None = None
        try:
            sub_id = self._route(scope)
            if len(body) > MAX_BODY_BYTES:
                raise _Rejected(413, f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
            with self._lock:
                subscription = self._subscriptions.get(sub_id)
                gone = sub_id in self._gone
            if subscription is None:
                raise _Rejected(404, "no such subscription")
            if gone:
                raise _Rejected(410, "subscription expired (unsubscribed)")
            claims = self._check_vapid(headers.get("authorization"))
            ttl, urgency, topic = _check_push_headers(headers, body)
        except _Rejected as rejected:
            return _Outcome(rejected.status, rejected.reason, sub_id, failure=True)

        rule = self._take_rule(sub_id)
        if rule is not None and rule.status == "hang":
            return _Outcome("hang", "hang", sub_id)
        status = rule.status if rule is not None else 201
        retry_after = rule.retry_after if rule is not None else None
        assert isinstance(status, int)
        if not 200 <= status < 300:
            return _Outcome(status, f"configured {status}", sub_id, retry_after=retry_after, failure=True)
        try:
            plaintext = subscription.decrypt(body) if body else b""
        except DecryptionError as exc:
            reason = f"undecryptable: {exc}"
            if self.reject_undecryptable:
                return _Outcome(400, reason, sub_id, failure=True)
            return _Outcome(status, reason, sub_id, retry_after=retry_after, failure=True)
        delivery = Delivery(
            sub_id=sub_id,
            plaintext=plaintext,
            ttl=ttl,
            urgency=urgency,
            topic=topic,
            headers=headers,
            received_at=received_at,
            content_type=headers.get("content-type"),
            status=status,
            claims=claims,
        )
        return _Outcome(status, "delivered", sub_id, delivery=delivery, retry_after=retry_after)

    def _route(self, scope: Scope) -> str:
        """Return the sub_id of ``POST /push/{sub_id}`` or reject with 404/405."""
        path: str = scope["path"]
        prefix, _, sub_id = path.rpartition("/")
        if prefix != "/push" or not sub_id:
            raise _Rejected(404, f"no route for {path}")
        if scope["method"] != "POST":
            raise _Rejected(405, f"method {scope['method']} not allowed")
        return sub_id

    def _take_rule(self, sub_id: str) -> _Rule | None:
        """Return the configured response for ``sub_id`` and count down its ``times``."""
        with self._lock:
            rule = self._rules.get(sub_id)
            if rule is None:
                return None
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del self._rules[sub_id]
            return _Rule(rule.status, rule.retry_after, None)

    def _expected_key(self) -> bytes | None:
        """The pinned application server key as bytes, None if any key is accepted."""
        source = self.vapid_public_key
        value = source() if callable(source) else source
        if value is None:
            if callable(source):
                raise _Rejected(403, "application server key is not known yet")
            return None
        return b64url_decode(value)

    def _check_vapid(self, authorization: str | None) -> dict[str, Any]:
        """Verify RFC 8292 VAPID authorization and return the JWT claims, or reject with 401/403."""
        if not authorization:
            raise _Rejected(401, "missing Authorization header")
        try:
            token, k = parse_vapid_header(authorization)
        except ValueError as exc:
            raise _Rejected(401, str(exc)) from exc
        try:
            k_bytes = b64url_decode(k)
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), k_bytes)
        except ValueError as exc:
            raise _Rejected(403, f"k is not an uncompressed P-256 public key: {exc}") from exc
        if len(k_bytes) != P256_POINT_BYTES:
            raise _Rejected(403, "k is not an uncompressed P-256 public key")
        expected = self._expected_key()
        if expected is not None and k_bytes != expected:
            raise _Rejected(403, "k does not match the subscription's application server key")
        claims = self._verified.get((token, k_bytes))
        if claims is None:
            claims = self._verify_jwt(token, k_bytes, authorization)
            if len(self._verified) >= 4096:
                self._verified.clear()
            self._verified[token, k_bytes] = claims
        now = time.time()
        if claims["exp"] <= now:
            raise _Rejected(403, "invalid JWT: ExpiredSignatureError: Signature has expired")
        if claims["exp"] > now + MAX_VAPID_EXP_SECONDS:
            raise _Rejected(403, "JWT exp is more than 24 hours ahead")
        return claims

    def _verify_jwt(self, token: str, k_bytes: bytes, authorization: str) -> dict[str, Any]:
        """Verify the JWT's ES256 signature by ``k`` and its aud, exp and sub claims."""
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), k_bytes)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=["ES256"],
                audience=self.origin,
                options={"require": ["exp", "aud", "sub"]},
            )
        except jwt.InvalidAudienceError as exc:
            aud = vapid_claims(authorization).get("aud")
            raise _Rejected(403, f"JWT aud {aud!r} is not {self.origin!r}") from exc
        except jwt.InvalidTokenError as exc:
            raise _Rejected(403, f"invalid JWT: {type(exc).__name__}: {exc}") from exc
        if not isinstance(claims["exp"], int | float):
            raise _Rejected(403, "JWT exp is not a number")
        if not _valid_sub(claims["sub"]):
            raise _Rejected(403, f"JWT sub {claims['sub']!r} is not a mailto: or https: URI")
        return claims


def _sub_id(sub: str | BrowserSubscription) -> str:
    """Accept a sub_id or a subscription."""
    return sub.sub_id if isinstance(sub, BrowserSubscription) else sub


def _valid_sub(sub: object) -> bool:
    """Whether a VAPID ``sub`` claim is a mailto: or https: URI."""
    if not isinstance(sub, str):
        return False
    if sub.startswith("mailto:"):
        return "@" in sub[len("mailto:") :]
    parts = urlsplit(sub)
    return parts.scheme == "https" and bool(parts.netloc)


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers with lower-case names; repeated headers are joined with ', '."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _check_push_headers(headers: dict[str, str], body: bytes) -> tuple[int, str | None, str | None]:
    """Validate TTL, Urgency, Topic and Content-Encoding (RFC 8030, RFC 8291); return (ttl, urgency, topic)."""
    raw_ttl = headers.get("ttl")
    if raw_ttl is None:
        raise _Rejected(400, "missing TTL header")
    if not TTL_RE.fullmatch(raw_ttl.strip()):
        raise _Rejected(400, f"TTL {raw_ttl!r} is not a non-negative integer")
    urgency = headers.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise _Rejected(400, f"Urgency {urgency!r} is not one of {sorted(URGENCIES)}")
    topic = headers.get("topic")
    if topic is not None and not TOPIC_RE.fullmatch(topic):
        raise _Rejected(400, f"Topic {topic!r} is not 1-32 base64url characters")
    encoding = headers.get("content-encoding")
    if body and (encoding is None or encoding.strip().lower() != "aes128gcm"):
        raise _Rejected(400, f"Content-Encoding {encoding!r} is not aes128gcm")
    return int(raw_ttl), urgency, topic


async def _read_body(receive: Receive) -> bytes | None:
    """Read the whole request body; None if the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, reason: str, extra_headers: list[tuple[bytes, bytes]]) -> None:
    """Send a small JSON response, shaped like autopush's error bodies."""
    body = json.dumps({"code": status, "message": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
