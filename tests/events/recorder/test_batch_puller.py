"""``bus.BatchPuller``: big batches when there is a backlog, one message at once when it is quiet."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig
from sonda_events.bus import close_nats, connect_nats
from sonda_events.bus.batch import BatchPuller

from tests.support.servers import NatsServer


@pytest.fixture
async def puller(private_nats: NatsServer) -> AsyncIterator[tuple[NatsClient, BatchPuller]]:
    nc = await connect_nats(private_nats.url, name="test-puller")
    js = nc.jetstream()
    await js.add_stream(name="T", subjects=["t.>"])
    await js.add_consumer("T", ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT))
    pull = BatchPuller(nc, "T", "c")
    try:
        yield nc, pull
    finally:
        await pull.close()
        await close_nats(nc)


async def test_backlog_comes_in_batches_in_stream_order(puller: tuple[NatsClient, BatchPuller]) -> None:
    nc, pull = puller
    js = nc.jetstream()
    for i in range(25):
        await js.publish("t.x", str(i).encode())

    first = await pull.fetch(10, timeout=1.0)
    second = await pull.fetch(100, timeout=1.0)

    assert [m.data for m in first] == [str(i).encode() for i in range(10)]
    assert [m.data for m in second] == [str(i).encode() for i in range(10, 25)]
    for msg in [*first, *second]:
        await msg.ack()
    await nc.flush()
    # The server applies acks asynchronously to the flush: give a loaded machine a moment.
    for _ in range(50):
        info = await js.consumer_info("T", "c")
        if (info.num_ack_pending, info.num_pending) == (0, 0):
            break
        await asyncio.sleep(0.1)
    assert (info.num_ack_pending, info.num_pending) == (0, 0)


async def test_quiet_stream_returns_nothing_after_the_timeout(
    puller: tuple[NatsClient, BatchPuller],
) -> None:
    _, pull = puller
    start = time.monotonic()
    assert await pull.fetch(10, timeout=0.3) == []
    assert time.monotonic() - start >= 0.25  # it waited for the timeout (a lower bound holds under any load)


async def test_a_lone_message_is_handed_over_at_once(puller: tuple[NatsClient, BatchPuller]) -> None:
    nc, pull = puller

    async def publish_later() -> None:
        await asyncio.sleep(0.2)
        await nc.jetstream().publish("t.x", b"late")

    task = asyncio.create_task(publish_later())
    # A fetch that waited for a full batch would wait out its whole (ten-minute) timeout: the
    # guard, far shorter, fails such a fetch long before that.
    async with asyncio.timeout(120):
        msgs = await pull.fetch(500, timeout=600.0)
    await task

    assert [m.data for m in msgs] == [b"late"]
