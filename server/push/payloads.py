"""What each queued message says: announcements and session change alerts, as push payloads."""

from __future__ import annotations

import base64
import hashlib
import zoneinfo
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import msgspec

from server.push.crypto import MAX_PLAINTEXT
from server.push.sender import Message
from server.storage import announcements as announcement_store
from server.storage import programme as programme_store

ANNOUNCEMENT_TTL_DEFAULT = 12 * 3600
ALERT_TTL = 6 * 3600
ALERT_SOON = timedelta(hours=24)
MAX_TTL = 28 * 24 * 3600
_decoder = msgspec.json.Decoder(dict[str, Any])
_encoder = msgspec.json.Encoder()


def topic_for(kind: str, ref: str) -> str:
    """A Topic (≤ 32 base64url characters) shared by every message about the same thing."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"{kind}:{ref}".encode()).digest()).decode()[:32]


def fit(payload: dict[str, Any], field: str) -> bytes:
    """Encode ``payload``, cutting ``payload[field]`` (and marking it truncated) until it fits a push."""
    data = _encoder.encode(payload)
    if len(data) <= MAX_PLAINTEXT:
        return data
    text: str = payload[field]
    overflow = len(data) - MAX_PLAINTEXT + len(_encoder.encode({"truncated": True})) + 8
    encoded = text.encode()
    cut = encoded[: max(0, len(encoded) - overflow)].decode("utf-8", errors="ignore").rstrip() + "…"
    return _encoder.encode({**payload, field: cut, "truncated": True})


def _ttl_until(expires_at: str | None, now: datetime) -> int:
    if not expires_at:
        return ANNOUNCEMENT_TTL_DEFAULT
    seconds = int((datetime.fromisoformat(expires_at) - now).total_seconds())
    return max(60, min(MAX_TTL, seconds))


def translation_for(lang: str | None, languages: Collection[str]) -> str | None:
    """Which of ``languages`` (an announcement's translations) an attendee reading ``lang`` gets: the same tag,
    else its primary language ("id" for "id-ID"); None means the original text."""
    if not lang:
        return None
    if lang in languages:
        return lang
    primary = lang.split("-", 1)[0]
    return primary if primary in languages else None


class AnnouncementMessages:
    """The messages of one published announcement, one per language it is read in, each built once."""

    def __init__(self, data: dict[str, Any], expires_at: str | None) -> None:
        self._data = data
        self._translations: dict[str, dict[str, str]] = data.get("translations") or {}
        self._ttl = _ttl_until(expires_at, datetime.now(UTC))
        self._built: dict[str | None, Message] = {}

    def for_language(self, lang: str | None) -> Message:
        """The message for a subscription whose attendee reads ``lang`` (None: not said)."""
        chosen = translation_for(lang, self._translations)
        message = self._built.get(chosen)
        if message is None:
            message = self._built[chosen] = self._build(chosen)
        return message

    def _build(self, lang: str | None) -> Message:
        data = self._data
        text = self._translations[lang] if lang is not None else data
        payload = {
            "type": "announcement",
            "id": data["id"],
            "title": text["title"],
            "body": text.get("body", ""),
            "priority": data["priority"],
            "url": f"/announcements/{data['id']}",
        }
        if lang is not None:
            payload["lang"] = lang
        return Message(
            payload=fit(payload, "body"),
            ttl=self._ttl,
            urgency="high" if data["priority"] == "urgent" else "normal",
            topic=topic_for("announcement", data["id"]),
        )


async def announcement_messages(conn: aiosqlite.Connection, announcement_id: str) -> AnnouncementMessages | None:
    """The messages of a published announcement, or None when it is no longer published."""
    row = await announcement_store.get(conn, announcement_id)
    if row is None or row.state != "published":
        return None
    return AnnouncementMessages(_decoder.decode(row.data), row.expires_at)


async def announcement_message(
    conn: aiosqlite.Connection, announcement_id: str, lang: str | None = None
) -> Message | None:
    """The message of a published announcement in ``lang`` (falling back to the original), or None when it is
    no longer published."""
    messages = await announcement_messages(conn, announcement_id)
    return messages.for_language(lang) if messages is not None else None


async def alert_message(conn: aiosqlite.Connection, session_id: str) -> Message | None:
    """The message telling that a bookmarked session moved, changed time or was cancelled."""
    raw = await programme_store.get_entity(conn, "session", session_id)
    if raw is None:
        return None
    session = _decoder.decode(raw)
    room_raw = await programme_store.get_entity(conn, "room", session["roomId"])
    room = _decoder.decode(room_raw)["name"] if room_raw else session["roomId"]
    event_raw = await programme_store.get_entity(conn, "event", "event")
    zone = zoneinfo.ZoneInfo(_decoder.decode(event_raw)["timeZone"]) if event_raw else UTC
    start = datetime.fromisoformat(session["start"]).astimezone(zone)
    if session["status"] == "cancelled":
        body = f"Cancelled: {session['title']}"
    else:
        body = f"{session['title']}: now {start:%a %d %b, %H:%M} ({start.tzname()}) in {room}"
    payload = {
        "type": "alert",
        "sessionId": session_id,
        "title": "Session changed",
        "body": body,
        "status": session["status"],
        "start": session["start"],
        "end": session["end"],
        "room": room,
        "url": f"/sessions/{session_id}",
    }
    return Message(
        payload=fit(payload, "body"),
        ttl=ALERT_TTL,
        urgency=alert_urgency(datetime.fromisoformat(session["start"]), datetime.fromisoformat(session["end"])),
        topic=topic_for("alert", session_id),
    )


def alert_urgency(start: datetime, end: datetime, now: datetime | None = None) -> str:
    """``normal`` for a change to a session running or starting within a day; ``low`` otherwise.

    A programme change far ahead (or already over) can wait until the phone is on power and wifi
    (RFC 8030 section 5.3); one that affects today's plans cannot.
    """
    now = now or datetime.now(UTC)
    return "normal" if end > now and start - now < ALERT_SOON else "low"
