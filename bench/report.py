"""Collect the benchmarks' JSON into one table (figure | measured | target | met?) and bench/results.md.

``make bench`` runs every benchmark with ``--json bench/out/NAME.json`` and then this script. A
benchmark that did not run, or whose JSON lacks a figure, shows "n/a". In results.md only the part
between ``<!-- bench:table -->`` and ``<!-- /bench:table -->`` is rewritten; the rest (the lead's
"Profile" section) is kept.

The benchmarks that run on several engines (bench/engines.py) keep each engine's figures under ``engines``: the
first table has SQLite's, as ever, and a second puts the same figures side by side, one column per engine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:table -->"
END = "<!-- /bench:table -->"
NEW_FILE = f"""# Benchmark results

Written by `make bench` (bench/report.py) between the markers below; everything else in this file is
kept when the table is regenerated. Ratios are measured within one run, so a noisy machine slows both
sides of a comparison.

{BEGIN}
{END}

## Profile

Where the server's time goes in the figures that miss their target (to be filled in by the lead).
"""

Row = tuple[str, str, str, bool | None]
#: One figure on several engines: the figure, each engine's measured value, the target, and each engine's verdict.
Compared = tuple[str, dict[str, str], str, dict[str, bool | None]]
NO_TARGET = "—"
#: The engines' columns, in order (bench/engines.py names them).
ENGINES = {"sqlite": "SQLite", "pg1": "PostgreSQL, 1 node", "pg2": "PostgreSQL, 2 nodes"}
ENGINES_LEAD = (
    "SQLite beside PostgreSQL (bench/engines.py): the same benchmark on one SQLite node, on one PostgreSQL node and on"
    " two nodes sharing one database, the clients spread over the nodes round robin; CPU is the nodes' and the"
    " database's; a verdict per column."
)
#: The targets of two nodes on PostgreSQL (private sync; the storm's is the one every engine has).
SYNC_SPEEDUP_TARGET = 1.5
SYNC_P99_TARGET_MS = 500


class Missing(Exception):
    """A figure the JSON does not hold."""


def dig(document: Any, *path: str | int) -> Any:
    """The value at ``path`` in nested dicts and lists, or raise Missing."""
    value = document
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise Missing(".".join(map(str, path))) from None
    if value is None:
        raise Missing(".".join(map(str, path)))
    return value


def number(value: float, digits: int = 0) -> str:
    """A number with thousands separators."""
    return f"{value:,.{digits}f}"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


# --- one function per benchmark -----------------------------------------------------------------


def programme_rows(doc: dict[str, Any]) -> list[Row]:
    results = {result["name"]: result for result in dig(doc, "results")}
    target = float(doc.get("ratio_target", 0.5))
    rows: list[Row] = []
    for name, label in (("programme 200", "200, gzip"), ("programme 304", "304 revalidation")):
        ours = dig(results, name, "rps")
        figure = f"`/api/programme` {label}: Kumpul ÷ nginx req/s"
        if name in doc.get("ratios_vs_nginx", {}):
            theirs = dig(results, f"nginx: {name}", "rps")
            ratio = doc["ratios_vs_nginx"][name]
            measured = f"{ratio:.0%} ({number(ours)} vs {number(theirs)})"
            rows.append((figure, measured, f"≥ {target:.0%}", ratio >= target))
        else:
            skipped = doc.get("nginx", {}).get("skipped") or "no nginx figures"
            rows.append((figure, f"n/a ({skipped}); Kumpul {number(ours)} req/s", f"≥ {target:.0%}", None))
        bare = doc.get("ratios_bare_asgi_vs_nginx", {}).get(name)
        if bare is not None:
            share = doc["ratios_vs_bare_asgi"][name]
            measured = f"{bare:.0%} ({number(dig(results, f'bare ASGI: {name}', 'rps'))}); Kumpul at {share:.0%} of it"
            rows.append(
                (f"`/api/programme` {label}: bare ASGI app on the same server ÷ nginx", measured, NO_TARGET, None)
            )
    for name, result in results.items():
        if name.startswith("changes"):
            rows.append((f"`/api/changes`, {name[9:-1]}: req/s", number(result["rps"]), NO_TARGET, None))
    return rows


def storm_rows(doc: dict[str, Any]) -> list[Row]:
    clients, ok = dig(doc, "clients"), dig(doc, "succeeded")
    latency = dig(doc, "latency")
    size = dig(doc, "bytes_per_response", "mean")
    p99_target, all_target = dig(doc, "targets", "p99_s"), dig(doc, "targets", "all_within_s")
    last = dig(doc, "last_response_s")
    p50_p99 = f"{seconds(latency['p50_s'])} / {seconds(latency['p99_s'])}"
    return [
        (
            f"reconnect storm ({number(clients)} clients): succeeded",
            f"{number(ok)} / {number(clients)}",
            "all",
            ok == clients,
        ),
        ("reconnect storm: p50 / p99", p50_p99, f"p99 ≤ {p99_target:g} s", latency["p99_s"] <= p99_target),
        ("reconnect storm: last response", seconds(last), f"≤ {all_target:g} s", last <= all_target and ok == clients),
        ("reconnect storm: compressed bytes per response", f"{number(size)} B", NO_TARGET, None),
    ]


def live_rows(doc: dict[str, Any]) -> list[Row]:
    connections, received = dig(doc, "connections"), dig(doc, "received")
    delivery, setup = dig(doc, "delivery"), dig(doc, "setup")
    target = dig(doc, "target_all_s")
    reached = f"{seconds(delivery['max_s'])} (p50 {seconds(delivery['p50_s'])}, p99 {seconds(delivery['p99_s'])})"
    if received < connections:
        reached = f"{number(received)} / {number(connections)} got it; {reached}"
    rss = dig(doc, "rss_kib")
    memory = f"{dig(doc, 'rss_kib_per_connection'):.1f} KiB"
    memory += f" ({rss['before'] / 1024:.0f} → {rss['after_connecting'] / 1024:.0f} MiB)"
    setup_time = f"{seconds(setup['all_s'])} / {seconds(setup['p99_s'])}"
    return [
        (
            f"live: announcement reached all {number(connections)} SSE connections",
            reached,
            f"≤ {target:g} s",
            bool(dig(doc, "met")),
        ),
        ("live: connection setup (all / p99 each)", setup_time, NO_TARGET, None),
        ("live: server RSS per connection", memory, NO_TARGET, None),
    ]


def push_rows(doc: Any) -> list[Row]:
    speed_figure = "push: Kumpul ÷ pywebpush messages/s"
    cpu_figure = "push: Kumpul CPU per message ÷ bare crypto"
    if isinstance(doc, list):  # the older format: one row per sender
        senders = {row["sender"]: row for row in doc}
        kumpul = next(row for name, row in senders.items() if name.startswith("kumpul"))
        other = next((row for name, row in senders.items() if name.startswith("pywebpush")), None)
        rows: list[Row] = []
        if other:
            speed = kumpul["messages_per_second"] / other["messages_per_second"]
            rows.append((speed_figure, f"{speed:.2f}x", "≥ 3x", speed >= 3))
        else:
            rows.append((speed_figure, "n/a", "≥ 3x", None))
        return [*rows, (cpu_figure, "n/a", "≤ 1.5x", None)]
    median = dig(doc, "median")
    rows = []
    try:
        speed = dig(median, "ratios", "messages_per_second_vs_pywebpush")
        ours, theirs = median["kumpul"]["messages_per_second"], median["pywebpush"]["messages_per_second"]
        rows.append((speed_figure, f"{speed:.2f}x ({number(ours)} vs {number(theirs)})", "≥ 3x", speed >= 3))
    except (Missing, KeyError, TypeError):
        rows.append((speed_figure, "n/a", "≥ 3x", None))
    try:
        cpu = dig(median, "ratios", "cpu_vs_bare_crypto")
        ours, bare = median["kumpul"]["cpu_us_per_message"], median["crypto"]["cpu_us_per_message"]
        rows.append((cpu_figure, f"{cpu:.2f}x ({ours:.0f} vs {bare:.0f} µs)", "≤ 1.5x", cpu <= 1.5))
    except (Missing, KeyError, TypeError):
        rows.append((cpu_figure, "n/a", "≤ 1.5x", None))
    return rows


def wire_rows(doc: dict[str, Any]) -> list[Row]:
    full = dig(doc, "full", "bytes")
    target = dig(doc, "target_bytes_per_session")
    rows: list[Row] = []
    for delta in dig(doc, "deltas"):
        edits = delta["edits"]
        figure = f"wire: resync after {edits} edit{'s' * (edits > 1)}, per changed session"
        measured = f"{number(delta['bytes_per_session'])} B ({number(delta['bytes'])} B {delta['encoding']})"
        rows.append((figure, measured, f"≤ {number(target)} B", delta["bytes_per_session"] <= target))
    largest = max(delta["bytes"] for delta in dig(doc, "deltas"))
    compared = f"{number(largest)} B vs {number(full)} B"
    rows.append(("wire: largest delta vs full `/api/programme`", compared, "delta < full", largest < full))
    rows.append(("wire: the PWA takes the delta path", "yes (pwa/src/shared/sync.ts)", "no full download", True))
    return rows


def pwa_rows(doc: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for figure in dig(doc, "figures"):
        if figure.get("budget") is None:
            continue
        unit = figure["unit"]
        value = f"{figure['median']:.2f} {unit}" if unit == "s" else f"{figure['median']:.1f} {unit}"
        budget = f"≤ {figure['budget']:g} {unit}"
        rows.append((f"PWA: {figure['name']}", value, budget, figure["median"] <= figure["budget"]))
    return rows


def sync_rows(doc: dict[str, Any]) -> list[Row]:
    attendees = dig(doc, "attendees")
    phase = dig(doc, "phases", "small edits")
    upload = dig(doc, "phases", "upload a 5 KB note")
    rate = f"{number(phase['rps'])} ({number(phase['ok'])} / {number(phase['requests'])} ok)"
    return [
        (f"private sync, {number(attendees)} attendees, small edits: req/s", rate, NO_TARGET, None),
        (
            "private sync, small edits: p50 / p99",
            f"{number(phase['p50_ms'])} / {number(phase['p99_ms'])} ms",
            NO_TARGET,
            None,
        ),
        (
            "private sync, 5 KB note upload: req/s, p99",
            f"{number(upload['rps'])}, {number(upload['p99_ms'])} ms",
            NO_TARGET,
            None,
        ),
    ]


def abuse_rows(doc: dict[str, Any]) -> list[Row]:
    attendees = dig(doc, "attendees")
    alone, noisy = dig(doc, "phases", "alone"), dig(doc, "phases", "noisy")
    ratio = dig(doc, "p99_ratio")
    return [
        (
            f"noisy neighbour: {number(attendees)} others' small edits alone, p50 / p99",
            f"{number(alone['p50_ms'])} / {number(alone['p99_ms'])} ms",
            NO_TARGET,
            None,
        ),
        (
            "noisy neighbour: beside one attendee hammering 5 MB, p50 / p99",
            f"{number(noisy['p50_ms'])} / {number(noisy['p99_ms'])} ms ({ratio:g}x)",
            "p99 ≤ 2x alone",
            ratio is not None and ratio <= 2,
        ),
    ]


def scale_rows(doc: dict[str, Any]) -> list[Row]:
    """Issue 15: each figure on the demo and on the generated FOSDEM-sized programme, side by side."""
    targets = dig(doc, "targets")
    rows: list[Row] = []
    for programme in dig(doc, "programmes"):
        name = programme["name"]
        build, size, live, imported = (dig(programme, key) for key in ("build", "bytes", "live", "import"))
        p99 = build["first_phone_p99_s"]
        rows.append(
            (
                f"{name}: first new phone after an edit gets it, p50 / p99",
                f"{seconds(build['first_phone_p50_s'])} / {seconds(p99)}",
                f"p99 ≤ {targets['first_phone_p99_s']:g} s",
                p99 <= targets["first_phone_p99_s"],
            )
        )
        cpu = build["cpu_s_per_edit"]
        rows.append(
            (
                f"{name}: server CPU per edit (quiet server)",
                seconds(cpu),
                f"< {targets['cpu_s_per_edit']:g} s",
                cpu < targets["cpu_s_per_edit"],
            )
        )
        rows.append(
            (
                f"{name}: programme compressed, all / per session",
                f"brotli {number(size['brotli_bytes'] / 1024)} KB / {number(size['brotli_bytes_per_session'])} B; "
                f"resumable gzip {number(size['gzip_bytes'] / 1024)} KB",
                NO_TARGET,
                None,
            )
        )
        for link, figures in size["links"].items():
            rows.append(
                (
                    f"{name}: whole programme over {link}, physical limit (bytes ÷ bandwidth + round trips)",
                    seconds(figures["physical_limit_s"]),
                    NO_TARGET,
                    None,
                )
            )
        ratio = live["ratio"]
        rows.append(
            (
                f"{name}: {number(live['apps'])} apps resume live after an import, old ÷ current Last-Event-ID",
                f"{ratio:.2f}x ({seconds(live['old_id_s'])} vs {seconds(live['current_id_s'])})",
                f"≤ {targets['live_ratio']:g}x",
                ratio <= targets["live_ratio"],
            )
        )
        held = imported["longest_write_lock_wait_s"]
        rows.append(
            (
                f"{name}: re-import while an organiser edits and an announcer posts: longest write-lock hold, 503s",
                f"{seconds(held)}, {imported['edits_503']} answered 503 (slowest write"
                f" {seconds(imported['slowest_concurrent_write_s'])}, import {seconds(imported['import_wall_s'])})",
                f"≤ {targets['import_lock_s']:g} s, no 503",
                held <= targets["import_lock_s"] and imported["edits_503"] == 0,
            )
        )
        if "arrival" in programme:
            arrival = programme["arrival"]
            rows.append(
                (
                    f"{number(arrival['people'])} new attendees behind one address: all started, refused",
                    f"{seconds(arrival['all_started_s'])}, {number(arrival['refused'])} refused",
                    f"≤ {targets['arrival_s']:g} s, none refused",
                    arrival["all_started_s"] <= targets["arrival_s"] and arrival["refused"] == 0,
                )
            )
    return rows


# --- the engines side by side -------------------------------------------------------------------


def storm_compared(doc: dict[str, Any], engine: str, sqlite: Any) -> list[Row]:
    cpu = dig(doc, "cpu_s", "server")
    return [
        *storm_rows(doc),
        ("reconnect storm: CPU of the server side (nodes and database)", seconds(cpu), NO_TARGET, None),
    ]


def live_compared(doc: dict[str, Any], engine: str, sqlite: Any) -> list[Row]:
    return live_rows(doc)


def push_compared(doc: dict[str, Any], engine: str, sqlite: Any) -> list[Row]:
    rate = dig(doc, "median", "kumpul", "messages_per_second")
    sent = [dig(run, "rows", "kumpul") for run in dig(doc, "runs")]
    requests, delivered = sum(row["requests"] for row in sent), sum(row["delivered"] for row in sent)
    return [
        ("push: Kumpul messages/s (CPU: nodes and database)", number(rate), NO_TARGET, None),
        *push_rows(doc),
        (
            "push: requests the receiver got / messages delivered",
            f"{number(requests)} / {number(delivered)}",
            "each once",
            requests == delivered,
        ),
        (
            "push: messages sent by each node's outbox (last run)",
            " + ".join(number(count) for count in dig(sent[-1], "server", "sent_by_node")),
            NO_TARGET,
            None,
        ),
    ]


def sync_compared(doc: dict[str, Any], engine: str, sqlite: Any) -> list[Row]:
    """Private sync on each engine, and the target of two nodes on PostgreSQL against one SQLite node."""
    attendees = dig(doc, "attendees")
    phase, upload = dig(doc, "phases", "small edits"), dig(doc, "phases", "upload a 5 KB note")
    two_nodes = engine == "pg2"
    speedup_target = f"2 nodes: ≥ {SYNC_SPEEDUP_TARGET:g}x"
    try:
        speedup = phase["rps"] / dig(sqlite, "phases", "small edits", "rps")
        speed: Row = ("private sync, small edits: req/s ÷ SQLite's", f"{speedup:.2f}x", speedup_target, None)
        if two_nodes:
            speed = (*speed[:3], speedup >= SYNC_SPEEDUP_TARGET)
    except (Missing, ZeroDivisionError):
        speed = ("private sync, small edits: req/s ÷ SQLite's", "n/a (no SQLite figure)", speedup_target, None)
    p99 = phase["p99_ms"]
    return [
        (
            f"private sync, {number(attendees)} attendees, small edits: req/s",
            f"{number(phase['rps'])} ({number(phase['ok'])} / {number(phase['requests'])} ok)",
            NO_TARGET,
            None,
        ),
        speed,
        (
            "private sync, small edits: p50 / p99",
            f"{number(phase['p50_ms'])} / {number(p99)} ms",
            f"2 nodes: p99 < {SYNC_P99_TARGET_MS} ms",
            p99 < SYNC_P99_TARGET_MS and phase["ok"] == phase["requests"] if two_nodes else None,
        ),
        (
            "private sync, small edits: server CPU per request (nodes and database)",
            f"{phase['server_cpu_ms_per_request']:.2f} ms"
            + (
                f" ({phase['database_cpu_ms_per_request']:.2f} ms database)"
                if "database_cpu_ms_per_request" in phase
                else ""
            ),
            NO_TARGET,
            None,
        ),
        (
            "private sync, 5 KB note upload: req/s, p99",
            f"{number(upload['rps'])}, {number(upload['p99_ms'])} ms",
            NO_TARGET,
            None,
        ),
    ]


COMPARED: dict[str, Callable[[Any, str, Any], list[Row]]] = {
    "storm": storm_compared,
    "live": live_compared,
    "push": push_compared,
    "sync": sync_compared,
}


def side_by_side(name: str, engines: dict[str, Any]) -> list[Compared]:
    """One benchmark's figures on each engine, one row per figure: a failed engine shows its error in its column."""
    build = COMPARED[name]
    sqlite = engines.get("sqlite")
    built: dict[str, list[Row] | str] = {}
    for engine, doc in engines.items():
        if isinstance(doc, dict) and "error" in doc:
            built[engine] = f"n/a (failed: {doc['error']})"
            continue
        try:
            built[engine] = build(doc, engine, sqlite)
        except (Missing, KeyError, TypeError, ValueError, StopIteration) as error:
            built[engine] = f"n/a (no figure {error})"
    figures: dict[str, Compared] = {}
    for engine, rows in built.items():
        for figure, measured, target, met in rows if isinstance(rows, list) else []:
            figures.setdefault(figure, (figure, {}, target, {}))
            figures[figure][1][engine] = measured
            figures[figure][3][engine] = met
    if not figures:
        figures[f"bench/{name}.py"] = (f"bench/{name}.py", {}, "", {})
    for engine, rows in built.items():
        if isinstance(rows, str):  # the reason in its first row, n/a below
            for index, row in enumerate(figures.values()):
                row[1][engine] = rows if index == 0 else "n/a"
    return list(figures.values())


