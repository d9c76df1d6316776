"""The seed flow as a client writes it (httpx + websockets), through the one origin only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

TERMINAL = ("analysis_completed", "analysis_error")


async def chunks(path: Path, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


async def upload(client: httpx.AsyncClient, path: Path, *, upload_to: str | None = None) -> str:
    """Presigned URL, then a streamed PUT to it; returns the file key.

    ``upload_to``: where the URL must point (default: the one origin; the S3 endpoint with ``--s3``).
    """
    response = await client.get("/api/v1/r2/presigned-upload", params={"filename": path.name})
    assert response.status_code == 200, response.text
    target = response.json()
    assert target["upload_url"].startswith(upload_to or str(client.base_url).rstrip("/")), target[
        "upload_url"
    ]
    put = await client.put(
        target["upload_url"], content=chunks(path), headers={"Content-Length": str(path.stat().st_size)}
    )
    assert put.status_code in (200, 201, 204), put.text
    return str(target["file_key"])


async def start(client: httpx.AsyncClient, file_key: str) -> str:
    response = await client.post(
        "/api/v1/analysis/start-enhanced",
        json={"file_key": file_key, "analysis_type": "basic_eda", "options": {}},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["analysis_id"])


async def follow(ws_base: str, analysis_id: str, timeout: float = 90.0) -> list[dict[str, Any]]:
    """Every WebSocket message up to and including the terminal one."""
    messages: list[dict[str, Any]] = []
    async with (
        asyncio.timeout(timeout),
        connect(f"{ws_base}/api/v1/analysis/websocket/{analysis_id}", proxy=None) as ws,
    ):
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            messages.append(message)
            if message.get("type") in TERMINAL:
                return messages
    raise AssertionError(f"the WebSocket closed before the end: {messages}")


async def analyse(
    base: str, ws_base: str, path: Path, *, upload_to: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as client:
        analysis_id = await start(client, await upload(client, path, upload_to=upload_to))
        return analysis_id, await follow(ws_base, analysis_id)
