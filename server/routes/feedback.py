"""Session feedback: an attendee rates a session; organisers read the counts, the comments and a CSV."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, put
from litestar.params import FromPath, JSONBody

from server.routes.deps import AttendeeDep, FeedbackDep, attendee_required, client_address, requires
from server.routes.openapi import ATTENDEE, ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.feedback import FeedbackIn, FeedbackSummary, MyFeedback, SessionFeedback
from server.services.auth import Permission


class FeedbackController(Controller):
    path = "/api/me/feedback"
    tags = ["attendees"]
    guards = [attendee_required]
    security = [{"bearer": []}]

    @get("/", summary="My feedback on sessions, newest first", responses=errors(*ATTENDEE))
    async def list_my_feedback(self, me: AttendeeDep, feedback: FeedbackDep) -> list[MyFeedback]:
        return await feedback.mine(me)

    @put(
        "/{session_id:str}",
        summary="Rate a session that has started (1-5) with an optional comment; sending again replaces it",
        description=(
            "One rating per attendee per session. Organisers see counts, means and comments, never who gave them."
            " A session that has not started yet, or was cancelled, answers 409."
        ),
        responses=errors(*ATTENDEE, 400, 404, 409, 413, 429),
    )
    async def give_feedback(
        self,
        request: Request,  # type: ignore[type-arg]
        session_id: FromPath[str],
        data: JSONBody[FeedbackIn],
        me: AttendeeDep,
        feedback: FeedbackDep,
    ) -> MyFeedback:
        return await feedback.give(me, session_id, data, client_address(request))

    @delete("/{session_id:str}", summary="Take back my feedback on a session", responses=errors(*ATTENDEE, 404))
    async def withdraw_feedback(self, session_id: FromPath[str], me: AttendeeDep, feedback: FeedbackDep) -> None:
        await feedback.withdraw(me, session_id)


class AdminFeedbackController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @get(
        "/feedback",
        summary="Every session's feedback: how many ratings, their mean and distribution, how many comments",
        responses=errors(*ORGANISER),
    )
    async def list_feedback(self, feedback: FeedbackDep) -> list[FeedbackSummary]:
        return await feedback.summaries()

    @get(
        "/feedback/{session_id:str}",
        summary="One session's feedback and its comments, newest first (no attendee, no time)",
        responses=errors(*ORGANISER, 404),
    )
    async def get_feedback(self, session_id: FromPath[str], feedback: FeedbackDep) -> SessionFeedback:
        return await feedback.of_session(session_id)

    @get(
        "/feedback.csv",
        summary="All feedback as CSV, one rating a row; cells a spreadsheet would run start with a quote",
        media_type="text/csv",
        responses=errors(*ORGANISER),
    )
    async def export_feedback(self, feedback: FeedbackDep) -> Response[str]:
        return Response(
            await feedback.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="feedback.csv"', "Cache-Control": "no-store"},
        )
