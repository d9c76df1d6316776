"""The time limit stops the wait for the profiling process, never a progress event on its way to
the bus: one cancelled between JetStream storing it and its acknowledgement left the analysis'
writer behind, and the failure that followed was refused as a lost race (the analysis stayed
running). A real profiling process; the slow handler stands in for a slow publish."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.errors import AnalysisTimeoutError
from sonda_analyzer.profiler import ProfilerProcess
from sonda_analyzer.protocol import Job, Progress


async def test_a_time_limit_reached_during_a_progress_handler_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(3)
    pd.DataFrame({"a": rng.normal(size=200_000), "b": rng.integers(0, 9, 200_000)}).to_csv(path, index=False)
    job = Job(
        analysis_id="a", path=str(path), options={}, budget_mb=1024, result_path=str(tmp_path / "r.json")
    )
    process = ProfilerProcess(memory_limit_mb=4096)
    await process.start()  # started: the limit runs from the job on
    loop = asyncio.get_running_loop()
    # Long enough that the process's first message (sent as soon as it reads the job) comes
    # before it even on a busy machine; the handler below then outlasts it.
    limit = 5.0
    started = loop.time()
    handled: list[Progress] = []
    interrupted: list[BaseException] = []

    async def on_progress(update: Progress) -> None:
        if handled or interrupted:
            return
        try:
            # a publish slower than the whole limit: it ends well after the limit is reached
            await asyncio.sleep(started + limit + 0.5 - loop.time())
        except BaseException as exc:
            interrupted.append(exc)
            raise
        handled.append(update)

    try:
        with pytest.raises(AnalysisTimeoutError):
            await process.run(job, on_progress=on_progress, timeout_s=limit)
    finally:
        await process.close()
    assert interrupted == [], "the time limit cancelled the progress handler"
    assert len(handled) == 1, "no progress came before the time limit"  # the handler ran to its end
    assert not process.alive  # and the process was killed after it
