"""Shared fixtures: an app on a real SQLite file per test, loaded with the demo conference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.services.programme import ProgrammeService
from server.settings import Settings
from tests.asgi import AppClient, app_client


@dataclass(frozen=True)
class Tokens:
    admin: str
    editor: str
    announcer: str
    volunteer: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "kumpul.db", change_poll_seconds=0.05)


@pytest.fixture
async def empty_client(settings: Settings) -> AsyncIterator[AppClient]:
    """A client of an app whose database holds nothing yet."""
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
async def client(empty_client: AppClient) -> AppClient:
    """A client of an app serving the demo conference."""
    programme: ProgrammeService = empty_client.app.state.programme
    await programme.import_programme(demo_programme())
    return empty_client


@pytest.fixture
async def tokens(empty_client: AppClient) -> Tokens:
    auth: AuthService = empty_client.app.state.auth
    made = {role: (await auth.add_organiser(f"{role.value} organiser", role))[1] for role in Role}
    return Tokens(
        admin=made[Role.ADMIN],
        editor=made[Role.EDITOR],
        announcer=made[Role.ANNOUNCER],
        volunteer=made[Role.VOLUNTEER],
    )
