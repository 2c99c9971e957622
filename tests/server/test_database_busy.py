"""A database held locked by another process: writes get a retryable 503, reads go on, nothing is half-written."""

from __future__ import annotations

import sqlite3

from tests.asgi import AppClient
from tests.conftest import Tokens


async def test_a_write_while_another_process_holds_the_lock_is_a_retryable_503(
    client: AppClient, tokens: Tokens
) -> None:
    session = (await client.get("/api/sessions")).json()[0]
    other = sqlite3.connect(client.app.state.db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        refused = await client.patch(
            f"/api/admin/sessions/{session['id']}", json={"title": "Moved upstairs"}, headers=tokens.header("editor")
        )
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "busy" in refused.json()["detail"]
        assert "nothing was changed" in refused.json()["detail"]
        assert (await client.get(f"/api/sessions/{session['id']}")).json()["title"] == session["title"], "reads go on"
    finally:
        other.rollback()
        other.close()

    retried = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"title": "Moved upstairs"}, headers=tokens.header("editor")
    )
    assert retried.status_code == 200
    assert (await client.get(f"/api/sessions/{session['id']}")).json()["title"] == "Moved upstairs"
