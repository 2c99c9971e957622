"""The organiser console: sign-in with a password, console sessions, organiser accounts and the history.

Passwords are hashed with argon2 in a worker thread (a hash takes tens of milliseconds on purpose).
A sign-in starts a session whose random token lives in an HttpOnly cookie and is stored hashed, with
a CSRF token that the session's changing requests must echo. New organisers and password resets get
a one-time password that must be replaced at the first sign-in.

Sign-in attempts are limited so that guessing is slow and yet a stranger cannot keep an organiser out:

- A browser that signed in before holds a long-lived device cookie (its token stored hashed, per organiser).
  Its attempts for that organiser count only against the device's own budget (:data:`SIGN_IN_BY_DEVICE`);
  nobody else's guesses touch it, and guessing with it needs the cookie, which needs the password.
- From an address the organiser signed in from in the last 30 days (a known address, remembered in this
  process's memory only, like the counts: no IP address is written to the database), attempts count only
  against that address's budget (:data:`SIGN_IN_BY_ADDRESS`), so strangers elsewhere cannot use it up.
- Every other attempt (an unknown browser at an unknown address: every guesser) counts against the address
  and against one budget per name shared by all such attempts (:data:`SIGN_IN_BY_NAME`): at most 10 at once and
  then one every 3 s per server process, whatever the number of addresses. Past it the answer is 429 with the
  ``Retry-After`` of the next free slot, at once: requests are not held open to pace them, which would cost a
  connection per waiting guess. Unknown names have the same budget, so the answers tell nothing about which names
  exist.

An organiser under attack signs in from a browser they used before, or from their usual network, at once; only a
new browser on a new network waits for a slot. Counts live in each server process's memory: with several workers
each has its budget (two workers: one guess a second for a name at most).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from server.schemas.console import HistoryEntry, OrganiserListItem, OrganiserRef
from server.services.auth import Caller, Organiser, Permission, Role, hash_token, new_token
from server.services.ratelimit import Limit, RateLimiter
from server.storage import console as store
from server.storage import history as history_store
from server.storage import organisers
from server.storage.db import Database, IntegrityError

#: How long a console sign-in lasts (the cookie's Max-Age).
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
#: The same answer for an unknown name and a wrong password, so neither can be probed.
WRONG_CREDENTIALS = "name or password is wrong"
#: Ten tries at once, then one every six seconds: enough for typos, far too few for guessing.
SIGN_IN_BY_ADDRESS = Limit("sign-in attempts from this address", per_minute=10, burst=10)
#: Attempts for one name from browsers and addresses it never signed in from, all together.
SIGN_IN_BY_NAME = Limit("sign-in attempts for this name from new browsers", per_minute=20, burst=10)
#: A browser that signed in before (its device cookie): for typos, never shared with strangers.
SIGN_IN_BY_DEVICE = Limit("sign-in attempts from this browser", per_minute=10, burst=10)
#: How long a browser and an address stay known after their last sign-in.
DEVICE_LIFETIME = timedelta(days=30)
#: Browsers, and addresses, remembered per organiser; the least recently used are forgotten.
DEVICES_KEPT = 20
PASSWORD_CHECKS = Limit("password checks", per_minute=10, burst=10)
#: One-time passwords: lower-case letters and digits without 0/o, 1/l/i, read out or typed from paper.
OTP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
OTP_GROUPS = 4
OTP_GROUP_LENGTH = 4
#: The hash of a forgotten random string, made with argon2-cffi's default parameters. Names without a
#: password are checked against it, so a wrong name takes as long as a wrong password.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$MntjXc/qvJD6pkf0CQoH2w$RumK9qHbT0hp0ZvEqAHF1OXns0PcM5Q4V7IjmbiZiFg"


def one_time_password() -> str:
    """A readable one-time password such as ``k7dm-x3qa-9fze-hp2w`` (16 characters, about 79 bits)."""
    groups = ("".join(secrets.choice(OTP_ALPHABET) for _ in range(OTP_GROUP_LENGTH)) for _ in range(OTP_GROUPS))
    return "-".join(groups)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new console session.

    Attributes:
        organiser: Who signed in.
        cookie_token: The session's secret for the cookie; only its hash is stored.
        csrf_token: What the session's changing requests must send as ``X-CSRF-Token``.
        must_change_password: They signed in with a one-time password.
        device_token: The browser's device cookie from now on (the one it sent, when that was this organiser's).
    """

    organiser: Organiser
    cookie_token: str
    csrf_token: str
    must_change_password: bool
    device_token: str


