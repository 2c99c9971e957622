"""Speakers (anonymous ones show only pseudonym, pronouns and bio): public reads and organiser writes."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.routes.responses import raw_json
from server.schemas.programme import Speaker, SpeakerUpdate
from server.services.auth import Permission


class SpeakerController(Controller):
    path = "/api/speakers"
    tags = ["programme"]

    @get("/", summary="Every speaker, in programme order")
    async def list_speakers(self, feed: FeedDep) -> Response[list[Speaker]]:
        return raw_json(await feed.collection("speakers"))  # type: ignore[return-value]

    @get("/{speaker_id:str}", summary="One speaker", responses=errors(404))
    async def get_speaker(self, speaker_id: FromPath[str], programme: ProgrammeDep) -> Response[Speaker]:
        return raw_json(await programme.get_raw("speaker", speaker_id))  # type: ignore[return-value]


class AdminSpeakerController(Controller):
    path = "/api/admin/speakers"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Create a speaker", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_speaker(self, data: JSONBody[Speaker], programme: ProgrammeDep, actor: ActorDep) -> Speaker:
        created: Speaker = await programme.create("speaker", data, actor=actor)
        return created

    @patch(
        "/{speaker_id:str}",
        summary="Change some fields of a speaker",
        description="An anonymous speaker stays anonymous: `anonymous: false` is refused with 409 (an admin reveals).",
        responses=errors(*ORGANISER, 400, 404, 409, 413),
    )
    async def update_speaker(
        self, speaker_id: FromPath[str], data: JSONBody[SpeakerUpdate], programme: ProgrammeDep, actor: ActorDep
    ) -> Speaker:
        updated: Speaker = await programme.update("speaker", speaker_id, data, actor=actor)
        return updated

    @delete("/{speaker_id:str}", summary="Delete a speaker", responses=errors(*ORGANISER, 404))
    async def delete_speaker(self, speaker_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> None:
        await programme.delete("speaker", speaker_id, actor=actor)


class AdminRevealController(Controller):
    path = "/api/admin/speakers"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.LOOSEN_PRIVACY)]

    @post(
        "/{speaker_id:str}/reveal",
        status_code=200,
        summary="Reveal an anonymous speaker (admins only)",
        description=(
            "The speaker stops being anonymous: their pseudonym is shown as a public name until an editor "
            "changes it, and an organisation, role, country, photo and links may be added. No edit or import "
            "can do this; the history notes it under the pseudonym."
        ),
        responses=errors(*ORGANISER, 404),
    )
    async def reveal_speaker(self, speaker_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> Speaker:
        return await programme.reveal_speaker(speaker_id, actor=actor)
