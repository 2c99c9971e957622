"""A property: whatever sequence of source edits, translation edits and imports, a translation is stale exactly
when the source revision it records differs from the current source's; the same for an Info page."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.schemas.programme import (
    Event,
    Format,
    ProgrammeImport,
    Room,
    Session,
    SessionTranslation,
    SessionUpdate,
)
from server.schemas.venue import InfoPage, InfoPageTranslation, InfoPageUpdate
from server.services.programme import ProgrammeService
from server.services.translations import digest
from server.services.venue import VenueService
from server.storage import translations as sources_store
from server.storage.db import open_database
from tests.postgres import NewDatabase

FIELDS = ("title", "abstract")
PAGE_FIELDS = ("title", "body")
LANGS = ("id", "th")
TEXTS = ("A", "B", "C")
START = datetime.fromisoformat("2024-07-23T08:30:00+08:00")
END = datetime.fromisoformat("2024-07-23T09:30:00+08:00")


steps = st.lists(
    st.one_of(
        st.tuples(st.just("source"), st.sampled_from(FIELDS), st.sampled_from(TEXTS)),
        st.tuples(st.just("translate"), st.sampled_from(LANGS), st.sampled_from(FIELDS), st.sampled_from(TEXTS)),
        st.tuples(st.just("untranslate"), st.sampled_from(LANGS)),
        st.tuples(st.just("import"), st.sampled_from(FIELDS), st.sampled_from(TEXTS), st.booleans()),
    ),
    max_size=12,
)


def programme_file(session: Session, keep_translations: bool) -> ProgrammeImport:
    return ProgrammeImport(
        event=Event(
            name="Test",
            time_zone="Asia/Makassar",
            start_date=date(2024, 7, 23),
            end_date=date(2024, 7, 23),
            languages=["en", *LANGS],
        ),
        rooms=[Room(id="hall", name="Hall")],
        formats=[Format(id="talk", name="Talk")],
        sessions=[session if keep_translations else msgspec.structs.replace(session, translations={})],
    )


async def run(actions: list[tuple[Any, ...]], url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "kumpul.db", url)
        await db.open()
        try:

            async def nothing(_: int) -> None:
                return None

            service = ProgrammeService(db, on_write=nothing)
            first = Session(id="s", title="A", abstract="A", start=START, end=END, room_id="hall", format="talk")
            await service.import_programme(programme_file(first, True))
            #: What the model says each translation was made from: (lang, field) -> source text at the time.
            made_from: dict[tuple[str, str], str] = {}
            for action in actions:
                current: Session = await service.get("session", "s")
                if action[0] == "source":
                    _, field, text = action
                    await service.update("session", "s", SessionUpdate(**{field: text}))
                elif action[0] == "translate":
                    _, lang, field, text = action
                    translations = dict(current.translations)
                    old = translations.get(lang, SessionTranslation())
                    translations[lang] = msgspec.structs.replace(old, **{field: f"{lang}:{text}"})
                    await service.update("session", "s", SessionUpdate(translations=translations))
                    if getattr(old, field) != f"{lang}:{text}":
                        made_from[(lang, field)] = getattr(current, field)
                elif action[0] == "untranslate":
                    _, lang = action
                    translations = {key: value for key, value in current.translations.items() if key != lang}
                    await service.update("session", "s", SessionUpdate(translations=translations))
                    made_from = {key: value for key, value in made_from.items() if key[0] != lang}
                else:
                    _, field, text, keep = action
                    changed = msgspec.structs.replace(current, **{field: text})
                    await service.import_programme(programme_file(changed, keep))

                stored: Session = await service.get("session", "s")
                async with db.read() as conn:
                    recorded = await sources_store.sources(conn, "session", "s")
                for lang, translation in stored.translations.items():
                    for field in FIELDS:
                        if not getattr(translation, field):
                            continue
                        revision = recorded[(lang, field)]
                        assert revision == digest(made_from[(lang, field)])
                        stale = revision != digest(getattr(stored, field))
                        assert (field in translation.stale) == stale, (lang, field, actions)
                assert set(recorded) == {
                    (lang, field)
                    for lang, text in stored.translations.items()
                    for field in FIELDS
                    if getattr(text, field)
                }
        finally:
            await db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=steps)
def test_a_translation_is_stale_iff_its_recorded_source_differs_from_the_current_one(
    new_database: NewDatabase, actions: list[tuple[Any, ...]]
) -> None:
    with new_database() as url:
        asyncio.run(run(actions, url))


page_steps = st.lists(
    st.one_of(
        st.tuples(st.just("source"), st.sampled_from(PAGE_FIELDS), st.sampled_from(TEXTS)),
        st.tuples(st.just("translate"), st.sampled_from(LANGS), st.sampled_from(PAGE_FIELDS), st.sampled_from(TEXTS)),
        st.tuples(st.just("untranslate"), st.sampled_from(LANGS)),
        st.tuples(st.just("recreate")),
    ),
    max_size=12,
)


async def run_pages(actions: list[tuple[Any, ...]], url: str | None) -> None:
    """The same property for an Info page, through the venue service, with delete-and-create in the mix."""
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "kumpul.db", url)
        await db.open()
        try:
            venue = VenueService(db)
            await venue.create_page(InfoPage(id="p", slug="p", title="A", body="A"))
            made_from: dict[tuple[str, str], str] = {}
            for action in actions:
                current = next(page for page in await venue.pages() if page.id == "p")
                if action[0] == "source":
                    _, field, text = action
                    await venue.update_page("p", InfoPageUpdate(**{field: text}))
                elif action[0] == "translate":
                    _, lang, field, text = action
                    translations = dict(current.translations)
                    old = translations.get(lang, InfoPageTranslation())
                    translations[lang] = msgspec.structs.replace(old, **{field: f"{lang}:{text}"})
                    await venue.update_page("p", InfoPageUpdate(translations=translations))
                    if getattr(old, field) != f"{lang}:{text}":
                        made_from[(lang, field)] = getattr(current, field)
                elif action[0] == "untranslate":
                    _, lang = action
                    translations = {key: value for key, value in current.translations.items() if key != lang}
                    await venue.update_page("p", InfoPageUpdate(translations=translations))
                    made_from = {key: value for key, value in made_from.items() if key[0] != lang}
                else:
                    # Deleted and written again with the same texts: a new page, its translations made from it.
                    await venue.delete_page("p")
                    async with db.read() as conn:
                        assert await sources_store.sources(conn, "page", "p") == {}
                    await venue.create_page(msgspec.structs.replace(current, updated_at=""))
                    made_from = {key: getattr(current, key[1]) for key in made_from}

                stored = next(page for page in await venue.pages() if page.id == "p")
                async with db.read() as conn:
                    recorded = await sources_store.sources(conn, "page", "p")
                for lang, translation in stored.translations.items():
                    for field in PAGE_FIELDS:
                        if not getattr(translation, field):
                            continue
                        revision = recorded[(lang, field)]
                        assert revision == digest(made_from[(lang, field)])
                        stale = revision != digest(getattr(stored, field))
                        assert (field in translation.stale) == stale, (lang, field, actions)
                assert set(recorded) == {
                    (lang, field)
                    for lang, text in stored.translations.items()
                    for field in PAGE_FIELDS
                    if getattr(text, field)
                }
        finally:
            await db.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=page_steps)
def test_an_info_page_translation_is_stale_iff_its_recorded_source_differs_from_the_current_one(
    new_database: NewDatabase, actions: list[tuple[Any, ...]]
) -> None:
    with new_database() as url:
        asyncio.run(run_pages(actions, url))
