"""JSON nested too deeply to decode, refused with an error that says where.

msgspec gives up on arrays and objects nested past the interpreter's recursion limit (it raises ``RecursionError``,
at a depth that depends on how deep the stack already is). No Kumpul document nests more than a handful of levels,
so such input is refused as the sender's mistake, naming the first spot that is more than :data:`REPORTED_DEPTH`
levels in.
"""

from __future__ import annotations

import re

from server.errors import Invalid

#: The depth named in the error: far past any real document, far below where the decoder gives up.
REPORTED_DEPTH = 256
#: A string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of byte ``offset`` in ``data``."""
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def deep_spot(data: bytes, depth: int = REPORTED_DEPTH) -> int | None:
    """The offset of the bracket where arrays and objects in ``data`` first nest more than ``depth`` deep.

    Returns:
        The byte offset, or None when nothing nests that deep.
    """
    level = 0
    for token in _TOKEN.finditer(data):
        char = data[token.start()]
        if char == ord('"'):
            continue
        if char in _OPEN:
            level += 1
            if level > depth:
                return token.start()
        else:
            level -= 1
    return None


def too_deep(data: bytes, what: str) -> Invalid:
    """The error for JSON ``data`` that the decoder gave up on as nested too deeply.

    Args:
        data: The JSON bytes.
        what: What they are, as the message names them ("the file", "the JSON body").
    """
    offset = deep_spot(data)
    if offset is None:
        return Invalid(f"{what} is nested too deeply to be read: too many arrays and objects inside each other")
    line, column = line_and_column(data, offset)
    return Invalid(
        f"line {line}, column {column} (byte {offset}): {what} is nested too deeply: more than {REPORTED_DEPTH} "
        "arrays and objects inside each other",
        field=f"line {line}",
    )
