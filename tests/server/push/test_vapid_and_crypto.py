"""Kumpul's VAPID signing and payload encryption, checked against independent implementations."""

from __future__ import annotations

import json
import stat
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from server.push.crypto import MAX_PLAINTEXT, PayloadCipher, PayloadTooLarge
from server.push.payloads import alert_urgency, fit, topic_for
from server.push.sender import classify, retry_after_seconds
from server.push.vapid import JWT_LIFETIME, VapidSigner, load_or_create_keys, origin_of
from tests.push_service import BrowserSubscription, b64url_decode, parse_vapid_header


def test_keys_are_made_once_and_the_private_key_is_private(tmp_path: Path) -> None:
    first = load_or_create_keys(tmp_path)
    mode = stat.S_IMODE((tmp_path / "vapid_private.pem").stat().st_mode)
    assert mode == 0o600
    again = load_or_create_keys(tmp_path)
    assert again.application_server_key == first.application_server_key
    assert len(b64url_decode(first.application_server_key)) == 65


@pytest.mark.parametrize(
    ("endpoint", "origin"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", "https://fcm.googleapis.com"),
        ("https://push.example.org:8443/wpush/v2/x", "https://push.example.org:8443"),
        ("https://push.example.org:443/x", "https://push.example.org"),
        ("http://127.0.0.1:9123/push/1", "http://127.0.0.1:9123"),
        ("https://[2001:db8::1]:9000/p", "https://[2001:db8::1]:9000"),
    ],
)
def test_jwt_audience_keeps_a_non_default_port(endpoint: str, origin: str) -> None:
    assert origin_of(endpoint) == origin


def test_one_jwt_per_origin_reused_until_near_expiry(tmp_path: Path) -> None:
    keys = load_or_create_keys(tmp_path)
    signer = VapidSigner(keys, "mailto:organisers@arat.example")
    now = time.time()
    first = signer.authorization("https://push.example.org:8443/a", now=now)
    assert signer.authorization("https://push.example.org:8443/b", now=now + 60) == first
    other = signer.authorization("https://fcm.googleapis.com/x", now=now)
    assert other != first
    renewed = signer.authorization("https://push.example.org:8443/a", now=now + JWT_LIFETIME - 60)
    assert renewed != first
    token, key = parse_vapid_header(first)
    assert key == keys.application_server_key
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="https://push.example.org:8443")
    assert claims["sub"] == "mailto:organisers@arat.example"
    assert 0 < claims["exp"] - now <= 24 * 3600


def test_payload_decrypts_with_an_independent_implementation(tmp_path: Path) -> None:
    cipher = PayloadCipher(load_or_create_keys(tmp_path))
    browser = BrowserSubscription("https://push.example.org/x")
    message = json.dumps({"title": "Lunch extended", "body": "Until 13:30 — ขอบคุณ"}).encode()
    body = cipher.encrypt(message, browser.p256dh, browser.auth)
    assert browser.decrypt(body) == message
    assert cipher.encrypt(message, browser.p256dh, browser.auth) != body, "fresh salt and key every time"


def test_payload_size_is_checked(tmp_path: Path) -> None:
    cipher = PayloadCipher(load_or_create_keys(tmp_path))
    browser = BrowserSubscription("https://push.example.org/x")
    assert browser.decrypt(cipher.encrypt(b"x" * MAX_PLAINTEXT, browser.p256dh, browser.auth)) == b"x" * MAX_PLAINTEXT
    with pytest.raises(PayloadTooLarge):
        cipher.encrypt(b"x" * (MAX_PLAINTEXT + 1), browser.p256dh, browser.auth)


def test_long_bodies_are_cut_to_fit_and_marked() -> None:
    payload = {"type": "announcement", "title": "T", "body": "ยาว" * 3000}
    data = fit(payload, "body")
    assert len(data) <= MAX_PLAINTEXT
    decoded = json.loads(data)
    assert decoded["truncated"] is True
    assert decoded["body"].endswith("…")
    assert json.loads(fit({"body": "short"}, "body")) == {"body": "short"}


def test_topics_are_short_urlsafe_and_stable() -> None:
    topic = topic_for("announcement", "ann-0123456789ab")
    assert topic == topic_for("announcement", "ann-0123456789ab")
    assert topic != topic_for("alert", "ann-0123456789ab")
    assert len(topic) <= 32
    assert set(topic) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("status", "retry_after", "result", "seconds"),
    [
        (201, None, "sent", None),
        (404, None, "gone", None),
        (410, None, "gone", None),
        (429, "7", "retry", 7.0),
        (503, None, "retry", None),
        (500, "3", "retry", 3.0),
        (400, None, "failed", None),
        (401, None, "failed", None),
        (413, None, "failed", None),
    ],
)
def test_push_service_answers_are_classified(
    status: int, retry_after: str | None, result: str, seconds: float | None
) -> None:
    outcome = classify(status, retry_after)
    assert outcome.result == result
    assert outcome.retry_after == seconds


def test_retry_after_as_an_http_date() -> None:
    seconds = retry_after_seconds(formatdate(time.time() + 30, usegmt=True))
    assert seconds is not None
    assert 25 <= seconds <= 31
    assert retry_after_seconds("soon") is None


def test_alert_urgency_depends_on_how_soon_the_session_is() -> None:
    now = datetime(2024, 7, 23, 8, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert alert_urgency(now + hour, now + 2 * hour, now) == "normal"
    assert alert_urgency(now - hour, now + hour, now) == "normal", "running now"
    assert alert_urgency(now + 23 * hour, now + 24 * hour, now) == "normal"
    assert alert_urgency(now + 30 * hour, now + 31 * hour, now) == "low", "tomorrow evening can wait for wifi"
    assert alert_urgency(now - 3 * hour, now - 2 * hour, now) == "low", "already over"
