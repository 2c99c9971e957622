"""A failure that is no Exception (a panic in Rust code under a native extension) answers one logged 500; the app
serves on."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from litestar import get

from server.app import create_app
from server.settings import Settings
from tests.asgi import AppClient, app_client


class PanicException(BaseException):
    """What pyo3 raises when Rust code panics (pycrdt's CRDT core): a BaseException, so ``except Exception`` misses
    it."""


@get("/test/panic", sync_to_thread=False)
def panic() -> None:
    raise PanicException("index out of bounds: the len is 0 but the index is 3")


@pytest.fixture
async def panicky(settings: Settings) -> AsyncIterator[AppClient]:
    """A client of the app with one more route, which panics (set up before ``caplog``, which must come after the
    app's own logging configuration)."""
    app = create_app(settings)
    app.register(panic)
    async with app_client(app) as client:
        yield client


async def test_a_panic_while_serving_is_a_logged_500_and_the_app_serves_on(
    panicky: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="server"):
        response = await panicky.get("/test/panic")
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal error: the request was not completed; nothing was changed."
    [logged] = [record for record in caplog.records if record.name == "server"]
    assert logged.getMessage() == "unhandled error on GET /test/panic"
    assert "PanicException: index out of bounds" in caplog.text
    assert (await panicky.get("/healthz")).status_code == 200
    assert (await panicky.get("/test/panic")).status_code == 500
