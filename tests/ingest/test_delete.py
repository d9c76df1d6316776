"""Soft delete: one AnalysisDeleted after the newest event, history kept, idempotent; old analyses
(gone from JetStream's window) are found in the event store."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from sonda_events.contract import (
    AnalysisDeleted,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
    RequestedData,
    StartedData,
    new_event,
)
from sonda_events.store import EventStore
from sonda_ingest.identity import analysis_id_for, requested_event_id

from tests.ingest.conftest import ClientFactory, analysis_events, stream_messages

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = await EventStore.open(sqlite_url)
    yield store
    await store.close()


@pytest.fixture
async def client(make_client: ClientFactory, sqlite_url: str, store: EventStore) -> AsyncIterator[Client]:
    async with make_client("local", DATABASE_URL=sqlite_url, SONDA_API_KEYS="the-key") as client:
        client.headers["X-API-Key"] = "the-key"
        yield client


async def start(client: Client, data: bytes = b"a,b\n1,2\n") -> uuid.UUID:
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "d.csv"})).json()
    assert (await client.put(issued["upload_url"], content=data)).status_code == 200
    started = await client.post("/api/v1/analysis/start-enhanced", json={"file_key": issued["file_key"]})
    assert started.status_code == 202, started.text
    return uuid.UUID(started.json()["analysis_id"])


#: The principal of the key the client sends: it owns the analyses the tests put in the store.
OWNER = "key_" + hashlib.sha256(b"the-key").hexdigest()[:12]


def old_stream(analysis_id: uuid.UUID, file_key: str, days: float = 30) -> list[AnyEvent]:
    """Events of an analysis recorded long ago (in the store, no longer in JetStream)."""
    at = datetime.now(UTC) - timedelta(days=days)
    return [
        new_event(
            AnalysisRequested,
            analysis_id=analysis_id,
            version=1,
            data=RequestedData(file_key=file_key, requested_by=OWNER),
            producer="test",
            occurred_at=at,
            event_id=requested_event_id(analysis_id),
        ),
        new_event(
            AnalysisStarted,
            analysis_id=analysis_id,
            version=2,
            data=StartedData(worker="w1"),
            producer="test",
            occurred_at=at + timedelta(seconds=1),
        ),
    ]


async def test_delete_publishes_one_deleted_event_and_is_idempotent(
    client: Client, js: JetStreamContext
) -> None:
    analysis_id = await start(client)
    response = await client.delete(f"/api/v1/analysis/{analysis_id}", params={"reason": "wrong file"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "analysis_id": str(analysis_id),
        "status": "deleted",
        "version": 2,
        "already_deleted": False,
    }
    events = [event for event, _ in await analysis_events(js, analysis_id)]
    assert [type(e) for e in events] == [AnalysisRequested, AnalysisDeleted]
    deleted = events[1]
    assert isinstance(deleted, AnalysisDeleted)
    assert deleted.version == 2
    assert deleted.data.reason == "wrong file"
    assert deleted.data.deleted_by.startswith("key_")
    assert deleted.correlation_id == events[0].correlation_id  # the analysis' own chain

    again = await client.delete(f"/api/v1/analysis/{analysis_id}")
    assert again.status_code == 200
    assert again.json()["already_deleted"] is True
    assert len(await analysis_events(js, analysis_id)) == 2


async def test_concurrent_deletes_publish_once(client: Client, js: JetStreamContext) -> None:
    analysis_id = await start(client)
    responses = await asyncio.gather(*(client.delete(f"/api/v1/analysis/{analysis_id}") for _ in range(5)))
    assert all(r.status_code == 200 for r in responses)
    assert sum(not r.json()["already_deleted"] for r in responses) == 1
    events = [event for event, _ in await analysis_events(js, analysis_id)]
    assert sum(isinstance(e, AnalysisDeleted) for e in events) == 1


async def test_an_analysis_only_in_the_store_is_deleted_after_its_last_version(
    client: Client, store: EventStore, js: JetStreamContext
) -> None:
    analysis_id = uuid.uuid4()
    await store.append(old_stream(analysis_id, f"uploads/{uuid.uuid4()}/old.csv"))
    response = await client.delete(f"/api/v1/analysis/{analysis_id}")
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3
    events = [event for event, _ in await analysis_events(js, analysis_id)]
    assert len(events) == 1
    assert isinstance(events[0], AnalysisDeleted)
    assert events[0].version == 3
    # Once the recorder stores it, the store alone says it is deleted.
    await store.append(events, expected_version=2)
    assert (await client.delete(f"/api/v1/analysis/{analysis_id}")).json()["already_deleted"] is True


async def test_an_idempotent_retry_after_the_stream_window_finds_the_stored_analysis(
    client: Client, store: EventStore, js: JetStreamContext, tmp_path: Path
) -> None:
    # The analysis id is derived from (requester, Idempotency-Key): the store alone is enough.
    key_id = "key_" + hashlib.sha256(b"the-key").hexdigest()[:12]
    analysis_id = analysis_id_for(key_id, "retry-after-a-week")
    issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "w.csv"})).json()
    await client.put(issued["upload_url"], content=b"x\n1\n")
    await store.append(old_stream(analysis_id, issued["file_key"], days=8)[:1])
    before = await stream_messages(js)
    response = await client.post(
        "/api/v1/analysis/start-enhanced",
        json={"file_key": issued["file_key"]},
        headers={"Idempotency-Key": "retry-after-a-week"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["analysis_id"] == str(analysis_id)
    assert response.json()["replayed"] is True
    assert await stream_messages(js) == before
