"""SQLite storage: one writer connection, a pool of readers, numbered migrations."""
