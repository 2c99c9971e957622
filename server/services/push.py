"""Web Push subscriptions: stored per endpoint, checked so the server only ever calls public push services."""

from __future__ import annotations

import msgspec

from server.errors import NotFound
from server.push.endpoints import check_endpoint
from server.schemas.announcements import PushSubscriptionIn
from server.services.ratelimit import Limit, RateLimiter
from server.storage import push as store
from server.storage.attendees import AttendeeRow
from server.storage.db import Database

SUBSCRIBE_LIMIT = Limit("push subscription changes from one address", per_minute=120, burst=120)


class PushSubscriptionService:
    def __init__(self, db: Database, limiter: RateLimiter, *, allow_insecure_loopback: bool) -> None:
        self.db = db
        self.limiter = limiter
        self.allow_insecure_loopback = allow_insecure_loopback

    async def subscribe(self, data: PushSubscriptionIn, attendee: AttendeeRow | None, address: str) -> bool:
        """Store or update a subscription; returns True when the endpoint is new.

        Raises:
            Invalid: The endpoint is not https on a public host.
        """
        self.limiter.hit(SUBSCRIBE_LIMIT, address)
        await check_endpoint(data.endpoint, allow_insecure_loopback=self.allow_insecure_loopback)
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