def verdicts(met: dict[str, bool | None], target: str, columns: Sequence[str]) -> str:
    """Each column's verdict on the target, in the columns' order ("—" where it does not apply)."""
    if target == NO_TARGET:
        return NO_TARGET
    if not target:
        return "n/a"
    words = {True: "yes", False: "**no**", None: NO_TARGET}
    return " / ".join(words[met.get(engine)] for engine in columns)


def postgresql_note(engines: dict[str, Any]) -> str | None:
    """How the PostgreSQL cases ran, from a benchmark's figures (None when it has none)."""
    for engine in ("pg2", "pg1"):
        doc = engines.get(engine)
        info = doc.get("server") if isinstance(doc, dict) else None
        if isinstance(info, dict) and isinstance(info.get("postgresql"), dict):
            settings = info["postgresql"]
            return (
                f"PostgreSQL {settings.get('server_version', '?')} in a private cluster on the same machine"
                f" (tests/postgres.py: fsync {settings.get('fsync', '?')},"
                f" synchronous_commit {settings.get('synchronous_commit', '?')})"
            )
    return None


BENCHMARKS: list[tuple[str, Callable[[Any], list[Row]]]] = [
    ("programme", programme_rows),
    ("storm", storm_rows),
    ("live", live_rows),
    ("push", push_rows),
    ("wire", wire_rows),
    ("pwa", pwa_rows),
    ("sync", sync_rows),
    ("abuse", abuse_rows),
    ("scale", scale_rows),
]


