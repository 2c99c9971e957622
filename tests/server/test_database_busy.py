"""A database held locked by another process: writes get a retryable 503, reads go on, nothing is half-written.

On SQLite the other process holds a write transaction past the busy timeout; on PostgreSQL it holds the advisory
lock every write transaction takes, past the lock timeout.
"""

from __future__ import annotations

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.locks import another_writer


async def test_a_write_while_another_process_holds_the_lock_is_a_retryable_503(
    client: AppClient, tokens: Tokens
) -> None:
    session = (await client.get("/api/sessions")).json()[0]
    async with another_writer(client.app.state.db) as (hold, release):
        await hold()
        refused = await client.patch(
            f"/api/admin/sessions/{session['id']}", json={"title": "Moved upstairs"}, headers=tokens.header("editor")
        )
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "busy" in refused.json()["detail"]
        assert "nothing was changed" in refused.json()["detail"]
        assert (await client.get(f"/api/sessions/{session['id']}")).json()["title"] == session["title"], "reads go on"
        await release()

    retried = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"title": "Moved upstairs"}, headers=tokens.header("editor")
    )
    assert retried.status_code == 200
    assert (await client.get(f"/api/sessions/{session['id']}")).json()["title"] == "Moved upstairs"
