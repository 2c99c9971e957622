"""Every operation of the OpenAPI document, fuzzed from the document itself: one call at a time, and in sequences.

Schemathesis generates requests (valid ones, then invalid ones) for each operation of ``/schema/openapi.json``
and sends them to the app in this process: with no credentials, with an attendee's token and with an admin's.
Then, as the admin, sequences of calls that follow the links Schemathesis infers between operations (an id one
response holds is the path parameter of the next call: create a room, read it, change it, delete it). Every answer
must be no server error, have a status the document declares for the operation, and have a body (and content type)
that its schema allows. Runs are derandomized and the number of examples is fixed (no time budget), so CI sends
the same requests every time.

Bounded for a small machine: a few examples per operation and mode, a few dozen short sequences.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.services.ratelimit import RateLimiter
from server.settings import Settings
from tests.asgi import app_client

#: Examples per operation and generation mode, for each caller.
MAX_EXAMPLES = 10
#: Sequences of linked calls, and the most calls in one.
SCENARIOS = 60
STEPS = 6
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
Operation = schemathesis.APIOperation[Any, Any, Any, Any]
#: Run last: erasing the attendee ends the token the other operations are called with.
LAST = ("DELETE /api/attendees/me",)


@dataclass(frozen=True)
class Fuzzed:
    """The running app's OpenAPI document as Schemathesis loaded it, and each caller's headers."""

    schema: schemathesis.BaseSchema
    headers: dict[str, dict[str, str]]


async def seed(settings_: Settings) -> dict[str, dict[str, str]]:
    """The demo programme, an admin organiser and an attendee, stored before the fuzzed app starts."""
    async with app_client(create_app(settings_)) as client:
        await client.app.state.programme.import_programme(demo_programme())
        auth: AuthService = client.app.state.auth
        _, admin = await auth.add_organiser("Fuzzing admin", Role.ADMIN)
        attendee = (await client.post("/api/attendees")).json()["token"]
    return {
        "anonymous": {},
        "attendee": {"Authorization": f"Bearer {attendee}"},
        "admin": {"Authorization": f"Bearer {admin}"},
    }


async def offline(_: str) -> list[str]:
    """No host name resolves: generated push endpoints must not wait on DNS (public IP literals still pass)."""
    return []


@pytest.fixture
def fuzzed(tmp_path: Path, database_url: str | None) -> Iterator[Fuzzed]:
    app_settings = Settings(db_path=tmp_path / "kumpul.db", database_url=database_url, change_poll_seconds=0.05)
    headers = asyncio.run(seed(app_settings))
    app = create_app(app_settings)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)  # starts the app
    schema.config.max_stream_events = 1  # the live stream never ends: its first event is enough
    limiter: RateLimiter = app.state.limiter
    # Every look at the clock is an hour later, so every bucket is full again: the fuzzer is one client sending
    # thousands of requests, and 429s would hide every other answer (tests/server/test_rate_limits.py checks them).
    hours = itertools.count(step=3600)
    limiter.clock = lambda: float(next(hours))
    app.state.push.resolve = offline
    try:
        yield Fuzzed(schema, headers)
    finally:
        asgi.shutdown_lifespans()


def operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation of the document cannot be read: {result}"
        found.append(result.ok())
    return sorted(found, key=lambda operation: (operation.label in LAST, operation.label))


def can_be_invalid(operation: Operation) -> bool:
    """Whether anything the operation takes can be sent invalid: a body, a query parameter, a non-text path part."""
    path_types = [parameter.definition.get("schema", {}).get("type") for parameter in operation.path_parameters]
    return bool(len(operation.body) or len(operation.query) or any(kind != "string" for kind in path_types))


def fuzz(operation: Operation, mode: GenerationMode, headers: dict[str, str], examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case[Any]) -> None:
        if not headers:
            # No credentials at all, not the made-up ones Schemathesis writes for secured operations.
            if case.headers:
                case.headers.pop("Authorization", None)
            if case.cookies:
                case.cookies.pop("kumpul_console", None)
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


@pytest.mark.parametrize("caller", ["anonymous", "attendee", "admin"])
def test_every_operation_answers_as_documented(fuzzed: Fuzzed, caller: str) -> None:
    headers = fuzzed.headers[caller]
    failures: dict[str, str] = {}
    fuzzed_operations = operations(fuzzed.schema)
    assert len(fuzzed_operations) >= 60, "the whole API is in the document"
    for operation in fuzzed_operations:
        modes = [GenerationMode.POSITIVE]
        if can_be_invalid(operation):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                fuzz(operation, mode, headers, MAX_EXAMPLES)
            except Unsatisfiable:
                # Nothing this operation takes can be sent invalid after all; a valid request always can.
                assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be made"
            except (Exception, BaseExceptionGroup) as failure:  # Schemathesis reports a group of failed checks
                failures[f"{operation.label} ({mode.value})"] = str(failure)
    assert not failures, "\n\n".join(f"== {label}\n{report}" for label, report in failures.items())


def test_linked_operations_answer_as_documented(fuzzed: Fuzzed) -> None:
    """Sequences of calls, each feeding the next: an id a response holds is read, changed and deleted."""
    admin = fuzzed.headers["admin"]
    failures: dict[str, str] = {}
    answered: set[str] = set()

    class AsAdmin(fuzzed.schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"headers": admin}

        def validate_response(self, response: Any, case: Case[Any], **kwargs: Any) -> None:
            # Noted, not raised: a raised failure makes Hypothesis replay the sequence, and against a database
            # the first run changed, a replay goes another way (Hypothesis calls that flaky and hides the failure).
            kwargs.pop("additional_checks", None)
            answered.add(f"{case.operation.label} {response.status_code}")
            try:
                case.validate_response(response, checks=CHECKS, headers=admin, transport_kwargs=kwargs)
            except (Exception, BaseExceptionGroup) as failure:
                failures.setdefault(case.operation.label, str(failure))

    with contextlib.suppress(Flaky):  # as above: the sequences run until then are checked all the same
        AsAdmin.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                phases=[Phase.generate],
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    assert not failures, "\n\n".join(f"== {label}\n{report}" for label, report in failures.items())
    linked = {answer for answer in answered if "}" in answer and answer.endswith((" 200", " 204"))}
    assert linked, f"no call reached an entity through an id from another response: {sorted(answered)}"
