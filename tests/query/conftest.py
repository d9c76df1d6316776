"""Query service under test: a real store (Postgres or SQLite), local-disk objects, the app in-process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sonda_events.contract import AnyEvent
from sonda_events.settings import load_settings
from sonda_events.store import EventStore
from sonda_query.app import create_app
from sonda_query.runtime import Query
from sonda_query.settings import QuerySettings
from sonda_storage import ObjectStorage, storage_from_settings

from tests.query.factories import Stream, encoded, wide_result


def make_settings(database_url: str, data_dir: Path, nats_url: str = "", **extra: Any) -> QuerySettings:
    env = {
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "SONDA_DATA_DIR": str(data_dir),
        "QUERY_RECORDER": "false",
        "QUERY_STATUS_WAIT_S": "0.5",
        "QUERY_PROJECTOR_POLL_S": "0.02",
        "SONDA_LOG_LEVEL": "warning",
    }
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return load_settings(QuerySettings, env)


class Harness:
    """The running app, its store and storage, and helpers to feed it events and results."""

    def __init__(self, client: AsyncTestClient[Any], query: Query) -> None:
        self.client = client
        self.query = query
        self.store: EventStore = query.store
        self.storage: ObjectStorage = query.storage

    async def append(self, *events: AnyEvent) -> None:
        for event in events:
            await self.store.append([event])

    async def settle(self) -> None:
        """Let the projector catch up with everything appended so far."""
        assert self.query.projector is not None
        await self.query.projector.catch_up()

    async def completed(
        self, stream: Stream, result: dict[str, Any] | None = None, **summary: int
    ) -> AnyEvent:
        """Write a result object and return the AnalysisCompleted event referencing it."""
        from sonda_events.contract import ResultRef

        data, sha = encoded(result if result is not None else wide_result(3))
        key = f"results/{stream.analysis_id}.json"
        await self.storage.put_bytes(key, data)
        return stream.completed(ref=ResultRef(key=key, sha256=sha, size=len(data)), **summary)


HarnessFactory = Callable[..., contextlib.AbstractAsyncContextManager[Harness]]


@pytest.fixture
def query_app(tmp_path: Path, nats_url: str) -> HarnessFactory:
    @contextlib.asynccontextmanager
    async def factory(database_url: str, **extra: Any) -> AsyncIterator[Harness]:
        app = create_app(make_settings(database_url, tmp_path / "data", nats_url, **extra))
        async with AsyncTestClient(app=app, timeout=30) as client:
            yield Harness(client, app.state.query)

    return factory


@pytest.fixture
async def harness(query_app: HarnessFactory, sqlite_url: str) -> AsyncIterator[Harness]:
    async with query_app(sqlite_url) as running:
        yield running


@pytest.fixture
async def pg_harness(query_app: HarnessFactory, pg_url: str) -> AsyncIterator[Harness]:
    async with query_app(pg_url) as running:
        yield running


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[ObjectStorage]:
    settings = make_settings("sqlite+aiosqlite://", tmp_path / "objects")
    opened = storage_from_settings(settings)
    await opened.start()
    yield opened
    await opened.close()
