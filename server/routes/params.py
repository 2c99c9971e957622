"""Path and query parameter types shared by the routes: every integer a request carries is range-checked.

Python's integers have no bounds, and one past SQLite's 64-bit INTEGER fails in the database (an OverflowError, a
500). Litestar checks the bounds of a ``Parameter`` (not those of a msgspec ``Meta``) and answers 400 naming the
parameter, so every integer parameter takes one of these or states its own bounds.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import ParameterKwarg

from server.schemas.base import MAX_ID


def row_id(description: str) -> ParameterKwarg:
    """The bounds of a row id, 1 to 2^53 - 1, for a parameter described as ``description``.

    An optional one is ``Annotated[int | None, row_id(...)]``: litestar keeps no bounds of a union's member.
    """
    return ParameterKwarg(ge=1, le=MAX_ID, description=description)


#: The id of a row (an organiser, a history entry) in a path.
RowIdParam = Annotated[int, row_id("A whole number from 1 to 2^53 - 1")]
