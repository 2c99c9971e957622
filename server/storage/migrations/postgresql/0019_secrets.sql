-- Secrets every node shares (the VAPID key pair), kept in the database rather than in a file beside one node.
-- PostgreSQL only: on SQLite the key stays a file beside the database file, where backups take it from.
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL,
    created_at TEXT NOT NULL
);
