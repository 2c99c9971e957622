"""The push sender against a loopback push service that verifies VAPID and decrypts like a browser."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.push.crypto import PayloadCipher
from server.push.sender import Message, Push, PushSender
from server.push.vapid import VapidSigner, load_or_create_keys
from tests.push_service import PushService, vapid_claims

MESSAGE = Message(payload=json.dumps({"title": "Lunch moved"}).encode(), ttl=600, urgency="high", topic="lunch")


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[PushSender]:
    keys = load_or_create_keys(tmp_path)
    running = PushSender(
        PayloadCipher(keys),
        VapidSigner(keys, "mailto:organisers@arat.example"),
        allow_insecure_loopback=True,
        connections_per_origin=4,
    )
    await running.start()
    yield running
    await running.close()


@pytest.fixture
async def service(sender: PushSender) -> AsyncIterator[PushService]:
    async with PushService(vapid_public_key=sender.signer.keys.application_server_key) as running:
        yield running


def pushes(service: PushService, count: int, message: Message = MESSAGE) -> list[Push]:
    return [Push(sub.endpoint, sub.p256dh, sub.auth, message) for sub in service.subscriptions(count)]


async def test_a_batch_reaches_every_subscription_over_a_few_connections(
    sender: PushSender, service: PushService
) -> None:
    batch = pushes(service, 60)
    outcomes = await sender.send_many(batch)
    assert [outcome.result for outcome in outcomes] == ["sent"] * 60
    assert sorted(service.counts().values()) == [1] * 60
    delivery = service.deliveries()[0]
    assert delivery.json() == {"title": "Lunch moved"}
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (600, "high", "lunch")
    assert delivery.content_type == "application/octet-stream"
    assert delivery.claims["aud"] == service.origin
    [pool] = sender.pools.values()
    assert pool.connections <= 4, "no more connections to one push service than allowed"
    tokens = {vapid_claims(d.headers["authorization"])["exp"] for d in service.deliveries()}
    assert len(tokens) == 1, "one VAPID JWT for the whole batch"


async def test_each_answer_becomes_the_outcome_of_its_own_message(sender: PushSender, service: PushService) -> None:
    batch = pushes(service, 6)
    for push, status in zip(batch[1:], (410, 404, 429, 500, 400), strict=True):
        service.respond(push.endpoint.rsplit("/", 1)[1], status, retry_after=7 if status == 429 else None)
    outcomes = await sender.send_many(batch)
    assert [(o.result, o.status) for o in outcomes] == [
        ("sent", 201),
        ("gone", 410),
        ("gone", 404),
        ("retry", 429),
        ("retry", 500),
        ("failed", 400),
    ]
    assert outcomes[3].retry_after == 7.0


async def test_a_bad_subscription_fails_alone(sender: PushSender, service: PushService) -> None:
    good, bad, refused = pushes(service, 3)
    bad = Push(bad.endpoint, "not-a-point", bad.auth, MESSAGE)
    refused = Push("https://10.0.0.8/push/x", refused.p256dh, refused.auth, MESSAGE)
    outcomes = await sender.send_many([good, bad, refused])
    assert [outcome.result for outcome in outcomes] == ["sent", "failed", "failed"]
    assert service.delivered == 1
    assert all(not key[1].startswith("10.") for key in sender.pools), "no connection to a private address"


async def test_endpoint_query_is_kept_and_fragment_dropped(sender: PushSender, service: PushService) -> None:
    [push] = pushes(service, 1)
    outcomes = await sender.send_many([Push(f"{push.endpoint}?v=2#frag", push.p256dh, push.auth, MESSAGE)])
    assert outcomes[0].result == "sent"
    assert service.delivered == 1


async def test_oversized_payload_is_refused_without_a_request(sender: PushSender, service: PushService) -> None:
    [push] = pushes(service, 1, Message(b"x" * 4000, 60, "normal", "big"))
    assert (await sender.send(push.endpoint, push.p256dh, push.auth, push.message)).result == "failed"
    assert service.failures == []


async def test_encryption_survives_its_process_dying(sender: PushSender, service: PushService) -> None:
    pid = sender.encryption.pid
    assert pid is not None, "the encryption process starts with the sender"
    os.kill(pid, signal.SIGKILL)
    first = await sender.send_many(pushes(service, 5))
    assert [outcome.result for outcome in first] == ["sent"] * 5, "encrypted in the server while it restarts"
    second = await sender.send_many(pushes(service, 5))
    assert [outcome.result for outcome in second] == ["sent"] * 5
    assert sender.encryption.pid not in (None, pid), "a new encryption process took over"
