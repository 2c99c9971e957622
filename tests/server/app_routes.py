"""The app's own routes, for tests that check every route: a route added later is checked without being listed."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from server.routes.deps import attendee_required
from tests.conftest import Tokens


def body_routes(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    """``(method, path, handler)`` of every handler that reads the request body."""
    found: list[tuple[str, str, HTTPRouteHandler]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if {"data", "body"} & set(handler.parsed_fn_signature.parameters):
                found.extend((method, route.path, handler) for method in sorted(handler.http_methods))
    return sorted(found, key=lambda found: found[:2])


def concrete(path: str) -> str:
    """A path with its parameters filled in (the body is refused before any id is looked up)."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda match: "1" if match[2] == "int" else "x", path)


def credentials(handler: HTTPRouteHandler, tokens: Tokens, attendee: dict[str, str]) -> dict[str, str]:
    """What lets a request past the route's guards: an attendee token, an admin's, or nothing."""
    guards = handler.resolve_guards()
    if attendee_required in guards:
        return attendee
    return tokens.header("admin") if guards else {}
