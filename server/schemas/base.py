"""The base Struct and the constrained field types shared by every schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta


class Base(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Every schema: snake_case in Python, camelCase in JSON, unknown fields refused.

    Subclasses pass ``kw_only=True`` so required and optional fields can stand in reading order.
    """


Id = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Letters, digits, '.', '_' and '-', at most 64 characters, starting with a letter or digit.",
        examples=["plenary-opening"],
    ),
]
LanguageCode = Annotated[
    str,
    Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 language tag", examples=["en", "id", "th"]),
]
Url = Annotated[str, Meta(pattern=r"^https?://[^\s]+$", max_length=2048, description="An http(s) URL")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Title = Annotated[str, Meta(min_length=1, max_length=300)]
ShortText = Annotated[str, Meta(max_length=300)]
Text = Annotated[str, Meta(max_length=5000)]
LongText = Annotated[str, Meta(max_length=20000)]
Colour = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#1f6f8b"])]
#: The largest id the API reads or writes: the largest integer a browser's JSON holds exactly (2**53 - 1), and well
#: inside SQLite's 64-bit INTEGER, which Python's unbounded integers would otherwise overflow.
MAX_ID = 2**53 - 1
RowId = Annotated[int, Meta(ge=1, le=MAX_ID, description="A whole number from 1 to 2^53 - 1")]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
Position = Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]
Moment = Annotated[datetime, Meta(tz=True, description="ISO 8601 date and time with its UTC offset")]
Day = date
Tag = Annotated[str, Meta(min_length=1, max_length=60)]
