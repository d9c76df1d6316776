"""Compare a rebuilt table with the live one, row by row, in key order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_query.projection.projections import Projection
from sonda_query.readmodel.rows import from_db

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


async def _rows(conn: AsyncConnection, projection: Projection[Any], table: sa.Table) -> AsyncIterator[Any]:
    """Rows in key order, page by page (keyset), as Structs so values compare the same way."""
    after: uuid.UUID | None = None
    while True:
        query = sa.select(table).order_by(table.c.analysis_id).limit(_PAGE)
        if after is not None:
            query = query.where(table.c.analysis_id > after)
        page = (await conn.execute(query)).all()
        for row in page:
            yield from_db(projection.row_type, row._mapping)
        if len(page) < _PAGE:
            return
        after = page[-1].analysis_id


def _changed_fields(live: Any, rebuilt: Any) -> list[str]:
    return [f for f in live.__struct_fields__ if getattr(live, f) != getattr(rebuilt, f)]


async def compare(
    conn: AsyncConnection, projection: Projection[Any], live: sa.Table, rebuilt: sa.Table
) -> Verification:
    """Both tables must be at the same store position (the caller holds the checkpoint lock)."""
    counts = {"live": 0, "rebuilt": 0, "identical": 0, "differences": 0}
    examples: list[Difference] = []

    def differ(diff: Difference) -> None:
        counts["differences"] += 1
        if len(examples) < _EXAMPLES:
            examples.append(diff)

    left_iter = aiter(_rows(conn, projection, live))
    right_iter = aiter(_rows(conn, projection, rebuilt))
    left = await anext(left_iter, None)
    right = await anext(right_iter, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left.analysis_id < right.analysis_id):
            assert left is not None
            counts["live"] += 1
            differ(Difference(analysis_id=left.analysis_id, kind="missing"))
            left = await anext(left_iter, None)
        elif left is None or right.analysis_id < left.analysis_id:
            counts["rebuilt"] += 1
            differ(Difference(analysis_id=right.analysis_id, kind="extra"))
            right = await anext(right_iter, None)
        else:
            counts["live"] += 1
            counts["rebuilt"] += 1
            if left == right:
                counts["identical"] += 1
            else:
                differ(
                    Difference(
                        analysis_id=left.analysis_id, kind="changed", fields=_changed_fields(left, right)
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
