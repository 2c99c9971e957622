"""The console's list of translations to write (missing) and to check (stale), per language."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import Parameter, QueryParameter

from server.errors import Invalid
from server.routes.deps import ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.base import Base, LanguageCode
from server.services.auth import Permission
from server.services.translations import TRANSLATABLE

#: The most gaps one response lists.
MAX_GAPS = 2000


class TranslationGap(Base, kw_only=True):
    """One translated field to write (``missing``) or to check against its changed source (``stale``)."""

    kind: str
    id: str
    label: str
    lang: str
    field: str
    state: Literal["missing", "stale"]


class LanguageCounts(Base, kw_only=True):
    """How many translations into ``lang`` are missing and stale."""

    lang: str
    missing: int
    stale: int


class TranslationStatus(Base, kw_only=True):
    """The event's ``source`` language, counts per offered language, and the gaps that match the filters."""

    source: str
    languages: list[LanguageCounts]
    #: Every translatable kind and its fields.
    translatable: dict[str, list[str]]
    #: How many gaps match the filters (``gaps`` lists the first ``limit`` of them).
    total: int
    gaps: list[TranslationGap]


class AdminTranslationController(Controller):
    path = "/api/admin/translations"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @get(
        "/",
        summary="Missing and stale translations of the programme and the Info pages, per language",
        description=(
            "For each language the event offers besides its own, how many translated fields are missing (the "
            "source has text, the translation none) and stale (the source changed since it was translated), and "
            "the matching fields, filtered by `lang`, `state` and `kind`. A translation turns fresh when it is "
            "edited (PATCH the entity's `translations`; kind `page` is an Info page: PATCH "
            "`/api/admin/info-pages/{id}`)."
        ),
        responses=errors(*ORGANISER, 400),
    )
    async def get_status(
        self,
        programme: ProgrammeDep,
        lang: Annotated[LanguageCode | None, QueryParameter(name="lang", description="Only this language")] = None,
        only: Annotated[
            Literal["missing", "stale"] | None, QueryParameter(name="state", description="Only missing or stale")
        ] = None,
        kind: Annotated[
            str | None, QueryParameter(name="kind", description="Only this kind of entity", max_length=40)
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_GAPS, description="Most gaps listed")] = 500,
    ) -> TranslationStatus:
        if kind is not None and kind not in TRANSLATABLE:
            raise Invalid(f"kind: {kind!r} has no translations; one of {', '.join(TRANSLATABLE)}", field="kind")
        source, languages, gaps = await programme.translation_gaps()
        counts = {item: LanguageCounts(lang=item, missing=0, stale=0) for item in languages}
        for gap in gaps:
            if gap.state == "missing":
                counts[gap.lang].missing += 1
            else:
                counts[gap.lang].stale += 1
        matching = [
            gap
            for gap in gaps
            if (lang is None or gap.lang == lang)
            and (only is None or gap.state == only)
            and (kind is None or gap.kind == kind)
        ]
        matching.sort(key=lambda gap: (gap.state != "stale", gap.lang, gap.kind, gap.label.casefold(), gap.field))
        return TranslationStatus(
            source=source,
            languages=list(counts.values()),
            translatable={name: list(fields) for name, fields in TRANSLATABLE.items()},
            total=len(matching),
            gaps=[
                TranslationGap(
                    kind=gap.kind, id=gap.id, label=gap.label, lang=gap.lang, field=gap.field, state=gap.state
                )
                for gap in matching[:limit]
            ],
        )
