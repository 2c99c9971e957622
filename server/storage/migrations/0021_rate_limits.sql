-- Rate-limit buckets, shared by every worker of the server (kept in each process, N workers gave N times the budget).
-- A bucket idle for an hour is full again and is swept away; nothing here outlives a restore that matters.
CREATE TABLE rate_limits (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens REAL NOT NULL,
    stamp REAL NOT NULL,
    taken INTEGER NOT NULL CHECK (taken IN (0, 1)),
    PRIMARY KEY (name, key)
) STRICT;
