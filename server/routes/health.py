"""Liveness for load balancers and tests."""

from __future__ import annotations

from litestar import get

from server.routes.deps import FeedDep


@get("/healthz", tags=["operations"], summary="Liveness and the current cursor", include_in_schema=True)
async def healthz(feed: FeedDep) -> dict[str, str]:
    return {"status": "ok", "cursor": feed.cursor}
