"""The programme feed and the live hub when another process writes to the same database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from server.errors import Invalid
from server.services.feed import FeedService, etag_for
from server.services.live import LiveHub
from server.storage import programme as store
from server.storage.db import Database
from sync import Cursor

MakeDatabase = Callable[..., Database]


@contextlib.asynccontextmanager
async def behind_worker(make_database: MakeDatabase) -> AsyncIterator[tuple[FeedService, Database, list[str]]]:
    """A worker's feed whose watcher would not look again during a test, another process's handle on the same
    database, and the cursors this worker's live apps hear of."""
    async with make_database(readers=1) as mine, make_database(readers=1) as other:
        feed = FeedService(mine, retention=timedelta(days=30), poll_seconds=3600)
        await feed.start()
        heard: list[str] = []

        async def listener(previous: str, cursor: str) -> None:
            heard.append(cursor)

        feed.subscribe(listener)
        try:
            yield feed, other, heard
        finally:
            await feed.stop()


async def test_a_rebuild_that_finds_another_process_write_tells_the_listeners(make_database: MakeDatabase) -> None:
    # The watcher would not look again during the test: only the rebuild can notice the other write.
    async with behind_worker(make_database) as (feed, other, heard):
        async with other.write() as conn:
            await store.put_entity(conn, "room", "hall-b", b'{"id":"hall-b","name":"Hall B"}')
        # The first request after the other write builds the programme and finds it one step ahead.
        built = await feed.programme()
        assert built.seq == 1
        assert heard == [built.cursor], "the live hub hears of the write the rebuild found"


async def test_the_live_hub_publishes_each_change_once_and_in_order(make_database: MakeDatabase) -> None:
    # The feed owns the cursor: the watcher, a rebuild and this process's own writes may all report the same
    # write, or an older one late, and the live hub still hears each move once and in order.
    async with behind_worker(make_database) as (feed, other, _heard):
        hub = LiveHub(feed.db)
        feed.subscribe(hub.programme_changed)
        queue = hub.connect("127.0.0.1").queue
        async with other.write() as conn:
            first = await store.put_entity(conn, "announcement", "ann-1", b'{"id":"ann-1","title":"One"}')
            second = await store.put_entity(conn, "announcement", "ann-2", b'{"id":"ann-2","title":"Two"}')
            epoch = (await store.feed_state(conn)).epoch
        newer, older = f"{epoch}.{second}", f"{epoch}.{first}"
        await asyncio.gather(feed.catch_up(), feed.programme(), feed.written(second), feed.written(first))
        events = []
        while not queue.empty():
            event = queue.get_nowait()
            assert event is not None
            events.append((event.event, event.id))
        assert events == [("announcement", older), ("announcement", newer), ("programme", newer)]


async def test_streams_opened_while_stopping_end_at_once(make_database: MakeDatabase) -> None:
    async with make_database(readers=1) as db:
        hub = LiveHub(db)
        open_stream = hub.connect("127.0.0.1").queue
        hub.close_all()
        assert open_stream.get_nowait() is None
        assert hub.connect("127.0.0.1").queue.get_nowait() is None, "a stream opened during shutdown ends at once"
        assert hub.connections == 0


async def test_a_storm_of_requests_for_one_stale_page_reads_the_database_once(make_database: MakeDatabase) -> None:
    async with make_database(readers=4) as db:
        feed = FeedService(db, retention=timedelta(days=30), poll_seconds=3600)
        await feed.start()
        try:
            async with db.write() as conn:
                await store.put_entity(conn, "room", "hall-a", b'{"id":"hall-a","name":"Hall A"}')
                stale = f"{(await store.feed_state(conn)).epoch}.1"
                seq = await store.put_entity(conn, "room", "hall-b", b'{"id":"hall-b","name":"Hall B"}')
            await feed.written(seq)
            await feed.settled()  # the programme encoded right after the write reads the database too
            reads = 0
            real_snapshot = db.snapshot

            def counting_snapshot() -> object:
                nonlocal reads
                reads += 1
                return real_snapshot()

            db.snapshot = counting_snapshot  # type: ignore[method-assign]  # a page is read in one snapshot
            pages = await asyncio.gather(*(feed.changes(stale, 500) for _ in range(200)))
            assert reads == 1, "200 phones asking for the same page at once share one database read"
            assert len({page.identity for page in pages}) == 1
            assert b'"id":"hall-b"' in pages[0].identity
            assert b'"id":"hall-a"' not in pages[0].identity
        finally:
            await feed.stop()


