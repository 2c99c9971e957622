"""Anonymous attendees: created without personal data, linked across devices by short-lived codes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from server.errors import Conflict, Invalid, NotFound, Unauthorized
from server.services.auth import bearer_token, hash_token, new_token
from server.services.feedback import forget_attendee
from server.services.ratelimit import Limit, RateLimiter
from server.storage import attendees as store
from server.storage import vault
from server.storage.attendees import AttendeeRow
from server.storage.db import Connection, Database
from sync import PROFILE, bookmarked

LINK_CODE_TTL = timedelta(minutes=10)
#: Crockford's base32: no I, L, O or U, so a code read aloud or typed from a screen survives.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 10  # 50 bits: at the redeem limit below, 1,000 live codes take 30,000 years of guessing
_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})

#: No token yet, so per address only: a whole venue (a phone and a laptop each) may start the app at once.
#: A venue of 8,000 behind one address all start within a minute (the burst), and late arrivals and reinstalls trickle
#: in after; a machine creating identities without end gets 40 a minute (2,400 an hour) once the burst is spent.
#: Counted per worker (the limits are in memory), so a server with more workers allows that many times more.
CREATE_LIMIT = Limit("new attendees from one address", per_minute=40, burst=10_000)
LINK_CODE_LIMIT = Limit("link codes for one attendee", per_minute=1, burst=5)
LINK_CODES_BY_ADDRESS = Limit("link codes from one address", per_minute=60, burst=250)
#: Only wrong codes count: a venue linking its laptops never meets the limit, a guesser does at once.
REDEEM_LIMIT = Limit("failed link attempts from one address", per_minute=10, burst=20)
CALENDAR_KEY_LIMIT = Limit("calendar feed addresses for one attendee", per_minute=6, burst=10)


class Attendee(msgspec.Struct, rename="camel"):
    """An attendee's profile as the attendee sees it."""

    attendee_id: str
    participation: str | None
    language: str | None


class AttendeeKey(msgspec.Struct, rename="camel"):
    """An attendee's profile and the id of their current notebook key (0: none yet)."""

    attendee_id: str
    participation: str | None
    language: str | None
    key_id: int


#: A device's public key: an uncompressed P-256 point.
PUBLIC_KEY_BYTES = 65
MAX_PROOF_BYTES = 64
MAX_DEVICE_NAME = 60
#: A notebook key wrapped for one device: an ephemeral public key, a nonce, the key and a tag.
MAX_WRAPPED_BYTES = 256
MAX_KEYRING_BYTES = 64 * 1024
MAX_KEY_ID = 2**31 - 1


class NewDevice(msgspec.Struct, frozen=True):
    """What a device says about itself when it joins: a name people recognise and its public key."""

    name: str | None = None
    public_key: bytes | None = None
    proof: bytes | None = None


class Wrapped(msgspec.Struct, frozen=True):
    device_id: str
    key: bytes


class Rotation(msgspec.Struct, frozen=True):
    """A new notebook key: its id, the id it replaces, the keyring under it, and the key wrapped per device."""

    key_id: int
    previous: int
    keyring: bytes | None
    wrapped: list[Wrapped]


class Device(msgspec.Struct, rename="camel"):
    """One device of an attendee, as the attendee's devices list it."""

    id: str
    name: str | None
    linked_at: str
    last_seen_at: str | None
    current: bool
    public_key: bytes | None
    proof: bytes | None
    key_id: int | None


class LinkPreviewDevice(msgspec.Struct, rename="camel"):
    name: str | None
    linked_at: str
    last_seen_at: str | None


class LinkPreview(msgspec.Struct, rename="camel"):
    """Whose notebook a link code joins: its devices, and how many documents it holds."""

    devices: list[LinkPreviewDevice]
    documents: int


