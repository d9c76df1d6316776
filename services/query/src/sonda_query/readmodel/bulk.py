"""Bulk writes for rebuilds: Postgres COPY for rows a table has never held (4x faster than INSERT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

_encoder = msgspec.json.Encoder()


async def copy_rows(conn: AsyncConnection, table: sa.Table, rows: Sequence[msgspec.Struct]) -> None:
    """Append ``rows`` with COPY in the connection's current transaction.

    Postgres only; the rows must be new (COPY has no ON CONFLICT), and their Struct fields must be
    the table's columns in order (``rows.check_layout``). JSON values are sent as text and parsed by
    the server into the column's type; timestamps keep their offset (timestamptz).
    """
    columns = [column.name for column in table.columns]
    json_at = [i for i, c in enumerate(table.columns) if isinstance(c.type, sa.JSON)]
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    preparer = conn.dialect.identifier_preparer
    target = f"{preparer.quote(table.name)} ({', '.join(preparer.quote(c) for c in columns)})"
    astuple = msgspec.structs.astuple
    encode = _encoder.encode
    async with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            values = list(astuple(row))
            for i in json_at:
                values[i] = encode(values[i]).decode()
            await copy.write_row(values)
