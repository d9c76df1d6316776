"""SIGKILL the recorder and the projector at random moments during a burst of 10,000 events.

A standalone recorder process (JetStream -> store) and a query process running only the projector
(store -> read models) are killed three and two times while another system publishes 100 analyses of
100 events, and restarted at once. Afterwards every event is stored exactly once, each analysis has
consecutive versions, store positions have no gaps, and each read model equals a rebuild from the
store. The kill moments come from a seeded generator; the seed is in the failure message.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid

import httpx
import pytest
from sonda_events.bus import Publisher
from sonda_events.contract import AnyEvent

from tests.reliability.checks import (
    assert_analysis_consistent,
    assert_projections_equal_rebuild,
    assert_store_equals_stream,
    by_analysis,
    projections_at,
    until,
)
from tests.reliability.services import ServiceProcess
from tests.reliability.stack import Stack
from tests.reliability.workload import analysis_events, interleaved

pytestmark = pytest.mark.fault

ANALYSES = 100
PER_ANALYSIS = 100
TOTAL = ANALYSES * PER_ANALYSIS
#: Kills of each process; the query service takes a few seconds to start, so it is killed less.
KILLS = {"recorder": 3, "query": 2}


async def _publish_burst(stack: Stack, events: list[AnyEvent], chunk: int = 400, pause: float = 0.15) -> None:
    """Another system publishing steadily for a few seconds (so the kills land during the burst)."""
    publisher = Publisher(stack.nc.jetstream(), deadline=60)
    for start in range(0, len(events), chunk):
        await publisher.publish_many(events[start : start + chunk])
        await asyncio.sleep(pause)


async def _kill_and_restart(
    stack: Stack, process: ServiceProcess, rng: random.Random, log: list[str]
) -> None:
    for _ in range(KILLS[process.name]):
        await asyncio.sleep(rng.uniform(0.2, 1.2))
        stored = await stack.store.last_position()
        log.append(f"{time.monotonic():.2f} kill {process.name} at store position {stored}")
        process.kill()
        await process.start()


async def test_recorder_and_projector_killed_at_random_store_everything_once(stack: Stack) -> None:
    seed = int(os.environ.get("SONDA_FAULT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    streams = [analysis_events(uuid.uuid4(), PER_ANALYSIS, fail=i % 4 == 0) for i in range(ANALYSES)]
    recorder = await stack.procs.start("recorder", RECORDER_ACK_WAIT_S="2", RECORDER_BATCH_SIZE="200")
    query = await stack.procs.start(
        "query", QUERY_RECORDER="false", QUERY_PROJECTOR_BATCH="300", QUERY_PROJECTOR_POLL_S="0.05"
    )
    kills: list[str] = []
    await asyncio.gather(
        _publish_burst(stack, interleaved(streams)),
        _kill_and_restart(stack, recorder, rng, kills),
        _kill_and_restart(stack, query, rng, kills),
    )
    context = f"seed {seed}; kills: {kills}"
    print(context, flush=True)
    # at least the first kill of each process hit the burst, not the quiet after it
    assert sum(f"at store position {TOTAL}" not in k for k in kills) >= 2, context

    async def everything_projected() -> bool:
        if await stack.store.last_position() < TOTAL:
            return False
        return set((await projections_at(stack.store)).values()) == {TOTAL}

    await until(everything_projected, timeout=60, what=f"all {TOTAL} events stored and projected ({context})")

    recorded = await assert_store_equals_stream(stack.store, stack.nc.jetstream())
    assert len(recorded) == TOTAL, context
    stored = by_analysis(recorded)
    for stream in streams:
        events = stored[stream[0].analysis_id]
        assert events == stream, context
        assert_analysis_consistent(events)
    assert await stack.store.dead_letters() == [], context
    await assert_projections_equal_rebuild(stack.store)

    # and the restarted query service answers from those read models
    async with httpx.AsyncClient(base_url=query.url, timeout=10) as client:
        for stream in streams[:5]:
            response = await client.get(f"/api/v1/analysis/status-enhanced/{stream[0].analysis_id}")
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["version"] == PER_ANALYSIS
            assert body["status"] == ("failed" if stream[-1].type == "AnalysisFailed" else "completed")
