"""Which schedule format a file is, told from its content, and the programme it holds.

Three formats: frab / Pentabarf ``schedule.xml``, C3VOC / pretalx ``schedule.json``, and Kumpul's
own JSON (:class:`ProgrammeImport`, which also takes a ``GET /api/programme`` document). The file
name plays no part: XML starts with ``<``; JSON with a top-level ``schedule`` is C3VOC, with
``event`` it is Kumpul's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from server.errors import Invalid
from server.interchange import c3voc_json, frab_common, frab_xml
from server.nesting import line_and_column, refuse_nul, too_deep
from server.schemas.imports import ImportFormat
from server.schemas.programme import ProgrammeImport

FormatName = ImportFormat

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_BYTE = re.compile(r"\(byte (\d+)\)")
_AT = re.compile(r" - at `\$\.?([^`]*)`$")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A file read into Kumpul's programme.

    Attributes:
        format: What the file was.
        programme: The programme, with ids that are stable for the same source.
        carried: Per kind, the fields the format carries; None when it carries every field. On
            re-import a stored entity keeps the fields its source cannot express.
        keep_if_empty: Carried fields that keep their stored value when the file leaves them empty.
    """

    format: FormatName
    programme: ProgrammeImport
    carried: Mapping[str, frozenset[str]] | None = None
    keep_if_empty: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _payload(data: bytes) -> bytes:
    """``data`` without a UTF-8 byte order mark and leading white space."""
    if data.startswith(_BOMS[0]):
        data = data[len(_BOMS[0]) :]
    return data.lstrip()


def decode_json(data: bytes) -> Any:
    """``data`` as a JSON value.

    Raises:
        Invalid: Malformed JSON, or JSON nested too deeply to decode; the message gives the line, column and byte.
    """
    try:
        document = msgspec.json.decode(data)
    except RecursionError:
        raise too_deep(data, "the file") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        # msgspec signals invalid UTF-8 as UnicodeDecodeError up to 0.22 and as DecodeError since 0.23, in
        # both cases without the position; the bytes themselves tell where the first bad one is.
        not_utf8 = _not_utf8(data)
        if not_utf8 is not None:
            raise not_utf8 from None
        if isinstance(error, msgspec.DecodeError):
            raise _json_error(data, error) from None
        raise Invalid("the file is not UTF-8, as JSON must be") from None
    refuse_nul(document, "the file")
    return document


def _not_utf8(data: bytes) -> Invalid | None:
    """The position of the first byte that is not UTF-8, or None when all of ``data`` is UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = line_and_column(data, error.start)
        return Invalid(
            f"line {line}, column {column} (byte {error.start}): the file is not UTF-8, as JSON must be",
            field=f"line {line}",
        )
    return None


def _json_error(data: bytes, error: msgspec.DecodeError) -> Invalid:
    message = str(error)
    match = _BYTE.search(message)
    if match is None and "truncated" in message:
        line, column = line_and_column(data, len(data))
        return Invalid(
            f"line {line}, column {column} (byte {len(data)}): the file is not valid JSON: it ends before the JSON"
            " does (was it cut off?)",
            field=f"line {line}",
        )
    if match is None:
        return Invalid(f"the file is not valid JSON: {message}")
    line, column = line_and_column(data, int(match.group(1)))
    reason = _BYTE.sub("", message).strip()
    return Invalid(
        f"line {line}, column {column} (byte {match.group(1)}): the file is not valid JSON: {reason}",
        field=f"line {line}",
    )


def _json_format(document: Any) -> FormatName:
    if isinstance(document, dict):
        if "schedule" in document:
            return "c3voc-json"
        if "event" in document:
            return "kumpul-json"
    raise Invalid(
        "the JSON is neither a C3VOC schedule.json (no top-level 'schedule') nor a Kumpul programme "
        "(no top-level 'event')"
    )


def _start(data: bytes) -> Literal["xml", "json"]:
    payload = _payload(data)
    if not payload:
        raise Invalid("the file is empty")
    if payload.startswith(b"<") or data.startswith(_BOMS[1:]):
        return "xml"
    if payload.startswith(b"{"):
        return "json"
    raise Invalid(
        "the file is neither XML (a frab schedule.xml) nor a JSON object (a C3VOC schedule.json or a Kumpul "
        f"programme): it starts with {payload[:20]!r}"
    )


def detect(data: bytes) -> FormatName:
    """The format of ``data``.

    Raises:
        Invalid: Empty, malformed JSON, or none of the three formats.
    """
    if _start(data) == "xml":
        return "frab-xml"
    return _json_format(decode_json(_payload(data)))


def parse(data: bytes) -> Parsed:
    """The programme in ``data``, whichever of the three formats it is.

    Raises:
        Invalid: The file is malformed or inconsistent; the message names the line (XML) or the
            field path (JSON). Pure: reads nothing but ``data``.
    """
    if _start(data) == "xml":
        programme = frab_xml.parse(data)
        return Parsed("frab-xml", programme, frab_common.CARRIED, frab_common.KEEP_IF_EMPTY)
    payload = _payload(data)
    document = decode_json(payload)
    if _json_format(document) == "c3voc-json":
        programme = c3voc_json.parse_document(document)
        return Parsed("c3voc-json", programme, frab_common.CARRIED, frab_common.KEEP_IF_EMPTY)
    try:
        programme = msgspec.json.decode(payload, type=ProgrammeImport)
    except msgspec.ValidationError as error:
        message = str(error)
        match = _AT.search(message)
        path = match.group(1) if match else ""
        raise Invalid(f"{path or 'the programme'}: {_AT.sub('', message)}", field=path or None) from None
    return Parsed("kumpul-json", programme)
