"""Importing a programme file from the organiser console: frab XML, C3VOC JSON or Kumpul JSON."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.params import QueryParameter, RawBody

from server.errors import Invalid
from server.routes.deps import ActorDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.imports import ImportReport, MissingPolicy
from server.services.auth import Permission
from server.services.importer import ImportService

#: The largest file the console may upload (the app's limit for other requests is far smaller).
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class AdminImportController(Controller):
    path = "/api/admin/import"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post(
        "/",
        summary="Import a programme file",
        description=(
            "The request body is the file itself, up to 20 MB: a frab / Pentabarf `schedule.xml`, a C3VOC / "
            "pretalx `schedule.json`, or Kumpul's own JSON (a `GET /api/programme` document), told apart by "
            "content. `dryRun=true` reports what would change and writes nothing. Sessions the file does not "
            "mention are cancelled (`missing=cancel`) or deleted (`missing=delete`, which also deletes speakers, "
            "rooms, tracks and formats that the file lacks and no session uses). A malformed file is refused "
            "with 400 naming the line (XML) or field path (JSON), and nothing is written."
        ),
        status_code=200,
        request_max_body_size=MAX_IMPORT_BYTES,
        responses=errors(*ORGANISER, 400, 409, 413),
    )
    async def import_programme(
        self,
        body: RawBody,
        programme: ProgrammeDep,
        actor: ActorDep,
        dry_run: Annotated[bool, QueryParameter(name="dryRun", description="Report only; write nothing")] = False,
        missing: Annotated[
            MissingPolicy, QueryParameter(description="What happens to stored sessions the file lacks")
        ] = "cancel",
    ) -> ImportReport:
        if not body:
            raise Invalid("the request body is empty: send the schedule file's bytes as the body")
        return await ImportService(programme).import_file(body, dry_run=dry_run, missing=missing, actor=actor)