async def test_a_worker_that_has_not_seen_a_poked_write_reads_it_before_answering(make_database: MakeDatabase) -> None:
    """A poke's cursor makes a worker whose watcher is behind answer with the change, not "nothing new"."""
    # This worker's watcher would not look again during the test: it is behind the other worker's write.
    async with behind_worker(make_database) as (feed, other, heard):
        before = feed.cursor
        async with other.write() as conn:
            seq = await store.put_entity(conn, "room", "hall-b", b'{"id":"hall-b","name":"Hall B"}')
            poked = f"{(await store.feed_state(conn)).epoch}.{seq}"
        page = msgspec.json.decode((await feed.changes(before, 500, at_least=poked)).identity)
        assert [change["id"] for change in page["changes"]] == ["hall-b"]
        assert page["cursor"] == poked
        assert heard == [poked], "this worker's own live apps hear of the write too"
        current = msgspec.json.decode((await feed.changes(poked, 500)).identity)
        assert current == {"changes": [], "cursor": poked, "more": False}


async def test_a_cursor_from_a_worker_further_ahead_moves_this_worker_on(make_database: MakeDatabase) -> None:
    async with behind_worker(make_database) as (feed, other, _):
        async with other.write() as conn:
            first = await store.put_entity(conn, "room", "hall-a", b'{"id":"hall-a","name":"Hall A"}')
            epoch = (await store.feed_state(conn)).epoch
        # The app got this cursor from the other worker; then a second write lands there.
        page = msgspec.json.decode((await feed.changes(f"{epoch}.{first}", 500)).identity)
        assert page == {"changes": [], "cursor": f"{epoch}.{first}", "more": False}
        assert feed.cursor == f"{epoch}.{first}", "this worker now knows where the feed stands"
        async with other.write() as conn:
            second = await store.put_entity(conn, "room", "hall-b", b'{"id":"hall-b","name":"Hall B"}')
        page = msgspec.json.decode((await feed.changes(f"{epoch}.{first}", 500, f"{epoch}.{second}")).identity)
        assert [change["id"] for change in page["changes"]] == ["hall-b"]


async def test_a_malformed_poke_cursor_is_refused_by_name(make_database: MakeDatabase) -> None:
    async with make_database(readers=1) as db:
        feed = FeedService(db, retention=timedelta(days=30), poll_seconds=3600)
        await feed.start()
        try:
            with pytest.raises(Invalid) as raised:
                await feed.changes(feed.cursor, 500, at_least="soon")
            assert raised.value.field == "atLeast"
        finally:
            await feed.stop()


async def test_a_revalidation_with_a_newer_copy_than_this_worker_knows_is_not_answered_with_an_older_one(
    make_database: MakeDatabase,
) -> None:
    async with behind_worker(make_database) as (feed, other, _):
        assert (await feed.programme()).seq == 0
        async with other.write() as conn:
            seq = await store.put_entity(conn, "room", "hall-b", b'{"id":"hall-b","name":"Hall B"}')
            newer = f"{(await store.feed_state(conn)).epoch}.{seq}"
        # The client got this copy (gzip) from the other worker and revalidates it here.
        held = etag_for(newer)[:-1] + '-gzip"'
        served = await feed.programme(f'W/"unrelated", {held}')
        assert served.cursor == newer, "the worker reads the newer programme instead of serving its older one"


