"""JSON nested too deeply to decode, or holding a NUL character, refused with an error that says where.

msgspec gives up on arrays and objects nested past the interpreter's recursion limit (it raises ``RecursionError``,
at a depth that depends on how deep the stack already is). No Kumpul document nests more than a handful of levels,
so such input is refused as the sender's mistake, naming the first spot that is more than :data:`REPORTED_DEPTH`
levels in.

A NUL character in any string of a request's JSON is refused too (:func:`refuse_nul`): no text Kumpul keeps holds
one, PostgreSQL cannot store one in a text column, and SQLite would keep it where other programs cut the text short.
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


NUL = "\x00"


def nul_at(value: object, root: str = "$") -> str | None:
    """Where the first string in decoded JSON ``value`` holds a NUL character: ``$.sessions[2].title``, or the
    object holding a key with one; None when no string does. Walked without recursion, however deep the value."""
    stack: list[tuple[str, object]] = [(root, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if NUL in key:
                    return f"a key of {where}"
                stack.append((f"{where}.{key}", inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", inner) for index, inner in reversed(list(enumerate(item))))
    return None


def refuse_nul(value: object, what: str) -> None:
    """Raise :class:`Invalid` naming where ``value`` (decoded JSON) holds a NUL character, if it does.

    Args:
        value: The decoded JSON.
        what: What it came in as ("the JSON body", "the file").
    """
    where = nul_at(value)
    if where is not None:
        raise Invalid(
            f"{where}: {what} holds a NUL character (\\u0000), which no text may contain; nothing was changed",
            field=where,
        )
