"""A NUL character anywhere in a request's text (its path, its query, its JSON body, an imported file) is refused
with a 400 that says where, on every operation and both storage engines, and nothing is written.

PostgreSQL cannot store a NUL in a text column; SQLite would keep it where other programs cut the text short. No text
Kumpul keeps holds one, so the server refuses it where requests come in rather than where they are stored.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.nesting import nul_at
from tests.asgi import AppClient
from tests.conftest import Tokens

#: Path parameters in the OpenAPI document's paths.
PARAMETER = re.compile(r"\{[^}]+\}")


async def operations(client: AppClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await client.get("/schema/openapi.json")).json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def caller(path: str, tokens: Tokens, attendee: str) -> dict[str, str]:
    token = tokens.admin if path.startswith("/api/admin") else attendee
    return {"Authorization": f"Bearer {token}"}


def refused(response: Any, where: str) -> None:
    assert response.status_code == 400, (where, response.status_code, response.text)
    assert "NUL character" in response.json()["detail"], response.json()


async def test_a_nul_in_any_path_parameter_or_query_is_refused_on_every_operation(
    client: AppClient, tokens: Tokens
) -> None:
    attendee = (await client.post("/api/attendees")).json()["token"]
    with_parameters = 0
    for method, path, operation in await operations(client):
        headers = caller(path, tokens, attendee)
        # Text parameters get the NUL; a number cannot hold one (the router finds no such route: 404).
        texts = {
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path" and parameter["schema"].get("type") == "string"
        }
        if texts:
            with_parameters += 1
            url = PARAMETER.sub(lambda match, texts=texts: "a%00b" if match.group(0)[1:-1] in texts else "1", path)
            refused(await client.request(method, url, headers=headers), f"{method} {url}")
        queried = PARAMETER.sub("1", path) + "?q=%00&day=2024-07-24%00"
        refused(await client.request(method, queried, headers=headers), f"{method} {queried}")
    assert with_parameters >= 20, "the document lists the operations with path parameters"


async def test_a_nul_anywhere_in_a_json_body_is_refused_on_every_operation_that_takes_one(
    client: AppClient, tokens: Tokens
) -> None:
    attendee = (await client.post("/api/attendees")).json()["token"]
    before = (await client.get("/api/programme")).content
    bodies = 0
    for method, path, operation in await operations(client):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        bodies += 1
        url = PARAMETER.sub("1", path)
        response = await client.request(
            method,
            url,
            json={"title": "Shelter\x00 address", "n": [1, {"k": "v"}]},
            headers=caller(path, tokens, attendee),
        )
        refused(response, f"{method} {path}")
        assert response.json()["extra"][0]["key"] == "$.title"
    assert bodies >= 20, "the document lists the operations with JSON bodies"
    assert (await client.get("/api/programme")).content == before, "nothing was written"


async def test_a_refused_title_names_its_field_and_changes_nothing(client: AppClient, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions")).json()[0]
    response = await client.patch(
        f"/api/admin/sessions/{session['id']}",
        json={"title": "Moved", "speakers": [], "tags": ["ok", "bad\x00tag"]},
        headers=tokens.header("editor"),
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("$.tags[1]: the JSON body holds a NUL character")
    assert (await client.get(f"/api/sessions/{session['id']}")).json()["title"] == session["title"]

    key = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"title\x00": "Moved"}, headers=tokens.header("editor")
    )
    assert key.status_code == 400
    assert key.json()["detail"].startswith("a key of $: the JSON body holds a NUL character")


async def test_an_imported_file_with_a_nul_is_refused_naming_where(client: AppClient, tokens: Tokens) -> None:
    before = (await client.get("/api/programme")).content
    file = b'{"event": {"name": "ARAT\\u0000 2024", "timeZone": "Asia/Bangkok"}, "sessions": []}'
    response = await client.post(
        "/api/admin/import", content=file, headers={**tokens.header("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("$.event.name: the file holds a NUL character")
    assert (await client.get("/api/programme")).content == before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_nul_at_names_a_spot_exactly_when_some_string_holds_a_nul(value: Any) -> None:
    where = nul_at(value)
    texts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    assert (where is not None) == any("\x00" in text for text in texts)
