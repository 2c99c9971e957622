"""Translated content (the programme, the Info pages): which fields translate, which translations are stale or missing.

A translation records the revision of the source text it was made from (a short hash of that text, kept in
``translation_sources``). When the source changes, the translation is stale until someone edits it. Every
programme write (console, API, imports, ``kumpul follow``) and every Info page write passes through :func:`track`,
which records the sources of new or changed translations and writes each translation's ``stale`` list into the
stored entity, so the programme document, the change feed and the entity APIs carry staleness with no extra
request.

A new translatable kind plugs in with one line in :data:`TRANSLATABLE`: its entities need a ``translations``
mapping of language to a Struct holding the listed fields and a ``stale`` list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from server.errors import Invalid
from server.storage import programme as programme_store
from server.storage import translations as store
from server.storage import venue as venue_store
from server.storage.db import Connection

#: Entity kind -> its translatable text fields (their JSON names; each is also the Python attribute name).
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "event": ("name", "description"),
    "room": ("name", "accessibility"),
    "track": ("name", "description"),
    "format": ("name",),
    "speaker": ("role", "bio"),
    "session": ("title", "subtitle", "abstract", "description"),
    "page": ("title", "body"),
}
#: Kinds kept outside the programme's entities (the Info pages have their own table).
OUTSIDE_PROGRAMME = frozenset({"page"})

State = Literal["missing", "stale"]
_decoder = msgspec.json.Decoder(dict[str, Any])


def digest(text: str) -> str:
    """The revision of a source text: a short hash of it."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


async def track(
    conn: Connection,
    kind: str,
    entity_id: str,
    before: Any,
    after: Any,
    *,
    recorded: store.Sources | None = None,
) -> Any:
    """``after`` as it is stored: each translation's ``stale`` lists the fields whose source changed since.

    Call it inside the write transaction, before encoding ``after``; it records the sources :func:`restamped`
    works out. ``recorded``: the entity's recorded sources when the caller read them already; else they are read
    here.
    """
    if kind not in TRANSLATABLE:
        return after
    if recorded is None and after.translations and getattr(before, "translations", None):
        recorded = await store.sources(conn, kind, entity_id)
    entity, rows = restamped(kind, before, after, recorded or {})
    if rows is not None:
        await store.replace(conn, kind, entity_id, rows)
    return entity


def restamped(kind: str, before: Any, after: Any, recorded: store.Sources) -> tuple[Any, store.Sources | None]:
    """``after`` with each translation's ``stale`` list, and the sources to record for it (None: keep ``recorded``).

    A translated text that is new or differs from ``before``'s was made from ``after``'s source; an unchanged one
    keeps the source it was recorded with (or, recorded before sources were kept, ``before``'s source). Works
    without the database, so an import can work it out from a snapshot and record it at publication.
    """
    fields = TRANSLATABLE.get(kind)
    if fields is None:
        return after, None
    old_translations = getattr(before, "translations", {}) if before is not None else {}
    if not after.translations:
        return after, ({} if recorded or old_translations else None)
    if not old_translations:
        recorded = {}
    rows: store.Sources = {}
    translations = {}
    for lang, text in after.translations.items():
        old = old_translations.get(lang)
        stale = []
        for field in fields:
            value = getattr(text, field)
            if not value:
                continue
            current = digest(getattr(after, field))
            if old is not None and getattr(old, field) == value:
                made_from = recorded.get((lang, field)) or digest(getattr(before, field))
            else:
                made_from = current
            rows[(lang, field)] = made_from
            if made_from != current:
                stale.append(field)
        translations[lang] = text if text.stale == stale else msgspec.structs.replace(text, stale=stale)
    return msgspec.structs.replace(after, translations=translations), (rows if rows != recorded else None)


async def forget(conn: Connection, kind: str, entity_id: str) -> None:
    """Drop what is recorded about a deleted entity's translations."""
    if kind in TRANSLATABLE:
        await store.forget(conn, kind, entity_id)


def texts(translations: dict[str, Any]) -> dict[str, Any]:
    """Translations without their ``stale`` lists: what an organiser wrote."""
    return {lang: msgspec.structs.replace(text, stale=[]) for lang, text in translations.items()}


# -- the console's list of work to do -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gap:
    """A translation to write or to check: ``state`` is ``missing`` or ``stale``."""

    kind: str
    id: str
    label: str
    lang: str
    field: str
    state: State


def gaps(kind: str, entity: dict[str, Any], languages: list[str]) -> list[Gap]:
    """Every missing or stale translation of one entity (a JSON object) into ``languages``."""
    fields = TRANSLATABLE[kind]
    label = str(entity.get("title") or entity.get("name") or entity.get("id") or kind)
    entity_id = str(entity.get("id") or kind)
    translations = entity.get("translations") or {}
    found = []
    for lang in languages:
        translation = translations.get(lang) or {}
        stale = set(translation.get("stale") or [])
        for field in fields:
            if not entity.get(field):
                continue
            if not translation.get(field):
                found.append(Gap(kind, entity_id, label, lang, field, "missing"))
            elif field in stale:
                found.append(Gap(kind, entity_id, label, lang, field, "stale"))
    return found


async def all_gaps(conn: Connection) -> tuple[str, list[str], list[Gap]]:
    """The event's language, the languages it is translated into, and every missing or stale translation."""
    event_raw = await programme_store.get_entity(conn, "event", "event")
    if event_raw is None:
        return "en", [], []
    event = _decoder.decode(event_raw)
    source = str(event.get("language") or "en")
    languages = [lang for lang in event.get("languages") or [] if lang != source]
    found = gaps("event", event, languages)
    for kind in TRANSLATABLE:
        if kind == "event" or kind in OUTSIDE_PROGRAMME:
            continue
        for raw in await programme_store.list_entities(conn, kind):
            found.extend(gaps(kind, _decoder.decode(raw), languages))
    for page in await venue_store.list_pages(conn):
        entity = {"id": page.id, "title": page.title, "body": page.body, "translations": page.translations}
        found.extend(gaps("page", entity, languages))
    return source, languages, found


# -- content in one language (the exports) ------------------------------------------------------------------


def check_language(event: Any, lang: str | None) -> str | None:
    """``lang`` if the event offers it, None for the event's own language.

    Raises:
        Invalid: The event does not offer ``lang``.
    """
    if lang is None or event is None or lang == event.language:
        return None
    if lang not in event.languages:
        offered = ", ".join([event.language, *[item for item in event.languages if item != event.language]])
        raise Invalid(f"lang: the event is not offered in {lang!r}; it is offered in {offered}", field="lang")
    return lang


def localized(kind: str, entity: Any, lang: str, *, use_stale: bool) -> Any:
    """``entity`` with its translatable fields in ``lang`` where a translation exists.

    A stale translation is used only when ``use_stale`` (the event's setting says to mark stale translations
    rather than show the original).
    """
    translation = entity.translations.get(lang)
    if translation is None:
        return entity
    changes = {
        field: value
        for field in TRANSLATABLE[kind]
        if (value := getattr(translation, field)) and (use_stale or field not in translation.stale)
    }
    return msgspec.structs.replace(entity, **changes) if changes else entity
