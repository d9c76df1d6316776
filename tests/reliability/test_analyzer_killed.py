"""SIGKILL the analyzer in the middle of a large file: after a restart the analysis completes, once.

The kill lands while the profiling process is reading the file (progress events already out); no
shutdown code runs. JetStream redelivers the request after the consumer's ack wait, the restarted
analyzer appends ``AnalysisStarted`` (attempt 2) after the dead worker's last event and completes.
A recorder process stores everything meanwhile; the store must then hold exactly the stream's events.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest
from sonda_events.bus import Publisher
from sonda_events.contract import AnalysisCompleted, AnalysisStarted

from tests.reliability.checks import (
    assert_analysis_consistent,
    assert_store_equals_stream,
    by_analysis,
    until,
)
from tests.reliability.stack import Stack
from tests.reliability.workload import checked_result, column, request, upload, write_csv

pytestmark = pytest.mark.fault

ROWS = 1_000_000
ANALYZER_ENV = {
    "SONDA_ANALYZER_ACK_WAIT_S": "3",
    # A small budget makes the analyzer stream the file in chunks: many progress events, and a
    # long enough read for the kill to land in the middle of it.
    "SONDA_ANALYZER_MEMORY_MB": "64",
}


async def _mid_profiling(stack: Stack, analysis_id: uuid.UUID) -> bool:
    last = await Publisher(stack.nc.jetstream()).last_message(analysis_id)
    return (
        last is not None and last[0].type == "AnalysisProgress" and getattr(last[0].data, "rows_done", 0) > 0
    )


async def test_analysis_completes_once_after_the_analyzer_is_killed_mid_file(
    stack: Stack, tmp_path: Path
) -> None:
    table = write_csv(tmp_path / "files" / "big.csv", ROWS)
    file_key = await upload(stack.storage, table.path)
    await stack.procs.start("recorder", RECORDER_ACK_WAIT_S="2")
    analyzer = await stack.procs.start("analyzer", **ANALYZER_ENV)
    js = stack.nc.jetstream()

    analysis_id = await request(js, file_key)
    await until(lambda: _mid_profiling(stack, analysis_id), timeout=60, what="profiling progress")
    profilers = analyzer.children()
    assert profilers, "the analyzer profiles in a child process"
    analyzer.kill()
    # The profiling process dies with its parent: a killed worker leaves nothing running.
    _gone, alive = psutil.wait_procs(profilers, timeout=5)
    assert not alive, [p.pid for p in alive]

    # Nothing more is published while no analyzer runs: the analysis is stuck mid-way, not lost.
    killed_at = await Publisher(js).last_message(analysis_id)
    assert killed_at is not None and killed_at[0].type == "AnalysisProgress"

    restarted = stack.procs.add("analyzer", key="analyzer-2", **ANALYZER_ENV)
    await restarted.start()

    async def finished() -> bool:
        events = [r.event for r in await stack.store.read_stream(analysis_id)]
        return bool(events) and events[-1].type == "AnalysisCompleted"

    await until(finished, timeout=90, what="AnalysisCompleted in the store")
    await until(
        lambda: _recorded_everything(stack), timeout=30, what="the recorder to store the whole stream"
    )
    recorded = await assert_store_equals_stream(stack.store, js)
    events = by_analysis(recorded)[analysis_id]
    completed = assert_analysis_consistent(events, terminal="AnalysisCompleted")
    starts = [e for e in events if isinstance(e, AnalysisStarted)]
    assert [s.data.attempt for s in starts] == [1, 2]
    assert starts[0].data.worker != starts[1].data.worker
    # the second attempt starts right after the dead worker's last event
    assert events[events.index(starts[1]) - 1].event_id == killed_at[0].event_id

    assert isinstance(completed, AnalysisCompleted)
    result = await checked_result(stack.storage, completed)
    assert result["dataset"]["rows"] == ROWS == completed.data.summary.rows
    stats = column(result, "amount")["stats"]
    assert stats["mean"] == pytest.approx(float(np.mean(table.amount)), rel=1e-9)
    assert stats["min"] == pytest.approx(float(np.min(table.amount)))
    assert stats["max"] == pytest.approx(float(np.max(table.amount)))


async def _recorded_everything(stack: Stack) -> bool:
    info = await stack.nc.jetstream().stream_info("EDA")
    return await stack.store.last_position() >= info.state.messages
