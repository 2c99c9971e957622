"""The demo conference (modelled on ARAT 2024) that ``make run`` serves and the tests use."""

from __future__ import annotations

from importlib import resources

import msgspec

from server.schemas.programme import ProgrammeImport

DEMO_FILE = "arat2024.json"


def demo_bytes() -> bytes:
    """The demo programme file in Kumpul's import format."""
    return (resources.files("server.demo") / DEMO_FILE).read_bytes()


def demo_programme() -> ProgrammeImport:
    """The demo programme, decoded and validated."""
    return msgspec.json.decode(demo_bytes(), type=ProgrammeImport)