def check_device(device: NewDevice) -> NewDevice:
    """The device description with its name tidied.

    Raises:
        Invalid: A name that is empty, too long or holds control characters; a public key that is not an
            uncompressed P-256 point; a proof over its size.
    """
    name = device.name
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > MAX_DEVICE_NAME or any(not ch.isprintable() for ch in name):
            raise Invalid(f"a device name has 1 to {MAX_DEVICE_NAME} printable characters", field="name")
    if device.public_key is not None and (len(device.public_key) != PUBLIC_KEY_BYTES or device.public_key[0] != 4):
        raise Invalid(
            f"publicKey must be an uncompressed P-256 point ({PUBLIC_KEY_BYTES} bytes starting with 0x04)",
            field="publicKey",
        )
    if device.proof is not None and not 0 < len(device.proof) <= MAX_PROOF_BYTES:
        raise Invalid(f"proof has 1 to {MAX_PROOF_BYTES} bytes", field="proof")
    return NewDevice(name, device.public_key, device.proof)


def _new_device_id() -> str:
    return f"dev_{secrets.token_hex(12)}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise_code(code: str) -> str:
    """A link code as stored: upper case, no separators, look-alike letters mapped to digits."""
    return "".join(ch for ch in code.upper() if ch.isalnum()).translate(_CODE_FIXES)


