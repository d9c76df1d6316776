"""Per-analysis limits: time, memory, and the memory budget that switches to streaming. The profiling process is killed, the analysis fails with a
stable code, and the next request is served by a fresh process."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sonda_storage import ObjectStorage

from tests.analyzer.worker.datasets import BigFile, check_result, make_frame, write
from tests.analyzer.worker.harness import (
    assert_consecutive,
    fetch_result,
    publish_request,
    until_true,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import SettingsFactory, running

pytestmark = pytest.mark.slow


async def _run_big_then_small(
    settings_overrides: dict[str, object],
    make_settings: SettingsFactory,
    big_csv: BigFile,
    tmp_path: Path,
    nc: NatsClient,
    storage: ObjectStorage,
    big_options: dict[str, object] | None = None,
) -> dict[str, object]:
    settings = make_settings(**settings_overrides)
    js = nc.jetstream()
    async with running(settings) as analyzer:
        big_id, small_id = uuid.uuid4(), uuid.uuid4()
        await publish_request(js, big_id, await upload(storage, big_csv.path), big_options)
        small = write("csv", tmp_path / "small", make_frame(rows=100))
        await publish_request(js, small_id, await upload(storage, small.path))
        failed = await wait_for_events(js, big_id)
        assert (await wait_for_events(js, small_id))[-1]["type"] == "AnalysisCompleted"

        # The counters move when the handler returns, just after its event is on the bus.
        async def both_counted() -> bool:
            return bool(sum((await analyzer.get("/api/v1/analyzer/info")).json()["processed"].values()) >= 2)

        await until_true(both_counted, timeout=60)
        info = (await analyzer.get("/api/v1/analyzer/info")).json()
    assert_consecutive(failed)
    assert failed[-1]["type"] == "AnalysisFailed"
    assert info["processed"] == {"completed": 1, "failed": 1, "skipped": 0, "superseded": 0, "retried": 0}
    data: dict[str, object] = failed[-1]["data"]
    return data


async def test_analysis_over_the_time_limit_fails_with_timeout(
    make_settings: SettingsFactory, big_csv: BigFile, tmp_path: Path, nc: NatsClient, storage: ObjectStorage
) -> None:
    # The limit is the big analysis' own (a request option): the small one keeps the analyzer's
    # generous default, so its success never depends on how busy the machine is.
    data = await _run_big_then_small(
        {}, make_settings, big_csv, tmp_path, nc, storage, big_options={"time_limit_s": 0.3}
    )
    assert data["error_code"] == "timeout"
    assert "0.3 seconds" in str(data["error_message"])


async def test_analysis_over_the_memory_limit_fails_with_out_of_memory(
    make_settings: SettingsFactory, big_csv: BigFile, tmp_path: Path, nc: NatsClient, storage: ObjectStorage
) -> None:
    # The profiling process starts at about 80 MiB; this file needs several hundred.
    data = await _run_big_then_small(
        {"sonda_analyzer_memory_limit_mb": 160}, make_settings, big_csv, tmp_path, nc, storage
    )
    assert data["error_code"] == "out_of_memory"
    assert "160 MiB" in str(data["error_message"])


async def test_file_over_the_memory_budget_is_profiled_in_streaming_mode(
    make_settings: SettingsFactory, tmp_path: Path, nc: NatsClient, storage: ObjectStorage
) -> None:
    # 64 MiB is below what any file needs in exact mode, so the engine must stream it in chunks.
    settings = make_settings(sonda_analyzer_memory_mb=64)
    frame = make_frame(rows=3000, seed=5)
    dataset = write("br_csv", tmp_path, frame)
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    async with running(settings):
        await publish_request(js, analysis_id, await upload(storage, dataset.path))
        events = await wait_for_events(js, analysis_id)
    assert_consecutive(events)
    assert events[-1]["type"] == "AnalysisCompleted", events[-1]
    assert events[-1]["data"]["summary"]["approximate"] is True
    result = await fetch_result(storage, events[-1])
    assert result["dataset"]["mode"] == "streaming"
    check_result(result, frame)
