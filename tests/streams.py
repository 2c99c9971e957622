"""``make pytest``: the whole suite in four streams, three at a time, so that two cores stay busy.

Much of a test's time is spent waiting on Chromium, on server subprocesses or on PostgreSQL, so one pytest process
leaves the cores half idle. The streams:

- the browser tests (``tests/e2e`` less the server tests below), the longest;
- every test outside ``tests/e2e`` on PostgreSQL, in a private cluster the tests start (``tests/postgres.py``);
- the same tests on SQLite;
- the end-to-end tests of servers without a browser (several processes and nodes, kill -9, faults, backups, push),
  started when the first of the others ends.

Each stream's report is printed when it ends, then one line per stream; the exit status is 0 only if every stream
passed. ``python -m tests.streams -x`` passes its arguments to every stream's pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

AT_ONCE = 3

#: End-to-end tests that start servers but no browser.
E2E_SERVER_TESTS = [
    f"tests/e2e/{name}"
    for name in (
        "test_backup.py",
        "test_confclerk.py",
        "test_disk_full.py",
        "test_durability.py",
        "test_faults.py",
        "test_follow.py",
        "test_live.py",
        "test_live_limits.py",
        "test_nodes.py",
        "test_push.py",
        "test_restore.py",
        "test_serve.py",
        "test_workers.py",
    )
]


@dataclass(frozen=True)
class Stream:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


STREAMS = [
    Stream("the browser tests (tests/e2e)", ["tests/e2e", *(f"--ignore={path}" for path in E2E_SERVER_TESTS)]),
    Stream("every test but tests/e2e, on PostgreSQL", ["--ignore=tests/e2e"], {"KUMPUL_TEST_DATABASE": "postgresql"}),
    Stream("every test but tests/e2e, on SQLite", ["--ignore=tests/e2e"], {"KUMPUL_TEST_DATABASE": "sqlite"}),
    Stream("the end-to-end tests of servers (tests/e2e)", E2E_SERVER_TESTS),
]


@dataclass(frozen=True)
class Outcome:
    stream: Stream
    returncode: int
    seconds: float
    report: str

    @property
    def summary(self) -> str:
        """pytest's last line ("N passed, M failed in ..."), or how the stream ended without one."""
        lines = [line.strip(" =") for line in self.report.splitlines() if line.strip()]
        return lines[-1] if lines else f"no output (exit status {self.returncode})"


def run(stream: Stream, extra: Sequence[str]) -> Outcome:
    sys.stdout.write(f"--- started: {stream.name}\n")  # one write: the streams start from several threads
    sys.stdout.flush()
    started = time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", *stream.args, *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **stream.env},
            check=False,
        )
        log.seek(0)
        report = log.read()
    return Outcome(stream, completed.returncode, time.monotonic() - started, report)


def main(extra: Sequence[str]) -> int:
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:  # starts the streams in order, the fourth when one ends
        for future in as_completed([pool.submit(run, stream, extra) for stream in STREAMS]):
            outcome = future.result()
            outcomes.append(outcome)
            print(f"--- {outcome.stream.name}, {outcome.seconds / 60:.1f} min:", flush=True)
            print(outcome.report, flush=True)
    print("--- every stream:")
    for outcome in outcomes:
        verdict = "passed" if outcome.returncode == 0 else f"FAILED (exit status {outcome.returncode})"
        print(f"{verdict}: {outcome.stream.name}, {outcome.seconds / 60:.1f} min: {outcome.summary}")
    return 0 if all(outcome.returncode == 0 for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
