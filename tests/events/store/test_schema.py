"""The schema: migrations are idempotent, history is immutable, old shapes are upcast on read."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sonda_events.contract import AnalysisRequested
from sonda_events.store import EventStore
from sonda_events.store.migrate import current_revision
from sonda_events.store.schema import events as events_table
from sqlalchemy import exc

from tests.events.store.conftest import make_events


async def test_migrations_run_twice_harmlessly(database_url: str) -> None:
    first = await EventStore.open(database_url)
    await first.append(make_events(uuid.uuid4(), 2))
    await first.close()

    again = await EventStore.open(database_url)
    try:
        assert await again.last_position() == 2
        assert await current_revision(again.engine) == "0001"
    finally:
        await again.close()


async def test_concurrent_starts_migrate_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(EventStore.open(pg_url, pool_size=2) for _ in range(4)))
    try:
        await stores[0].append(make_events(uuid.uuid4(), 1))
        assert await stores[3].last_position() == 1
    finally:
        await asyncio.gather(*(s.close() for s in stores))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'AnalysisDeleted'",
        "UPDATE events SET version = version + 100 WHERE position = 1",
        "DELETE FROM events",
        "DELETE FROM events WHERE position = 1",
    ],
)
async def test_database_refuses_update_and_delete(store: EventStore, statement: str) -> None:
    analysis_id = uuid.uuid4()
    await store.append(make_events(analysis_id, 2))

    with pytest.raises(exc.DBAPIError, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(sa.text(statement))

    recorded = await store.read_stream(analysis_id)
    assert [(r.position, r.event.version, r.event.type) for r in recorded] == [
        (1, 1, "AnalysisRequested"),
        (2, 2, "AnalysisProgress"),
    ]


async def test_postgres_refuses_truncate(pg_store: EventStore) -> None:
    await pg_store.append(make_events(uuid.uuid4(), 1))
    with pytest.raises(exc.DBAPIError, match="append-only"):
        async with pg_store.engine.begin() as conn:
            await conn.execute(sa.text("TRUNCATE events"))
    assert await pg_store.last_position() == 1


async def test_stored_v1_event_is_upcast_on_read(store: EventStore) -> None:
    analysis_id = uuid.uuid4()
    # An AnalysisRequested written before ``requested_by`` existed (schema version 1).
    async with store.engine.begin() as conn:
        await conn.execute(
            events_table.insert(),
            {
                "position": 1,
                "event_id": uuid.uuid4(),
                "stream_id": analysis_id,
                "version": 1,
                "type": "AnalysisRequested",
                "schema_version": 1,
                "data": {"file_key": "uploads/x/old.csv", "analysis_type": "basic_eda", "options": {}},
                "metadata": {"producer": "ingest", "correlation_id": "c-1", "causation_id": None},
                "occurred_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                "recorded_at": datetime(2024, 1, 2, 3, 4, 6, tzinfo=UTC),
            },
        )

    (recorded,) = await store.read_stream(analysis_id)
    assert isinstance(recorded.event, AnalysisRequested)
    assert recorded.event.schema_version == AnalysisRequested.CURRENT_SCHEMA
    assert recorded.event.data.requested_by == "anonymous"
    assert recorded.event.occurred_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert recorded.stream_sequence is None


def test_head_constant_matches_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sonda_events.store.migrate import HEAD, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
