"""Web Push subscriptions: stored per endpoint, checked so the server only ever calls public push services.

A subscription belongs to whoever made it: changing or forgetting it needs the attendee token it was made with,
or its auth secret (``keys.auth``, which only the browser that made it and this server know). Knowing the
endpoint alone (it may have passed through a log) changes nothing.
"""

from __future__ import annotations

import hmac

import msgspec

from server.errors import Forbidden, NotFound
from server.push.endpoints import Resolver, check_endpoint, resolve_host
from server.schemas.announcements import PushSubscriptionIn
from server.services.ratelimit import Limit, RateLimiter
from server.storage import push as store
from server.storage.attendees import AttendeeRow
from server.storage.db import Database
from server.storage.push import SubscriptionOwner

SUBSCRIBE_BY_ATTENDEE = Limit("push subscription changes for one attendee", per_minute=10, burst=20)
#: A whole venue turning notifications on at once, and changing what it follows, stays well within.
SUBSCRIBE_BY_ADDRESS = Limit("push subscription changes from one address", per_minute=120, burst=2000)
NOT_YOURS = (
    "this push subscription belongs to another device: send the attendee token it was made with, or its auth"
    " secret (keys.auth)"
)


def may_change(owner: SubscriptionOwner, attendee: AttendeeRow | None, auth: str | None) -> bool:
    """Whether a request with ``attendee``'s token and the auth secret ``auth`` may change ``owner``'s subscription."""
    if attendee is not None and owner.attendee_id == attendee.id:
        return True
    return auth is not None and hmac.compare_digest(auth.encode(), owner.auth.encode())


class PushSubscriptionService:
    """Stores the subscriptions of devices, refusing endpoints inside the server's network.

    Args:
        db: The database.
        limiter: The rate limiter (changes per attendee and per address).
        allow_insecure_loopback: Also accept http endpoints on loopback (tests, development).
        resolve: Looks up endpoint hosts (the system's resolver unless a test gives its own).
    """

    def __init__(
        self,
        db: Database,
        limiter: RateLimiter,
        *,
        allow_insecure_loopback: bool,
        resolve: Resolver = resolve_host,
    ) -> None:
        self.db = db
        self.limiter = limiter
        self.allow_insecure_loopback = allow_insecure_loopback
        self.resolve = resolve

    async def subscribe(self, data: PushSubscriptionIn, attendee: AttendeeRow | None, address: str) -> bool:
        """Store or update a subscription; returns True when the endpoint is new.

        A known endpoint changes only for its owner (:func:`may_change`); sent without a token by its own
        browser, it keeps the attendee it has.

        Raises:
            Forbidden: The endpoint is someone else's.
            Invalid: The endpoint is not https on a public host.
            TooManyRequests: Too many changes for this attendee, or from this address.
        """
        if attendee is not None:
            await self.limiter.hit(SUBSCRIBE_BY_ATTENDEE, attendee.id)
        await self.limiter.hit(SUBSCRIBE_BY_ADDRESS, address)
        await check_endpoint(data.endpoint, allow_insecure_loopback=self.allow_insecure_loopback, resolve=self.resolve)
        async with self.db.write() as conn:
            owner = await store.subscription_owner(conn, data.endpoint)
            attendee_id = attendee.id if attendee else None
            if owner is not None:
                if not may_change(owner, attendee, data.keys.auth):
                    raise Forbidden(NOT_YOURS)
                attendee_id = attendee_id or owner.attendee_id
            return await store.upsert_subscription(
                conn,
                data.endpoint,
                data.keys.p256dh,
                data.keys.auth,
                attendee_id,
                data.participation,
                msgspec.json.encode(sorted(set(data.alert_sessions))).decode(),
                data.lang,
                data.reminder_minutes,
                data.change_alerts,
            )

    async def unsubscribe(self, endpoint: str, attendee: AttendeeRow | None, auth: str | None) -> None:
        """Forget a subscription, for its owner (:func:`may_change`).

        Raises:
            Forbidden: The endpoint is someone else's.
            NotFound: No subscription has that endpoint.
        """
        async with self.db.write() as conn:
            owner = await store.subscription_owner(conn, endpoint)
            if owner is None:
                raise NotFound("no push subscription has that endpoint")
            if not may_change(owner, attendee, auth):
                raise Forbidden(NOT_YOURS)
            await store.delete_subscription(conn, endpoint)
