"""Recorder fixtures: a store on a fresh Postgres database, a private NATS, a running recorder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from nats.aio.client import Client as NatsClient
from sonda_events.bus import close_nats, connect_nats, provision
from sonda_events.recorder import Recorder, build_dead_letter_copier, build_recorder
from sonda_events.store import EventStore

from tests.support.servers import NatsServer


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[EventStore]:
    opened = await EventStore.open(pg_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def nc(private_nats: NatsServer) -> AsyncIterator[NatsClient]:
    """A publisher's connection, with the streams provisioned as every Sonda process does."""
    client = await connect_nats(private_nats.url, name="test-publisher")
    await provision(client.jetstream())
    try:
        yield client
    finally:
        await close_nats(client)


@contextlib.asynccontextmanager
async def running_recorder(
    url: str, nats_url: str, *, batch_size: int = 500, copy_dead_letters: bool = False
) -> AsyncIterator[Recorder]:
    """A recorder with its own store pool and NATS connection, as a separate instance would have."""
    store = await EventStore.open(url, pool_size=3)
    nc = await connect_nats(nats_url, name="test-recorder")
    recorder = build_recorder(store, nc, batch_size=batch_size, ack_wait_s=3.0, fetch_timeout=0.2)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(recorder.run(stop))]
    if copy_dead_letters:
        tasks.append(asyncio.create_task(build_dead_letter_copier(store, nc, fetch_timeout=0.2).run(stop)))
    try:
        yield recorder
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
        await close_nats(nc)
        await store.close()


async def wait_for_position(store: EventStore, position: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (last := await store.last_position()) < position:
        if time.monotonic() > deadline:
            raise TimeoutError(f"store at position {last}, waited for {position}")
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def recorder_process(database_url: str, nats_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m sonda_events.recorder`` as its own process (killed if the test leaves it running)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "SONDA_LOG_LEVEL": "warning",
        "RECORDER_BATCH_SIZE": "200",
        # A killed instance's unacked messages come back after this: keep the test short.
        "RECORDER_ACK_WAIT_S": "2",
    }
    proc = subprocess.Popen([sys.executable, "-m", "sonda_events.recorder"], env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
