-- Rate-limit buckets, shared by every node on this database (kept per process, N nodes gave N times the budget).
-- Unlogged: a hit writes no WAL, and after a crash the buckets start full again, which only forgives a little.
CREATE UNLOGGED TABLE rate_limits (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    stamp DOUBLE PRECISION NOT NULL,
    taken BIGINT NOT NULL CHECK (taken IN (0, 1)),
    PRIMARY KEY (name, key)
);
