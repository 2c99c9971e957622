"""Anonymous attendees: created without personal data, linked across devices by short-lived codes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from server.errors import Invalid, NotFound, Unauthorized
from server.services.auth import bearer_token, hash_token, new_token
from server.services.ratelimit import Limit, RateLimiter
from server.storage import attendees as store
from server.storage.attendees import AttendeeRow
from server.storage.db import Database
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

    async def create(self, address: str) -> tuple[str, str]:
        """A new attendee and the token of this device."""
        self.limiter.hit(CREATE_LIMIT, address)
        attendee_id = f"att_{secrets.token_hex(12)}"
        token = new_token("kpa")
        async with self.db.write() as conn:
            await store.add_attendee(conn, attendee_id)
            await store.add_token(conn, attendee_id, hash_token(token))
        return attendee_id, token

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
        self.limiter.hit(LINK_CODE_LIMIT, attendee.id)
        self.limiter.hit(LINK_CODES_BY_ADDRESS, address)
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        now = datetime.now(UTC)
        expires = now + LINK_CODE_TTL
        async with self.db.write() as conn:
            await store.purge_link_codes(conn, _iso(now))
            await store.add_link_code(conn, attendee.id, hash_token(code), _iso(expires))
        return f"{code[:5]}-{code[5:]}", expires

    async def redeem(self, code: str, address: str) -> tuple[str, str]:
        """Link this device: a new token for the attendee whose code this is.

        Raises:
            Invalid: The code is unknown, used or expired.
            TooManyRequests: Too many wrong codes from this address.
        """
        # Counted before it is evaluated, so concurrent guesses cannot all pass while the first are being checked;
        # a right code gives its token back.
        self.limiter.hit(REDEEM_LIMIT, address)
        async with self.db.write() as conn:
            attendee_id = await store.redeem_link_code(conn, hash_token(normalise_code(code)), _iso(datetime.now(UTC)))
            if attendee_id is None:
                raise Invalid(
                    "this link code is not valid: codes work once and for 10 minutes; make a new one on your"
                    " other device",
                    field="code",
                )
            token = new_token("kpa")
            await store.add_token(conn, attendee_id, hash_token(token))
        self.limiter.refund(REDEEM_LIMIT, address)
        return attendee_id, token

    async def erase(self, attendee: AttendeeRow) -> None:
        """Delete the attendee and everything of theirs; every device's token stops working."""
        async with self.db.write() as conn:
            await store.delete_attendee(conn, attendee.id)

    async def new_calendar_key(self, attendee: AttendeeRow) -> str:
        """A new secret for the attendee's agenda feed; the previous one stops working.

        Only its hash is stored, so the address is shown once, like a device token.
        """
        self.limiter.hit(CALENDAR_KEY_LIMIT, attendee.id)
        key = new_token("kpc")
        async with self.db.write() as conn:
            await store.set_calendar_key(conn, attendee.id, hash_token(key))
        return key

    async def revoke_calendar_key(self, attendee: AttendeeRow) -> None:
        """Stop the attendee's agenda feed: its address answers 404 from now on."""
        async with self.db.write() as conn:
            await store.set_calendar_key(conn, attendee.id, None)

    async def calendar_bookmarks(self, key: str) -> set[str]:
        """The session ids bookmarked by the attendee whose agenda feed has the secret ``key``.

        Raises:
            NotFound: No attendee has this key (never had, replaced, revoked, or the attendee was erased).
        """
        async with self.db.read() as conn:
            attendee_id = await store.attendee_by_calendar_key(conn, hash_token(key))
            docs = await store.get_docs(conn, attendee_id, [PROFILE]) if attendee_id is not None else {}
        if attendee_id is None:
            raise NotFound(
                "no calendar feed at this address: it was replaced or turned off; subscribe again in the app"
            )
        profile = docs.get(PROFILE)
        return bookmarked(profile.state) if profile is not None else set()