# --- collecting and writing ---------------------------------------------------------------------


def engine_figures(document: Any) -> dict[str, Any]:
    """A benchmark's figures per engine: its ``engines``, or (written before there were engines) SQLite's alone."""
    if isinstance(document, dict) and isinstance(document.get("engines"), dict):
        return dict(document["engines"])
    return {"sqlite": document}


@dataclass
class Collected:
    """What the benchmarks' JSON holds, ready to print."""

    rows: list[Row] = field(default_factory=list)
    compared: list[Compared] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    quick: bool = False
    servers: set[str] = field(default_factory=set)
    postgresql: str | None = None


def collect(out: Path) -> Collected:
    """Every benchmark's rows (SQLite's), the engines side by side, the benchmarks that did not run or could not be
    read, whether any was quick, and how the servers ran."""
    found = Collected()
    engines_of: dict[str, dict[str, Any]] = {}
    for name, build in BENCHMARKS:
        path = out / f"{name}.json"
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            found.missing.append(name)
            reason = "did not run" if isinstance(error, FileNotFoundError) else f"unreadable JSON ({error})"
            found.rows.append((f"bench/{name}.py", f"n/a ({reason})", "", None))
            continue
        found.quick = found.quick or (isinstance(document, dict) and bool(document.get("quick")))
        engines = engines_of[name] = engine_figures(document)
        sqlite = engines.get("sqlite")
        if isinstance(sqlite, dict) and isinstance(sqlite.get("server"), dict) and "processes" in sqlite["server"]:
            options = " ".join(sqlite["server"].get("serve_args") or []) or "with its defaults"
            found.servers.add(f"`kumpul serve` {options} ({sqlite['server']['processes']} server processes)")
        if sqlite is None or (isinstance(sqlite, dict) and "error" in sqlite):
            found.missing.append(name)
            reason = "not measured" if sqlite is None else f"failed: {sqlite['error']}"
            found.rows.append((f"bench/{name}.py", f"n/a (SQLite {reason})", "", None))
            continue
        try:
            found.rows += build(sqlite)
        except (Missing, KeyError, TypeError, ValueError, StopIteration) as error:
            found.missing.append(name)
            found.rows.append((f"bench/{name}.py", f"n/a (no figure {error} in {path.name})", "", None))
    several = {name: engines for name, engines in engines_of.items() if name in COMPARED and set(engines) - {"sqlite"}}
    present = {engine for engines in several.values() for engine in engines}
    found.columns = [engine for engine in ENGINES if engine in present]
    for name, engines in several.items():
        found.compared += side_by_side(name, engines)
        found.postgresql = found.postgresql or postgresql_note(engines)
    return found


