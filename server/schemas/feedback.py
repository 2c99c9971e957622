"""Session feedback: what an attendee sends and sees of their own, and what organisers see of everyone's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from server.schemas.base import Base

#: The longest comment kept, in characters.
MAX_COMMENT = 2000

Rating = Annotated[int, Meta(ge=1, le=5, description="From 1 (poor) to 5 (excellent)")]


class FeedbackIn(Base, kw_only=True):
    """A rating and an optional comment; sending again replaces the last one."""

    rating: Rating
    comment: Annotated[str, Meta(max_length=MAX_COMMENT)] = ""


class MyFeedback(msgspec.Struct, rename="camel"):
    """What this attendee gave on one session."""

    session_id: str
    rating: int
    comment: str
    updated_at: datetime


class FeedbackSummary(msgspec.Struct, rename="camel"):
    """One session's ratings, with no attendee in them.

    ``distribution`` counts the ratings 1 to 5 in that order; ``mean`` is null without ratings.
    """

    session_id: str
    title: str
    start: str
    count: int
    mean: float | None
    distribution: list[int]
    comments: int
    off_the_record: bool
    cancelled: bool


class FeedbackComment(msgspec.Struct, rename="camel"):
    """A comment with its rating; no author and no time, so nobody can be told apart by them."""

    rating: int
    comment: str


class SessionFeedback(msgspec.Struct, rename="camel"):
    """One session's summary and its comments, newest first."""

    summary: FeedbackSummary
    comments: list[FeedbackComment]
