"""Organiser authentication: bearer tokens stored as hashes, roles mapped to permissions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import aiosqlite

from server.errors import Conflict, Forbidden, Unauthorized
from server.storage import organisers
from server.storage.db import Database


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    ANNOUNCER = "announcer"


class Permission(StrEnum):
    PROGRAMME = "programme"
    ANNOUNCE = "announce"
    ORGANISERS = "organisers"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.PROGRAMME}),
    Role.ANNOUNCER: frozenset({Permission.ANNOUNCE}),
}


@dataclass(frozen=True, slots=True)
class Organiser:
    id: int
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


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

    async def add_organiser(self, name: str, role: Role) -> tuple[Organiser, str]:
        """Create an organiser and return it with its new token (shown once, stored hashed).

        Raises:
            Conflict: The name is taken.
        """
        token = new_token("kpo")
        try:
            async with self.db.write() as conn:
                row = await organisers.add_organiser(conn, name, role.value, hash_token(token))
        except aiosqlite.IntegrityError:
            raise Conflict(f"an organiser named {name!r} already exists", field="name") from None
        return Organiser(row.id, row.name, Role(row.role)), token

    async def organiser_for(self, authorization: str | None) -> Organiser:
        """The organiser behind an ``Authorization`` header.

        Raises:
            Unauthorized: No bearer token, or one nobody holds.
        """
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized("this needs an organiser token: send `Authorization: Bearer TOKEN`")
        async with self.db.read() as conn:
            row = await organisers.organiser_by_token_hash(conn, hash_token(token))
        if row is None:
            raise Unauthorized("the organiser token is not valid")
        return Organiser(row.id, row.name, Role(row.role))

    async def require(self, authorization: str | None, permission: Permission) -> Organiser:
        """Like :meth:`organiser_for`, and the organiser must hold ``permission``.

        Raises:
            Unauthorized: See :meth:`organiser_for`.
            Forbidden: The organiser's role lacks the permission.
        """
        organiser = await self.organiser_for(authorization)
        if not organiser.can(permission):
            raise Forbidden(f"the role {organiser.role.value!r} may not do this (needs {permission.value!r})")
        return organiser
