"""Liveness by WebSocket protocol pings: a client that never sends a message stays as long as its
library answers the pings, and a client that does not answer them is dropped.

Each test runs against the notifier itself and through a ``sonda gateway`` process in front of it
(as ``sonda up`` runs them). Both ping every 0.3 s and give 0.5 s for the pong; the ping *messages*
go out on the same schedule and are never answered here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import struct
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from tests.notifier.conftest import TERMINAL, NotifierFactory, Producer, Running
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

PING_INTERVAL, PONG_TIMEOUT = 0.3, 0.5


@dataclass
class Endpoint:
    """Where clients connect (the notifier, or a gateway in front of it), and the notifier behind."""

    port: int
    notifier: Running

    def ws_url(self, analysis_id: uuid.UUID) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/analysis/websocket/{analysis_id}"


@contextlib.asynccontextmanager
async def sonda_gateway(notifier: Running, log_path: Path) -> AsyncIterator[int]:
    """``sonda gateway`` as a process, routing to ``notifier``, with the same keepalive settings."""
    port = free_port()
    env = {
        **os.environ,
        "SONDA_NOTIFIER_URL": notifier.http,
        "SONDA_WS_PING_INTERVAL": str(PING_INTERVAL),
        "SONDA_WS_PONG_TIMEOUT": str(PONG_TIMEOUT),
        "SONDA_LOG_LEVEL": "warning",
    }
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sonda", "gateway", "--port", str(port), env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.returncode is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the gateway did not listen in time"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            break
        yield port
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.fixture(params=["notifier", "gateway"])
async def endpoint(
    request: pytest.FixtureRequest, notifier_factory: NotifierFactory, tmp_path: Path
) -> AsyncIterator[Endpoint]:
    async with notifier_factory(
        sonda_ws_ping_interval=PING_INTERVAL, sonda_ws_pong_timeout=PONG_TIMEOUT
    ) as notifier:
        if request.param == "notifier":
            yield Endpoint(notifier.port, notifier)
        else:
            async with sonda_gateway(notifier, tmp_path / "gateway.log") as port:
                yield Endpoint(port, notifier)


class FrameLog(logging.Handler):
    """The frames a ``websockets`` connection sends, by opcode (from its debug log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: list[Opcode] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == "> %s" and args and isinstance(args[0], Frame):
            self.sent.append(args[0].opcode)


def frame_logger() -> tuple[logging.Logger, FrameLog]:
    logger = logging.getLogger(f"tests.notifier.keepalive.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = FrameLog()
    logger.addHandler(handler)
    return logger, handler


async def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_a_client_that_never_sends_a_message_is_served_through_a_long_analysis(
    endpoint: Endpoint, producer: Producer
) -> None:
    writer = await producer.request()
    logger, frames = frame_logger()
    received: list[dict[str, Any]] = []
    # ping_interval=None: the client sends no pings of its own, only the pongs its library owes
    async with connect(endpoint.ws_url(writer.analysis_id), ping_interval=None, logger=logger) as ws:

        async def read_until_terminal() -> None:
            async for raw in ws:
                received.append(msgspec.json.decode(raw))
                if received[-1]["type"] in TERMINAL:
                    return

        reading = asyncio.create_task(read_until_terminal())
        # The current state (version 1) first: a start published before the session read the
        # history would be folded into it (the current state of a late joiner).
        async with asyncio.timeout(30):
            while not any(m.get("position") == 1 for m in received):
                await asyncio.sleep(0.02)
        # The analysis lasts several times ping interval + pong timeout (0.8 s).
        await producer.start(writer)
        steps = 15
        for i in range(steps):
            await asyncio.sleep(0.2)
            await producer.progress(writer, 100.0 * (i + 1) / (steps + 1))
        await producer.complete(writer)
        await asyncio.wait_for(reading, 30)

        assert ws.close_code is None  # still open: silence is no reason to close
        types = [m["type"] for m in received]
        assert types[0] == "connection_established"
        assert types[-1] == "analysis_completed"
        assert "ping" in types  # ping messages came, and were never answered
        positions = [m["position"] for m in received if m["type"] not in ("connection_established", "ping")]
        assert positions == list(range(1, steps + 4))
        # the server did ping at the protocol level, and only the library's pongs went back
        assert frames.sent.count(Opcode.PONG) >= 2
        assert set(frames.sent) == {Opcode.PONG}
        assert (await endpoint.notifier.info())["active_connections"] == 1


async def open_without_answering(
    port: int, analysis_id: uuid.UUID
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Upgrade a raw TCP connection by hand; the caller then neither reads nor writes on it (and keeps
    the writer: a collected writer closes the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/v1/analysis/websocket/{analysis_id} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each frame a server sent (unmasked, unfragmented)."""
    frames = []
    at = 0
    while at < len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        frames.append((opcode, data[at : at + length]))
        at += length
    return frames


async def test_a_client_that_does_not_answer_protocol_pings_is_dropped(
    endpoint: Endpoint, producer: Producer
) -> None:
    writer = await producer.request()
    reader, connection = await open_without_answering(endpoint.port, writer.analysis_id)
    try:

        async def served_then_dropped() -> bool:
            info = await endpoint.notifier.info()
            return bool(info["connections_total"] == 1 and info["active_connections"] == 0)

        # the notifier's session ends: the drop reaches it through the gateway too
        await wait_for(served_then_dropped)
        # Only now read what was sent: pings, then a close frame and the end of the stream.
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        connection.close()
    frames = server_frames(data)
    opcodes = [opcode for opcode, _ in frames]
    assert int(Opcode.PING) in opcodes
    assert opcodes[-1] == int(Opcode.CLOSE)
    (code,) = struct.unpack("!H", frames[-1][1][:2])
    assert code == 1011
    texts = [msgspec.json.decode(payload)["type"] for opcode, payload in frames if opcode == int(Opcode.TEXT)]
    assert texts[0] == "connection_established"
