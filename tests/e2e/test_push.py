"""Web Push end to end: the real server, a loopback push service that verifies and decrypts like a real one."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningServer, start_server, stop_server
from tests.push_service import BrowserSubscription, PushService, vapid_claims
from tests.sync_devices import Device


@pytest.fixture
def push_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """The demo server, allowed to push to loopback, gathering session edits for one second."""
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    monkeypatch.setenv("KUMPUL_ALERT_DELAY_SECONDS", "1")
    running = start_server(tmp_path / "kumpul.db", "--demo")
    yield running
    stop_server(running)


@pytest.fixture
def service(push_server: RunningServer) -> Iterator[PushService]:
    key = httpx.get(f"{push_server.url}/api/push/key").json()["publicKey"]
    with PushService(vapid_public_key=key) as running:
        yield running


def subscribe(server: RunningServer, sub: BrowserSubscription, token: str | None = None, **extra: Any) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{server.url}/api/push/subscriptions", json=sub.as_json() | extra, headers=headers)
    assert response.status_code in (200, 201), response.text


def announce(server: RunningServer, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Plenary moved to Hall B", "body": "Starts 10:30 in Hall B."} | fields
    response = httpx.post(
        f"{server.url}/api/admin/announcements", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def delivery(server: RunningServer, token: str, announcement_id: str) -> dict[str, int]:
    response = httpx.get(
        f"{server.url}/api/admin/announcements/{announcement_id}/delivery", headers={"Authorization": f"Bearer {token}"}
    )
    report: dict[str, int] = response.json()
    return report


def wait_report(server: RunningServer, token: str, announcement_id: str, **expected: int) -> dict[str, int]:
    deadline = time.monotonic() + 15
    while True:
        report = delivery(server, token, announcement_id)
        if all(report[key] == value for key, value in expected.items()) or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def test_an_announcement_reaches_every_subscription_encrypted(push_server: RunningServer, service: PushService) -> None:
    subs = service.subscriptions(20)
    for sub in subs:
        subscribe(push_server, sub)
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token, priority="urgent", body="Starts 10:30 in Hall B. " + "é" * 4000)
    deliveries = service.wait_for_sync(20)
    assert sorted(d.sub_id for d in deliveries) == sorted(s.sub_id for s in subs)
    for item in deliveries:
        message = item.json()
        assert message["id"] == record["id"]
        assert message["title"] == "Plenary moved to Hall B"
        assert message["url"] == f"/announcements/{record['id']}"
        assert message["truncated"] is True
        assert len(item.plaintext) <= 3993
        assert message["body"].startswith("Starts 10:30 in Hall B.")
        assert 3600 <= item.ttl <= 28 * 24 * 3600
        assert item.urgency == "high"
        assert item.topic
        assert len(item.topic) <= 32
        assert item.content_type == "application/octet-stream"
        claims = vapid_claims(item.headers["authorization"])
        assert claims["aud"] == service.url
        assert claims["exp"] - time.time() <= 24 * 3600
    assert len({vapid_claims(d.headers["authorization"])["exp"] for d in deliveries}) == 1, "one JWT per origin"
    counts = {"targeted": 20, "sent": 20, "failed": 0, "gone": 0, "pending": 0}
    # Devices that did not say their language get the event's own (English), and are counted under it.
    assert wait_report(push_server, token, record["id"], sent=20) == {
        **counts,
        "languages": [{"language": "en", **counts}],
    }


def test_audiences_are_honoured(push_server: RunningServer, service: PushService) -> None:
    onsite, online, unknown, follower, other = service.subscriptions(5)
    subscribe(push_server, onsite, participation="onsite")
    subscribe(push_server, online, participation="online")
    subscribe(push_server, unknown)
    session_id = httpx.get(f"{push_server.url}/api/sessions").json()[7]["id"]
    for sub in (follower, other):
        attendee = httpx.post(f"{push_server.url}/api/attendees").json()
        device = Device(attendee["token"])
        if sub is follower:
            device.bookmarks()[session_id] = True
            device.edit("profile")
            assert httpx.post(
                f"{push_server.url}/api/me/sync", json=device.request_body(), headers=device.headers
            ).is_success
        subscribe(push_server, sub, token=attendee["token"], participation="onsite")
    token = push_server.organiser_token("announcer")

    def reached(**fields: Any) -> set[str]:
        service.reset()
        record = announce(push_server, token, **fields)
        wait_report(push_server, token, record["id"], pending=0)
        return {d.sub_id for d in service.deliveries()}

    everyone = {s.sub_id for s in (onsite, online, unknown, follower, other)}
    assert reached() == everyone
    assert reached(audience="onsite") == {onsite.sub_id, unknown.sub_id, follower.sub_id, other.sub_id}
    assert reached(audience="online") == {online.sub_id, unknown.sub_id}
    assert reached(audience="session", sessionId=session_id) == {follower.sub_id}


def test_gone_subscriptions_are_removed(push_server: RunningServer, service: PushService) -> None:
    kept, gone = service.subscriptions(2)
    subscribe(push_server, kept)
    subscribe(push_server, gone)
    service.respond(gone, 410)
    token = push_server.organiser_token("announcer")
    first = announce(push_server, token)
    assert wait_report(push_server, token, first["id"], pending=0)["gone"] == 1
    second = announce(push_server, token)
    report = wait_report(push_server, token, second["id"], sent=1)
    assert report["targeted"] == 1, "the gone subscription is no longer targeted"


def test_429_is_retried_after_retry_after(push_server: RunningServer, service: PushService) -> None:
    sub = service.subscribe()
    subscribe(push_server, sub)
    service.respond(sub, 429, retry_after=2, times=1)
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token)
    delivered = service.wait_for_sync(1, timeout=15)
    refused = [f for f in service.failures if f.status == 429]
    assert len(refused) == 1
    assert delivered[0].received_at - refused[0].received_at >= 1.9
    assert wait_report(push_server, token, record["id"], sent=1)["sent"] == 1


def test_server_errors_are_retried_and_other_4xx_fail(push_server: RunningServer, service: PushService) -> None:
    flaky, broken = service.subscriptions(2)
    subscribe(push_server, flaky)
    subscribe(push_server, broken)
    service.respond(flaky, 500, times=1)
    service.respond(broken, 400)
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token)
    report = wait_report(push_server, token, record["id"], sent=1, failed=1)
    counts = {"targeted": 2, "sent": 1, "failed": 1, "gone": 0, "pending": 0}
    assert report == {**counts, "languages": [{"language": "en", **counts}]}
    assert service.counts()[flaky.sub_id] == 1


def test_a_correction_replaces_the_message_under_the_same_topic(
    push_server: RunningServer, service: PushService
) -> None:
    sub = service.subscribe()
    subscribe(push_server, sub)
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token)
    service.wait_for_sync(1)
    httpx.patch(
        f"{push_server.url}/api/admin/announcements/{record['id']}",
        json={"body": "Hall C, not Hall B."},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    first, second = service.wait_for_sync(2)
    assert first.topic == second.topic
    assert second.json()["body"] == "Hall C, not Hall B."


def test_restart_mid_fan_out_delivers_each_remaining_message_once(
    push_server: RunningServer, service: PushService
) -> None:
    subs = service.subscriptions(2000)
    with sqlite3.connect(push_server.db) as conn:
        conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at)"
            " VALUES (?, ?, ?, datetime('now'), datetime('now'))",
            [(s.endpoint, s.p256dh, s.auth) for s in subs],
        )
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token)
    service.wait_for_sync(300, timeout=30)
    service.hold()  # the requests on their way now wait: the server stops mid fan-out, whatever the machine's speed
    service.wait_until_sync(lambda: service.arrived > service.delivered + len(service.failures), what="a held request")
    mid = delivery(push_server, token, record["id"])
    assert mid["pending"] > 0, "the fan-out is still running when the server stops"
    push_server.process.terminate()  # it finishes the batch in flight, whose answers come now, and stops
    service.release()
    push_server.process.wait(timeout=30)
    stopped_at = service.delivered
    assert 300 <= stopped_at < 2000

    again = start_server(push_server.db)
    try:
        service.wait_for_sync(2000, timeout=60)
        time.sleep(0.5)
        counts = service.counts()
        assert sorted(set(counts.values())) == [1], "every subscription exactly once"
        report = wait_report(again, token, record["id"], sent=2000)
        assert {key: value for key, value in report.items() if key != "languages"} == {
            "targeted": 2000,
            "sent": 2000,
            "failed": 0,
            "gone": 0,
            "pending": 0,
        }
    finally:
        stop_server(again)


def test_session_edits_within_the_delay_become_one_alert(push_server: RunningServer, service: PushService) -> None:
    sessions = httpx.get(f"{push_server.url}/api/sessions").json()
    session = sessions[12]
    rooms = [r for r in httpx.get(f"{push_server.url}/api/rooms").json() if r["id"] != session["roomId"]]
    follower, bystander = service.subscriptions(2)
    subscribe(push_server, follower, alertSessions=[session["id"]])
    subscribe(push_server, bystander, alertSessions=[sessions[0]["id"]])
    editor = {"Authorization": f"Bearer {push_server.organiser_token('editor')}"}
    for room in rooms[:3]:
        patch = httpx.patch(
            f"{push_server.url}/api/admin/sessions/{session['id']}", json={"roomId": room["id"]}, headers=editor
        )
        patch.raise_for_status()
    httpx.patch(
        f"{push_server.url}/api/admin/sessions/{session['id']}", json={"abstract": "not an alert"}, headers=editor
    ).raise_for_status()
    (alert,) = service.wait_for_sync(1, timeout=10)
    time.sleep(1.5)
    assert service.delivered == 1
    message = alert.json()
    assert alert.sub_id == follower.sub_id
    assert message["type"] == "alert"
    assert alert.urgency == "low", "the demo's sessions are long over: the change can wait for wifi"
    assert message["sessionId"] == session["id"]
    assert message["room"] == rooms[2]["name"]
    assert rooms[2]["name"] in message["body"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.1/push/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/push",
        "https://192.168.0.1/",
    ],
)
def test_push_endpoints_inside_the_network_are_refused(push_server: RunningServer, endpoint: str) -> None:
    sub = {"endpoint": endpoint, "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}}
    response = httpx.post(f"{push_server.url}/api/push/subscriptions", json=sub)
    assert response.status_code == 400
    assert "endpoint" in response.json()["detail"]


def test_unsubscribe(push_server: RunningServer, service: PushService) -> None:
    sub = service.subscribe()
    subscribe(push_server, sub)
    forget = {"endpoint": sub.endpoint, "auth": sub.auth}
    response = httpx.request("DELETE", f"{push_server.url}/api/push/subscriptions", json=forget)
    assert response.status_code == 204
    again = httpx.request("DELETE", f"{push_server.url}/api/push/subscriptions", json=forget)
    assert again.status_code == 404
    token = push_server.organiser_token("announcer")
    record = announce(push_server, token)
    assert wait_report(push_server, token, record["id"])["targeted"] == 0


def test_an_announcement_from_the_command_line_is_pushed(push_server: RunningServer, service: PushService) -> None:
    sub = service.subscribe()
    subscribe(push_server, sub)
    result = push_server.kumpul("announce", "Lunch extended", "Lunch runs until 13:30.", "--urgent")
    assert result.returncode == 0, result.stderr
    (item,) = service.wait_for_sync(1, timeout=10)
    assert item.json()["title"] == "Lunch extended"
    assert item.urgency == "high"
