"""Web Push subscriptions: stored per endpoint, checked so the server only ever calls public push services."""

from __future__ import annotations

import msgspec

from server.errors import NotFound
from server.push.endpoints import Resolver, check_endpoint, resolve_host
from server.schemas.announcements import PushSubscriptionIn
from server.services.ratelimit import Limit, RateLimiter
from server.storage import push as store
from server.storage.attendees import AttendeeRow
from server.storage.db import Database

SUBSCRIBE_BY_ATTENDEE = Limit("push subscription changes for one attendee", per_minute=10, burst=20)
#: A whole venue turning notifications on at once, and changing what it follows, stays well within.
SUBSCRIBE_BY_ADDRESS = Limit("push subscription changes from one address", per_minute=120, burst=2000)


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

        Raises:
            Invalid: The endpoint is not https on a public host.
            TooManyRequests: Too many changes for this attendee, or from this address.
        """
        if attendee is not None:
            self.limiter.hit(SUBSCRIBE_BY_ATTENDEE, attendee.id)
        self.limiter.hit(SUBSCRIBE_BY_ADDRESS, address)
        await check_endpoint(data.endpoint, allow_insecure_loopback=self.allow_insecure_loopback, resolve=self.resolve)
        async with self.db.write() as conn:
            return await store.upsert_subscription(
                conn,
                data.endpoint,
                data.keys.p256dh,
                data.keys.auth,
                attendee.id if attendee else None,
                data.participation,
                msgspec.json.encode(sorted(set(data.alert_sessions))).decode(),
            )

    async def unsubscribe(self, endpoint: str) -> None:
        """Forget a subscription.

        Raises:
            NotFound: No subscription has that endpoint.
        """
        async with self.db.write() as conn:
            if not await store.delete_subscription(conn, endpoint):
                raise NotFound("no push subscription has that endpoint")
