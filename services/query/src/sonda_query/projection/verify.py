"""Compare a rebuilt table with the live one, row by row, in key order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_query.projection.projections import Projection

_PAGE = 5000
_EXAMPLES = 5


class Difference(msgspec.Struct, kw_only=True, frozen=True):
    analysis_id: uuid.UUID
    #: ``missing`` (live only), ``extra`` (rebuilt only) or ``changed`` (both, fields differ).
    kind: str
    fields: list[str] = msgspec.field(default_factory=list)


class Verification(msgspec.Struct, kw_only=True, frozen=True):
    rows_live: int
    rows_rebuilt: int
    identical: int
    differences: int
    examples: list[Difference]

    @property
    def ok(self) -> bool:
        return self.differences == 0 and self.rows_live == self.rows_rebuilt


def _columns(conn: AsyncConnection, table: sa.Table) -> list[sa.ColumnElement[Any]]:
    # jsonb compares as its text form in Postgres (normalised, so equal documents give equal text):
    # cheaper than decoding every document in Python.
    postgres = conn.dialect.name == "postgresql"
    return [
        sa.cast(c, sa.Text).label(c.name) if postgres and isinstance(c.type, sa.JSON) else c
        for c in table.columns
    ]


async def _rows(conn: AsyncConnection, table: sa.Table) -> AsyncIterator[tuple[Any, ...]]:
    """Rows in key order as plain tuples, page by page (keyset on the primary key)."""
    columns = _columns(conn, table)
    after: uuid.UUID | None = None
    while True:
        query = sa.select(*columns).order_by(table.c.analysis_id).limit(_PAGE)
        if after is not None:
            query = query.where(table.c.analysis_id > after)
        page = (await conn.execute(query)).all()
        for row in page:
            yield tuple(row)
        if len(page) < _PAGE:
            return
        after = page[-1][0]


def _changed_fields(names: list[str], live: tuple[Any, ...], rebuilt: tuple[Any, ...]) -> list[str]:
    return [name for name, a, b in zip(names, live, rebuilt, strict=True) if a != b]


async def compare(
    conn: AsyncConnection, projection: Projection[Any], live: sa.Table, rebuilt: sa.Table
) -> Verification:
    """Both tables must be at the same store position (the caller holds the checkpoint lock).

    ``projection`` names what is compared; the rows are compared column by column, as stored.
    """
    counts = {"live": 0, "rebuilt": 0, "identical": 0, "differences": 0}
    examples: list[Difference] = []

    def differ(diff: Difference) -> None:
        counts["differences"] += 1
        if len(examples) < _EXAMPLES:
            examples.append(diff)

    names = [c.name for c in live.columns]
    left_iter = aiter(_rows(conn, live))
    right_iter = aiter(_rows(conn, rebuilt))
    left = await anext(left_iter, None)
    right = await anext(right_iter, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left[0] < right[0]):
            assert left is not None
            counts["live"] += 1
            differ(Difference(analysis_id=left[0], kind="missing"))
            left = await anext(left_iter, None)
        elif left is None or right[0] < left[0]:
            counts["rebuilt"] += 1
            differ(Difference(analysis_id=right[0], kind="extra"))
            right = await anext(right_iter, None)
        else:
            counts["live"] += 1
            counts["rebuilt"] += 1
            if left == right:
                counts["identical"] += 1
            else:
                differ(
                    Difference(
                        analysis_id=left[0], kind="changed", fields=_changed_fields(names, left, right)
                    )
                )
            left = await anext(left_iter, None)
            right = await anext(right_iter, None)
    return Verification(
        rows_live=counts["live"],
        rows_rebuilt=counts["rebuilt"],
        identical=counts["identical"],
        differences=counts["differences"],
        examples=examples,
    )
