"""Payload encryption (RFC 8291, aes128gcm) through the ``webpush`` package, with its gaps filled.

``webpush.WebPush.get`` also signs a VAPID JWT on every call, drops a non-default port from the JWT
audience, makes per-call TTL and subscriber stick to the instance, defaults TTL to 0 and checks no
size. Kumpul therefore uses only its encryption, and does VAPID (:mod:`server.push.vapid`), TTL and
the size limit itself.
"""

from __future__ import annotations

from types import SimpleNamespace

from webpush import WebPush  # type: ignore[import-untyped]

from server.push.vapid import VapidKeys

#: RFC 8291 section 4: a 4096-byte record less the 86-byte header, 16-byte tag and padding delimiter.
MAX_PLAINTEXT = 3993


class PayloadTooLarge(ValueError):
    """A push payload over :data:`MAX_PLAINTEXT` bytes."""


class PayloadCipher:
    """Encrypts payloads for subscriptions."""

    def __init__(self, keys: VapidKeys) -> None:
        self._webpush = WebPush(
            private_key=keys.private_pem, public_key=keys.public_pem, subscriber="push@kumpul.invalid"
        )

    def encrypt(self, payload: bytes, p256dh: str, auth: str) -> bytes:
        """The aes128gcm body for one subscription.

        Raises:
            PayloadTooLarge: The payload would not fit one record.
        """
        if len(payload) > MAX_PLAINTEXT:
            raise PayloadTooLarge(f"push payload of {len(payload)} bytes is over {MAX_PLAINTEXT}")
        subscription = SimpleNamespace(keys=SimpleNamespace(p256dh=p256dh, auth=auth))
        body: bytes = self._webpush._encrypt(payload, subscription)
        return body
