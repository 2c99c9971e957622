"""Finding where JSON nests too deeply, for the error that refuses it."""

from __future__ import annotations

from server.nesting import REPORTED_DEPTH, deep_spot, too_deep


def test_the_first_bracket_past_the_depth_is_named() -> None:
    data = b'{"a": [1, 2],\n "b": ' + b"[" * (REPORTED_DEPTH + 5) + b"]" * (REPORTED_DEPTH + 5) + b"}"
    offset = deep_spot(data)
    assert offset == data.index(b"[[") + REPORTED_DEPTH - 1
    assert offset is not None
    column = offset - data.index(b"\n")
    error = too_deep(data, "the file")
    assert error.detail.startswith(f"line 2, column {column} (byte {offset}): the file is nested too deeply")
    assert error.field == "line 2"


def test_brackets_inside_strings_do_not_count() -> None:
    text = '"[{\\"[[[' + "[" * (REPORTED_DEPTH + 1) + '"'
    data = b'{"a": ' + text.encode() + b', "b": [[[]]]}'
    assert deep_spot(data) is None
    assert deep_spot(data, depth=3) == data.index(b"[[[]]]") + 2


def test_nesting_up_to_the_depth_is_not_too_deep() -> None:
    assert deep_spot(b"[" * REPORTED_DEPTH + b"]" * REPORTED_DEPTH) is None
    assert deep_spot(b"[" * (REPORTED_DEPTH + 1)) == REPORTED_DEPTH
