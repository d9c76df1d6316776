"""The two steps of every append, in portable SQLAlchemy Core (SQLite) or tuned for Postgres.

An append first takes the writer turn and reads what it needs to decide (which ids are stored,
each stream's version, the last position), then inserts the new rows and commits. In Postgres each
step is one round trip: the lock and the state query go out together in psycopg's pipeline mode
(the state query runs after the lock is granted, so its snapshot sees every earlier writer), and
the insert (one ``INSERT … SELECT FROM unnest(…)`` with binary array parameters) goes out with the
commit. Under a busy database, round trips are what a batch waits for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sonda_events.lifecycle.rules import Phase, phase_of
from sonda_events.store.dialects import WRITER_LOCK_KEY, driver_connection
from sonda_events.store.schema import events


class StreamTip(msgspec.Struct, frozen=True):
    """A stream's newest event as far as the lifecycle's rules need it."""

    version: int
    phase: Phase


class WriteState(msgspec.Struct, frozen=True):
    """What the database holds for one batch, read under the writer turn."""

    stored_ids: dict[uuid.UUID, int]
    #: Streams with at least one event.
    stream_tips: dict[uuid.UUID, StreamTip]
    last_position: int

    def version_of(self, stream_id: uuid.UUID) -> int:
        tip = self.stream_tips.get(stream_id)
        return tip.version if tip is not None else 0


_encoder = msgspec.json.Encoder()

# Each stream's newest event is one backward step on the (stream_id, version) index, whatever the
# stream's length (a GROUP BY would read every version); its type (and a deletion's ``deleted_by``)
# is what the lifecycle's rules need to accept or refuse the next event.
_PG_STATE = """
SELECT 1 AS kind, event_id AS id, position AS n, NULL::text AS t, NULL::text AS by
    FROM events WHERE event_id = ANY(%(ids)b::uuid[])
UNION ALL
SELECT 2, s.id, tip.version, tip.type, tip.data->>'deleted_by'
    FROM unnest(%(streams)b::uuid[]) AS s(id)
    CROSS JOIN LATERAL (
        SELECT version, type, data FROM events WHERE stream_id = s.id ORDER BY version DESC LIMIT 1
    ) AS tip
UNION ALL
SELECT 3, NULL::uuid, coalesce(max(position), 0), NULL, NULL FROM events
"""
# SQLite: the same per-stream lookup over a JSON array of ids (sa.Uuid stores 32 hex digits).
_SQLITE_TIPS = sa.text(
    "SELECT j.value, e.version, e.type, json_extract(e.data, '$.deleted_by') FROM json_each(:ids) AS j"
    " JOIN events AS e ON e.stream_id = j.value"
    " AND e.version = (SELECT max(version) FROM events WHERE stream_id = j.value)"
)
_PG_LOCK = "SELECT pg_advisory_xact_lock(%(key)s)"
_PG_COLUMNS = (
    ("position", "bigint"),
    ("event_id", "uuid"),
    ("stream_id", "uuid"),
    ("version", "int"),
    ("type", "text"),
    ("schema_version", "int"),
    ("data", "jsonb"),
    ("metadata", "jsonb"),
    ("occurred_at", "timestamptz"),
    ("recorded_at", "timestamptz"),
)
# jsonb travels as text inside the binary array and is cast on the server.
_PG_INSERT = "INSERT INTO events ({names}) SELECT * FROM unnest({arrays})".format(
    names=", ".join(name for name, _ in _PG_COLUMNS),
    arrays=", ".join(
        f"%({name})b::{'text' if kind == 'jsonb' else kind}[]::{kind}[]" for name, kind in _PG_COLUMNS
    ),
)


async def take_turn_and_read_state(
    conn: AsyncConnection, event_ids: Sequence[uuid.UUID], stream_ids: Sequence[uuid.UUID]
) -> WriteState:
    """Wait for the writer turn (see ``dialects``), then read the state of these ids and streams."""
    if conn.dialect.name == "postgresql":
        return await _pg_read_state(conn, event_ids, stream_ids)
    # SQLite: the write connection's BEGIN IMMEDIATE already holds the database's one write lock.
    stored = sa.select(events.c.event_id, events.c.position).where(events.c.event_id.in_(event_ids))
    ids = _encoder.encode([stream_id.hex for stream_id in stream_ids]).decode()
    tips = await conn.execute(_SQLITE_TIPS, {"ids": ids})
    last = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0))
    return WriteState(
        stored_ids={row[0]: row[1] for row in await conn.execute(stored)},
        stream_tips={uuid.UUID(row[0]): StreamTip(row[1], phase_of(row[2], row[3])) for row in tips},
        last_position=int(await conn.scalar(last) or 0),
    )


async def _pg_read_state(
    conn: AsyncConnection, event_ids: Sequence[uuid.UUID], stream_ids: Sequence[uuid.UUID]
) -> WriteState:
    params = {"ids": list(event_ids), "streams": list(stream_ids)}
    driver = await driver_connection(conn)
    async with driver.pipeline():
        await driver.execute(_PG_LOCK, {"key": WRITER_LOCK_KEY})
        cursor = await driver.execute(_PG_STATE, params)
        rows = await cursor.fetchall()
    stored: dict[uuid.UUID, int] = {}
    tips: dict[uuid.UUID, StreamTip] = {}
    last = 0
    for kind, key, number, event_type, deleted_by in cast("list[tuple[int, Any, int, Any, Any]]", rows):
        if kind == 1:
            stored[key] = number
        elif kind == 2:
            tips[key] = StreamTip(number, phase_of(event_type, deleted_by))
        else:
            last = number
    return WriteState(stored_ids=stored, stream_tips=tips, last_position=last)


async def insert_and_commit(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert event rows (as built by ``rows.event_row``) in one go and commit.

    In SQLite the commit is left to the transaction's context (the same thing, one step later).
    """
    if conn.dialect.name != "postgresql":
        await conn.execute(events.insert(), rows)
        return
    params: dict[str, list[Any]] = {name: [row[name] for row in rows] for name, _ in _PG_COLUMNS}
    params["data"] = [_encoder.encode(value).decode() for value in params["data"]]
    params["metadata"] = [_encoder.encode(value).decode() for value in params["metadata"]]
    driver = await driver_connection(conn)
    async with driver.pipeline():
        await driver.execute(_PG_INSERT, params)
        # SQLAlchemy's own commit at the end of the transaction block then finds nothing to do.
        await driver.commit()
