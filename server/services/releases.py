"""Named schedule versions: an organiser publishes the programme as it stands, to be served again exactly."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from server.errors import Conflict, Invalid
from server.schemas.releases import Release
from server.storage import history
from server.storage import programme as store
from server.storage import releases as releases_store
from server.storage.db import Database
from sync import Cursor, build_snapshot

#: A release name: what pretalx and frab use (``v1.2``, ``0.9-final``), safe in a URL and a file name.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_decoder = msgspec.json.Decoder(dict[str, Any])


class ReleaseService:
    """Publishes and lists releases; :class:`server.services.exports.ExportService` renders them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish(self, name: str | None, actor: str) -> Release:
        """Record the programme as it stands now under ``name`` (``v1``, ``v2``, … when None).

        Raises:
            Invalid: A name that is not letters, digits, ``.``, ``_`` and ``-``.
            Conflict: The name is taken.
        """
        if name is not None and not NAME.fullmatch(name):
            raise Invalid(
                "a release name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                field="name",
            )
        async with self.db.write() as conn:
            state = await store.feed_state(conn)
            event: dict[str, Any] | None = None
            entities: list[tuple[str, dict[str, Any]]] = []
            for kind, data in await store.all_entities(conn):
                if kind == "event":
                    event = _decoder.decode(data)
                elif kind != "announcement":
                    entities.append((kind, _decoder.decode(data)))
            cursor = Cursor(state.epoch, state.seq).encode()
            programme = msgspec.json.encode(build_snapshot(cursor, event, entities))
            revisions = msgspec.json.encode(
                {
                    key: [value.revision, value.updated_at]
                    for key, value in (await store.revisions(conn, "session")).items()
                }
            )
            numbers = msgspec.json.encode(await store.speaker_numbers(conn))
            if name is None:
                taken = await releases_store.count(conn)
                name = f"v{taken + 1}"
                while await releases_store.get(conn, name) is not None:
                    taken += 1
                    name = f"v{taken + 1}"
            info = await releases_store.add(conn, name, actor, state.seq, programme, revisions, numbers)
            if info is None:
                raise Conflict(f"a release named {name!r} exists; releases are never replaced", field="name")
            await history.record(conn, actor, "released", "programme", name, f"schedule version {name}")
        return Release(name=info.name, created_at=info.created_at)

    async def listing(self) -> list[Release]:
        """Every release, newest first."""
        async with self.db.read() as conn:
            rows = await releases_store.listing(conn)
        return [Release(name=row.name, created_at=row.created_at) for row in rows]
