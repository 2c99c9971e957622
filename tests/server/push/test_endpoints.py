"""Push endpoints: only https on public hosts, so no client can aim the server inside its network."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.errors import Invalid
from server.push.crypto import PayloadCipher
from server.push.endpoints import Resolver, check_endpoint, resolve_host
from server.push.sender import Message, PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from tests.push_service import PushService

LOOPBACK = [
    "https://127.0.0.1/push",
    "https://127.1.2.3:8443/push",
    "https://127.1/push",
    "https://2130706433/push",
    "https://0x7f000001/push",
    "https://0x7f.1/push",
    "https://0177.0.0.1/push",
    "https://0.0.0.0/push",
    "https://0/push",
    "https://[::1]/push",
    "https://[0:0:0:0:0:0:0:1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://[::ffff:7f00:1]/push",
    "https://[::127.0.0.1]/push",
    "https://[64:ff9b::7f00:1]/push",
    "https://[2002:7f00:1::1]/push",
    "https://[::]/push",
    "https://localhost/push",
    "https://LOCALHOST./push",
    "https://ip6-localhost/push",
    "https://push.localhost/x",
    "https://foo.localhost/push",
    "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/push",  # full-width letters spelling localhost
]
PRIVATE = [
    "https://10.0.0.8/push",
    "https://10.255.255.255/push",
    "https://172.16.4.4/push",
    "https://172.31.255.254/push",
    "https://192.168.1.20/push",
    "https://100.64.0.1/push",
    "https://100.127.255.254/push",
    "https://[fc00::1]/push",
    "https://[fd12:3456:789a::1]/push",
    "https://[::ffff:10.0.0.1]/push",
    "https://[::ffff:0:10.0.0.1]/push",  # IPv4-translated (RFC 6052 / SIIT), missing from Python 3.11's tables
    "https://[::ffff:0:a00:1]/push",
    "https://[::ffff:0:127.0.0.1]/push",
    "https://192.0.0.1/push",  # IETF protocol assignments (192.0.0.0/24): 3.11 calls .9 and .10 global
    "https://192.0.0.9/push",
    "https://192.0.0.10/push",
    "https://192.0.0.170/push",
    "https://[::ffff:192.0.0.9]/push",
    "https://[64:ff9b::a00:1]/push",
    "https://[64:ff9b:1::808:808]/push",
    "https://198.18.0.1/push",
    "https://240.0.0.1/push",
    "https://255.255.255.255/push",
    "https://224.0.0.1/push",
    "https://[ff02::1]/push",
    "https://printer.local/push",
    "https://metadata.internal/push",
    "https://router.home.arpa/push",
]
LINK_LOCAL = [
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:169.254.169.254]/latest/meta-data",
    "https://[::ffff:0:169.254.169.254]/latest/meta-data",
    "https://[fe80::1]/push",
    "https://[fe80::1%25eth0]/push",
]
NOT_HTTPS_OR_NOT_A_URL = [
    "http://push.example.com/send/1",
    "http://8.8.8.8/push",
    "ftp://8.8.8.8/x",
    "ws://8.8.8.8/x",
    "https:///push",
    "not a url",
    "https://8.8.8.8:0/push",
    "https://8.8.8.8:99999/push",
    "https://8.8.8.8:port/push",
    "https://[::1/push",
]
CREDENTIALS = [
    "https://user:pass@8.8.8.8/push",
    "https://user@8.8.8.8/push",
    "https://:pass@8.8.8.8/push",
    "https://@8.8.8.8/push",
    "https://8.8.8.8\\@127.0.0.1/push",
]


def answers(table: dict[str, list[str]]) -> Resolver:
    """A resolver that knows only the names in ``table`` (CI has no DNS)."""

    async def resolve(host: str) -> list[str]:
        return table.get(host, [])

    return resolve


@pytest.mark.parametrize("endpoint", LOOPBACK + PRIVATE + LINK_LOCAL + NOT_HTTPS_OR_NOT_A_URL + CREDENTIALS)
async def test_internal_and_insecure_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(Invalid) as refused:
        await check_endpoint(endpoint, resolve=answers({}))
    assert refused.value.field == "endpoint"


@pytest.mark.parametrize(
    ("addresses", "words"),
    [
        (["127.0.0.1"], "loopback, private or link-local"),
        (["::1"], "loopback, private or link-local"),
        (["10.1.2.3"], "loopback, private or link-local"),
        (["169.254.169.254"], "loopback, private or link-local"),
        (["fd00::5"], "loopback, private or link-local"),
        (["8.8.8.8", "192.168.0.10"], "loopback, private or link-local"),
        ([], "does not resolve"),
    ],
)
async def test_a_name_resolving_inside_is_refused(addresses: list[str], words: str) -> None:
    resolve = answers({"push.example.org": addresses})
    with pytest.raises(Invalid) as refused:
        await check_endpoint("https://push.example.org/wpush/v2/abc", resolve=resolve)
    assert words in refused.value.detail


async def test_the_system_resolver_sees_a_name_resolving_to_loopback() -> None:
    assert "127.0.0.1" in await resolve_host("localhost"), "Debian's /etc/hosts names localhost"

    async def alias_of_localhost(host: str) -> list[str]:
        return await resolve_host("localhost") if host == "push.example.org" else []

    with pytest.raises(Invalid) as refused:
        await check_endpoint("https://push.example.org/wpush/v2/abc", resolve=alias_of_localhost)
    assert "loopback, private or link-local" in refused.value.detail


async def test_public_https_endpoints_are_accepted() -> None:
    resolve = answers({"fcm.googleapis.com": ["142.250.0.95", "2a00:1450:4001:80b::200a"]})
    assert await check_endpoint("https://fcm.googleapis.com/wp/abc", resolve=resolve) == [
        "142.250.0.95",
        "2a00:1450:4001:80b::200a",
    ]
    assert await check_endpoint("https://8.8.8.8/wpush/v2/abc") == ["8.8.8.8"]
    assert await check_endpoint("https://[2001:4860:4860::8888]:8443/wpush/v2/abc") == ["2001:4860:4860::8888"]
    assert await check_endpoint("https://[::ffff:8.8.8.8]/wpush/v2/abc") == ["::ffff:808:808"]
    assert await check_endpoint("https://[64:ff9b::808:808]/wpush/v2/abc") == ["64:ff9b::808:808"]


async def test_insecure_loopback_only_when_allowed_and_only_loopback() -> None:
    resolve = answers({"push.example.org": ["127.0.0.1"]})
    for endpoint in (
        "http://127.0.0.1:9999/push/1",
        "http://localhost:9999/push/1",
        "http://[::1]:9999/push/1",
        "http://push.example.org:9999/push/1",
    ):
        await check_endpoint(endpoint, allow_insecure_loopback=True, resolve=resolve)
    for endpoint in (
        "http://10.0.0.1/push",
        "http://192.168.1.1/push",
        "http://169.254.169.254/",
        "http://127.1:9999/push/1",
        "http://user:pass@127.0.0.1:9999/push/1",
        "http://push.example.com/push",
    ):
        with pytest.raises(Invalid):
            await check_endpoint(endpoint, allow_insecure_loopback=True, resolve=resolve)


# -- the sender connects where the check looked ------------------------------------------------------------------


@pytest.fixture
async def service() -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=None) as running:
        yield running


async def test_sender_connects_to_the_checked_address_not_a_new_dns_answer(
    tmp_path: Path, service: PushService
) -> None:
    """DNS rebinding: the name answers a harmless address for the check and an internal one afterwards.

    The name is in no real DNS, so a request reaching the loopback service proves the sender connected to the
    address it checked. (The service refuses it with 403: the VAPID audience names the host, not 127.0.0.1.)
    """
    lookups: list[str] = []

    async def rebinding(host: str) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.8"]

    keys = load_or_create_keys(tmp_path)
    sender = PushSender(
        PayloadCipher(keys),
        VapidSigner(keys, "mailto:organisers@arat.example"),
        allow_insecure_loopback=True,
        resolve=rebinding,
    )
    await sender.start()
    try:
        port = service.url.rsplit(":", 1)[1]
        subscription = service.subscribe()
        endpoint = f"http://push.rebinding.test:{port}/push/{subscription.sub_id}"
        message = Message(payload=json.dumps({"title": "Lunch moved"}).encode(), ttl=60, urgency="normal", topic="t")
        outcomes = [await sender.send(endpoint, subscription.p256dh, subscription.auth, message) for _ in range(3)]
        [pool] = sender.pools.values()
        connected_to = pool.addresses
    finally:
        await sender.close()
    assert lookups == ["push.rebinding.test"], "looked up once, when checked"
    assert connected_to == ["127.0.0.1"]
    assert [outcome.status for outcome in outcomes] == [403] * 3, "answered by the loopback service"
    assert [failure.sub_id for failure in service.failures] == [subscription.sub_id] * 3
