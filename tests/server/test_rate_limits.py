"""Rate limits per token (tight) and per address (generous enough for a whole venue behind one address).

The limiter's clock is stopped in every test, so counts are exact and nothing refills while a test runs. Sign-in
is limited per name and per address; tests/server/routes/test_console.py covers both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from server.app import create_app
from server.errors import TooManyRequests
from server.services.attendees import CALENDAR_KEY_LIMIT, CREATE_LIMIT, LINK_CODE_LIMIT, REDEEM_LIMIT
from server.services.private_sync import SYNC_BY_ADDRESS, SYNC_LIMIT
from server.services.push import SUBSCRIBE_BY_ADDRESS, SUBSCRIBE_BY_ATTENDEE
from server.services.ratelimit import Limit, RateLimiter
from server.settings import Settings
from server.storage import attendees as attendees_store
from tests.asgi import AppClient, app_client
from tests.push_service import BrowserSubscription

VENUE = "203.0.113.50"
ELSEWHERE = "198.51.100.9"
#: The people of one venue, all behind its one public address.
VENUE_ATTENDEES = 500


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[AppClient]:
    """An app whose limiter's clock stands still; push endpoints on loopback are allowed (no DNS needed)."""
    async with app_client(create_app(msgspec.structs.replace(settings, allow_insecure_push=True))) as client:
        stop_the_clock(client)
        yield client


#: When the limiters' clocks stand still (the same moment for every app of a test, as for servers kept in step).
STOPPED = time.time()


def stop_the_clock(client: AppClient) -> None:
    limiter: RateLimiter = client.app.state.limiter
    limiter.clock = lambda: STOPPED


