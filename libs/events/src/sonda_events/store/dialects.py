"""What differs between Postgres and SQLite: engine set-up and how writers take turns.

Readers tailing the store by global position must never see N+k and later N. The store gets this by
letting one writer append at a time, and assigning positions while it holds that turn:

- Postgres: every appending transaction starts with ``pg_advisory_xact_lock(WRITER_LOCK_KEY)``. The
  lock is released only after the commit is visible, so the next writer reads a ``max(position)``
  that includes it, and a snapshot that sees a later writer's rows also sees every earlier one.
- SQLite: writing transactions start with ``BEGIN IMMEDIATE`` (one writer per database file, waiting
  up to ``busy_timeout``); WAL mode lets readers go on meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: Arbitrary constants naming Sonda's advisory locks (they only need to differ from other users').
WRITER_LOCK_KEY = 0x50DA_E7E5
MIGRATION_LOCK_KEY = 0x50DA_0A1E
#: Execution option marking connections that append (SQLite: they begin with BEGIN IMMEDIATE).
WRITE_OPTION = "sonda_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000

_encoder = msgspec.json.Encoder()


def _json_dumps(value: Any) -> str:
    # msgspec encodes Structs, UUIDs and datetimes directly, several times faster than json.dumps.
    return _encoder.encode(value).decode()


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine with the JSON codec and per-dialect connection set-up."""
    parsed = make_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "json_serializer": _json_dumps,
        "json_deserializer": msgspec.json.decode,
        "pool_pre_ping": True,
    }
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, pool_size=pool_size, **options)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        # UTC sessions: timestamps come back with ``timezone.utc`` and need no conversion.
        connect_args={"connect_timeout": 5, "options": "-c timezone=UTC"},
        **options,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver (it would not begin before DDL and never IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def driver_connection(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under a SQLAlchemy one (for pipeline mode and binary results)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


async def take_migration_lock(conn: AsyncConnection) -> None:
    """Serialise concurrent starts running the migrations (the lock ends with the transaction)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
