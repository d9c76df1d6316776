"""NATS stops for 10 s while analyses run: everyone reconnects, nothing is lost, ingest answers 503.

All four services run as processes against a private nats-server. One analysis is in flight and a
WebSocket client watches it when NATS stops (SIGTERM; restarted on the same port and data folder
10 s later). Meanwhile ingest answers a start with 503 and a problem body within its publish
deadline (no hang) while reads that need no NATS go on. Afterwards the analyzer's pending publishes
go through, the watcher gets the completion, new analyses run, and the store holds exactly the
stream's events, each analysis with consecutive versions and one terminal event.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sonda_events.bus import Publisher

from tests.reliability.checks import (
    assert_analysis_consistent,
    assert_projections_equal_rebuild,
    assert_store_equals_stream,
    by_analysis,
    projections_at,
    until,
)
from tests.reliability.clients import start_analysis, started, upload_file, watching
from tests.reliability.stack import Stack
from tests.reliability.workload import write_csv

pytestmark = pytest.mark.fault

OUTAGE_S = 10.0
PUBLISH_DEADLINE_S = 2.0


async def test_nats_outage_loses_nothing_and_ingest_answers_503(stack: Stack, tmp_path: Path) -> None:
    files = tmp_path / "files"
    big = write_csv(files / "big.csv", 1_000_000)
    small = [write_csv(files / f"small{i}.csv", 2000, seed=i) for i in range(3)]
    ingest, _analyzer, notifier, query = await asyncio.gather(
        stack.procs.start("ingest", SONDA_PUBLISH_DEADLINE_S=str(PUBLISH_DEADLINE_S)),
        stack.procs.start("analyzer", SONDA_ANALYZER_ACK_WAIT_S="5", SONDA_ANALYZER_MEMORY_MB="64"),
        stack.procs.start("notifier"),
        stack.procs.start("query"),
    )
    js = stack.nc.jetstream()
    async with httpx.AsyncClient(base_url=ingest.url, timeout=30) as client:
        keys = [await upload_file(client, t.path) for t in (big, *small)]
        before = await started(client, keys[1])
        in_flight = await started(client, keys[0])

        async def working() -> bool:
            last = await Publisher(js).last_message(in_flight)
            return last is not None and last[0].type == "AnalysisProgress"

        await until(working, timeout=60, what="the big analysis to be in progress")
        async with watching(notifier.url, in_flight) as watcher:
            stack.nats.stop()
            down_at = time.monotonic()

            # ingest refuses a start with 503 once its publish deadline passes (bus_unavailable is
            # that deadline's answer; a hang would end in the client's timeout), and keeps serving
            refused = await start_analysis(client, keys[2])
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "bus_unavailable"
            assert refused.headers.get("retry-after")
            assert (await client.get("/api/v1/health/ready")).status_code == 503
            assert (await client.get("/api/v1/health/live")).status_code == 200
            async with httpx.AsyncClient(base_url=query.url, timeout=10) as reads:
                status = await reads.get(f"/api/v1/analysis/status-enhanced/{before}")
                assert status.status_code == 200, status.text

            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            stack.nats.start()
            # the watcher of the analysis in flight gets its completion after the outage
            last = await watcher.until_terminal(timeout=90)
            assert last["type"] == "analysis_completed", watcher.messages
            positions = watcher.positions
            assert positions == sorted(set(positions)), positions

        # the refused start is retried and succeeds; more work flows as before
        after = [await started(client, keys[2]), await started(client, keys[3])]

    wanted = {before, in_flight, *after}

    async def all_done() -> bool:
        recorded = by_analysis(await stack.store.read_all(limit=100_000))
        if not wanted <= set(recorded):
            return False
        return all(recorded[a][-1].type in ("AnalysisCompleted", "AnalysisFailed") for a in wanted)

    await until(all_done, timeout=90, what="every analysis to finish in the store")
    info = await js.stream_info("EDA")
    await until(
        lambda: _stored(stack, info.state.messages), timeout=30, what="the recorder to store the stream"
    )
    recorded = await assert_store_equals_stream(stack.store, js)
    streams = by_analysis(recorded)
    for analysis_id in wanted:
        assert_analysis_consistent(streams[analysis_id], terminal="AnalysisCompleted")
    # The refused start left no analysis behind: the store has exactly the four we know of.
    assert set(streams) == wanted, set(streams) - wanted
    head = await stack.store.last_position()
    await until(lambda: _projected(stack, head), timeout=30, what="the projector to catch up")
    await assert_projections_equal_rebuild(stack.store)


async def _stored(stack: Stack, count: int) -> bool:
    return await stack.store.last_position() >= count


async def _projected(stack: Stack, head: int) -> bool:
    return set((await projections_at(stack.store)).values()) == {head}
