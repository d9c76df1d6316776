"""Query service under test: a real store (Postgres or SQLite), local-disk objects, the app in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
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

    def __init__(self, client: httpx.AsyncClient, query: Query) -> None:
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
    """The app in the test's own event loop (Litestar's test client would run it in another
    thread's loop, and block this one during each request), so tests can act while a request waits.
    """

    @contextlib.asynccontextmanager
    async def factory(database_url: str, **extra: Any) -> AsyncIterator[Harness]:
        app = create_app(make_settings(database_url, tmp_path / "data", nats_url, **extra))
        started, stop = asyncio.Event(), asyncio.Event()

        async def serve() -> None:
            # Enter and leave the lifespan in one task (anyio's cancel scopes insist on it; the
            # fixture's setup and teardown may run in different tasks).
            async with app.lifespan():
                started.set()
                await stop.wait()

        server = asyncio.create_task(serve())
        await asyncio.wait([server, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
        if server.done():
            server.result()  # the start failed: raise its error
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's precise ASGI types
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://query.localhost", timeout=30
            ) as client:
                yield Harness(client, app.state.query)
        finally:
            stop.set()
            await server

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
    opened = storage_from_settings(settings.storage, settings.sonda_data_dir)
    await opened.start()
    yield opened
    await opened.close()
