"""Rate limits: a token bucket per (limit, key), kept in the database so that every worker and every node draws
from the same bucket (kept per process, N workers or nodes would give N times the budget).

On PostgreSQL a hit is one atomic upsert on an unlogged table, outside the serialised write transaction; on SQLite it
is the same statement in a short write transaction. Commands and unit tests without a database keep buckets in
memory.

Each limited action is counted twice: per token (the attendee, or the name signing in), tight, and per address,
generous. A whole venue can reach the server from one public address (ARAT: about 500 people, with a phone and
often a laptop each), so a per-address limit must let a venue full of people go about their day at once; it only
stops one machine flooding the server with many tokens. Routes derive the address (see
``server.routes.deps.client_address``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import TooManyRequests
from server.storage.db import Connection, Database, StorageError, postgres, storage_full

log = logging.getLogger(__name__)


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


def _refused(limit: Limit, tokens: float) -> TooManyRequests:
    rate = limit.per_minute / 60.0
    retry_after = max(1, math.ceil((1.0 - tokens) / rate))
    return TooManyRequests(
        f"too many {limit.name}: at most {limit.burst} at once and {limit.per_minute:g} a minute;"
        f" try again in {retry_after} s",
        retry_after=retry_after,
    )


class RateLimiter:
    """Token buckets in the database ``db`` (shared by every worker and node), or in memory without one.

    Args:
        db: Where the buckets are kept; None keeps them in this process (commands, tests).
        clock: Seconds; tests stop it to count attempts without racing the refill. Buckets in the database are
            shared across machines, so they read the wall clock (kept in step by NTP); in memory, a monotonic one.
    """

    MAX_BUCKETS = 100_000
    #: Hits between sweeps of buckets idle for an hour (full again, so they behave as new ones) from the database.
    SWEEP_EVERY = 2_000

    def __init__(self, db: Database | None = None, clock: Callable[[], float] | None = None) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.db = db
        self.clock = clock or (time.time if db is not None else time.monotonic)
        self._hits = 0

    async def hit(self, limit: Limit, key: str, *more: tuple[Limit, str], now: float | None = None) -> None:
        """Take one token for ``key`` (and one for each further ``(limit, key)``, in order, in one transaction).

        Raises:
            TooManyRequests: A bucket is empty; ``retry_after`` is when a token is back. The tokens taken from the
                buckets before it stay taken.
        """
        now = self.clock() if now is None else now
        checks = ((limit, key), *more)
        if self.db is not None:
            await self._hit_stored(self.db, checks, now)
            return
        for each_limit, each_key in checks:
            tokens = self._refuse_if_empty(each_limit, each_key, now)
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._forget_full(now)
            self._buckets[(each_limit.name, each_key)] = (tokens - 1.0, now)

    async def _hit_stored(self, db: Database, checks: tuple[tuple[Limit, str], ...], now: float) -> None:
        self._hits += 1
        sweep = self._hits % self.SWEEP_EVERY == 0
        refused: tuple[Limit, float] | None = None
        try:
            # On PostgreSQL each upsert is atomic by itself (the row is locked while it runs): no need for the
            # serialised write transaction. On SQLite, one short write transaction for all the checks.
            connection = db.read() if db.dialect == "postgresql" else db.write()
            async with connection as conn:
                for limit, key in checks:
                    taken, tokens = await _take(conn, limit, key, now)
                    if not taken:
                        refused = (limit, tokens)
                        break
                if sweep:
                    await _sweep(conn, now)
        except StorageError as error:
            if not storage_full(error):
                raise
            # A full disk: the count cannot be kept. Let the request through rather than refuse it for that: it can
            # only read (every write meets the same full disk and answers 507), and reads must go on.
            log.warning("rate limits %s not counted: the storage is full", [limit.name for limit, _ in checks])
            return
        if refused is not None:
            raise _refused(*refused)

    async def refund(self, limit: Limit, key: str) -> None:
        """Give back a token :meth:`hit` took, for limits that count only failures (wrong guesses).

        Such an attempt is counted *before* it is evaluated (a burst of concurrent guesses then finds the
        bucket empty at once, instead of all passing a check while the first are still being evaluated); one
        that turns out right gets its token back.
        """
        if self.db is not None:
            await self._refund_stored(self.db, limit, key)
            return
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
            raise _refused(limit, tokens)
        return tokens

    async def _refund_stored(self, db: Database, limit: Limit, key: str) -> None:
        cap = "least" if db.dialect == "postgresql" else "min"
        statement = f"UPDATE rate_limits SET tokens = {cap}(:burst, tokens + 1) WHERE name = :name AND key = :key"
        values = {"burst": float(limit.burst), "name": limit.name, "key": key}
        if db.dialect == "postgresql":
            async with db.read() as conn:
                await conn.execute(statement, values)
        else:
            async with db.write() as conn:
                await conn.execute(statement, values)

    def _forget_full(self, now: float) -> None:
        """Drop buckets idle long enough to be full again (they behave as new ones)."""
        self._buckets = {key: value for key, value in self._buckets.items() if now - value[1] < 3600}


async def _take(conn: Connection, limit: Limit, key: str, now: float) -> tuple[bool, float]:
    """Refill the bucket of ``key`` to ``now`` and take a token if there is one: whether one was taken, and the
    tokens left (or, refused, the tokens there are)."""
    cap = "least" if postgres(conn) else "min"
    refilled = f"{cap}(:burst, b.tokens + (:now - b.stamp) * :rate)"
    async with conn.execute(
        "INSERT INTO rate_limits AS b (name, key, tokens, stamp, taken) VALUES (:name, :key, :burst - 1, :now, 1)"
        " ON CONFLICT (name, key) DO UPDATE SET"
        f" tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,"
        f" taken = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END, stamp = :now"
        " RETURNING taken, tokens",
        {"name": limit.name, "key": key, "burst": float(limit.burst), "now": now, "rate": limit.per_minute / 60.0},
    ) as cur:
        row = await cur.fetchone()
    return bool(row[0]), float(row[1])


async def _sweep(conn: Connection, now: float) -> None:
    """Forget buckets idle for an hour: they are full again, and a new bucket behaves the same."""
    await conn.execute("DELETE FROM rate_limits WHERE stamp < ?", (now - 3600.0,))
