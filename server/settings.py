"""Runtime settings, read once from the environment and command-line flags."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

DEFAULT_DB = Path("data") / "kumpul.db"
#: The PWA's build output in a source checkout.
DEFAULT_PWA_DIR = Path(__file__).resolve().parent.parent / "pwa" / "dist"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """What a running server needs to know about its surroundings.

    Attributes:
        db_path: The SQLite file; its folder also holds keys and other state.
        database_url: A PostgreSQL database (``postgresql://user:password@host:port/name``) to use instead of the
            SQLite file, shared by any number of Kumpul nodes; None keeps the embedded SQLite default.
        tombstone_retention_days: How long deletions stay in the change feed. A client whose cursor
            is older than the oldest kept tombstone gets 410 and refetches the snapshot.
        read_connections: Size of the pool of read-only SQLite connections.
        change_poll_seconds: How often the server looks for writes made by another process
            (``kumpul import`` while serving, or a second worker).
        pwa_dir: The built PWA served at ``/``.
        vapid_subject: The contact push services see in VAPID JWTs (``mailto:`` or ``https:``).
        allow_insecure_push: Also accept ``http`` push endpoints on loopback (tests, development).
        alert_delay_seconds: How long edits to one session are gathered into one alert.
        push_lease_seconds: How long a claim on push messages holds for the worker that made it (renewed while it
            lives): when a node dies mid fan-out, another sends its batch once the lease has run out.
        trust_proxy: A reverse proxy in front sets ``X-Forwarded-Proto`` and ``X-Forwarded-For``; believe
            them (for the console cookie's ``Secure`` flag and per-address sign-in limits).
        attendee_quota_bytes: What all of one attendee's private documents may take together (their stored
            states); a sync that would go over it gets 413.
        live_max_per_address: Open ``/api/live`` streams one address may hold in one worker (429 past it).
        allow_insecure_source: Also follow a source of record on loopback, over ``http`` too (tests, development).
        source_timeout_seconds: How long one pull of the source of record may take before it counts as failed.
        source_retry_seconds: The wait before retrying a failed pull; it doubles after each failure, up to the
            source's interval.
        source_poll_seconds: How often each worker looks whether a pull of the source is due.
        live_max_total: Open ``/api/live`` streams one worker holds at most (503 past it); None derives it from
            the worker's file-descriptor limit, leaving headroom.
    """

    db_path: Path = DEFAULT_DB
    database_url: str | None = None
    tombstone_retention_days: float = 30.0
    read_connections: int = 4
    change_poll_seconds: float = 0.1
    pwa_dir: Path = DEFAULT_PWA_DIR
    vapid_subject: str = "mailto:organisers@kumpul.invalid"
    allow_insecure_push: bool = False
    alert_delay_seconds: float = 60.0
    push_lease_seconds: float = 30.0
    trust_proxy: bool = False
    attendee_quota_bytes: int = 5 * 1024 * 1024
    live_max_per_address: int = 1500
    live_max_total: int | None = None
    allow_insecure_source: bool = False
    source_timeout_seconds: float = 30.0
    source_retry_seconds: float = 15.0
    source_poll_seconds: float = 5.0


def db_path_from_env(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: an explicit value, else ``KUMPUL_DB``, else ``./data/kumpul.db``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("KUMPUL_DB")
    return Path(env) if env else DEFAULT_DB


def database_url_from_env(explicit: str | None = None) -> str | None:
    """The PostgreSQL database to use: an explicit value, else ``KUMPUL_DATABASE_URL``, else None (SQLite)."""
    url = explicit or os.environ.get("KUMPUL_DATABASE_URL") or None
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"a database URL must start with postgresql://, not {url.split(':', 1)[0]!r}")
    return url


def settings_from_env(db: str | os.PathLike[str] | None = None, database_url: str | None = None) -> Settings:
    """Build settings from the environment, with ``db`` overriding ``KUMPUL_DB`` and ``database_url``
    ``KUMPUL_DATABASE_URL``."""
    overrides: dict[str, object] = {"database_url": database_url_from_env(database_url)}
    if retention := os.environ.get("KUMPUL_TOMBSTONE_RETENTION_DAYS"):
        overrides["tombstone_retention_days"] = float(retention)
    if pwa_dir := os.environ.get("KUMPUL_PWA_DIR"):
        overrides["pwa_dir"] = Path(pwa_dir)
    if subject := os.environ.get("KUMPUL_VAPID_SUBJECT"):
        overrides["vapid_subject"] = subject
    if os.environ.get("KUMPUL_ALLOW_INSECURE_PUSH") == "1":
        overrides["allow_insecure_push"] = True
    if delay := os.environ.get("KUMPUL_ALERT_DELAY_SECONDS"):
        overrides["alert_delay_seconds"] = float(delay)
    if os.environ.get("KUMPUL_ALLOW_INSECURE_SOURCE") == "1":
        overrides["allow_insecure_source"] = True
    if lease := os.environ.get("KUMPUL_PUSH_LEASE_SECONDS"):
        overrides["push_lease_seconds"] = _positive_seconds("KUMPUL_PUSH_LEASE_SECONDS", lease)
    for name, key in (
        ("KUMPUL_SOURCE_TIMEOUT_SECONDS", "source_timeout_seconds"),
        ("KUMPUL_SOURCE_RETRY_SECONDS", "source_retry_seconds"),
        ("KUMPUL_SOURCE_POLL_SECONDS", "source_poll_seconds"),
    ):
        if value := os.environ.get(name):
            overrides[key] = float(value)
    if os.environ.get("KUMPUL_TRUST_PROXY") == "1":
        overrides["trust_proxy"] = True
    if quota := os.environ.get("KUMPUL_ATTENDEE_QUOTA_BYTES"):
        overrides["attendee_quota_bytes"] = _positive_int("KUMPUL_ATTENDEE_QUOTA_BYTES", quota)
    if per_address := os.environ.get("KUMPUL_LIVE_MAX_PER_ADDRESS"):
        overrides["live_max_per_address"] = _positive_count("KUMPUL_LIVE_MAX_PER_ADDRESS", per_address)
    if total := os.environ.get("KUMPUL_LIVE_MAX_TOTAL"):
        overrides["live_max_total"] = _positive_count("KUMPUL_LIVE_MAX_TOTAL", total)
    return msgspec.structs.replace(Settings(db_path=db_path_from_env(db)), **overrides)


def _positive_seconds(name: str, value: str) -> float:
    """An environment variable that is a number of seconds above zero."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{name} must be a number of seconds above zero, not {value!r}")
    return seconds


def _positive_int(name: str, value: str) -> int:
    """An environment variable that must be a whole number above zero."""
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of bytes above zero, not {value!r}")
    return int(value)


def _positive_count(name: str, value: str) -> int:
    """An environment variable that counts something: a whole number above zero."""
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number above zero, not {value!r}")
    return int(value)
