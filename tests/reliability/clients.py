"""Clients of the running services, as a browser or an agent uses them: HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TERMINAL_MESSAGES = frozenset({"analysis_completed", "analysis_error"})


async def upload_file(ingest: httpx.AsyncClient, path: Path) -> str:
    """Ask ingest for an upload URL, PUT the file there; returns the file key."""
    issued = await ingest.get("/api/v1/r2/presigned-upload", params={"filename": path.name})
    assert issued.status_code == 200, issued.text
    body = issued.json()
    put = await ingest.put(body["upload_url"], content=path.read_bytes(), headers=body["headers"])
    assert put.status_code == 200, put.text
    file_key: str = body["file_key"]
    return file_key


async def start_analysis(
    ingest: httpx.AsyncClient, file_key: str, *, idempotency_key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return await ingest.post(
        "/api/v1/analysis/start-enhanced",
        json={"file_key": file_key, "analysis_type": "basic_eda"},
        headers=headers,
    )


async def started(ingest: httpx.AsyncClient, file_key: str) -> uuid.UUID:
    response = await start_analysis(ingest, file_key)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["analysis_id"])


class Watcher:
    """A WebSocket client of one analysis: records every message, answers pings."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []

    async def until_terminal(self, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while not self.messages or self.messages[-1]["type"] not in TERMINAL_MESSAGES:
                message: dict[str, Any] = msgspec.json.decode(await self.ws.recv())
                if message["type"] == "ping":
                    await self.ws.send('{"type":"pong"}')
                    continue
                self.messages.append(message)
        return self.messages[-1]

    @property
    def positions(self) -> list[int]:
        return [m["position"] for m in self.messages if m["type"] not in ("connection_established",)]


@contextlib.asynccontextmanager
async def watching(notifier_url: str, analysis_id: uuid.UUID, **query: str) -> AsyncIterator[Watcher]:
    base = notifier_url.replace("http://", "ws://", 1)
    params = "&".join(f"{k}={v}" for k, v in query.items())
    url = f"{base}/api/v1/analysis/websocket/{analysis_id}" + (f"?{params}" if params else "")
    async with connect(url, open_timeout=10) as ws:
        yield Watcher(ws)


async def close_code(ws: ClientConnection, timeout: float = 10.0) -> int | None:
    """Read until the server closes the connection; its close code."""
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return ws.close_code
