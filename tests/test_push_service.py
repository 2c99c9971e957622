"""The loopback push service is trustworthy: checked with hand-made VAPID JWTs and http_ece, not Kumpul's sender."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import http_ece
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.push_service import (
    BrowserSubscription,
    DecryptionError,
    PushService,
    b64url_decode,
    b64url_encode,
    vapid_claims,
)


@dataclass(frozen=True)
class AppServer:
    """An application server's VAPID key pair, made here independently of Kumpul."""

    private_key: ec.EllipticCurvePrivateKey
    k: str

    @classmethod
    def generate(cls) -> AppServer:
        """Make a fresh P-256 key pair."""
        key = ec.generate_private_key(ec.SECP256R1())
        k = b64url_encode(key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
        return cls(key, k)

    def jwt(self, aud: str, *, exp: float | None = None, sub: str = "mailto:ops@example.org") -> str:
        """Sign a VAPID JWT (ES256) for ``aud``; ``exp`` defaults to 12 h ahead."""
        claims: dict[str, Any] = {"aud": aud, "exp": int(exp if exp is not None else time.time() + 12 * 3600)}
        claims["sub"] = sub
        return jwt.encode(claims, self.private_key, algorithm="ES256")

    def authorization(self, aud: str, **kwargs: Any) -> str:
        """An RFC 8292 ``vapid t=..., k=...`` header value."""
        return f"vapid t={self.jwt(aud, **kwargs)}, k={self.k}"


def encrypt_for(subscription: dict[str, Any], plaintext: bytes) -> bytes:
    """Encrypt as an application server would, from the subscription JSON only (RFC 8291 aes128gcm)."""
    sender = ec.generate_private_key(ec.SECP256R1())
    body: bytes = http_ece.encrypt(
        plaintext,
        private_key=sender,
        dh=b64url_decode(subscription["keys"]["p256dh"]),
        auth_secret=b64url_decode(subscription["keys"]["auth"]),
        version="aes128gcm",
    )
    return body


@dataclass
class Push:
    """One push request, built valid, for tests to spoil one detail of."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def without(self, name: str) -> Push:
        """The same request lacking header ``name``."""
        return replace(self, headers={k: v for k, v in self.headers.items() if k != name})

    def with_header(self, name: str, value: str) -> Push:
        """The same request with header ``name`` set to ``value``."""
        return replace(self, headers={**self.headers, name: value})

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        """POST it."""
        return await client.post(self.url, content=self.body, headers=self.headers)


@pytest.fixture
def app_server() -> AppServer:
    return AppServer.generate()


@pytest.fixture
async def service(app_server: AppServer) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=app_server.k) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


def make_push(service: PushService, app_server: AppServer, sub: BrowserSubscription, plaintext: bytes) -> Push:
    """A valid push of ``plaintext`` to ``sub``."""
    return Push(
        url=sub.endpoint,
        body=encrypt_for(sub.as_json(), plaintext),
        headers={
            "Authorization": app_server.authorization(service.url),
            "TTL": "3600",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        },
    )


# -- subscriptions ---------------------------------------------------------------------------------------------------


def test_subscription_json_is_what_a_browser_gives() -> None:
    sub = BrowserSubscription("http://127.0.0.1:1/push/abc")
    data = sub.as_json()
    assert data == {"endpoint": "http://127.0.0.1:1/push/abc", "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    assert sub.sub_id == "abc"
    assert "=" not in sub.p256dh + sub.auth
    point = b64url_decode(sub.p256dh)
    assert len(point) == 65
    assert point[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    assert len(b64url_decode(sub.auth)) == 16


def test_subscription_decrypts_only_its_own_messages() -> None:
    sub, other = BrowserSubscription("http://x/push/a"), BrowserSubscription("http://x/push/b")
    body = encrypt_for(sub.as_json(), b'{"hello": "world"}')
    assert sub.decrypt(body) == b'{"hello": "world"}'
    with pytest.raises(DecryptionError):
        other.decrypt(body)
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    with pytest.raises(DecryptionError):
        sub.decrypt(tampered)
    with pytest.raises(DecryptionError):
        sub.decrypt(b"short")


def test_subscription_refuses_multi_record_messages() -> None:
    sub = BrowserSubscription("http://x/push/a")
    keys = sub.as_json()["keys"]
    body = http_ece.encrypt(
        b"x" * 100,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(keys["p256dh"]),
        auth_secret=b64url_decode(keys["auth"]),
        version="aes128gcm",
        rs=40,
    )
    with pytest.raises(DecryptionError, match="RFC 8291 allows one"):
        sub.decrypt(body)


# -- accepted messages -----------------------------------------------------------------------------------------------


async def test_delivers_decrypts_and_records_headers(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    assert sub.endpoint == f"{service.url}/push/{sub.sub_id}"
    push = make_push(service, app_server, sub, b'{"title": "Keynote moved"}')
    push = push.with_header("Urgency", "high").with_header("Topic", "session-42_moved")

    response = await push.send(client)

    assert response.status_code == 201, response.text
    assert response.headers["Location"].startswith(f"{service.url}/message/")
    [delivery] = await service.wait_for(1, timeout=2)
    assert delivery.sub_id == sub.sub_id
    assert delivery.plaintext == b'{"title": "Keynote moved"}'
    assert delivery.json() == {"title": "Keynote moved"}
    assert delivery.ttl == 3600
    assert delivery.urgency == "high"
    assert delivery.topic == "session-42_moved"
    assert delivery.content_type == "application/octet-stream"
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.claims["aud"] == service.url
    assert abs(delivery.received_at - time.time()) < 5
    assert service.counts() == {sub.sub_id: 1}
    assert service.failures == []
    assert vapid_claims(push.headers["Authorization"])["sub"] == "mailto:ops@example.org"


async def test_optional_headers_may_be_absent_and_ttl_zero_is_valid(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    push = make_push(service, app_server, sub, b"hi").with_header("TTL", "0").without("Content-Type")
    assert (await push.send(client)).status_code == 201
    [delivery] = service.deliveries(sub)
    assert (delivery.ttl, delivery.urgency, delivery.topic, delivery.content_type) == (0, None, None, None)


async def test_counts_are_per_subscription(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    subs = service.subscriptions(3)
    for sub in (subs[0], subs[0], subs[2]):
        assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 201
    assert service.counts() == {subs[0].sub_id: 2, subs[1].sub_id: 0, subs[2].sub_id: 1}
    assert len(service.deliveries(subs[0].sub_id)) == 2


async def test_key_may_be_given_lazily(app_server: AppServer, client: httpx.AsyncClient) -> None:
    published: dict[str, str] = {}
    async with PushService(vapid_public_key=lambda: published.get("k")) as service:
        sub = service.subscribe()
        first = await make_push(service, app_server, sub, b"early").send(client)
        assert first.status_code == 403
        published["k"] = app_server.k
        assert (await make_push(service, app_server, sub, b"late").send(client)).status_code == 201
    assert [d.plaintext for d in service.deliveries()] == [b"late"]


async def test_body_of_exactly_4096_bytes_is_accepted(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    push = make_push(service, app_server, sub, b"x" * 3993)  # 86 header + 3993 + 1 delimiter + 16 tag
    assert len(push.body) == 4096
    assert (await push.send(client)).status_code == 201


async def test_undecryptable_body_is_accepted_but_recorded_as_failure(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub, other = service.subscriptions(2)
    push = make_push(service, app_server, other, b"for someone else")
    response = await Push(sub.endpoint, push.body, push.headers).send(client)
    assert response.status_code == 201  # a push service cannot tell; the browser drops it
    assert service.deliveries() == []
    [failure] = service.failures
    assert (failure.sub_id, failure.status) == (sub.sub_id, 201)
    assert failure.reason.startswith("undecryptable")


# -- rejected messages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a spoiler may use: the service, the application server and the subscription."""

    service: PushService
    app_server: AppServer
    sub: BrowserSubscription

    def auth(self, aud: str | None = None, **kwargs: Any) -> str:
        """A VAPID header by the right application server, for ``aud`` (default: the service's origin)."""
        return self.app_server.authorization(aud if aud is not None else self.service.url, **kwargs)


Spoiler = Callable[[Push, Ctx], Push]
REJECTIONS: dict[str, tuple[Spoiler, int, str]] = {
    "no authorization": (lambda p, c: p.without("Authorization"), 401, "missing Authorization"),
    "bearer scheme": (
        lambda p, c: p.with_header("Authorization", f"Bearer {c.app_server.jwt(c.service.url)}"),
        401,
        "scheme",
    ),
    "wrong key": (
        lambda p, c: p.with_header("Authorization", AppServer.generate().authorization(c.service.url)),
        403,
        "does not match",
    ),
    "bad signature": (
        lambda p, c: p.with_header(
            "Authorization", f"vapid t={AppServer.generate().jwt(c.service.url)}, k={c.app_server.k}"
        ),
        403,
        "InvalidSignatureError",
    ),
    "expired": (
        lambda p, c: p.with_header("Authorization", c.auth(exp=time.time() - 60)),
        403,
        "ExpiredSignatureError",
    ),
    "exp over 24 h": (
        lambda p, c: p.with_header("Authorization", c.auth(exp=time.time() + 24 * 3600 + 120)),
        403,
        "24 hours",
    ),
    "aud without port": (lambda p, c: p.with_header("Authorization", c.auth("http://127.0.0.1")), 403, "aud"),
    "aud is the endpoint": (lambda p, c: p.with_header("Authorization", c.auth(c.sub.endpoint)), 403, "aud"),
    "sub not a URI": (lambda p, c: p.with_header("Authorization", c.auth(sub="ops@example.org")), 403, "sub"),
    "missing TTL": (lambda p, c: p.without("TTL"), 400, "missing TTL"),
    "negative TTL": (lambda p, c: p.with_header("TTL", "-1"), 400, "TTL"),
    "non-numeric TTL": (lambda p, c: p.with_header("TTL", "soon"), 400, "TTL"),
    "body over 4096 bytes": (
        lambda p, c: replace(p, body=encrypt_for(c.sub.as_json(), b"x" * 3994)),
        413,
        "4097 bytes",
    ),
    "topic too long": (lambda p, c: p.with_header("Topic", "a" * 33), 400, "Topic"),
    "topic not base64url": (lambda p, c: p.with_header("Topic", "a+b/c"), 400, "Topic"),
    "bad urgency": (lambda p, c: p.with_header("Urgency", "urgent"), 400, "Urgency"),
    "legacy aesgcm": (lambda p, c: p.with_header("Content-Encoding", "aesgcm"), 400, "Content-Encoding"),
    "no content encoding": (lambda p, c: p.without("Content-Encoding"), 400, "Content-Encoding"),
    "unknown subscription": (lambda p, c: replace(p, url=f"{c.service.url}/push/nobody"), 404, "no such"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_rejects_like_a_real_push_service(
    case: str, service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    spoil, status, reason = REJECTIONS[case]
    sub = service.subscribe()
    push = spoil(make_push(service, app_server, sub, b"payload"), Ctx(service, app_server, sub))
    response = await push.send(client)
    assert response.status_code == status, response.text
    assert service.deliveries() == []
    [failure] = service.failures
    assert failure.status == status
    assert reason in failure.reason
    assert service.counts() == {sub.sub_id: 0}


async def test_unsubscribed_endpoint_is_gone(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.unsubscribe(sub)
    assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 410


async def test_only_post_to_push_is_served(service: PushService, client: httpx.AsyncClient) -> None:
    sub = service.subscribe()
    assert (await client.get(sub.endpoint)).status_code == 405
    assert (await client.post(f"{service.url}/elsewhere")).status_code == 404


# -- configured behaviour --------------------------------------------------------------------------------------------


async def test_respond_410_until_changed(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.respond(sub.sub_id, 410)
    for _ in range(2):
        assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 410
    assert service.deliveries() == []
    assert [(f.status, f.reason) for f in service.failures] == [(410, "configured 410")] * 2


async def test_respond_429_sends_retry_after(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.respond(sub, 429, retry_after=30)
    response = await make_push(service, app_server, sub, b"m").send(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert service.counts() == {sub.sub_id: 0}


async def test_respond_500(service: PushService, app_server: AppServer, client: httpx.AsyncClient) -> None:
    sub = service.subscribe()
    service.respond(sub, 500)
    response = await make_push(service, app_server, sub, b"m").send(client)
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


async def test_respond_times_reverts_to_201(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub, other = service.subscriptions(2)
    service.respond(sub, 503, retry_after=1, times=1)
    assert (await make_push(service, app_server, other, b"other").send(client)).status_code == 201
    assert (await make_push(service, app_server, sub, b"first").send(client)).status_code == 503
    assert (await make_push(service, app_server, sub, b"second").send(client)).status_code == 201
    assert [d.plaintext for d in service.deliveries(sub)] == [b"second"]


async def test_configured_response_does_not_hide_invalid_requests(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.respond(sub, 410, times=1)
    assert (await make_push(service, app_server, sub, b"m").without("TTL").send(client)).status_code == 400
    assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 410


async def test_hang_until_the_client_gives_up(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.respond(sub, "hang", times=1)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await client.post(
            sub.endpoint,
            content=make_push(service, app_server, sub, b"m").body,
            headers=make_push(service, app_server, sub, b"m").headers,
            timeout=0.3,
        )
    assert time.monotonic() - started >= 0.3
    await service.wait_until(lambda: len(service.failures) == 1, timeout=5)
    assert [(f.status, f.reason) for f in service.failures] == [(0, "hang: client gave up")]
    assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 201


async def test_stop_releases_hanging_requests(app_server: AppServer) -> None:
    service = PushService(vapid_public_key=app_server.k)
    await asyncio.to_thread(service.start)
    sub = service.subscribe()
    service.respond(sub, "hang")
    async with httpx.AsyncClient(timeout=10) as http:
        pending = asyncio.create_task(make_push(service, app_server, sub, b"m").send(http))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(service.stop)
        assert time.monotonic() - started < 3
        assert (await pending).status_code == 503


async def test_delay_slows_every_response(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.delay = 0.3
    started = time.monotonic()
    assert (await make_push(service, app_server, sub, b"m").send(client)).status_code == 201
    assert time.monotonic() - started >= 0.3
    assert (await make_push(service, app_server, sub, b"m").without("TTL").send(client)).status_code == 400
    assert time.monotonic() - started >= 0.6


async def test_client_leaving_during_delay_is_not_a_delivery(
    service: PushService, app_server: AppServer, client: httpx.AsyncClient
) -> None:
    sub = service.subscribe()
    service.delay = 1.0
    push = make_push(service, app_server, sub, b"m")
    with pytest.raises(httpx.ReadTimeout):
        await client.post(push.url, content=push.body, headers=push.headers, timeout=0.2)
    await service.wait_until(lambda: bool(service.failures), timeout=5)
    assert service.deliveries() == []
    assert service.failures[0].status == 0
    assert "client disconnected during delay" in service.failures[0].reason


async def test_wait_for_times_out_with_a_summary(service: PushService) -> None:
    with pytest.raises(TimeoutError, match="0 deliveries, 0 failures"):
        await service.wait_for(1, timeout=0.05)


async def test_many_concurrent_messages(service: PushService, app_server: AppServer, client: httpx.AsyncClient) -> None:
    subs = service.subscriptions(200)
    pushes = [make_push(service, app_server, sub, os.urandom(32)) for sub in subs]
    limits = asyncio.Semaphore(50)

    async def send(push: Push) -> int:
        async with limits:
            return (await push.send(client)).status_code

    statuses = await asyncio.gather(*(send(p) for p in pushes))
    assert set(statuses) == {201}
    await service.wait_for(200, timeout=5)
    assert set(service.counts().values()) == {1}


# -- the sync, thread-based interface used by subprocess e2e tests ---------------------------------------------------


def test_sync_start_stop_and_wait(app_server: AppServer) -> None:
    with PushService(vapid_public_key=app_server.k) as service:
        sub = service.subscribe()
        push = make_push(service, app_server, sub, b"from a thread")
        with httpx.Client(timeout=5) as http:
            assert http.post(push.url, content=push.body, headers=push.headers).status_code == 201
        [delivery] = service.wait_for_sync(1, timeout=2)
        assert delivery.plaintext == b"from a thread"
        with pytest.raises(TimeoutError):
            service.wait_for_sync(2, timeout=0.05)
    with pytest.raises(httpx.ConnectError), httpx.Client(timeout=1) as http:
        http.post(push.url, content=push.body, headers=push.headers)


def test_restart_keeps_url_subscriptions_and_records(app_server: AppServer) -> None:
    service = PushService(vapid_public_key=app_server.k)
    with service, httpx.Client(timeout=5) as http:
        url = service.url
        sub = service.subscribe()
        push = make_push(service, app_server, sub, b"before")
        assert http.post(push.url, content=push.body, headers=push.headers).status_code == 201
    with service, httpx.Client(timeout=5) as http:
        assert service.url == url
        push = make_push(service, app_server, sub, b"after")
        assert http.post(push.url, content=push.body, headers=push.headers).status_code == 201
    assert [d.plaintext for d in service.deliveries(sub)] == [b"before", b"after"]
