"""Fan-out under pressure: two instances, clients that stop reading."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import string
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sonda_events.bus import AnalysisWriter
from websockets.asyncio.client import connect

from tests.notifier.conftest import Client, NotifierFactory, Producer, Running, ws_client

pytestmark = pytest.mark.slow

# About 3.5 MB fill the loopback buffers here; the burst is ~10 MB so the slow clients do block.
BURST = 2400


def noise(rng: random.Random, size: int = 4000) -> str:
    """Incompressible text, so per-message deflate cannot make a burst small."""
    return "".join(rng.choices(string.ascii_letters, k=size))


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_two_instances_each_serve_their_own_clients(
    notifier_factory: NotifierFactory, producer: Producer
) -> None:
    async with (
        notifier_factory(sonda_instance_id="east") as east,
        notifier_factory(sonda_instance_id="west") as west,
    ):
        writers = [await producer.request() for _ in range(3)]
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(ws_client(instance.ws_url(writer.analysis_id)))
                for writer in writers
                for instance in (east, west)
            ]
            for client in clients:
                assert (await client.next())["type"] == "connection_established"
            east_info, west_info = await east.info(), await west.info()
            assert (east_info["instance_id"], west_info["instance_id"]) == ("east", "west")
            assert east_info["active_connections"] == west_info["active_connections"] == 3
            await asyncio.gather(*(producer.run(w, 8) for w in writers))
            await asyncio.gather(*(c.until_terminal() for c in clients))
            for client in clients:
                assert client.positions == list(range(1, 12))
            # each instance consumed every event itself
            assert (await east.info())["events_received"] >= 3 * 10
            assert (await west.info())["events_received"] >= 3 * 10


def tiny_buffer_socket(port: int) -> socket.socket:
    """A client socket with a small receive buffer: a client that stops reading blocks the server soon."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def burst_beside_a_fast_client(notifier: Running, producer: Producer) -> AsyncIterator[Client]:
    """A fast client and one that does not read (tiny socket buffer) follow one analysis; a burst
    of large progress events and its completion are published. Yields the slow client once the
    fast one has got everything, in order, while the other did not read."""
    writer = await producer.request()
    url = notifier.ws_url(writer.analysis_id)
    fast_ws = await connect(url, compression=None, max_size=None)
    slow_ws = await connect(url, compression=None, max_queue=1, sock=tiny_buffer_socket(notifier.port))
    fast, slow = Client(fast_ws), Client(slow_ws)
    try:
        for client in (fast, slow):
            await client.next()
        fast_reading = asyncio.create_task(fast.until_terminal(timeout=120))
        await publish_burst(producer, writer, random.Random(7))
        await producer.complete(writer)
        await fast_reading
        assert fast.positions == list(range(1, BURST + 4))
        yield slow
    finally:
        for ws in (fast_ws, slow_ws):
            await ws.close()


async def test_a_client_that_pauses_gets_coalesced_progress_and_never_slows_the_others(
    notifier_factory: NotifierFactory, producer: Producer
) -> None:
    # The send timeout is only a hang guard here: the pause lasts as long as the burst takes,
    # which on a busy machine is no fixed time, and this client must not be closed for it.
    async with (
        notifier_factory(sonda_ws_queue_size=64, sonda_ws_send_timeout=120.0) as notifier,
        burst_beside_a_fast_client(notifier, producer) as pausing,
    ):
        # the pausing client resumes: fewer progress updates, in order, and the terminal event
        await pausing.until_terminal(timeout=120)
        assert pausing.positions == sorted(set(pausing.positions))
        assert pausing.events[-1]["type"] == "analysis_completed"
        assert pausing.positions[-1] == BURST + 3
        assert len(pausing.positions) < BURST + 3
        info = await notifier.info()
        assert info["coalesced_messages"] > 0
        assert info["slow_client_closes"] == 0
        assert info["active_connections"] == 2


async def test_a_client_that_never_reads_is_closed_as_slow_and_never_slows_the_others(
    notifier_factory: NotifierFactory, producer: Producer
) -> None:
    async with (
        notifier_factory(
            sonda_ws_queue_size=64, sonda_ws_send_timeout=3.0, sonda_ws_close_timeout=15.0
        ) as notifier,
        burst_beside_a_fast_client(notifier, producer) as stalled,
    ):
        # closed as slow (its send blocked past the timeout, or its queue overflowed); what it
        # had been sent stays in order
        async def stalled_closed() -> bool:
            return bool((await notifier.info())["slow_client_closes"] >= 1)

        await wait_for(stalled_closed, timeout=60)
        code, reason = await stalled.closed(timeout=60)
        assert (code, reason) == (4008, "slow client")
        assert stalled.positions == sorted(set(stalled.positions))
        assert len(stalled.positions) < BURST + 3
        assert (await notifier.info())["active_connections"] == 1


async def publish_burst(producer: Producer, writer: AnalysisWriter, rng: random.Random) -> None:
    await producer.start(writer)
    for i in range(BURST):
        await producer.progress(writer, 100.0 * i / BURST, message=noise(rng))
