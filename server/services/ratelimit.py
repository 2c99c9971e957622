"""In-memory rate limits: a token bucket per (limit, key).

Each limited action is counted twice: per token (the attendee, or the name signing in), tight, and per address,
generous. A whole venue can reach the server from one public address (ARAT: about 500 people, with a phone and
often a laptop each), so a per-address limit must let a venue full of people go about their day at once; it only
stops one machine flooding the server with many tokens. Routes derive the address (see
``server.routes.deps.client_address``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import TooManyRequests


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``burst`` at once, refilled at ``per_minute`` a minute.

    Attributes:
        name: What is limited, for the error message ("link code requests").
        per_minute: Sustained rate.
        burst: How many may come at once.
    """

    name: str
    per_minute: float
    burst: int


class RateLimiter:
    """Token buckets kept in memory; old buckets are dropped as the map grows.

    Args:
        clock: Seconds from a monotonic clock; tests stop it to count attempts without racing the refill.
    """

    MAX_BUCKETS = 100_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.clock = clock

    def hit(self, limit: Limit, key: str, *, now: float | None = None) -> None:
        """Take one token for ``key``.

        Raises:
            TooManyRequests: The bucket is empty; ``retry_after`` is when a token is back.
        """
        now = self.clock() if now is None else now
        tokens = self._refuse_if_empty(limit, key, now)
        if len(self._buckets) >= self.MAX_BUCKETS:
            self._forget_full(now)
        self._buckets[(limit.name, key)] = (tokens - 1.0, now)

    def refund(self, limit: Limit, key: str) -> None:
        """Give back a token :meth:`hit` took, for limits that count only failures (wrong guesses).

        Such an attempt is counted *before* it is evaluated (a burst of concurrent guesses then finds the
        bucket empty at once, instead of all passing a check while the first are still being evaluated); one
        that turns out right gets its token back.
        """
        bucket = self._buckets.get((limit.name, key))
        if bucket is not None:
            tokens, stamp = bucket
            self._buckets[(limit.name, key)] = (min(float(limit.burst), tokens + 1.0), stamp)

    def _refuse_if_empty(self, limit: Limit, key: str, now: float) -> float:
        """The tokens in the bucket of ``key`` now, refilled since it was last used."""
        rate = limit.per_minute / 60.0
        tokens, stamp = self._buckets.get((limit.name, key), (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - stamp) * rate)
        if tokens < 1.0:
            retry_after = max(1, math.ceil((1.0 - tokens) / rate))
            raise TooManyRequests(
                f"too many {limit.name}: at most {limit.burst} at once and {limit.per_minute:g} a minute;"
                f" try again in {retry_after} s",
                retry_after=retry_after,
            )
        return tokens

    def _forget_full(self, now: float) -> None:
        """Drop buckets idle long enough to be full again (they behave as new ones)."""
        self._buckets = {key: value for key, value in self._buckets.items() if now - value[1] < 3600}
