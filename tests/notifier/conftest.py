"""Notifier fixtures: the real app under a real uvicorn on a free port, a producer publishing events
through the bus helpers, and a WebSocket client (the ``websockets`` library) that answers the ping
messages (which it need not do; its library answers the protocol pings)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from sonda_events.bus import AnalysisWriter, Publisher, close_nats, connect_nats, provision
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    CompletedData,
    DeletedData,
    FailedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_events.lifecycle import own_result_key
from sonda_events.settings import load_settings
from sonda_notifier.app import create_app
from sonda_notifier.settings import NotifierSettings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.servers import free_port

TERMINAL = {"analysis_completed", "analysis_error"}


class Running:
    """A notifier served by uvicorn in this test's event loop."""

    def __init__(self, port: int, settings: NotifierSettings) -> None:
        self.port = port
        self.settings = settings

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, analysis_id: uuid.UUID | str, since: int | None = None, **query: str) -> str:
        params = dict(query)
        if since is not None:
            params["since"] = str(since)
        qs = ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""
        return f"ws://127.0.0.1:{self.port}/api/v1/analysis/websocket/{analysis_id}{qs}"

    async def info(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.http}/api/v1/analysis/websocket-info")
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data


@contextlib.asynccontextmanager
async def serve_notifier(nats_url: str, **overrides: Any) -> AsyncIterator[Running]:
    port = free_port()
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "port": port,
        "sonda_notifier_event_store": False,
        "sonda_ws_unknown_grace": 0.5,
        "sonda_log_level": "warning",
        "sonda_log_json": True,
    }
    values.update(overrides)
    settings = load_settings(NotifierSettings, env={}, **values)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        lifespan="on",
        log_level="warning",
        # protocol pings from the settings, as ``sonda serve notifier`` runs it
        ws_ping_interval=settings.sonda_ws_ping_interval,
        ws_ping_timeout=settings.sonda_ws_pong_timeout,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield Running(port, settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


NotifierFactory = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture
def notifier_factory(nats_url: str) -> NotifierFactory:
    def factory(**overrides: Any) -> AbstractAsyncContextManager[Running]:
        return serve_notifier(nats_url, **overrides)

    return factory


@pytest.fixture
async def notifier(notifier_factory: NotifierFactory) -> AsyncIterator[Running]:
    async with notifier_factory() as running:
        yield running


# -- producing events -----------------------------------------------------------------------------


def summary(analysis_id: uuid.UUID) -> CompletedData:
    return CompletedData(
        summary=AnalysisSummary(rows=10, columns=2, missing_cells=0, duplicate_rows=0),
        result=ResultRef(key=own_result_key(analysis_id), sha256="0" * 64, size=10),
        duration_s=1.5,
    )


class Producer:
    """Publishes an analysis' events the way ingest and the analyzer do (bus helpers, real NATS)."""

    def __init__(self, nc: NatsClient) -> None:
        self.nc = nc
        self.publisher = Publisher(nc.jetstream())

    async def request(
        self, analysis_id: uuid.UUID | None = None, *, requested_by: str = "anonymous"
    ) -> AnalysisWriter:
        """Request an analysis for ``requested_by`` (a key's id owns it when API keys are on)."""
        analysis_id = analysis_id or uuid.uuid4()
        event = new_event(
            AnalysisRequested,
            analysis_id=analysis_id,
            version=1,
            data=RequestedData(file_key=f"uploads/{analysis_id}/data.csv", requested_by=requested_by),
            producer="test-ingest",
        )
        ack = await self.publisher.publish(event)
        return AnalysisWriter(
            self.publisher,
            analysis_id,
            producer="test-analyzer",
            correlation_id=event.correlation_id,
            version=1,
            last_seq=ack.seq,
        )

    @staticmethod
    async def start(writer: AnalysisWriter) -> None:
        await writer.emit(AnalysisStarted, StartedData(worker="w1"))

    @staticmethod
    async def progress(writer: AnalysisWriter, value: float, message: str = "") -> None:
        await writer.emit(AnalysisProgress, ProgressData(progress=value, stage="profiling", message=message))

    @staticmethod
    async def complete(writer: AnalysisWriter) -> None:
        await writer.emit(AnalysisCompleted, summary(writer.analysis_id))

    @staticmethod
    async def fail(writer: AnalysisWriter) -> None:
        await writer.emit(
            AnalysisFailed, FailedData(error_code="unreadable", error_message="bad file", retryable=False)
        )

    @staticmethod
    async def delete(writer: AnalysisWriter) -> None:
        await writer.emit(AnalysisDeleted, DeletedData(reason="cleanup"))

    async def run(self, writer: AnalysisWriter, steps: int, *, pause: float = 0.0) -> None:
        """Started, ``steps`` progress events, Completed: versions 2 .. steps + 3."""
        await self.start(writer)
        for i in range(steps):
            await self.progress(writer, 100.0 * (i + 1) / (steps + 1))
            if pause:
                await asyncio.sleep(pause)
        await self.complete(writer)


@pytest.fixture
async def producer(nats_url: str) -> AsyncIterator[Producer]:
    nc = await connect_nats(nats_url, name="test-producer")
    await provision(nc.jetstream())
    yield Producer(nc)
    await close_nats(nc)


# -- consuming over WebSocket ---------------------------------------------------------------------


class Client:
    """A WebSocket client that records every message and answers the server's ping messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.pings = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        """Messages that carry an event (everything but connection and heartbeat messages)."""
        return [m for m in self.messages if m["type"] not in ("connection_established", "ping")]

    @property
    def positions(self) -> list[int]:
        return [m["position"] for m in self.events]

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            message: dict[str, Any] = msgspec.json.decode(raw)
            if message["type"] == "ping":
                self.pings += 1
                await self.ws.send('{"type":"pong"}')
                continue
            self.messages.append(message)
            return message

    async def until_terminal(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while not self.messages or self.messages[-1]["type"] not in TERMINAL:
                await self.next(timeout)
        return self.events

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, str | None]:
        """Read until the server closes; the close code and reason it sent."""
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    await self.next(timeout)
        return self.ws.close_code, self.ws.close_reason


@contextlib.asynccontextmanager
async def ws_client(url: str, **kwargs: Any) -> AsyncIterator[Client]:
    async with connect(url, open_timeout=5, **kwargs) as ws:
        yield Client(ws)
