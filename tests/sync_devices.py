"""A simulated device for private sync tests: pycrdt documents, a cursor, and the sync round trip.

Notes are end-to-end encrypted as the PWA does it (sync/PROTOCOL.md section 3): each note goes to the server as
AES-GCM frames in its log, under a notebook key the devices of one attendee share and the server never sees.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pycrdt import Doc, Map, Text


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class _AsyncPoster(Protocol):
    async def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Notebook:
    """An attendee's notebook keys, shared by their devices (in the PWA, carried by the link's fragment)."""

    keys: dict[int, bytes]
    key_id: int = 1
    registered: bool = False

    @classmethod
    def new(cls) -> Notebook:
        return cls({1: AESGCM.generate_key(bit_length=256)})

    def key(self, key_id: int) -> bytes:
        return self.keys[key_id]


def aad(doc_id: str, kind: str) -> bytes:
    return f"kumpul-vault/1|{doc_id}|{kind}".encode()


def seal(notebook: Notebook, doc_id: str, kind: str, plaintext: bytes) -> bytes:
    """One frame: format 1, key id, a fresh nonce, the AES-GCM ciphertext and tag."""
    nonce = os.urandom(12)
    sealed = AESGCM(notebook.key(notebook.key_id)).encrypt(nonce, plaintext, aad(doc_id, kind))
    return bytes([1]) + notebook.key_id.to_bytes(4, "big") + nonce + sealed


def open_frame(keys: dict[int, bytes], doc_id: str, kind: str, frame: bytes) -> bytes:
    """The plaintext of a frame (raises ``cryptography.exceptions.InvalidTag`` for a wrong key or tampering)."""
    key_id = int.from_bytes(frame[1:5], "big")
    return AESGCM(keys[key_id]).decrypt(frame[5:17], frame[17:], aad(doc_id, kind))


def encrypted(doc_id: str) -> bool:
    return doc_id.startswith("note:") or doc_id == "agenda"


class Device:
    """One attendee's phone or laptop, holding its own copy of each document."""

    def __init__(self, token: str, notebook: Notebook | None = None) -> None:
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}
        self.docs: dict[str, Doc[Any]] = {}
        self.cursor: str | None = None
        self.changed: set[str] = set()
        self.notebook = notebook if notebook is not None else Notebook.new()
        #: Per encrypted document: the last version applied, and the state vector the server acknowledged.
        self.versions: dict[str, int] = {}
        self.acked: dict[str, bytes] = {}
        self._sending: dict[str, bytes] = {}

    def linked(self, token: str) -> Device:
        """Another device of the same attendee, with the same notebook key."""
        return Device(token, self.notebook)

    def doc(self, doc_id: str) -> Doc[Any]:
        if doc_id not in self.docs:
            self.docs[doc_id] = Doc()
        return self.docs[doc_id]

    def text(self, doc_id: str, name: str = "body") -> Text:
        return self.doc(doc_id).get(name, type=Text)

    def bookmarks(self) -> Map[Any]:
        return self.doc("profile").get("bookmarks", type=Map)

    def edit(self, doc_id: str) -> None:
        self.changed.add(doc_id)

    def _key_body(self) -> dict[str, Any]:
        return {"keyId": 1, "previous": 0, "keyring": None, "wrapped": []}

    def _needs_key(self) -> bool:
        return not self.notebook.registered and any(encrypted(doc_id) for doc_id in self.changed)

    async def ready(self, client: _AsyncPoster) -> None:
        """Register the notebook key before the first encrypted write (the first device of an attendee does)."""
        if self._needs_key():
            response = await client.post("/api/attendees/me/keys", json=self._key_body(), headers=self.headers)
            assert response.status_code in (200, 409), response.text
            self.notebook.registered = True

    def ready_sync(self, url: str) -> None:
        """:meth:`ready` for a server in another process."""
        if self._needs_key():
            response = httpx.post(f"{url}/api/attendees/me/keys", json=self._key_body(), headers=self.headers)
            assert response.status_code in (200, 409), response.text
            self.notebook.registered = True

    def log_body(self, doc_id: str) -> dict[str, Any]:
        """What this device sends for one encrypted document: what changed since the server acknowledged it."""
        doc = self.doc(doc_id)
        acked = self.acked.get(doc_id)
        update = doc.get_update(acked) if acked else doc.get_update()
        self._sending[doc_id] = doc.get_state()
        return {
            "id": doc_id,
            "since": self.versions.get(doc_id, 0),
            "append": [b64(seal(self.notebook, doc_id, "update", update))],
        }

    def request_body(self) -> dict[str, Any]:
        self._sending = {}
        return {
            "cursor": self.cursor,
            "keyId": self.notebook.key_id,
            "docs": [
                {
                    "id": doc_id,
                    "stateVector": b64(self.doc(doc_id).get_state()),
                    "update": b64(self.doc(doc_id).get_update()),
                }
                for doc_id in sorted(self.changed)
                if not encrypted(doc_id)
            ],
            "logs": [self.log_body(doc_id) for doc_id in sorted(self.changed) if encrypted(doc_id)],
        }

    def snapshot_body(self, doc_id: str) -> dict[str, Any]:
        """A compaction of everything this device has of a document, up to the version it last applied, and, as
        an update beside it, what it has not sent yet: the server drops a snapshot another device compacted past,
        so the snapshot alone never counts as sending a change (the PWA does the same)."""
        state = self.doc(doc_id).get_update()
        body = self.log_body(doc_id)
        if doc_id not in self.changed:
            body["append"] = []  # nothing unsent: the snapshot replaces what the server has
        body["snapshot"] = {"upTo": self.versions[doc_id], "frame": b64(seal(self.notebook, doc_id, "snapshot", state))}
        return body

    async def compact(self, client: _AsyncPoster, doc_id: str) -> dict[str, Any]:
        """Replace the server's log of ``doc_id`` by one snapshot of what this device holds."""
        self._sending = {}
        body = {"cursor": self.cursor, "keyId": self.notebook.key_id, "logs": [self.snapshot_body(doc_id)]}
        response = await client.post("/api/me/sync", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        self.receive(reply)
        return reply

    def receive(self, body: dict[str, Any]) -> None:
        for patch in body["docs"]:
            self.doc(patch["id"]).apply_update(base64.b64decode(patch["update"]))
        for doc_id, state in self._sending.items():
            self.acked[doc_id] = state
        self._sending = {}
        for log in body.get("logs", []):
            doc_id = log["id"]
            for entry in log["entries"]:
                plain = open_frame(self.notebook.keys, doc_id, entry["kind"], base64.b64decode(entry["frame"]))
                self.doc(doc_id).apply_update(plain)
            self.versions[doc_id] = max(self.versions.get(doc_id, 0), log["version"])
        self.cursor = body["cursor"]
        # The server's copy does not continue this device's history (a restore): send everything it holds.
        if body.get("resend"):
            self.changed = set(self.docs)
            self.acked = {}
        else:
            self.changed = set()
