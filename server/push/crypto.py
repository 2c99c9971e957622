"""Payload encryption (RFC 8291, aes128gcm) through the ``webpush`` package, with its gaps filled.

``webpush.WebPush.get`` also signs a VAPID JWT on every call, drops a non-default port from the JWT
audience, makes per-call TTL and subscriber stick to the instance, defaults TTL to 0 and checks no
size. Kumpul therefore uses only its encryption (a fresh key pair and salt per message), and does
VAPID (:mod:`server.push.vapid`), TTL and the size limit itself. ``encrypt_many`` takes a whole batch,
so a fan-out hands the work to the encryption process (:mod:`server.push.cipher_process`) once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webpush import WebPush  # type: ignore[import-untyped]

from server.push.vapid import VapidKeys

#: RFC 8291 section 4: a 4096-byte record less the 86-byte header, 16-byte tag and padding delimiter.
MAX_PLAINTEXT = 3993


class PayloadTooLarge(ValueError):
    """A push payload over :data:`MAX_PLAINTEXT` bytes."""


class PayloadCipher:
    """Encrypts payloads for subscriptions."""

    def __init__(self, keys: VapidKeys | None = None) -> None:
        """``webpush`` wants VAPID keys although encryption never uses them; without ``keys`` a throwaway pair does."""
        private_pem, public_pem = (keys.private_pem, keys.public_pem) if keys is not None else _throwaway_keys()
        self._webpush = WebPush(private_key=private_pem, public_key=public_pem, subscriber="push@kumpul.invalid")

    def encrypt(self, payload: bytes, p256dh: str, auth: str) -> bytes:
        """The aes128gcm body for one subscription.

        Args:
            payload: The plaintext.
            p256dh: The subscription's P-256 public key, base64url (uncompressed point).
            auth: The subscription's 16-byte authentication secret, base64url.

        Raises:
            PayloadTooLarge: The payload would not fit one record.
            ValueError: The subscription's keys are not valid.
        """
        if len(payload) > MAX_PLAINTEXT:
            raise PayloadTooLarge(f"push payload of {len(payload)} bytes is over {MAX_PLAINTEXT}")
        subscription = SimpleNamespace(keys=SimpleNamespace(p256dh=p256dh, auth=auth))
        try:
            body: bytes = self._webpush._encrypt(payload, subscription)
        except (ValueError, TypeError) as error:
            raise ValueError(f"the subscription's keys are not valid: {error}") from None
        return body

    def encrypt_many(self, items: Sequence[tuple[bytes, str, str]]) -> list[bytes | ValueError]:
        """Encrypt ``(payload, p256dh, auth)`` triples; a triple that cannot be encrypted gets its error.

        Meant to run off the event loop for a whole batch, so the loop hands off once per batch.
        """
        bodies: list[bytes | ValueError] = []
        for payload, p256dh, auth in items:
            try:
                bodies.append(self.encrypt(payload, p256dh, auth))
            except ValueError as error:
                bodies.append(error)
        return bodies


def _throwaway_keys() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem
