"""The README describes the API that is really served, and the commands that really exist."""

from __future__ import annotations

import re
from pathlib import Path

from server.cli import build_parser
from tests.asgi import AppClient

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def readme_routes() -> set[tuple[str, str]]:
    routes = set()
    for methods, path in re.findall(r"^\| ([A-Z, ]+) \| `(/[^`]*)` \|", README, flags=re.MULTILINE):
        for method in methods.split(","):
            routes.add((method.strip(), path))
    return routes


async def test_readme_lists_every_route_of_the_openapi_document(
    empty_client: AppClient,
) -> None:
    doc = (await empty_client.get("/schema/openapi.json")).json()
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert readme_routes() == served


def test_readme_commands_exist() -> None:
    assert "make run" in README
    assert "make test" in README
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"kumpul {command}" in README, command


def test_readme_layout_names_real_folders() -> None:
    for folder in re.findall(r"^\| `([a-z]+)/` \|", README, flags=re.MULTILINE):
        assert (ROOT / folder).is_dir(), folder
