"""Two analyzers given the same redelivered analysis: one set of events wins, the store stays sound.

Analyzer A takes the request and is frozen (SIGSTOP: a long GC pause, a frozen VM) in the middle of
the file, so its in-progress acks stop and JetStream redelivers the request to analyzer B after the
ack wait. When B has appended its ``AnalysisStarted``, A is thawed: its profiling process went on
working meanwhile, so A comes back with progress (and soon a result) for an analysis that is no
longer its own. Every append of A must now fail the optimistic-concurrency check; B completes.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sonda_events.bus import Publisher
from sonda_events.contract import AnalysisCompleted, AnalysisStarted

from tests.reliability.checks import (
    assert_analysis_consistent,
    assert_store_equals_stream,
    by_analysis,
    stream_events,
    until,
)
from tests.reliability.services import ServiceProcess
from tests.reliability.stack import Stack
from tests.reliability.workload import checked_result, request, upload, write_csv

pytestmark = pytest.mark.fault

ROWS = 1_000_000
ANALYZER_ENV = {"SONDA_ANALYZER_ACK_WAIT_S": "3", "SONDA_ANALYZER_MEMORY_MB": "64"}


async def _info(process: ServiceProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        info: dict[str, Any] = (await client.get(f"{process.url}/api/v1/analyzer/info")).json()
    return info


async def _last(stack: Stack, analysis_id: uuid.UUID) -> Any:
    last = await Publisher(stack.nc.jetstream()).last_message(analysis_id)
    return last[0] if last else None


async def test_a_redelivered_analysis_is_finished_by_one_worker_only(stack: Stack, tmp_path: Path) -> None:
    table = write_csv(tmp_path / "files" / "big.csv", ROWS)
    file_key = await upload(stack.storage, table.path)
    await stack.procs.start("recorder", RECORDER_ACK_WAIT_S="2")
    first = await stack.procs.start("analyzer", key="analyzer-a", **ANALYZER_ENV)
    second = stack.procs.add("analyzer", key="analyzer-b", **ANALYZER_ENV)
    js = stack.nc.jetstream()

    analysis_id = await request(js, file_key)

    async def first_is_profiling() -> bool:
        last = await _last(stack, analysis_id)
        return last is not None and last.type == "AnalysisProgress"

    await until(first_is_profiling, timeout=60, what="analyzer A to be profiling")
    first.pause()
    try:
        await second.start()

        async def second_took_over() -> bool:
            events = await stream_events(js, f"eda.analysis.{analysis_id}.*")
            return any(isinstance(e, AnalysisStarted) and e.data.attempt == 2 for e in events)

        await until(second_took_over, timeout=60, what="analyzer B to take the redelivered request")
        # A's profiling process was never frozen: by now A has progress (or a result) queued up.
        await asyncio.sleep(1.0)
    finally:
        first.resume()

    async def finished() -> bool:
        events = [r.event for r in await stack.store.read_stream(analysis_id)]
        return bool(events) and events[-1].type in ("AnalysisCompleted", "AnalysisFailed")

    await until(finished, timeout=90, what="the analysis to finish in the store")
    await until(lambda: _idle(first), timeout=30, what="analyzer A to give the analysis up")
    await asyncio.sleep(1.0)  # anything A still tried to append would be on the bus by now
    info = await js.stream_info("EDA")
    await until(lambda: _stored(stack, info.state.messages), timeout=30, what="the recorder")

    recorded = await assert_store_equals_stream(stack.store, js)
    events = by_analysis(recorded)[analysis_id]
    completed = assert_analysis_consistent(events, terminal="AnalysisCompleted")
    starts = [e for e in events if isinstance(e, AnalysisStarted)]
    assert [s.data.attempt for s in starts] == [1, 2]
    a_info, b_info = await _info(first), await _info(second)
    assert starts[1].data.worker == b_info["worker"] != starts[0].data.worker
    assert a_info["processed"]["completed"] == 0
    assert a_info["processed"]["superseded"] == 1, a_info
    assert b_info["processed"]["completed"] == 1, b_info
    assert events[-1] is completed
    assert isinstance(completed, AnalysisCompleted)
    result = await checked_result(stack.storage, completed)
    assert result["dataset"]["rows"] == ROWS


async def _idle(process: ServiceProcess) -> bool:
    return not (await _info(process))["in_flight"]


async def _stored(stack: Stack, count: int) -> bool:
    return await stack.store.last_position() >= count
