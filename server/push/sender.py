"""Sends one encrypted message to one push service and says what happened (RFC 8030)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

import httpx

from server.errors import Invalid
from server.push.crypto import PayloadCipher
from server.push.endpoints import check_endpoint
from server.push.vapid import VapidSigner

log = logging.getLogger(__name__)

Result = Literal["sent", "gone", "retry", "failed"]
REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_HOST_CHECK_SECONDS = 300.0


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
class Outcome:
    result: Result
    status: int | None = None
    retry_after: float | None = None


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


class PushSender:
    """Encrypts and posts messages over one shared HTTP client."""

    def __init__(self, cipher: PayloadCipher, signer: VapidSigner, *, allow_insecure_loopback: bool = False) -> None:
        self.cipher = cipher
        self.signer = signer
        self.allow_insecure_loopback = allow_insecure_loopback
        # httpcore scans its whole pool for every request, so a small pool per origin costs far less CPU
        # than a large one and sends as fast on loopback or a LAN.
        self.client = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=16, max_keepalive_connections=16)
        )
        self._checked_hosts: dict[str, float] = {}

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, endpoint: str, p256dh: str, auth: str, message: Message) -> Outcome:
        """Send one message; never raises for network trouble (that is a retry)."""
        host = urlsplit(endpoint).hostname or ""
        try:
            await self._check_host(endpoint, host)
            body = self.cipher.encrypt(message.payload, p256dh, auth)
        except Invalid as error:
            log.warning("push to %s refused: %s", host, error.detail)
            return Outcome("failed")
        except ValueError as error:
            log.warning("push to %s not encrypted: %s", host, error)
            return Outcome("failed")
        headers = {
            "Authorization": self.signer.authorization(endpoint),
            "TTL": str(max(1, message.ttl)),
            "Urgency": message.urgency,
            "Topic": message.topic,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        try:
            response = await self.client.post(endpoint, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.info("push to %s did not complete (%s); will retry", host, type(error).__name__)
            return Outcome("retry")
        outcome = classify(response.status_code, response.headers.get("retry-after"))
        if outcome.result == "failed":
            log.warning("push to %s failed with %d", host, response.status_code)
        return outcome

    async def _check_host(self, endpoint: str, host: str) -> None:
        """Check the endpoint again at send time, as DNS may have changed since it was stored."""
        checked = self._checked_hosts.get(host)
        now = time.monotonic()
        if checked is None or now - checked > _HOST_CHECK_SECONDS:
            await check_endpoint(endpoint, allow_insecure_loopback=self.allow_insecure_loopback)
            self._checked_hosts[host] = now
