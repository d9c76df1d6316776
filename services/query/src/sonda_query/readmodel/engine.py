"""A lean engine for the endpoints' reads: one round trip per query in Postgres.

The store's engine pings every connection it hands out (``SELECT 1``) and rolls back when it is
returned: with the query itself, three round trips for one indexed read, and on a busy machine each
one waits for the database process to be scheduled. Reads of the read models need neither: they run
in autocommit, and a connection that died with the server fails its query, which makes SQLAlchemy
drop the pool; ``Reader`` then tries once more on a fresh connection.
SQLite keeps the store's engine (in-process, and it needs the store's connection set-up).
"""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_encoder = msgspec.json.Encoder()


def _dumps(value: object) -> str:
    return _encoder.encode(value).decode()


def read_engine(store_engine: AsyncEngine, *, pool_size: int) -> AsyncEngine:
    """The engine ``Reader`` uses (the store's own for SQLite). Dispose it when it is not the store's."""
    if store_engine.dialect.name != "postgresql":
        return store_engine
    return create_async_engine(
        store_engine.url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        json_serializer=_dumps,
        json_deserializer=msgspec.json.decode,
        connect_args={"connect_timeout": 5},
    )