@asynccontextmanager
async def from_address(
    client: AppClient, address: str, *, base_url: str = "http://testserver.local"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as web:
        yield web


async def new_attendee(web: httpx.AsyncClient) -> dict[str, str]:
    response = await web.post("/api/attendees")
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def subscription_body(endpoint_id: str) -> dict[str, object]:
    browser = BrowserSubscription(f"http://127.0.0.1:9/push/{endpoint_id}")
    return {**browser.as_json(), "alertSessions": []}


def assert_limited(response: httpx.Response, limit: Limit) -> None:
    """A 429 that names the limit and says when to come back."""
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert f"too many {limit.name}" in response.json()["detail"]


# -- per token ---------------------------------------------------------------------------------------------------

Action = Callable[[httpx.AsyncClient, dict[str, str], int], Awaitable[httpx.Response]]


async def sync(web: httpx.AsyncClient, auth: dict[str, str], _: int) -> httpx.Response:
    return await web.post("/api/me/sync", json={"cursor": None, "docs": []}, headers=auth)


async def link_code(web: httpx.AsyncClient, auth: dict[str, str], _: int) -> httpx.Response:
    return await web.post("/api/attendees/me/link-code", headers=auth)


async def subscribe(web: httpx.AsyncClient, auth: dict[str, str], attempt: int) -> httpx.Response:
    # Each attendee's own devices: an endpoint belongs to the attendee who subscribed it first.
    device = f"own-{auth['Authorization'][-12:]}-{attempt}"
    return await web.post("/api/push/subscriptions", json=subscription_body(device), headers=auth)


async def calendar(web: httpx.AsyncClient, auth: dict[str, str], _: int) -> httpx.Response:
    return await web.post("/api/attendees/me/calendar", headers=auth)


PER_TOKEN: dict[str, tuple[Action, Limit]] = {
    "sync": (sync, SYNC_LIMIT),
    "link code": (link_code, LINK_CODE_LIMIT),
    "push subscription": (subscribe, SUBSCRIBE_BY_ATTENDEE),
    "calendar feed": (calendar, CALENDAR_KEY_LIMIT),
}


@pytest.mark.parametrize("name", PER_TOKEN)
async def test_a_token_over_its_limit_is_refused_while_others_at_its_address_go_on(app: AppClient, name: str) -> None:
    action, limit = PER_TOKEN[name]
    async with from_address(app, VENUE) as web:
        greedy, neighbour = await new_attendee(web), await new_attendee(web)
        for attempt in range(limit.burst):
            response = await action(web, greedy, attempt)
            assert response.status_code in (200, 201), response.text
        assert_limited(await action(web, greedy, limit.burst), limit)
        assert (await action(web, neighbour, 0)).status_code in (200, 201), "the same address, another token"


# -- a venue behind one address ----------------------------------------------------------------------------------


async def test_a_whole_venue_behind_one_address_is_never_refused(app: AppClient) -> None:
    """Everyone starts the app, turns notifications on and syncs a few times, all at once; a tenth link a laptop."""
    refused: list[str] = []
    async with from_address(app, VENUE) as web:
        for person in range(VENUE_ATTENDEES):
            created = await web.post("/api/attendees")
            if created.status_code != 201:
                refused.append(f"create: {created.status_code}")
                continue
            auth = {"Authorization": f"Bearer {created.json()['token']}"}
            responses = [await subscribe(web, auth, person)]
            responses += [await sync(web, auth, n) for n in range(3)]
            if person % 10 == 0:
                code = (await link_code(web, auth, 0)).json()["code"]
                responses.append(await web.post("/api/attendees/link", json={"code": code}))
            refused += [f"{r.request.url.path}: {r.status_code} {r.text}" for r in responses if r.status_code >= 400]
    assert refused == []


async def test_a_flood_of_new_attendees_from_one_address_trips_its_limit(app: AppClient) -> None:
    limiter: RateLimiter = app.app.state.limiter
    async with from_address(app, VENUE) as web:
        for _ in range(500):
            assert (await web.post("/api/attendees")).status_code == 201
        # The rest of the burst taken as the app's own requests would take it, so the test stays quick.
        for _ in range(CREATE_LIMIT.burst - 501):
            await limiter.hit(CREATE_LIMIT, VENUE)
        assert (await web.post("/api/attendees")).status_code == 201
        assert_limited(await web.post("/api/attendees"), CREATE_LIMIT)
    async with from_address(app, ELSEWHERE) as elsewhere:
        assert (await elsewhere.post("/api/attendees")).status_code == 201, "other addresses are not held back"


async def test_two_servers_on_one_database_draw_from_one_bucket(settings: Settings, app: AppClient) -> None:
    """Two workers on one SQLite file, or two nodes on one PostgreSQL database, give a client one budget, not two."""
    other = settings
    if settings.database_url:  # another node: a machine of its own, with its own local folder
        other = msgspec.structs.replace(settings, db_path=settings.db_path.parent / "other" / "kumpul.db")
    async with app_client(create_app(other)) as second:
        stop_the_clock(second)
        async with from_address(app, VENUE) as one, from_address(second, VENUE) as two:
            auth = await new_attendee(one)
            answers = [await link_code(web, auth, 0) for web in [one, two] * LINK_CODE_LIMIT.burst]
    assert [a.status_code for a in answers[: LINK_CODE_LIMIT.burst]] == [201] * LINK_CODE_LIMIT.burst
    for answer in answers[LINK_CODE_LIMIT.burst :]:
        assert_limited(answer, LINK_CODE_LIMIT)


async def test_a_venue_of_8000_behind_one_address_all_start_within_a_minute() -> None:
    now = 0.0
    limiter = RateLimiter(clock=lambda: now)
    for person in range(8_000):  # arriving over one minute, evenly
        now = person * 60 / 8_000
        await limiter.hit(CREATE_LIMIT, VENUE)


async def test_one_address_cannot_create_unbounded_identities() -> None:
    now = 0.0
    limiter = RateLimiter(clock=lambda: now)
    created = 0
    for attempt in range(60 * 60 * 50):  # 50 attempts a second for an hour
        now = attempt / 50
        try:
            await limiter.hit(CREATE_LIMIT, VENUE)
            created += 1
        except TooManyRequests:
            pass
    assert created <= CREATE_LIMIT.burst + 60 * CREATE_LIMIT.per_minute + 1
    assert created < 13_000, "an hour of flooding makes at most the burst and 40 a minute"


@pytest.mark.parametrize(
    ("action", "limit", "per_token"),
    [(sync, SYNC_BY_ADDRESS, SYNC_LIMIT), (subscribe, SUBSCRIBE_BY_ADDRESS, SUBSCRIBE_BY_ATTENDEE)],
    ids=["sync", "push subscription"],
)
async def test_a_flood_with_many_tokens_from_one_address_trips_its_limit(
    app: AppClient, action: Action, limit: Limit, per_token: Limit
) -> None:
    """Each token stays within its own limit; together they are one machine flooding the server.

    The address has used all but the last three tokens' worth of its bucket already (taken from the app's own
    limiter, so the test does not send thousands of requests); three tokens send the rest, and a fourth is refused.
    """
    limiter: RateLimiter = app.app.state.limiter
    for _ in range(limit.burst - 3 * per_token.burst):
        await limiter.hit(limit, VENUE)
    async with from_address(app, VENUE) as web:
        for _ in range(3):
            auth = await new_attendee(web)
            for attempt in range(per_token.burst):
                response = await action(web, auth, attempt)
                assert response.status_code in (200, 201), response.text
        assert_limited(await action(web, await new_attendee(web), 0), limit)
    async with from_address(app, ELSEWHERE) as elsewhere:
        assert (await action(elsewhere, await new_attendee(elsewhere), 0)).status_code in (200, 201)


# -- link codes: only wrong ones count ---------------------------------------------------------------------------


async def test_only_wrong_link_codes_count_against_an_address(app: AppClient) -> None:
    async with from_address(app, VENUE) as web:
        for _ in range(REDEEM_LIMIT.burst * 2):
            code = (await link_code(web, await new_attendee(web), 0)).json()["code"]
            assert (await web.post("/api/attendees/link", json={"code": code})).status_code == 201
        for guess in range(REDEEM_LIMIT.burst):
            assert (await web.post("/api/attendees/link", json={"code": f"AAAAA-{guess:05d}"})).status_code == 400
        code = (await link_code(web, await new_attendee(web), 0)).json()["code"]
        assert_limited(await web.post("/api/attendees/link", json={"code": code}), REDEEM_LIMIT)
    async with from_address(app, ELSEWHERE) as elsewhere:
        assert (await elsewhere.post("/api/attendees/link", json={"code": code})).status_code == 201


# -- which address counts ----------------------------------------------------------------------------------------


async def guess_until_limited(web: httpx.AsyncClient, headers: Callable[[int], dict[str, str]]) -> list[int]:
    """Statuses of wrong link codes sent one over the per-address limit, with ``headers(attempt)``."""
    return [
        (await web.post("/api/attendees/link", json={"code": f"BBBBB-{n:05d}"}, headers=headers(n))).status_code
        for n in range(REDEEM_LIMIT.burst + 1)
    ]


async def test_an_untrusted_forwarded_for_header_cannot_dodge_the_address_limit(app: AppClient) -> None:
    async with from_address(app, VENUE) as web:
        statuses = await guess_until_limited(web, lambda n: {"X-Forwarded-For": f"192.0.2.{n}"})
    assert statuses == [400] * REDEEM_LIMIT.burst + [429]


async def test_behind_a_trusted_proxy_the_address_it_appended_counts(tmp_path: Path, app: AppClient) -> None:
    settings = msgspec.structs.replace(Settings(db_path=tmp_path / "proxied.db"), trust_proxy=True)
    async with app_client(create_app(settings)) as proxied:
        stop_the_clock(proxied)
        async with from_address(proxied, "127.0.0.1") as via_proxy:
            # The client writes anything it likes first; the proxy appends the address it saw.
            statuses = await guess_until_limited(via_proxy, lambda n: {"X-Forwarded-For": f"192.0.2.{n}, {VENUE}"})
            assert statuses == [400] * REDEEM_LIMIT.burst + [429]
            other = await via_proxy.post(
                "/api/attendees/link", json={"code": "CCCCC-00000"}, headers={"X-Forwarded-For": ELSEWHERE}
            )
            assert other.status_code == 400, "another client behind the same proxy is not held back"


async def test_ipv6_clients_count_per_64(app: AppClient) -> None:
    statuses = []
    for n in range(REDEEM_LIMIT.burst + 1):
        async with from_address(app, f"2001:db8:5:7::{n + 1:x}") as web:
            statuses.append((await web.post("/api/attendees/link", json={"code": f"DDDDD-{n:05d}"})).status_code)
    assert statuses == [400] * REDEEM_LIMIT.burst + [429], "hopping addresses inside one /64 dodges nothing"
    async with from_address(app, "2001:db8:5:8::1") as neighbour:
        assert (await neighbour.post("/api/attendees/link", json={"code": "DDDDD-99999"})).status_code == 400


async def test_a_burst_of_concurrent_wrong_codes_is_held_to_the_limit(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guesses are counted before they are checked: a burst sent at once gets no more checks than the limit allows."""
    evaluated = 0
    redeem = attendees_store.redeem_link_code

    async def counted(*args: Any, **kwargs: Any) -> str | None:
        nonlocal evaluated
        evaluated += 1
        return await redeem(*args, **kwargs)

    monkeypatch.setattr(attendees_store, "redeem_link_code", counted)
    async with from_address(app, VENUE) as web:
        burst = await asyncio.gather(
            *(web.post("/api/attendees/link", json={"code": f"EEEEE-{n:05d}"}) for n in range(200))
        )
    statuses = sorted(response.status_code for response in burst)
    assert statuses == [400] * REDEEM_LIMIT.burst + [429] * (200 - REDEEM_LIMIT.burst)
    assert evaluated == REDEEM_LIMIT.burst


async def test_a_right_code_in_a_burst_does_not_use_up_a_guess(app: AppClient) -> None:
    async with from_address(app, VENUE) as web:
        codes = [(await link_code(web, await new_attendee(web), 0)).json()["code"] for _ in range(REDEEM_LIMIT.burst)]
        linked = await asyncio.gather(*(web.post("/api/attendees/link", json={"code": code}) for code in codes))
        assert [response.status_code for response in linked] == [201] * REDEEM_LIMIT.burst
        wrong = [await web.post("/api/attendees/link", json={"code": f"FFFFF-{n:05d}"}) for n in range(2)]
        assert [response.status_code for response in wrong] == [400, 400]
