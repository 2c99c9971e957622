"""A simulated device for private sync tests: pycrdt documents, a cursor, and the sync round trip."""

from __future__ import annotations

import base64
from typing import Any

from pycrdt import Doc, Map, Text


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Device:
    """One attendee's phone or laptop, holding its own copy of each document."""

    def __init__(self, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}"}
        self.docs: dict[str, Doc[Any]] = {}
        self.cursor: str | None = None
        self.changed: set[str] = set()

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

    def request_body(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "docs": [
                {
                    "id": doc_id,
                    "stateVector": b64(self.doc(doc_id).get_state()),
                    "update": b64(self.doc(doc_id).get_update()),
                }
                for doc_id in sorted(self.changed)
            ],
        }

    def receive(self, body: dict[str, Any]) -> None:
        for patch in body["docs"]:
            self.doc(patch["id"]).apply_update(base64.b64decode(patch["update"]))
        self.cursor = body["cursor"]
        # The server's copy does not continue this device's history (a restore): send everything it holds.
        self.changed = set(self.docs) if body.get("resend") else set()