def met_text(met: bool | None, target: str) -> str:
    if met is None:
        return NO_TARGET if target == NO_TARGET else "n/a"
    return "yes" if met else "**no**"


def machine() -> str:
    """CPU model, cores, RAM, Python and kernel of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown RAM"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def plain_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table."""
    cells = [("figure", "measured", "target", "met?")]
    cells += [(figure, measured, target, met_text(met, target).strip("*")) for figure, measured, target, met in rows]
    return aligned(cells)


def compared_cells(found: Collected) -> list[tuple[str, ...]]:
    """The engines' table as cells, its heading first."""
    cells = [("figure", *(ENGINES[engine] for engine in found.columns), "target", "met?")]
    for figure, measured, target, met in found.compared:
        values = (measured.get(engine, "n/a (not measured)") for engine in found.columns)
        cells.append((figure, *values, target, verdicts(met, target, found.columns)))
    return cells


def aligned(cells: Sequence[Sequence[str]]) -> str:
    """Cells as a plain text table, each column as wide as its widest cell."""
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells)


def markdown_rows(cells: Sequence[Sequence[str]]) -> list[str]:
    """Cells as markdown table lines (a ``|`` in a cell, as an error message may have, escaped)."""
    heading, *body = cells
    lines = ["| " + " | ".join(heading) + " |", "|" + " --- |" * len(heading)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]