class AttendeeService:
    """Creates attendees, resolves their tokens, links devices and erases everything on request."""

    def __init__(self, db: Database, limiter: RateLimiter) -> None:
        self.db = db
        self.limiter = limiter

    async def create(self, address: str, device: NewDevice | None = None) -> tuple[str, str, str]:
        """A new attendee, and the token and device id of this device."""
        device = check_device(device or NewDevice())
        await self.limiter.hit(CREATE_LIMIT, address)
        attendee_id = f"att_{secrets.token_hex(12)}"
        token = new_token("kpa")
        device_id = _new_device_id()
        async with self.db.write() as conn:
            await store.add_attendee(conn, attendee_id)
            await store.add_token(
                conn,
                attendee_id,
                hash_token(token),
                device_id,
                name=device.name,
                public_key=device.public_key,
                proof=device.proof,
            )
        return attendee_id, token, device_id

    async def attendee_for(self, authorization: str | None) -> AttendeeRow:
        """The attendee behind an ``Authorization: Bearer`` header.

        Raises:
            Unauthorized: No token, or one that is not (or no longer) valid.
        """
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized("this needs the attendee token: send `Authorization: Bearer TOKEN`")
        async with self.db.read() as conn:
            row = await store.attendee_by_token_hash(conn, hash_token(token))
        if row is None:
            raise Unauthorized("the attendee token is not valid (the attendee may have erased their data)")
        return row

    async def update_profile(self, attendee: AttendeeRow, participation: str | None, language: str | None) -> Attendee:
        async with self.db.write() as conn:
            await store.update_profile(conn, attendee.id, participation, language)
        return Attendee(attendee.id, participation, language)

    async def link_code(self, attendee: AttendeeRow, address: str) -> tuple[str, datetime]:
        """A single-use code, valid for ten minutes, that links another device to ``attendee``.

        Raises:
            TooManyRequests: Too many codes for this attendee, or from this address.
        """
        await self.limiter.hit(LINK_CODE_LIMIT, attendee.id, (LINK_CODES_BY_ADDRESS, address))
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        now = datetime.now(UTC)
        expires = now + LINK_CODE_TTL
        async with self.db.write() as conn:
            await store.purge_link_codes(conn, _iso(now))
            await store.add_link_code(conn, attendee.id, hash_token(code), _iso(expires))
        return f"{code[:5]}-{code[5:]}", expires

    async def preview(self, code: str, address: str) -> LinkPreview:
        """Whose notebook ``code`` would join (its devices and how many documents), without using the code.

        Raises:
            Invalid: The code is unknown, used or expired.
            TooManyRequests: Too many wrong codes from this address (counted with wrong redeems).
        """
        await self.limiter.hit(REDEEM_LIMIT, address)
        async with self.db.snapshot() as conn:
            attendee_id = await store.peek_link_code(conn, hash_token(normalise_code(code)), _iso(datetime.now(UTC)))
            if attendee_id is None:
                raise _bad_code()
            rows = await vault.devices(conn, attendee_id)
            documents = await vault.count_documents(conn, attendee_id)
        await self.limiter.refund(REDEEM_LIMIT, address)
        return LinkPreview([LinkPreviewDevice(row.name, row.linked_at, row.last_seen_at) for row in rows], documents)

    async def redeem(self, code: str, address: str, device: NewDevice | None = None) -> tuple[str, str, str]:
        """Link this device: a new token (and device id) for the attendee whose code this is.

        Raises:
            Invalid: The code is unknown, used or expired; a bad device description.
            TooManyRequests: Too many wrong codes from this address.
        """
        device = check_device(device or NewDevice())
        # Counted before it is evaluated, so concurrent guesses cannot all pass while the first are being checked;
        # a right code gives its token back.
        await self.limiter.hit(REDEEM_LIMIT, address)
        device_id = _new_device_id()
        async with self.db.write() as conn:
            attendee_id = await store.redeem_link_code(conn, hash_token(normalise_code(code)), _iso(datetime.now(UTC)))
            if attendee_id is None:
                raise _bad_code()
            token = new_token("kpa")
            await store.add_token(
                conn,
                attendee_id,
                hash_token(token),
                device_id,
                name=device.name,
                public_key=device.public_key,
                proof=device.proof,
            )
        await self.limiter.refund(REDEEM_LIMIT, address)
        return attendee_id, token, device_id

    async def key_id(self, attendee: AttendeeRow) -> int:
        """The attendee's current notebook key id (0: none yet)."""
        async with self.db.read() as conn:
            current = await vault.current_key(conn, attendee.id)
        if current is None:
            raise _erased()
        return current[0]

    async def devices(self, attendee: AttendeeRow) -> list[Device]:
        """Every device of the attendee, the calling one marked ``current``."""
        async with self.db.read() as conn:
            rows = await vault.devices(conn, attendee.id)
        return [
            Device(
                row.device_id,
                row.name,
                row.linked_at,
                row.last_seen_at,
                row.device_id == attendee.device_id,
                row.public_key,
                row.proof,
                row.key_id,
            )
            for row in rows
        ]

    async def update_device(self, attendee: AttendeeRow, device: NewDevice) -> Device:
        """Rename the calling device, or register its public key and proof (fields left out are kept)."""
        device = check_device(device)
        async with self.db.write() as conn:
            await vault.update_device(
                conn, attendee.device_id, name=device.name, public_key=device.public_key, proof=device.proof
            )
            await vault.touch_device(conn, attendee.device_id)
        for listed in await self.devices(attendee):
            if listed.current:
                return listed
        raise _erased()

    async def register_key(self, attendee: AttendeeRow, rotation: Rotation) -> int:
        """Make ``rotation`` the attendee's notebook key, if ``rotation.previous`` is still the current one.

        Raises:
            Conflict: Another device changed the key first (the detail and ``keyId`` name the current one).
            Invalid: A key id that does not follow, a wrapped key for a device that is not the attendee's, sizes.
        """
        async with self.db.write() as conn:
            await self._rotate(conn, attendee, rotation)
        return rotation.key_id

    async def revoke(self, attendee: AttendeeRow, device_id: str, rotation: Rotation | None) -> None:
        """Revoke another device of the attendee: its token stops working at once; the key moves on with it.

        Raises:
            Invalid: Revoking the calling device; no rotation while the attendee has a key.
            NotFound: No such device of this attendee.
            Conflict: The rotation's ``previous`` key is not the current one.
        """
        if device_id == attendee.device_id:
            raise Invalid(
                "this is the device making the request: erase its data or sign out instead of revoking it",
                field="deviceId",
            )
        async with self.db.write() as conn:
            if not await vault.delete_device(conn, attendee.id, device_id):
                raise NotFound(f"no device {device_id[:40]!r} is linked to you (already revoked?)")
            current = await vault.current_key(conn, attendee.id)
            if current is None:
                raise _erased()
            if rotation is None:
                if current[0] > 0:
                    raise Invalid(
                        "revoking a device replaces the notebook key, so that the device cannot read what is written"
                        " afterwards: send the rotation",
                        field="rotation",
                    )
            else:
                await self._rotate(conn, attendee, rotation)

    async def _rotate(self, conn: Connection, attendee: AttendeeRow, rotation: Rotation) -> None:
        current = await vault.current_key(conn, attendee.id)
        if current is None:
            raise _erased()
        if rotation.previous != current[0]:
            raise KeyConflict(
                f"the notebook key is now key {current[0]}, not {rotation.previous}: another device changed it;"
                " sync to get it, then try again",
                key_id=current[0],
            )
        if rotation.key_id != rotation.previous + 1 or rotation.key_id > MAX_KEY_ID:
            raise Invalid(f"the new key id must be {rotation.previous + 1}", field="keyId")
        if rotation.keyring is not None and len(rotation.keyring) > MAX_KEYRING_BYTES:
            raise Invalid(f"the keyring is over {MAX_KEYRING_BYTES // 1024} KB", field="keyring")
        mine = {row.device_id for row in await vault.devices(conn, attendee.id)}
        seen: set[str] = set()
        for index, item in enumerate(rotation.wrapped):
            if item.device_id not in mine:
                raise Invalid(f"{item.device_id[:40]!r} is not a device of yours", field=f"wrapped[{index}].deviceId")
            if item.device_id in seen:
                raise Invalid("a device is listed twice", field=f"wrapped[{index}].deviceId")
            if not 0 < len(item.key) <= MAX_WRAPPED_BYTES:
                raise Invalid(f"a wrapped key has 1 to {MAX_WRAPPED_BYTES} bytes", field=f"wrapped[{index}].key")
            seen.add(item.device_id)
        await vault.set_key(conn, attendee.id, rotation.key_id, rotation.keyring)
        for item in rotation.wrapped:
            await vault.put_wrapped(conn, attendee.id, item.device_id, rotation.key_id, item.key)

    async def erase(self, attendee: AttendeeRow) -> None:
        """Delete the attendee and everything of theirs (their session feedback too); every device's token stops
        working."""
        async with self.db.write() as conn:
            await forget_attendee(conn, attendee.id)
            await store.delete_attendee(conn, attendee.id)

    async def new_calendar_key(self, attendee: AttendeeRow, lang: str | None = None) -> str:
        """A new secret for the attendee's agenda feed, written in ``lang``; the previous one stops working.

        Only its hash is stored, so the address is shown once, like a device token.
        """
        await self.limiter.hit(CALENDAR_KEY_LIMIT, attendee.id)
        key = new_token("kpc")
        async with self.db.write() as conn:
            await store.set_calendar_key(conn, attendee.id, hash_token(key), lang)
        return key

    async def set_calendar_lang(self, attendee: AttendeeRow, lang: str | None) -> None:
        """Write the attendee's agenda feed in ``lang`` from now on, at the same address.

        Raises:
            NotFound: The attendee has no calendar feed.
        """
        async with self.db.write() as conn:
            if not await store.set_calendar_lang(conn, attendee.id, lang):
                raise NotFound("no calendar feed to change: make one with POST /api/attendees/me/calendar")

    async def revoke_calendar_key(self, attendee: AttendeeRow) -> None:
        """Stop the attendee's agenda feed: its address answers 404 from now on."""
        async with self.db.write() as conn:
            await store.set_calendar_key(conn, attendee.id, None)

    async def calendar_bookmarks(self, key: str) -> tuple[set[str], str | None]:
        """The session ids bookmarked by the attendee whose agenda feed has the secret ``key``, and its language.

        Raises:
            NotFound: No attendee has this key (never had, replaced, revoked, or the attendee was erased).
        """
        async with self.db.read() as conn:
            found = await store.attendee_by_calendar_key(conn, hash_token(key))
            docs = await store.get_docs(conn, found[0], [PROFILE]) if found is not None else {}
        if found is None:
            raise NotFound(
                "no calendar feed at this address: it was replaced or turned off; subscribe again in the app"
            )
        profile = docs.get(PROFILE)
        return (bookmarked(profile.state) if profile is not None else set()), found[1]


class KeyConflict(Conflict):
    """A write under a notebook key that is not the attendee's current one; ``key_id`` names the current one."""

    def __init__(self, detail: str, *, key_id: int) -> None:
        super().__init__(detail, field="keyId")
        self.key_id = key_id
        self.facts = {"keyId": key_id}


def _bad_code() -> Invalid:
    return Invalid(
        "this link code is not valid: codes work once and for 10 minutes; make a new one on your other device",
        field="code",
    )


def _erased() -> Unauthorized:
    return Unauthorized("this attendee was erased; its tokens no longer work")
