"""Anonymity and recording policies only tighten as a side effect of a write; loosening is an admin action.

Every write of a speaker or session (console, API, every import format) passes :func:`refuse_loosening`
with the entity's floor (:mod:`server.storage.privacy`): an anonymous speaker stays anonymous and a
session's recording policy never becomes less strict, unless an admin reveals the speaker or loosens
the policy on purpose. The history never names an anonymous speaker by anything but their pseudonym.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server.errors import Conflict
from server.schemas.programme import Session, Speaker
from server.storage import history, releases
from server.storage import programme as store
from server.storage.db import Connection

_SPEAKER = msgspec.json.Decoder(Speaker)

#: How strict each recording policy is; a write may only keep or raise it.
RECORDING_LEVEL = {"public": 0, "no-recording": 1, "off-the-record": 2}
_POLICY_TEXT = {0: "public", 1: "not recorded", 2: "off the record"}
#: A speaker's fields as the history names them in the summary of an update.
_SPEAKER_FIELDS = frozenset(field.encode_name for field in msgspec.structs.fields(Speaker))


class Loosening(Conflict):
    """A write that would reveal an anonymous speaker or loosen a session's recording policy.

    Attributes:
        kind: ``speaker`` or ``session``.
        entity_id: The entity's id (never its name: the message must not carry a name it would reveal).
    """

    def __init__(self, detail: str, *, kind: str, entity_id: str, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.kind = kind
        self.entity_id = entity_id


def level(entity: Any) -> int:
    """How private an entity is: 1 for an anonymous speaker, a session's :data:`RECORDING_LEVEL`, else 0."""
    if isinstance(entity, Speaker):
        return int(entity.anonymous)
    if isinstance(entity, Session):
        return RECORDING_LEVEL[entity.recording]
    return 0


def reveal_refused(speaker_id: str) -> Loosening:
    """The refusal of a write that would make the anonymous speaker ``speaker_id`` public."""
    return Loosening(
        f"speaker {speaker_id!r} is anonymous and no edit or import reveals them: an admin can reveal a speaker"
        f" on purpose (console: Reveal speaker; POST /api/admin/speakers/{speaker_id}/reveal)",
        kind="speaker",
        entity_id=speaker_id,
        field="anonymous",
    )


def recording_refused(session_id: str, floor: int, wanted: str) -> Loosening:
    """The refusal of a write that would make session ``session_id`` less private than ``floor``."""
    return Loosening(
        f"session {session_id!r} is {_POLICY_TEXT[floor]} and no edit or import makes it"
        f" {_POLICY_TEXT[RECORDING_LEVEL[wanted]]}:"
        f" an admin can change a recording policy on purpose (console: Change recording policy;"
        f" POST /api/admin/sessions/{session_id}/recording)",
        kind="session",
        entity_id=session_id,
        field="recording",
    )


def refuse_loosening(entity: Any, floor: int) -> None:
    """Refuse ``entity`` if it is less private than its floor.

    Raises:
        Loosening: An anonymous speaker made public, or a recording policy made less strict.
    """
    if level(entity) >= floor:
        return
    if isinstance(entity, Speaker):
        raise reveal_refused(entity.id)
    if isinstance(entity, Session):
        raise recording_refused(entity.id, floor, entity.recording)


async def forget_former_names(conn: Connection, speaker: Any) -> None:
    """Name an anonymous speaker by their pseudonym alone in every history entry and every stored release.

    The summaries start with the entity's name (``Siti Rahayu`` or ``Siti Rahayu: bio, organisation``);
    each entry about the speaker, from before they were anonymous, from while they had another
    pseudonym, and from before a deletion and re-adding under the same id, is rewritten to the current
    pseudonym, keeping the changed fields. Call it in the transaction that stores ``speaker``.
    """
    if not (isinstance(speaker, Speaker) and speaker.anonymous):
        return
    await releases.forget_speaker(conn, msgspec.to_builtins(speaker))
    for entry in await history.entries_about(conn, "speaker", speaker.id):
        _, _, fields = entry.summary.rpartition(": ")
        named = fields and all(field in _SPEAKER_FIELDS for field in fields.split(", "))
        summary = f"{speaker.name}: {fields}" if named else speaker.name
        if summary != entry.summary:
            await history.set_summary(conn, entry.id, summary)


async def forget_every_former_name(conn: Connection) -> None:
    """:func:`forget_former_names` for every anonymous speaker: at start-up, for history written by older versions."""
    for data in await store.list_entities(conn, "speaker"):
        await forget_former_names(conn, _SPEAKER.decode(data))
