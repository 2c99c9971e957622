"""Sessions: public reads and organiser writes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.routes.responses import raw_json
from server.routes.schedule import serve_session_ics
from server.schemas.programme import RecordingChange, Session, SessionUpdate
from server.services.auth import Permission


class SessionController(Controller):
    path = "/api/sessions"
    tags = ["programme"]

    @get("/", summary="Every session, in programme order")
    async def list_sessions(self, feed: FeedDep) -> Response[list[Session]]:
        return raw_json(await feed.collection("sessions"))  # type: ignore[return-value]

    @get(
        "/{session_id:str}",
        summary="One session; `/api/sessions/{id}.ics` is the session as an iCalendar",
        description=(
            "`ID.ics` answers the session as an iCalendar (`text/calendar`) by the rules of /api/schedule.ics: "
            "the same UID, SEQUENCE and STATUS, UTC times when the event's zone changes its offset, and speakers "
            "shown as the exports show them. Strong ETag; 304."
        ),
        responses=errors(404),
    )
    async def get_session(
        self,
        request: Request,  # type: ignore[type-arg]
        session_id: FromPath[str],
        programme: ProgrammeDep,
    ) -> Response[Any]:
        if session_id.endswith(".ics"):
            return await serve_session_ics(request, request.app.state.exports, session_id.removesuffix(".ics"))
        return raw_json(await programme.get_raw("session", session_id))


class AdminSessionController(Controller):
    path = "/api/admin/sessions"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Create a session", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_session(self, data: JSONBody[Session], programme: ProgrammeDep, actor: ActorDep) -> Session:
        created: Session = await programme.create("session", data, actor=actor)
        return created

    @patch(
        "/{session_id:str}", summary="Change some fields of a session", responses=errors(*ORGANISER, 400, 404, 409, 413)
    )
    async def update_session(
        self, session_id: FromPath[str], data: JSONBody[SessionUpdate], programme: ProgrammeDep, actor: ActorDep
    ) -> Session:
        updated: Session = await programme.update("session", session_id, data, actor=actor)
        return updated

    @delete("/{session_id:str}", summary="Delete a session", responses=errors(*ORGANISER, 404))
    async def delete_session(self, session_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> None:
        await programme.delete("session", session_id, actor=actor)


class AdminRecordingController(Controller):
    path = "/api/admin/sessions"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.LOOSEN_PRIVACY)]

    @post(
        "/{session_id:str}/recording",
        status_code=200,
        summary="Set a session's recording policy, less strict too (admins only)",
        description=(
            "Edits and imports may only make a policy stricter (public < no-recording < off-the-record); "
            "making it less strict is this deliberate step, noted in the history."
        ),
        responses=errors(*ORGANISER, 400, 404, 413),
    )
    async def set_recording(
        self, session_id: FromPath[str], data: JSONBody[RecordingChange], programme: ProgrammeDep, actor: ActorDep
    ) -> Session:
        return await programme.set_recording(session_id, data.recording, actor=actor)