def markdown_block(found: Collected) -> str:
    """The generated part of results.md, markers included."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, f"Measured {when} on {machine()}."]
    if found.servers:
        lines.append(f"Server: {'; '.join(sorted(found.servers))}; load generators on the same machine.")
    lines.append("")
    if found.quick:
        lines += ["**Quick smoke run (`BENCH_QUICK=1`): fewer clients and seconds; not figures to report.**", ""]
    lines += ["| figure | measured | target | met? |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {figure} | {measured} | {target} | {met_text(met, target)} |"
        for figure, measured, target, met in found.rows
    ]
    if found.compared:
        lines += ["", ENGINES_LEAD + (f" {found.postgresql}." if found.postgresql else ""), ""]
        lines += markdown_rows(compared_cells(found))
    lines.append(END)
    return "\n".join(lines)


def write_markdown(path: Path, block: str) -> None:
    """Replace the generated block of ``path``, keeping the rest; create the file if needed."""
    text = path.read_text() if path.exists() else NEW_FILE
    if BEGIN in text and END in text:
        start, end = text.index(BEGIN), text.index(END) + len(END)
        text = text[:start] + block + text[end:]
    else:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{block}\n{rest}" if title.startswith("#") else f"{block}\n\n{text}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table and write the markdown; exit 1 when a benchmark's figures are missing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/out"), help="folder of the JSON files (bench/out)")
    parser.add_argument(
        "--markdown",
        type=Path,
        action="append",
        help="file to write the table to, between its markers (repeatable; default bench/results.md)",
    )
    args = parser.parse_args(argv)
    found = collect(args.out)
    if found.quick:
        print("quick smoke run: fewer clients and seconds; not figures to report")
    print(plain_table(found.rows))
    if found.compared:
        print(f"\n{ENGINES_LEAD}" + (f" {found.postgresql}." if found.postgresql else ""))
        print(aligned([tuple(cell.replace("**", "") for cell in row) for row in compared_cells(found)]))
    block = markdown_block(found)
    for path in args.markdown or [Path("bench/results.md")]:
        write_markdown(path, block)
        print(f"\nwrote {path}")
    if found.missing:
        print(f"no figures from: {', '.join(found.missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
