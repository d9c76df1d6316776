"""One rebuild per projection at a time: a Postgres session advisory lock, or a file lock for SQLite.

Both are released by the operating system or the server when the process dies, so a crashed rebuild
never blocks the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from sonda_events.codes import Code
from sonda_events.errors import SondaError
from sqlalchemy.ext.asyncio import AsyncEngine

_REBUILD_LOCK_BASE = 0x50DA_0000_0000


class RebuildInProgressError(SondaError):
    """Another process is rebuilding this projection right now."""

    code = Code.REBUILD_IN_PROGRESS


def _lock_key(name: str) -> int:
    return _REBUILD_LOCK_BASE + zlib.crc32(name.encode())


@contextlib.asynccontextmanager
async def rebuild_lock(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            got = await conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(name)})
            await conn.commit()
            if not got:
                raise RebuildInProgressError(f"projection {name!r} is already being rebuilt")
            try:
                yield
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(name)})
                await conn.commit()
        return
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # a private in-memory database cannot be shared with another process
        return
    path = Path(f"{database}.rebuild-{name}.lock")
    handle = await asyncio.to_thread(path.open, "a+")
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RebuildInProgressError(f"projection {name!r} is already being rebuilt") from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
