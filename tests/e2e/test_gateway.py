"""The gateway relays what the services say, unchanged: WebSocket subprotocols and close codes, and
request bodies streamed without being held in memory.

Each check compares the answer through the one origin with the same request sent straight to the
service (its internal URL is printed by ``sonda up``).
"""

from __future__ import annotations

import json
import socket
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

from sonda.gateway.routes import SERVICES
from tests.e2e.flow import chunks
from tests.e2e.sonda_up import SondaUp

#: A fixed id no analysis has: parametrized ids must be the same in every test process (xdist).
UNKNOWN_ID = uuid.UUID("5b1f3c0e-8a2d-4c6b-9e7f-0a1b2c3d4e5f")

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
    [("/api/v1/analysis/websocket/not-a-uuid", 4400), (f"/api/v1/analysis/websocket/{UNKNOWN_ID}", 4404)],
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


def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` byte for byte (no client library would send these); the parsed answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(request)
        return _answer(conn)


def _answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP answer with a Content-Length body from ``conn``: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {len(data)} bytes: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # a 70 KB query string: httpx cannot even build the upstream URL
        (b"GET /api/v1/analysis/list?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        # Content-Length and Transfer-Encoding together (request smuggling)
        (
            b"POST /api/v1/analysis/start-enhanced HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
    ],
)
def test_the_gateway_answers_malformed_requests_with_problem_bodies(
    sonda: SondaUp, request_bytes: bytes, status: int
) -> None:
    answer, headers, body = _raw_exchange(sonda.port, request_bytes)
    assert answer == status, body[:300]
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status and problem["code"] and problem["detail"]
    # and the gateway goes on serving
    assert httpx.get(f"{sonda.url}/api/v1/health/live", timeout=10, trust_env=False).status_code == 200


#: Longer than uvicorn's default keep-alive timeout and httpx's default pool expiry (5 s each).
CLIENT_IDLE_S = 6.0


def test_an_idle_keep_alive_connection_is_still_served(sonda: SondaUp) -> None:
    """A client that keeps its connection idle as long as httpx's pool does (5 s) and then sends
    its next request on it gets an answer, from the gateway and from each service: a server that
    closed the connection at that same moment lost the request ("server disconnected without
    sending a response"), which a client cannot safely send again when it is a POST."""
    ports = {"gateway": sonda.port} | {
        service: int(sonda.service_url(service).rsplit(":", 1)[1]) for service in SERVICES
    }
    request = b"GET /api/v1/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
    conns = {name: socket.create_connection(("127.0.0.1", port), timeout=30) for name, port in ports.items()}
    try:
        for conn in conns.values():
            conn.sendall(request)
        assert {name: _answer(conn)[0] for name, conn in conns.items()} == dict.fromkeys(ports, 200)
        # The idle time is the input here, not a bound on anything: what is checked is that the
        # connection is still served after it.
        time.sleep(CLIENT_IDLE_S)
        for conn in conns.values():
            conn.sendall(request)
        assert {name: _answer(conn)[0] for name, conn in conns.items()} == dict.fromkeys(ports, 200)
    finally:
        for conn in conns.values():
            conn.close()