async def test_two_workers_encode_a_changed_programme_once(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.services.feed as feed_module

    encoded: list[int] = []
    real_brotli = feed_module._brotli

    def counting_brotli(body: bytes) -> bytes:
        encoded.append(len(body))
        return real_brotli(body)

    monkeypatch.setattr(feed_module, "_brotli", counting_brotli)
    async with make_database(readers=2) as first_db, make_database(readers=2) as second_db:
        workers = [FeedService(db, retention=timedelta(days=30), poll_seconds=3600) for db in (first_db, second_db)]
        for worker in workers:
            await worker.start()
        try:
            for n in range(3):
                async with first_db.write() as conn:
                    await store.put_entity(conn, "room", f"hall-{n}", b'{"id":"hall-%d","name":"Hall"}' % n)
                for worker in workers:  # each worker's watcher, or a poke, tells it of the write
                    await worker.catch_up()
                both = await asyncio.gather(*(worker.programme() for worker in workers))
                assert both[0].cursor == both[1].cursor
                assert both[0].body.body("br") == both[1].body.body("br")
                assert b'"id":"hall-%d"' % n in both[1].body.identity
                for worker in workers:  # brotli is made after the others, and not once a newer cursor is built
                    await worker.settled()
            assert len(encoded) == 3, "each cursor is encoded by one worker; the other reads its bytes"
            kept = await workers[1].at(both[0].cursor)
            assert kept is not None
            assert kept.gzip == both[0].body.body("gzip")
        finally:
            for worker in workers:
                await worker.stop()


async def test_an_app_resuming_from_before_an_import_hears_the_announcement_after_it(
    make_database: MakeDatabase,
) -> None:
    async with make_database(readers=2) as db:
        async with db.write() as conn:
            epoch = (await store.feed_state(conn)).epoch
            for n in range(1_200):  # an import: far more changes than one replay reads
                await store.put_entity(conn, "room", f"room-{n}", b'{"id":"room-%d","name":"Room"}' % n)
            seq = await store.put_entity(conn, "announcement", "ann-1", b'{"id":"ann-1","title":"Doors open"}')
        hub = LiveHub(db)
        current = f"{epoch}.{seq}"
        resumed = await asyncio.gather(*(hub.events_since(Cursor(epoch, 0), current) for _ in range(50)))
        for events in resumed:
            assert [(event.event, event.id) for event in events] == [
                ("announcement", current),
                ("programme", current),
            ]


async def test_the_programme_is_served_when_its_bytes_cannot_be_kept_beside_the_database(
    tmp_path: Path, make_database: MakeDatabase
) -> None:
    (tmp_path / "kumpul.db.programme").write_text("not a folder")  # as unusable as a full disk or a read-only one
    async with make_database(readers=1) as db:
        feed = FeedService(db, retention=timedelta(days=30), poll_seconds=3600)
        await feed.start()
        try:
            async with db.write() as conn:
                seq = await store.put_entity(conn, "room", "hall-a", b'{"id":"hall-a","name":"Hall A"}')
            await feed.written(seq)
            built = await feed.programme()
            assert b'"id":"hall-a"' in built.body.identity
            kept = await feed.at(built.cursor)
            assert kept is not None, "the current cursor's bytes still come from memory"
        finally:
            await feed.stop()


async def test_the_first_phones_after_an_edit_get_gzip_while_brotli_is_made(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from server.services import feed as feed_module

    release = threading.Event()
    real_brotli = feed_module._brotli

    def slow_brotli(body: bytes) -> bytes:
        release.wait(30)
        return real_brotli(body)

    monkeypatch.setattr(feed_module, "_brotli", slow_brotli)
    async with behind_worker(make_database) as (feed, other, _heard):
        async with other.write() as conn:
            for n in range(20):
                await store.put_entity(conn, "room", f"hall-{n}", f'{{"id":"hall-{n}","name":"Hall {n}"}}'.encode())
        built = await feed.programme()
        browser = ("br", "gzip", "identity")
        assert built.body.encoding(browser) == "gzip", "a browser does not wait for brotli"
        assert built.body.encoding(("br", "identity")) == "br", "a client that takes only brotli gets brotli"
        assert not feed.encoded.path(built.cursor, "br").exists()
        release.set()
        await feed.settled()
        assert built.body.encoding(browser) == "br"
        assert feed.encoded.path(built.cursor, "br").read_bytes() == built.body.body("br")