def _ref(organiser: Organiser) -> OrganiserRef:
    return OrganiserRef(id=organiser.id, name=organiser.name, role=organiser.role.value)


class ConsoleService:
    """Signs organisers in and out, changes and resets passwords, manages organisers, reads the history.

    Args:
        db: The database.
        limiter: The rate limiter for sign-in attempts.
        hasher: The argon2 parameters; hashes made with others are replaced at the next sign-in.
    """

    def __init__(self, db: Database, limiter: RateLimiter, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self._limiter = limiter
        self._hasher = hasher or PasswordHasher()
        #: Per organiser id, the addresses they signed in from, with when (monotonic seconds), newest last.
        self._known_addresses: dict[int, dict[str, float]] = {}
        # With other parameters than the defaults, the dummy is made at the first unknown name.
        self._dummy_hash: str | None = None if self._hasher.check_needs_rehash(DUMMY_HASH) else DUMMY_HASH

    # -- passwords ------------------------------------------------------------------------------

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, a check against a dummy takes the same time and fails."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self._hash(secrets.token_urlsafe(16))
            await asyncio.to_thread(self._matches, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._matches, password_hash, password)

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # -- sign-in --------------------------------------------------------------------------------

    async def sign_in(self, name: str, password: str, address: str, device_token: str | None = None) -> SignedIn:
        """Check a name and password and start a console session.

        Args:
            name: The organiser's name.
            password: Their password.
            address: The client's rate-limit key (:func:`server.routes.deps.client_address`).
            device_token: The browser's device cookie, if it sent one.

        Raises:
            TooManyRequests: Too many attempts from this browser, this address or (from new browsers) for this name.
            Unauthorized: Unknown name, no password set, or a wrong password (one message for all).
        """
        now = datetime.now(UTC)
        device_hash = hash_token(device_token) if device_token else None
        async with self.db.read() as conn:
            found = await store.credentials_by_name(conn, name)
            known_device = bool(found and device_hash and await store.device_known(conn, device_hash, found.id))
        known_address = found is not None and self._address_known(found.id, address)
        # Counted before the password is checked, so a burst of concurrent guesses is held to the budgets.
        if known_device:
            assert device_hash is not None
            await self._limiter.hit(SIGN_IN_BY_DEVICE, device_hash.hex())
        else:
            await self._limiter.hit(SIGN_IN_BY_ADDRESS, address)
            if not known_address:
                await self._limiter.hit(SIGN_IN_BY_NAME, name.casefold())
        stored = found.password_hash if found else None
        # Always check a hash, a dummy one for unknown names, so the time taken tells nothing.
        matches = await self._verify(stored, password)
        if found is None or not matches:
            raise Unauthorized(WRONG_CREDENTIALS)
        assert stored is not None
        rehashed = await self._hash(password) if self._hasher.check_needs_rehash(stored) else None
        cookie_token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        if not known_device or device_token is None:
            device_token = secrets.token_urlsafe(32)
        try:
            async with self.db.write() as conn:
                await store.purge_expired(conn, store.timestamp(now))
                await store.forget_stale_devices(conn, store.timestamp(now - DEVICE_LIFETIME))
                if rehashed is not None:
                    await store.rehash_password(conn, found.id, stored, rehashed)
                await store.add_session(
                    conn,
                    hash_token(cookie_token),
                    found.id,
                    csrf_token,
                    store.timestamp(now),
                    store.timestamp(now + SESSION_LIFETIME),
                )
                await store.remember_device(
                    conn, hash_token(device_token), found.id, store.timestamp(now), keep=DEVICES_KEPT
                )
        except IntegrityError:
            # The organiser was deleted while their password was being checked.
            raise Unauthorized(WRONG_CREDENTIALS) from None
        self._remember_address(found.id, address)
        organiser = Organiser(found.id, found.name, Role(found.role))
        return SignedIn(organiser, cookie_token, csrf_token, found.must_change_password, device_token)

    def _address_known(self, organiser_id: int, address: str) -> bool:
        seen = self._known_addresses.get(organiser_id, {}).get(address)
        return seen is not None and time.monotonic() - seen < DEVICE_LIFETIME.total_seconds()

    def _remember_address(self, organiser_id: int, address: str) -> None:
        addresses = self._known_addresses.setdefault(organiser_id, {})
        addresses.pop(address, None)
        addresses[address] = time.monotonic()
        while len(addresses) > DEVICES_KEPT:
            del addresses[next(iter(addresses))]

    async def sign_out(self, caller: Caller) -> None:
        """End the caller's console session (nothing to do for a bearer token)."""
        if caller.console is not None:
            async with self.db.write() as conn:
                await store.delete_session(conn, caller.console.token_hash)

    async def change_password(self, caller: Caller, current: str, new: str) -> None:
        """Replace the caller's password; their other console sessions end.

        An organiser who has no password yet (made before the console existed) proves who they are
        with their bearer token, and ``current`` is not checked.

        Raises:
            Invalid: The new password is too short or unchanged, or the current one is wrong.
            TooManyRequests: Too many wrong guesses of the current password.
        """
        organiser = caller.organiser
        if len(new) < MIN_PASSWORD_LENGTH:
            raise Invalid(f"the new password needs at least {MIN_PASSWORD_LENGTH} characters", field="newPassword")
        async with self.db.read() as conn:
            found = await store.credentials_by_id(conn, organiser.id)
        if found is None:
            raise Unauthorized("this organiser no longer exists")
        if found.password_hash is not None:
            await self._limiter.hit(PASSWORD_CHECKS, str(organiser.id))
            if not await self._verify(found.password_hash, current):
                raise Invalid("the current password is wrong", field="currentPassword")
            if new == current:
                raise Invalid("the new password must differ from the current one", field="newPassword")
        new_hash = await self._hash(new)
        async with self.db.write() as conn:
            await store.set_password(conn, organiser.id, new_hash, must_change=False)
            await store.delete_sessions_of(
                conn, organiser.id, keep=caller.console.token_hash if caller.console else None
            )
            await history_store.record(
                conn, organiser.name, "password-changed", "organiser", str(organiser.id), organiser.name
            )

    # -- organisers -----------------------------------------------------------------------------

    async def list_organisers(self) -> list[OrganiserListItem]:
        """Every organiser, by name, with whether they have set a password (never the hashes)."""
        async with self.db.read() as conn:
            rows = await organisers.list_organisers(conn)
        return [
            OrganiserListItem(
                id=row.id,
                name=row.name,
                role=Role(row.role).value,
                created_at=row.created_at,
                has_password=row.has_password,
                token_issued_at=row.token_issued_at,
                token_last_used_at=row.token_last_used_at,
            )
            for row in rows
        ]

    async def create_organiser(self, name: str, role: Role, *, actor: str) -> tuple[OrganiserRef, str, str]:
        """Create an organiser with an API token and a one-time password (both shown once, stored hashed).

        Returns:
            The organiser, their API token and their one-time password.

        Raises:
            Conflict: The name is taken.
        """
        token = new_token("kpo")
        password = one_time_password()
        password_hash = await self._hash(password)
        try:
            async with self.db.write() as conn:
                row = await organisers.add_organiser(conn, name, role.value, hash_token(token))
                await store.set_password(conn, row.id, password_hash, must_change=True)
                await history_store.record(conn, actor, "created", "organiser", str(row.id), f"{name} ({role.value})")
        except IntegrityError:
            raise Conflict(f"an organiser named {name!r} already exists", field="name") from None
        return _ref(Organiser(row.id, row.name, role)), token, password

    async def delete_organiser(self, organiser_id: int, *, by: Organiser) -> None:
        """Delete an organiser: their API token stops working and their console sessions end.

        Raises:
            Conflict: ``by`` deleting themselves, or the last admin.
            NotFound: No such organiser.
        """
        if organiser_id == by.id:
            raise Conflict("you cannot delete yourself; another admin can")
        async with self.db.write() as conn:
            row = await organisers.organiser_by_id(conn, organiser_id)
            if row is None:
                raise NotFound(f"no organiser with id {organiser_id}")
            if row.role == Role.ADMIN.value and await organisers.count_role(conn, Role.ADMIN.value) <= 1:
                raise Conflict(f"{row.name!r} is the last admin; make another admin first")
            await organisers.delete_organiser(conn, organiser_id)
            await history_store.record(
                conn, by.name, "deleted", "organiser", str(organiser_id), f"{row.name} ({row.role})"
            )

    async def reset_password(self, organiser_id: int, *, actor: str, revoke_token: bool = True) -> str:
        """Give an organiser a new one-time password; their console sessions end and known devices are forgotten.

        Args:
            organiser_id: Whose password.
            actor: Who resets it, for the history.
            revoke_token: Also revoke their API token (a reset usually means the account is not safe); they or an
                admin issue a new one with :meth:`issue_token`.

        Returns:
            The one-time password, shown once.

        Raises:
            NotFound: No such organiser.
        """
        password = one_time_password()
        password_hash = await self._hash(password)
        async with self.db.write() as conn:
            row = await organisers.organiser_by_id(conn, organiser_id)
            if row is None:
                raise NotFound(f"no organiser with id {organiser_id}")
            await store.set_password(conn, organiser_id, password_hash, must_change=True)
            await store.delete_sessions_of(conn, organiser_id)
            await store.forget_devices(conn, organiser_id)
            self._known_addresses.pop(organiser_id, None)
            await history_store.record(conn, actor, "password-reset", "organiser", str(organiser_id), row.name)
            if revoke_token:
                await organisers.replace_token(conn, organiser_id, hash_token(new_token("kpo")), None)
                await history_store.record(conn, actor, "token-revoked", "organiser", str(organiser_id), row.name)
        return password

    async def issue_token(self, organiser_id: int, *, by: Organiser) -> tuple[OrganiserRef, str]:
        """A new API token for an organiser; their previous one (or a revoked one) stops working at once.

        Args:
            organiser_id: Whose token.
            by: Who asks: an admin, or the organiser themselves.

        Returns:
            The organiser and the new token, shown once (stored hashed).

        Raises:
            Forbidden: ``by`` is neither an admin nor the organiser.
            NotFound: No such organiser.
        """
        if organiser_id != by.id and not by.can(Permission.ORGANISERS):
            raise Forbidden("only an admin, or the organiser themselves, may issue their API token")
        token = new_token("kpo")
        async with self.db.write() as conn:
            row = await organisers.organiser_by_id(conn, organiser_id)
            if row is None:
                raise NotFound(f"no organiser with id {organiser_id}")
            await organisers.replace_token(conn, organiser_id, hash_token(token), store.timestamp(datetime.now(UTC)))
            await history_store.record(conn, by.name, "token-issued", "organiser", str(organiser_id), row.name)
        return _ref(Organiser(row.id, row.name, Role(row.role))), token

    # -- history --------------------------------------------------------------------------------

    async def history(self, limit: int, before: int | None) -> list[HistoryEntry]:
        """The newest changes first; ``before`` pages back past an entry id."""
        async with self.db.read() as conn:
            rows = await history_store.latest(conn, limit, before)
        return [
            HistoryEntry(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                kind=row.kind,
                entity_id=row.entity_id,
                summary=row.summary,
            )
            for row in rows
        ]
