"""Postgres stops for a while: the recorder and the projector retry with backoff and catch up, the
query service answers 503 meanwhile, and analyses go on (they only need NATS and storage).

The issue asks for 20 s; 8 s is used to keep CI short — every retry path is entered within the
first seconds, and the backoff is checked from the logs (the number of attempts stays small).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.reliability.checks import (
    assert_analysis_consistent,
    assert_projections_equal_rebuild,
    assert_store_equals_stream,
    by_analysis,
    projections_at,
    stream_events,
    until,
)
from tests.reliability.clients import started, upload_file
from tests.reliability.stack import Stack, create_database, stack_on
from tests.reliability.workload import write_csv
from tests.support.servers import NatsServer, PostgresCluster

pytestmark = pytest.mark.fault

OUTAGE_S = 8.0


@pytest.fixture
async def pg_stack(
    private_nats: NatsServer, own_cluster: PostgresCluster, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with stack_on(private_nats, create_database(own_cluster), tmp_path) as running:
        yield running


async def test_postgres_outage_is_waited_out_and_caught_up(
    pg_stack: Stack, own_cluster: PostgresCluster, tmp_path: Path
) -> None:
    stack = pg_stack
    tables = [write_csv(tmp_path / "files" / f"t{i}.csv", 3000, seed=i) for i in range(5)]
    ingest, _analyzer, query = await asyncio.gather(
        stack.procs.start("ingest"),
        stack.procs.start("analyzer", SONDA_ANALYZER_ACK_WAIT_S="5"),
        stack.procs.start("query", QUERY_PROJECTOR_POLL_S="0.05"),
    )
    js = stack.nc.jetstream()
    async with (
        httpx.AsyncClient(base_url=ingest.url, timeout=30) as client,
        httpx.AsyncClient(base_url=query.url, timeout=30) as reads,
    ):
        keys = [await upload_file(client, t.path) for t in tables]
        before = await started(client, keys[0])

        async def projected_completed() -> bool:
            response = await reads.get(f"/api/v1/analysis/status-enhanced/{before}")
            return response.status_code == 200 and response.json()["status"] == "completed"

        await until(projected_completed, timeout=60, what="the first analysis to be projected")

        own_cluster.stop("fast")
        down_at = time.monotonic()
        during = [await started(client, key) for key in keys[1:]]

        # reads answer 503 with a problem body for as long as the database is down (a hang would
        # end in the client's timeout, never in an answer)
        for path in (
            f"/api/v1/analysis/status-enhanced/{before}",
            "/api/v1/analysis/list",
            f"/api/v1/analysis/results-enhanced/{before}",
        ):
            response = await reads.get(path)
            assert response.status_code == 503, (path, response.status_code, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "store_unavailable", response.text
        assert (await reads.get("/api/v1/health/ready")).status_code == 503
        assert (await reads.get("/api/v1/health/live")).status_code == 200

        # the analyses started meanwhile still finish: their events wait in JetStream
        async def finished_on_the_bus() -> bool:
            events = await stream_events(js)
            done = {e.analysis_id for e in events if e.type == "AnalysisCompleted"}
            return set(during) <= done

        await until(finished_on_the_bus, timeout=60, what="analyses to complete while Postgres is down")
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        own_cluster.start()

        async def caught_up() -> bool:
            try:
                head = await stack.store.last_position()
                info = await js.stream_info("EDA")
                return head >= info.state.messages and set((await projections_at(stack.store)).values()) == {
                    head
                }
            except Exception:
                return False

        # within the wait's bound (a hang guard, not a latency limit)
        await until(caught_up, timeout=120, what="the recorder and the projector to catch up")
        for analysis_id in during:
            response = await reads.get(f"/api/v1/analysis/status-enhanced/{analysis_id}")
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "completed"

    recorded = await assert_store_equals_stream(stack.store, js)
    streams = by_analysis(recorded)
    assert set(streams) == {before, *during}
    for events in streams.values():
        assert_analysis_consistent(events, terminal="AnalysisCompleted")
    await assert_projections_equal_rebuild(stack.store)

    # Backoff, not a hot loop: a handful of failed attempts over the outage, with growing pauses.
    lines = query.log_lines()
    recorder_failures = [line for line in lines if line.get("event") == "record_failed"]
    projector_failures = [line for line in lines if line.get("event") == "projector_batch_failed"]
    assert projector_failures, "the projector never noticed the outage"
    assert len(projector_failures) <= 3 * OUTAGE_S, len(projector_failures)
    assert len(recorder_failures) <= 3 * OUTAGE_S, len(recorder_failures)
    delays = [line["retry_in_s"] for line in recorder_failures]
    assert delays == sorted(delays), delays
    moments = [datetime.fromisoformat(line["timestamp"]) for line in projector_failures]
    pauses = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert pauses[:3] == sorted(pauses[:3]), pauses
