"""What each queued message says: announcements and session change alerts, as push payloads."""

from __future__ import annotations

import base64
import hashlib
import zoneinfo
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server.push.crypto import MAX_PLAINTEXT
from server.push.sender import Message
from server.storage import announcements as announcement_store
from server.storage import programme as programme_store
from server.storage.db import Connection

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


async def announcement_messages(conn: Connection, announcement_id: str) -> AnnouncementMessages | None:
    """The messages of a published announcement, or None when it is no longer published."""
    row = await announcement_store.get(conn, announcement_id)
    if row is None or row.state != "published":
        return None
    return AnnouncementMessages(_decoder.decode(row.data), row.expires_at)


async def announcement_message(conn: Connection, announcement_id: str, lang: str | None = None) -> Message | None:
    """The message of a published announcement in ``lang`` (falling back to the original), or None when it is
    no longer published."""
    messages = await announcement_messages(conn, announcement_id)
    return messages.for_language(lang) if messages is not None else None


async def alert_message(conn: Connection, session_id: str) -> Message | None:
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


#: What a reminder says, per language of the app: ``{time}`` and ``{room}`` are filled in. ``changed`` is the
#: text of a reminder that also tells of a change alert it replaced (the session moved since it was bookmarked).
REMINDER_TEXTS: dict[str, dict[str, str]] = {
    "en": {"starts": "Starts at {time} in {room}", "changed": "Moved: now starts at {time} in {room}"},
    "id": {"starts": "Mulai pukul {time} di {room}", "changed": "Dipindah: sekarang mulai pukul {time} di {room}"},
    "th": {"starts": "เริ่มเวลา {time} ที่ {room}", "changed": "ย้ายแล้ว: เริ่มเวลา {time} ที่ {room}"},
    "ms": {"starts": "Bermula pada {time} di {room}", "changed": "Dipindahkan: kini bermula pada {time} di {room}"},
    "fil": {"starts": "Magsisimula nang {time} sa {room}", "changed": "Inilipat: magsisimula na nang {time} sa {room}"},
    "vi": {"starts": "Bắt đầu lúc {time} tại {room}", "changed": "Đã dời: nay bắt đầu lúc {time} tại {room}"},
    "km": {"starts": "ចាប់ផ្តើមម៉ោង {time} នៅ {room}", "changed": "បានផ្លាស់ប្តូរ៖ ឥឡូវចាប់ផ្តើមម៉ោង {time} នៅ {room}"},
    "ne": {"starts": "{time} बजे {room} मा सुरु हुन्छ", "changed": "सारियो: अब {time} बजे {room} मा सुरु हुन्छ"},
    "bn": {"starts": "{time}-এ {room}-এ শুরু", "changed": "সরানো হয়েছে: এখন {time}-এ {room}-এ শুরু"},
    "mn": {"starts": "{time}-д {room}-д эхэлнэ", "changed": "Өөрчлөгдсөн: одоо {time}-д {room}-д эхэлнэ"},
    "hi": {"starts": "{time} बजे {room} में शुरू", "changed": "बदला गया: अब {time} बजे {room} में शुरू"},
}
#: A reminder still goes out this long after its session started (the server was down at the due time).
REMINDER_GRACE = timedelta(minutes=10)


class ReminderSession:
    """A session a reminder is about, as it is now: when it is due for a device, and its message per language."""

    def __init__(self, session: dict[str, Any], room: dict[str, Any], zone: zoneinfo.ZoneInfo | Any) -> None:
        self.id: str = session["id"]
        self.title: str = session.get("title") or ""
        self.status: str = session.get("status") or "scheduled"
        self.start = datetime.fromisoformat(session["start"])
        self.end = datetime.fromisoformat(session["end"])
        self.room: str = room.get("name") or session["roomId"]
        self._room_translations: dict[str, dict[str, str]] = room.get("translations") or {}
        self.zone = zone
        self._session = session
        self._built: dict[tuple[str | None, bool], Message] = {}

    def due(self, minutes: int) -> datetime:
        return self.start - timedelta(minutes=minutes)

    def over(self, now: datetime) -> bool:
        """Too late to remind: cancelled, or started more than a moment ago."""
        return self.status == "cancelled" or now > self.start + REMINDER_GRACE

    def message(self, lang: str | None, changed: bool, now: datetime) -> Message:
        """The reminder for a device reading ``lang``; ``changed`` when it also tells of a move."""
        chosen = translation_for(lang, REMINDER_TEXTS) or "en"
        message = self._built.get((chosen, changed))
        if message is None:
            message = self._built[chosen, changed] = self._build(chosen, changed, now)
        return message

    def _build(self, lang: str, changed: bool, now: datetime) -> Message:
        start = self.start.astimezone(self.zone)
        texts = REMINDER_TEXTS[lang]
        room = (self._room_translations.get(lang) or {}).get("name") or self.room
        body = texts["changed" if changed else "starts"].format(time=f"{start:%H:%M}", room=room)
        translated = (self._session.get("translations") or {}).get(lang) or {}
        payload = {
            "type": "reminder",
            "sessionId": self.id,
            "title": translated.get("title") or self.title,
            "body": body,
            "changed": changed,
            "status": self.status,
            "start": self._session["start"],
            "end": self._session["end"],
            "room": room,
            "lang": lang,
            "url": f"/sessions/{self.id}",
        }
        return Message(
            payload=fit(payload, "title"),
            # Of no use once the session started: a phone offline until then never shows it.
            ttl=max(60, min(ALERT_TTL, int((self.start - now).total_seconds()) + int(REMINDER_GRACE.total_seconds()))),
            # Time-sensitive: a phone saving power should still show it before the session starts (RFC 8030 5.3).
            urgency="high",
            # The same topic as the session's change alerts: one message about the session waits at the push service.
            topic=topic_for("alert", self.id),
        )


async def reminder_session(conn: Connection, session_id: str) -> ReminderSession | None:
    """The session a reminder is about as it is now, or None when it was deleted."""
    raw = await programme_store.get_entity(conn, "session", session_id)
    if raw is None:
        return None
    session = _decoder.decode(raw)
    room_raw = await programme_store.get_entity(conn, "room", session["roomId"])
    room = _decoder.decode(room_raw) if room_raw else {}
    event_raw = await programme_store.get_entity(conn, "event", "event")
    zone = zoneinfo.ZoneInfo(_decoder.decode(event_raw)["timeZone"]) if event_raw else UTC
    return ReminderSession(session, room, zone)
