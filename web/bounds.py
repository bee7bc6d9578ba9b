"""Bounds of the integers a request may carry: ids and offsets fit the store's 64-bit integers.

Python's ints are unbounded, the database's are not: an id of 2**64 reached SQLite as an
``OverflowError`` (a 500). Every id in a path, a query or a body is declared with these types, so that
an out-of-range value is a 422 before any handler runs, and a value in range that names nothing is the
usual 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

#: The largest value of a signed 64-bit integer (PostgreSQL ``bigint``, SQLite ``INTEGER``).
MAX_ID = 2**63 - 1

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="a submission's id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="a token's id")]
TokenIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this token's events")]
FindingId = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]


def in_range(value: int) -> bool:
    """Whether ``value`` can be an id (for ids read from an HTML form, outside FastAPI's validation)."""
    return 1 <= value <= MAX_ID
