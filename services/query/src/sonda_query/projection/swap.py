"""Swap a rebuilt shadow table in place of the live one, inside the caller's transaction.

Postgres: DROP the live table, RENAME the shadow table and its indexes to the live names; all of it
commits at once, and a reader blocked on the table meanwhile finds the new one when it resumes.
SQLite: the same inside the write transaction, except that SQLite cannot rename an index, so the
shadow's indexes are dropped and created again under the live names.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def _quote(conn: AsyncConnection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def index_names(table: sa.Table) -> list[str]:
    return sorted(str(index.name) for index in table.indexes)


async def create_indexes(conn: AsyncConnection, table: sa.Table) -> None:
    """Indexes are built after the bulk load: much cheaper than maintaining them row by row."""
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        await conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))


async def drop_table(conn: AsyncConnection, table: sa.Table) -> None:
    await conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quote(conn, table.name)}"))


async def swap(conn: AsyncConnection, live: sa.Table, shadow: sa.Table) -> None:
    """Replace ``live`` by ``shadow`` (which must have the same layout, indexes already built)."""

    def q(name: str) -> str:
        return _quote(conn, name)

    await drop_table(conn, live)
    await conn.execute(sa.text(f"ALTER TABLE {q(shadow.name)} RENAME TO {q(live.name)}"))
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text(f"ALTER INDEX {q(f'pk_{shadow.name}')} RENAME TO {q(f'pk_{live.name}')}"))
        for old in index_names(shadow):
            new = old.replace(f"ix_{shadow.name}_", f"ix_{live.name}_", 1)
            await conn.execute(sa.text(f"ALTER INDEX {q(old)} RENAME TO {q(new)}"))
        return
    for name in index_names(shadow):
        await conn.execute(sa.text(f"DROP INDEX IF EXISTS {q(name)}"))
    await create_indexes(conn, live)
