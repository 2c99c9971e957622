"""``DELETE /api/attendees/me`` erases everything of one attendee, in every table, and nothing of anyone else."""

from __future__ import annotations

from server.storage.db import Connection, Database, postgres
from tests.asgi import AppClient
from tests.server.attendee_data import Planted, plant_attendee, rows_of

Client = AppClient

#: Tables that hold attendee data without a foreign key to ``attendees``: push messages name a subscription.
#: Feedback is kept under a keyed hash of the attendee: no foreign key, found again by the hash.
WITHOUT_FOREIGN_KEY = {"push_outbox", "session_feedback"}


async def tables_referencing(conn: Connection, parent: str) -> set[str]:
    """Every table with a foreign key to ``parent``, read from the schema itself."""
    if postgres(conn):
        rows = await conn.execute_fetchall(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid = ?::regclass",
            (parent,),
        )
        return {row[0] for row in rows}
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        tables = [row[0] for row in await cur.fetchall()]
    found = set()
    for table in tables:
        async with conn.execute('SELECT "table" FROM pragma_foreign_key_list(?)', (table,)) as cur:
            if parent in {row[0] for row in await cur.fetchall()}:
                found.add(table)
    return found


async def test_every_table_is_checked(client: Client) -> None:
    """A new table that refers to attendees must be added to the erasure (and to these tests)."""
    db: Database = client.app.state.db
    planted = await plant_attendee(client, "asih")
    async with db.read() as conn:
        referencing = await tables_referencing(conn, "attendees")
        checked = {table.split(".")[0] for table in await rows_of(conn, planted)}
    assert referencing == {
        "attendee_tokens",
        "link_codes",
        "documents",
        "doc_log",
        "wrapped_keys",
        "push_subscriptions",
    }
    assert checked == referencing | WITHOUT_FOREIGN_KEY | {"attendees"}


async def test_erasing_one_attendee_clears_every_table_of_theirs_and_no_one_elses(client: Client) -> None:
    db: Database = client.app.state.db
    asih, bayu = await plant_attendee(client, "asih"), await plant_attendee(client, "bayu")
    async with db.read() as conn:
        for planted in (asih, bayu):
            counts = await rows_of(conn, planted)
            assert all(counts.values()), f"{planted.attendee_id} holds something in every table: {counts}"
        bayu_before = await rows_of(conn, bayu)

    response = await client.delete("/api/attendees/me", headers=asih.devices[1].headers)
    assert response.status_code == 204

    async with db.read() as conn:
        assert await rows_of(conn, asih) == dict.fromkeys(bayu_before, 0)
        assert await rows_of(conn, bayu) == bayu_before
        states = [bytes(row[0]) for row in await conn.execute_fetchall("SELECT state FROM documents")]
        assert states, "bayu's documents stay"
        assert not [state for state in states if b"asih" in state]
    for device in asih.devices:
        assert (await client.get("/api/attendees/me", headers=device.headers)).status_code == 401
    assert (await client.get(asih.calendar_path)).status_code == 404

    await assert_untouched(client, bayu)


async def assert_untouched(client: Client, planted: Planted) -> None:
    """The attendee's devices, notes, agenda and calendar feed work as before."""
    for device in planted.devices:
        me = await client.get("/api/attendees/me", headers=device.headers)
        assert me.json()["attendeeId"] == planted.attendee_id
    laptop = planted.devices[1]
    await laptop.ready(client)
    synced = await client.post("/api/me/sync", json=laptop.request_body(), headers=laptop.headers)
    assert synced.status_code == 200
    laptop.receive(synced.json())
    notes = [doc_id for doc_id in laptop.docs if doc_id.startswith("note:")]
    assert [str(laptop.text(doc_id)) for doc_id in notes] == [planted.note_text]
    feed = await client.get(planted.calendar_path)
    assert feed.status_code == 200
    assert "UID:" in feed.text


async def test_erasing_twice_is_refused_the_second_time(client: Client) -> None:
    asih = await plant_attendee(client, "asih")
    assert (await client.delete("/api/attendees/me", headers=asih.devices[0].headers)).status_code == 204
    assert (await client.delete("/api/attendees/me", headers=asih.devices[0].headers)).status_code == 401
