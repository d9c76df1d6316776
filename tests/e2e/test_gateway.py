"""The gateway relays what the services say, unchanged: WebSocket subprotocols and close codes, and
request bodies streamed without being held in memory.

Each check compares the answer through the one origin with the same request sent straight to the
service (its internal URL is printed by ``sonda up``).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.flow import chunks
from tests.e2e.sonda_up import SondaUp

pytestmark = pytest.mark.slow
MIB = 1024 * 1024


async def close_of(url: str, subprotocols: list[str]) -> tuple[str | None, int | None, str]:
    """Open ``url`` offering ``subprotocols``; returns (accepted subprotocol, close code, reason)."""
    async with connect(url, subprotocols=[Subprotocol(p) for p in subprotocols], proxy=None) as ws:
        chosen = ws.subprotocol
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        return chosen, ws.close_code, ws.close_reason or ""


@pytest.mark.parametrize(
    ("path", "expected_code"),
    [("/api/v1/analysis/websocket/not-a-uuid", 4400), (f"/api/v1/analysis/websocket/{uuid.uuid4()}", 4404)],
)
async def test_websocket_subprotocol_and_close_code_pass_through(
    sonda: SondaUp, path: str, expected_code: int
) -> None:
    offered = ["sonda.v1", "bearer.not-a-key"]
    direct = await close_of(sonda.service_url("notifier").replace("http", "ws", 1) + path, offered)
    through = await close_of(sonda.ws_url + path, offered)
    assert direct[1] == expected_code
    assert through == direct


def rss_sampler(process: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.01)


async def test_uploads_stream_through_the_gateway(sonda: SondaUp, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    line = b"1;2,5;Recife;texto longo para ocupar espaco\n"
    with big.open("wb") as f:
        f.write(b"a;b;c;d\n")
        block = line * (MIB // len(line))
        for _ in range(96):
            f.write(block)
    size = big.stat().st_size
    gateway = sonda.children()["gateway"]
    before = gateway.memory_info().rss
    peak = [before]
    stop = threading.Event()
    sampler = threading.Thread(target=rss_sampler, args=(gateway, stop, peak))
    sampler.start()
    try:
        async with httpx.AsyncClient(base_url=sonda.url, timeout=120, trust_env=False) as client:
            target = (await client.get("/api/v1/r2/presigned-upload", params={"filename": big.name})).json()
            put = await client.put(
                target["upload_url"], content=chunks(big, MIB), headers={"Content-Length": str(size)}
            )
            assert put.status_code in (200, 201, 204), put.text
            assert put.json()["size"] == size
    finally:
        stop.set()
        sampler.join()
    grew = peak[0] - before
    assert grew < size / 3, f"the gateway grew by {grew / MIB:.0f} MiB for a {size / MIB:.0f} MiB upload"
