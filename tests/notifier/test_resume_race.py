"""Catch-up races: clients connect, drop and resume at random moments while events are published.

Whatever the timing, a client resuming with ``since=N`` receives exactly N+1 .. last, and a client
without ``since`` receives the current state then every later event, contiguous, ending completed.
"""

from __future__ import annotations

import asyncio
import random

from sonda_events.bus import AnalysisWriter

from tests.notifier.conftest import Producer, Running, ws_client

ITERATIONS = 50
PARALLEL = 10
STEPS = 15
FINAL = STEPS + 3  # Requested, Started, STEPS progress, Completed


async def publish_with_jitter(producer: Producer, writer: AnalysisWriter, rng: random.Random) -> None:
    await producer.start(writer)
    for i in range(STEPS):
        await asyncio.sleep(rng.choice([0, 0, 0.001, 0.003]))
        await producer.progress(writer, 100.0 * (i + 1) / (STEPS + 1))
    await producer.complete(writer)


async def one_round(notifier: Running, producer: Producer, seed: int) -> None:
    rng = random.Random(seed)
    writer = await producer.request()
    aid = writer.analysis_id

    async def resumes_after_a_drop() -> None:
        await asyncio.sleep(rng.uniform(0, 0.02))
        async with ws_client(notifier.ws_url(aid, since=0)) as client:
            await client.next()  # connection_established
            for _ in range(rng.randint(0, 6)):
                await client.next()
        seen = client.positions
        since = seen[-1] if seen else 0
        await asyncio.sleep(rng.uniform(0, 0.01))
        async with ws_client(notifier.ws_url(aid, since=since)) as again:
            await again.until_terminal()
        assert seen + again.positions == list(range(1, FINAL + 1)), (seed, seen, again.positions)

    async def random_since_at_random_moment() -> None:
        await asyncio.sleep(rng.uniform(0, 0.03))
        since = rng.randint(0, writer.version)
        async with ws_client(notifier.ws_url(aid, since=since)) as client:
            await client.until_terminal()
        assert client.positions == list(range(since + 1, FINAL + 1)), (seed, since, client.positions)

    async def current_state_at_random_moment() -> None:
        await asyncio.sleep(rng.uniform(0, 0.03))
        async with ws_client(notifier.ws_url(aid)) as client:
            await client.until_terminal()
        positions = client.positions
        assert positions == list(range(positions[0], FINAL + 1)), (seed, positions)
        assert client.messages[0]["position"] >= positions[0]

    await asyncio.gather(
        publish_with_jitter(producer, writer, rng),
        resumes_after_a_drop(),
        random_since_at_random_moment(),
        current_state_at_random_moment(),
    )


async def test_resume_from_random_positions_at_random_moments(notifier: Running, producer: Producer) -> None:
    seeds = list(range(ITERATIONS))
    for start in range(0, ITERATIONS, PARALLEL):
        await asyncio.gather(*(one_round(notifier, producer, s) for s in seeds[start : start + PARALLEL]))
    info = await notifier.info()
    assert info["active_connections"] == 0
    assert info["connections_total"] >= ITERATIONS * 4
