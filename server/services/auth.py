"""Organiser authentication: bearer tokens or console sessions, stored as hashes; roles mapped to permissions."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from server.errors import Conflict, Forbidden, Unauthorized
from server.storage import console as console_store
from server.storage import organisers
from server.storage.db import Database, IntegrityError, StorageError

log = logging.getLogger(__name__)

#: How precisely an organiser token's last use is kept: at most one write per token this often, so a script
#: polling with its token does not take the write lock on every request.
TOKEN_USE_PRECISION = timedelta(minutes=1)
#: What a console session whose organiser still holds a one-time password is told everywhere else.
FIRST_SIGN_IN_ONLY = "set your own password first"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    ANNOUNCER = "announcer"
    #: Door staff: set a room's status, nothing else.
    VOLUNTEER = "volunteer"


class Permission(StrEnum):
    PROGRAMME = "programme"
    ANNOUNCE = "announce"
    ORGANISERS = "organisers"
    #: Revealing an anonymous speaker, loosening a session's recording policy: admins only.
    LOOSEN_PRIVACY = "loosen-privacy"
    #: Say whether a room is open, filling up, full or closed, or post an emergency message at its door.
    ROOM_STATUS = "room-status"
    #: Read who changed what (every role but door staff).
    HISTORY = "history"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.PROGRAMME, Permission.HISTORY}),
    Role.ANNOUNCER: frozenset({Permission.ANNOUNCE, Permission.HISTORY}),
    Role.VOLUNTEER: frozenset({Permission.ROOM_STATUS}),
}


@dataclass(frozen=True, slots=True)
class Organiser:
    id: int
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in console (cookie) session.

    Attributes:
        token_hash: SHA-256 of the cookie's token, the session's key.
        csrf_token: What unsafe requests of this session must echo in ``X-CSRF-Token``.
        must_change_password: The organiser signed in with a one-time password.
    """

    token_hash: bytes
    csrf_token: str
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is making a request: the organiser, and their console session unless a bearer token was sent."""

    organiser: Organiser
    console: ConsoleSession | None = None


def new_token(prefix: str) -> str:
    """A bearer token with 256 bits of randomness; the prefix tells token kinds apart in a support chat."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> bytes:
    """SHA-256 of a token. Tokens are random, so a fast hash suffices and lookup is by hash."""
    return hashlib.sha256(token.encode()).digest()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class AuthService:
    """Creates organisers and resolves their tokens."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: When this process last recorded each token's use (monotonic seconds, by token hash): concurrent
        #: requests with one token, all seeing the stored time as stale, still write it once.
        self._marked: dict[bytes, float] = {}

    async def add_organiser(self, name: str, role: Role) -> tuple[Organiser, str]:
        """Create an organiser and return it with its new token (shown once, stored hashed).

        Raises:
            Conflict: The name is taken.
        """
        token = new_token("kpo")
        try:
            async with self.db.write() as conn:
                row = await organisers.add_organiser(conn, name, role.value, hash_token(token))
        except IntegrityError:
            raise Conflict(f"an organiser named {name!r} already exists", field="name") from None
        return Organiser(row.id, row.name, Role(row.role)), token

    async def organiser_for(self, authorization: str | None) -> Organiser:
        """The organiser behind an ``Authorization`` header.

        Raises:
            Unauthorized: No bearer token, or one nobody holds.
        """
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized(
                "this needs an organiser: send `Authorization: Bearer TOKEN`, or sign in to the console at /admin"
            )
        token_hash = hash_token(token)
        async with self.db.read() as conn:
            row = await organisers.organiser_by_token_hash(conn, token_hash)
        if row is None:
            raise Unauthorized("the organiser token is not valid (it may have been replaced or revoked)")
        now = datetime.now(UTC)
        stale = console_store.timestamp(now - TOKEN_USE_PRECISION)
        if row.token_last_used_at is None or row.token_last_used_at < stale:
            marked = self._marked.get(token_hash)
            if marked is None or time.monotonic() - marked >= TOKEN_USE_PRECISION.total_seconds():
                self._marked[token_hash] = time.monotonic()
                await self._mark_used(row.id, console_store.timestamp(now), stale)
        return Organiser(row.id, row.name, Role(row.role))

    async def _mark_used(self, organiser_id: int, now: str, stale: str) -> None:
        """Record a token's use; a busy or full database only loses the record, never the request."""
        try:
            async with self.db.write() as conn:
                await organisers.mark_token_used(conn, organiser_id, now, stale)
        except StorageError as exc:
            log.warning("could not record an organiser token's use: %s", exc)

    async def identify(
        self, *, authorization: str | None, console_token: str | None, csrf_token: str | None, unsafe: bool
    ) -> Caller:
        """Who sends a request: by bearer token if there is one, else by console cookie.

        Args:
            authorization: The ``Authorization`` header.
            console_token: The console cookie's value.
            csrf_token: The ``X-CSRF-Token`` header; a console session's unsafe requests must carry it.
            unsafe: The request may change something (any method but GET, HEAD and OPTIONS).

        Raises:
            Unauthorized: Neither credential, or one that is unknown or has expired.
            Forbidden: A console request that changes something without its session's CSRF token.
        """
        if authorization or not console_token:
            return Caller(await self.organiser_for(authorization))
        async with self.db.read() as conn:
            row = await console_store.session_by_token_hash(
                conn, hash_token(console_token), console_store.timestamp(datetime.now(UTC))
            )
        if row is None:
            raise Unauthorized("the console sign-in has ended or is not valid: sign in again")
        if unsafe:
            if not csrf_token:
                raise Forbidden("the CSRF token is missing: send the csrfToken from sign-in as X-CSRF-Token")
            if not hmac.compare_digest(csrf_token.encode(), row.csrf_token.encode()):
                raise Forbidden("the CSRF token is wrong: send the csrfToken from sign-in as X-CSRF-Token")
        organiser = Organiser(row.organiser_id, row.name, Role(row.role))
        return Caller(organiser, ConsoleSession(hash_token(console_token), row.csrf_token, row.must_change_password))

    @staticmethod
    def authorise(caller: Caller, permission: Permission | None, *, before_password_change: bool = False) -> None:
        """Check that ``caller`` may do something needing ``permission`` (None: any organiser may).

        A console session on a one-time password may only reach what ``before_password_change``
        marks (who am I, set my password, sign out). Bearer tokens are for scripts and never wait
        for a password.

        Raises:
            Forbidden: The password must be changed first, or the role lacks the permission.
        """
        if caller.console is not None and caller.console.must_change_password and not before_password_change:
            raise Forbidden(FIRST_SIGN_IN_ONLY)
        organiser = caller.organiser
        if permission is not None and not organiser.can(permission):
            raise Forbidden(f"the role {organiser.role.value!r} may not do this (needs {permission.value!r})")
