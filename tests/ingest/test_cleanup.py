"""Retention: old analyses are soft-deleted and their upload and result objects removed, once.

Runs against Postgres and SQLite (the candidate query reads JSON inside the events table) and
against both storage backends.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from sonda_events.contract import (
    AnalysisDeleted,
    AnalysisPurged,
    AnalysisRequested,
    AnyEvent,
    DeletedData,
    RequestedData,
    new_event,
)
from sonda_events.settings import load_settings
from sonda_events.store import EventStore
from sonda_ingest.identity import requested_event_id
from sonda_ingest.settings import IngestSettings
from sonda_storage import ObjectStorage, new_upload_key, result_key, storage_from_settings

from tests.ingest.conftest import JSON_TYPE, ClientFactory, analysis_events
from tests.support.servers import fresh_postgres_database

Client = AsyncTestClient[Litestar]


def _storage(env: dict[str, str]) -> ObjectStorage:
    """The storage the ingest app under test uses, opened apart from it."""
    settings = load_settings(IngestSettings, env)
    return storage_from_settings(settings.storage, settings.sonda_data_dir)


@pytest.fixture(params=[("local", "sqlite"), ("local", "postgres"), ("s3", "sqlite")], ids="-".join)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    backend, database = request.param
    if database == "sqlite":
        yield backend, f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    else:
        with fresh_postgres_database() as url:
            yield backend, url


@pytest.fixture
async def store(setup: tuple[str, str]) -> AsyncIterator[EventStore]:
    store = await EventStore.open(setup[1])
    yield store
    await store.close()


class World:
    """The app plus direct handles on the same store and storage, to seed and to check."""

    def __init__(self, client: Client, store: EventStore, storage: ObjectStorage) -> None:
        self.client = client
        self.store = store
        self.storage = storage

    async def old_analysis(
        self, days: float, *, deleted_by: str | None = None
    ) -> tuple[uuid.UUID, list[str]]:
        """An analysis requested ``days`` ago, recorded in the store, with its upload and result objects."""
        analysis_id = uuid.uuid4()
        upload, result = new_upload_key("old.csv"), result_key(analysis_id)
        await self.storage.put_bytes(upload, b"a,b\n1,2\n", content_type="text/csv")
        await self.storage.put_bytes(result, b"{}")
        at = datetime.now(UTC) - timedelta(days=days)
        events: list[AnyEvent] = [
            new_event(
                AnalysisRequested,
                analysis_id=analysis_id,
                version=1,
                data=RequestedData(file_key=upload),
                producer="test",
                occurred_at=at,
                event_id=requested_event_id(analysis_id),
            )
        ]
        if deleted_by is not None:
            events.append(
                new_event(
                    AnalysisDeleted,
                    analysis_id=analysis_id,
                    version=2,
                    data=DeletedData(deleted_by=deleted_by),
                    producer="test",
                    occurred_at=at + timedelta(hours=1),
                )
            )
        await self.store.append(events)
        return analysis_id, [upload, result]

    async def exists(self, key: str) -> bool:
        return await self.storage.head(key) is not None


@pytest.fixture
async def world(
    make_client: ClientFactory, setup: tuple[str, str], store: EventStore
) -> AsyncIterator[World]:
    backend, url = setup
    async with make_client(backend, DATABASE_URL=url) as client:
        storage = _storage(client.app.state.env)
        await storage.start()
        yield World(client, store, storage)
        await storage.close()


async def cleanup(world: World, days: int = 7) -> dict[str, object]:
    response = await world.client.post(
        "/api/v1/maintenance/cleanup-old-analyses", params={"days_old": days}, headers=JSON_TYPE
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_old_analyses_are_cleaned_once(world: World, js: JetStreamContext) -> None:
    old, old_objects = await world.old_analysis(10)
    user_deleted, user_deleted_objects = await world.old_analysis(12, deleted_by="key_abc")
    # Purged before AnalysisPurged existed: a deletion by the retention, which the lifecycle reads as a purge.
    purged, purged_objects = await world.old_analysis(20, deleted_by="retention")
    recent, recent_objects = await world.old_analysis(3)

    report = await cleanup(world)
    handled = {entry["analysis_id"]: entry for entry in report["analyses"]}  # type: ignore[attr-defined]
    assert set(handled) == {str(old), str(user_deleted)}
    assert handled[str(old)]["soft_deleted"] is True
    assert handled[str(user_deleted)]["soft_deleted"] is False
    assert sorted(handled[str(old)]["objects_deleted"]) == sorted(old_objects)
    assert report["analyses_deleted"] == 1
    assert report["objects_deleted"] == 4
    assert report["failures"] == []
    assert report["more"] is False
    cutoff = datetime.fromisoformat(str(report["cutoff"]))
    assert abs((datetime.now(UTC) - timedelta(days=7) - cutoff).total_seconds()) < 60

    for key in old_objects + user_deleted_objects:
        assert not await world.exists(key)
    for key in purged_objects + recent_objects:  # already purged (their objects are ours to keep here)
        assert await world.exists(key)

    for analysis_id, version in ((old, 2), (user_deleted, 3)):
        events = [event for event, _ in await analysis_events(js, analysis_id)]
        assert len(events) == 1
        assert isinstance(events[0], AnalysisPurged)
        assert events[0].version == version
        assert events[0].data.purged_by == "retention"
        await world.store.append(events, expected_version=version - 1)  # what the recorder does
    assert await analysis_events(js, recent) == []
    assert await analysis_events(js, purged) == []

    again = await cleanup(world)
    assert again["analyses"] == []
    assert again["objects_deleted"] == 0


async def test_a_run_published_but_not_yet_recorded_is_not_repeated(
    world: World, js: JetStreamContext
) -> None:
    analysis_id, _ = await world.old_analysis(9)
    await cleanup(world)
    # The recorder has not stored the purge yet: JetStream shows it, so nothing is left to do.
    report = await cleanup(world)
    assert report["analyses"] == []
    assert len(await analysis_events(js, analysis_id)) == 1


@pytest.fixture
async def local_store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = await EventStore.open(sqlite_url)
    yield store
    await store.close()


async def test_batches_report_more(
    make_client: ClientFactory, sqlite_url: str, local_store: EventStore
) -> None:
    async with make_client("local", DATABASE_URL=sqlite_url, SONDA_CLEANUP_BATCH="1") as client:
        storage = _storage(client.app.state.env)
        world = World(client, local_store, storage)
        await world.old_analysis(10)
        await world.old_analysis(11)
        first = await cleanup(world)
        assert len(first["analyses"]) == 1  # type: ignore[arg-type]
        assert first["more"] is True
        second = await cleanup(world)
        assert len(second["analyses"]) == 1  # type: ignore[arg-type]
        assert second["analyses"] != first["analyses"]


async def test_the_schedule_runs_when_retention_days_is_set(
    make_client: ClientFactory, sqlite_url: str, local_store: EventStore, js: JetStreamContext
) -> None:
    env = {"DATABASE_URL": sqlite_url, "SONDA_RETENTION_DAYS": "7", "SONDA_CLEANUP_INTERVAL_S": "0.2"}
    async with make_client("local", **env) as client:
        storage = _storage(client.app.state.env)
        world = World(client, local_store, storage)
        analysis_id, objects = await world.old_analysis(8)
        for _ in range(200):
            left = [key for key in objects if await world.exists(key)]
            events = await analysis_events(js, analysis_id)
            if not left and events:
                break
            await asyncio.sleep(0.05)
        assert left == []
        assert [type(event) for event, _ in events] == [AnalysisPurged]
