"""Bytes on the wire: catching up through ``/api/changes`` after 1 and after 20 edits, against a full download.

A phone holding the programme at some cursor comes back online after organisers edited sessions (each
edit moves one session to another room or changes its title). It asks ``/api/changes?since=CURSOR``
with ``Accept-Encoding: br, gzip``, as a browser does; the figure is the compressed body as sent (its
Content-Length), per changed session, beside the compressed size of the whole ``/api/programme``.

The PWA takes the delta path: ``syncProgramme`` in pwa/src/shared/sync.ts downloads /api/programme
only when the device has no cursor yet, or when /api/changes answers 410 (cursor too old) or 400;
otherwise it follows /api/changes page by page and applies the records (pwa/src/shared/feed.ts).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from common import Editor, add_common_args, run_main, serve_args, served, server_info, write_json

ACCEPT_ENCODING = "br, gzip"
TARGET_PER_SESSION = 1024
CLIENT_PATH = (
    "pwa/src/shared/sync.ts syncProgramme: with a stored cursor it GETs /api/changes?since=CURSOR and applies"
    " the records; /api/programme only without a cursor or after 410/400 from /api/changes"
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, nargs="+", default=[1, 20], help="edits behind to measure (default: 1 20)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if any(edits < 1 for edits in args.edits):
        parser.error("--edits must be positive")
    return args


def compressed_size(client: httpx.Client, path: str, encoding: str = ACCEPT_ENCODING) -> dict[str, Any]:
    """The status, encoding and compressed body size of one GET, and the size decoded."""
    response = client.get(path, headers={"Accept-Encoding": encoding})
    response.raise_for_status()
    return {
        "status": response.status_code,
        "encoding": response.headers.get("content-encoding", "identity"),
        "bytes": int(response.headers["content-length"]),
        "identity_bytes": len(response.content),
        "records": len(response.json().get("changes", [])) if path.startswith("/api/changes") else None,
    }


def measure(base_url: str, token: str, edit_counts: Sequence[int]) -> dict[str, Any]:
    """Edit sessions one after the other and measure the catch-up after each count of edits."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        editor = Editor(client, token)
        start = editor.cursor()
        deltas = []
        for count in sorted(set(edit_counts)):
            editor.edit(count - editor.made)
            path = f"/api/changes?since={quote(start, safe='')}"
            sizes = {encoding: compressed_size(client, path, encoding) for encoding in ("br", "gzip")}
            chosen = compressed_size(client, path)
            if chosen["records"] != count:
                raise SystemExit(f"expected {count} changed sessions after {count} edits, got {chosen['records']}")
            deltas.append(
                {
                    "edits": count,
                    "encoding": chosen["encoding"],
                    "bytes": chosen["bytes"],
                    "bytes_per_session": round(chosen["bytes"] / count, 1),
                    "by_encoding": {name: size["bytes"] for name, size in sizes.items()},
                    "identity_bytes": chosen["identity_bytes"],
                }
            )
        full_now = compressed_size(client, "/api/programme")
        full = {encoding: compressed_size(client, "/api/programme", encoding) for encoding in ("br", "gzip")}
    full_bytes = full_now["bytes"]
    return {
        "full": {
            "encoding": full_now["encoding"],
            "bytes": full_bytes,
            "by_encoding": {name: size["bytes"] for name, size in full.items()},
            "identity_bytes": full_now["identity_bytes"],
        },
        "deltas": deltas,
        "target_bytes_per_session": TARGET_PER_SESSION,
        "client_path": CLIENT_PATH,
        "met": {
            "per_session": all(delta["bytes_per_session"] <= TARGET_PER_SESSION for delta in deltas),
            "delta_smaller": all(delta["bytes"] < full_bytes for delta in deltas),
        },
    }


def print_summary(figures: dict[str, Any]) -> None:
    """Print the byte counts."""
    full = figures["full"]
    print(f"full download /api/programme: {full['bytes']} B {full['encoding']} ({full['identity_bytes']} B plain)")
    for delta in figures["deltas"]:
        ratio = delta["bytes"] / full["bytes"]
        print(
            f"after {delta['edits']:>2} edits /api/changes: {delta['bytes']} B {delta['encoding']}"
            f" = {delta['bytes_per_session']:.0f} B per changed session (target ≤ {TARGET_PER_SESSION} B),"
            f" {ratio:.1%} of the full download"
        )
    print(f"PWA: {figures['client_path']}")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure against a fresh server with the demo."""
    args = parse_args(argv)
    with served(args.kumpul, extra_args=serve_args(args)) as server:
        info = server_info(server, args)
        figures = measure(server.base_url, server.organiser("wire", "editor"), args.edits)
    figures = {"benchmark": "wire", "quick": args.quick, "server": info, **figures}
    print_summary(figures)
    if args.json_path:
        write_json(args.json_path, figures)
    return 0


if __name__ == "__main__":
    run_main(main)
