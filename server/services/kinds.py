"""The programme's entity kinds: their Structs, JSON codecs and how new ids are made."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

import msgspec

from server.schemas.programme import (
    Event,
    Format,
    FormatUpdate,
    Room,
    RoomUpdate,
    Session,
    SessionUpdate,
    Speaker,
    SpeakerUpdate,
    Track,
    TrackUpdate,
)

EVENT_ID = "event"
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What the service needs to know about one collection kind."""

    kind: str
    struct: type[Any]
    update_type: type[Any]
    decoder: msgspec.json.Decoder[Any]


def _spec(kind: str, struct: type[Any], update: type[Any]) -> KindSpec:
    return KindSpec(kind, struct, update, msgspec.json.Decoder(struct))


KINDS: dict[str, KindSpec] = {
    "room": _spec("room", Room, RoomUpdate),
    "track": _spec("track", Track, TrackUpdate),
    "format": _spec("format", Format, FormatUpdate),
    "speaker": _spec("speaker", Speaker, SpeakerUpdate),
    "session": _spec("session", Session, SessionUpdate),
}
EVENT_DECODER = msgspec.json.Decoder(Event)


def encode(entity: msgspec.Struct) -> bytes:
    """The stored and served JSON of an entity."""
    return _encoder.encode(entity)


def label(entity: msgspec.Struct) -> str:
    """The human name of an entity (title or name), for ids and messages."""
    return str(getattr(entity, "title", None) or getattr(entity, "name", ""))


def slug(text: str, *, max_length: int = 48) -> str:
    """An id-safe slug of ``text``: ASCII letters and digits joined by '-'; may be empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    result = ""
    for word in words:
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > max_length:
            break
        result = candidate
    return result


def random_suffix() -> str:
    return secrets.token_hex(3)
