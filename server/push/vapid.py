"""VAPID (RFC 8292): the server's key pair, kept in the data folder (SQLite) or the database (PostgreSQL), and JWTs
reused per push service."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.storage import secrets
from server.storage.db import Database

PRIVATE_KEY_FILE = "vapid_private.pem"
#: JWTs live 12 hours and are renewed an hour before they expire (RFC 8292 allows at most 24 h).
JWT_LIFETIME = 12 * 3600
JWT_RENEW_BEFORE = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """The key pair: the private key that signs JWTs, PEM forms, and the applicationServerKey for browsers."""

    private_key: ec.EllipticCurvePrivateKey
    private_pem: bytes
    public_pem: bytes
    application_server_key: str


def _new_private_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


#: The name of the VAPID private key among the database's secrets (PostgreSQL).
VAPID_SECRET = "vapid_private_key"  # noqa: S105 - the name, not the key


def load_or_create_keys(folder: Path) -> VapidKeys:
    """The VAPID key pair in ``folder``, generated on first run; the private key file is mode 0600."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PRIVATE_KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(_new_private_pem())
    else:
        path.chmod(0o600)
    return _keys(path.read_bytes(), str(path))


async def keys_of(db: Database, folder: Path) -> VapidKeys:
    """The server's VAPID key pair, made on first use: on PostgreSQL in the database, which every node shares (a
    file beside one node would give each node its own pair, and subscriptions made through one would fail through
    the others); on SQLite in ``folder``, beside the database file, where backups take it from."""
    if db.dialect != "postgresql":
        return await asyncio.to_thread(load_or_create_keys, folder)
    async with db.write() as conn:
        pem = await secrets.get_or_put(conn, VAPID_SECRET, _new_private_pem())
    return _keys(pem, f"the {VAPID_SECRET} secret of {db.where}")


def _keys(private_pem: bytes, where: str) -> VapidKeys:
    loaded = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise RuntimeError(f"{where} does not hold an EC private key")
    public = loaded.public_key()
    return VapidKeys(
        private_key=loaded,
        private_pem=private_pem,
        public_pem=public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        application_server_key=b64url(
            public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        ),
    )


def origin_of(endpoint: str) -> str:
    """The JWT audience of an endpoint: scheme, host and any non-default port (RFC 8292 section 2)."""
    parts = urlsplit(endpoint)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


class VapidSigner:
    """Signs one JWT per push-service origin and reuses it until it nears expiry."""

    def __init__(self, keys: VapidKeys, subject: str) -> None:
        self.keys = keys
        self.subject = subject
        self._tokens: dict[str, tuple[str, float]] = {}

    def authorization(self, endpoint: str, *, now: float | None = None) -> str:
        """The ``Authorization`` header value for a request to ``endpoint``."""
        now = time.time() if now is None else now
        audience = origin_of(endpoint)
        cached = self._tokens.get(audience)
        if cached is None or cached[1] - now < JWT_RENEW_BEFORE:
            expires = int(now) + JWT_LIFETIME
            token = jwt.encode({"aud": audience, "exp": expires, "sub": self.subject}, self.keys.private_key, "ES256")
            cached = (token, float(expires))
            self._tokens[audience] = cached
        return f"vapid t={cached[0]}, k={self.keys.application_server_key}"
