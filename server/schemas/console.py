"""The organiser console: sign-in, organisers, the change history and programme warnings."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from server.schemas.base import Base, Name, RowId

RoleName = Literal["admin", "editor", "announcer", "volunteer"]
#: Passwords are checked for length by the service, which names the rule; this only bounds the work.
Password = Annotated[str, Meta(max_length=1024)]
WarningKind = Literal["room-double-booked", "speaker-double-booked"]


class SignIn(Base, kw_only=True):
    """``POST /api/admin/login``."""

    name: Annotated[str, Meta(max_length=200)]
    password: Password


class OrganiserRef(Base, kw_only=True):
    id: RowId
    name: str
    role: RoleName


class ConsoleSessionInfo(Base, kw_only=True):
    """Who is signed in, and the token their changing requests must send as ``X-CSRF-Token``."""

    organiser: OrganiserRef
    csrf_token: str
    must_change_password: bool


class PasswordChange(Base, kw_only=True):
    """``POST /api/admin/password``: the new password needs at least 10 characters."""

    current_password: Password
    new_password: Password


class OrganiserListItem(Base, kw_only=True):
    """An organiser: ``tokenIssuedAt`` is null once their API token was revoked; ``tokenLastUsedAt`` is to the
    minute, null when the current token was never used."""

    id: RowId
    name: str
    role: RoleName
    created_at: str
    has_password: bool
    token_issued_at: str | None
    token_last_used_at: str | None


class OrganiserCreate(Base, kw_only=True):
    name: Name
    role: RoleName


class OrganiserCreated(Base, kw_only=True):
    """A new organiser: the API token and the one-time password are shown only here, once."""

    organiser: OrganiserRef
    token: str
    one_time_password: str


class OneTimePassword(Base, kw_only=True):
    """A fresh one-time password; the organiser chooses their own at the next sign-in. ``tokenRevoked`` says
    whether their API token stopped working too."""

    one_time_password: str
    token_revoked: bool


class PasswordReset(Base, kw_only=True):
    """``POST /api/admin/organisers/{id}/password-reset``: also revoke the API token unless told not to."""

    revoke_token: bool = True


class OrganiserToken(Base, kw_only=True):
    """A new API token, shown only here, once; the organiser's previous token stopped working."""

    organiser: OrganiserRef
    token: str


class HistoryEntry(Base, kw_only=True):
    """One change: who (``actor``), what (``action`` on ``kind`` ``entityId``) and when (``at``, UTC)."""

    id: RowId
    at: str
    actor: str
    action: str
    kind: str
    entity_id: str
    summary: str


class ScheduleWarning(Base, kw_only=True):
    """Two scheduled sessions that overlap in time in the same room (``roomId``) or with one speaker (``speakerId``)."""

    kind: WarningKind
    session_ids: list[str]
    message: str
    room_id: str | UnsetType = UNSET
    speaker_id: str | UnsetType = UNSET
