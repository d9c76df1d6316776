"""The analyzer as a real OS process: SIGKILL mid-analysis and SIGTERM with and without enough grace.

Whatever happens to the worker, the analysis ends exactly once: redelivered after a crash, handed
back at once by a stopping worker, or finished by it during its grace period.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sonda_storage import ObjectStorage

from tests.analyzer.worker.datasets import BigFile, check_big_result
from tests.analyzer.worker.harness import (
    Event,
    all_events,
    assert_consecutive,
    fetch_result,
    publish_request,
    until_true,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import SettingsFactory, analyzer_process, running
from tests.support.servers import NatsServer

pytestmark = [pytest.mark.slow, pytest.mark.fault]

#: uvicorn re-raises the SIGTERM it handled once its shutdown is complete, so a clean stop may exit
#: by that signal; what the stop did is judged by the events, not by the status.
STOPPED = (0, -signal.SIGTERM)


def profiling(events: list[Event]) -> bool:
    """The engine is at work (not merely downloading)."""
    return any(e["type"] == "AnalysisProgress" and e["data"]["stage"] != "downloading" for e in events)


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie (a container's init may not reap orphans)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())


def check_ended_once(events: list[Event], attempts: list[int]) -> None:
    assert_consecutive(events)
    types = [e["type"] for e in events]
    assert types.count("AnalysisCompleted") == 1, types
    assert "AnalysisFailed" not in types
    assert types[-1] == "AnalysisCompleted"
    assert [e["data"]["attempt"] for e in events if e["type"] == "AnalysisStarted"] == attempts


async def test_worker_killed_mid_analysis_completes_after_restart_exactly_once(
    private_nats: NatsServer, tmp_path: Path, nc: NatsClient, storage: ObjectStorage, big_csv: BigFile
) -> None:
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    with analyzer_process(private_nats.url, tmp_path, SONDA_ANALYZER_ACK_WAIT_S="2") as worker:
        await asyncio.to_thread(worker.start)
        await publish_request(js, analysis_id, await upload(storage, big_csv.path))
        await wait_for_events(js, analysis_id, until=profiling)
        profiler_pid = (await asyncio.to_thread(worker.info))["profilers"][0]["pid"]
        assert profiler_pid is not None

        assert worker.proc is not None
        dead_pid = worker.proc.pid
        left = list((tmp_path / "work").glob(f"sonda-analysis-{dead_pid}-*"))
        worker.kill()  # SIGKILL: no cleanup, no nak, no ack
        # The child notices its parent is gone on its own schedule: wait for it, on a condition.
        await until_true(lambda: process_gone(profiler_pid), timeout=60)

        await asyncio.to_thread(worker.start)  # JetStream redelivers after the ack wait
        assert len(left) == 1  # the killed worker's download was there ...
        assert not left[0].exists()  # ... and the next start removed it
        events = await wait_for_events(js, analysis_id, timeout=60)
        await asyncio.sleep(0.5)
        events = await all_events(js, analysis_id)
    check_ended_once(events, attempts=[1, 2])
    check_big_result(await fetch_result(storage, events[-1]), big_csv)


async def test_sigterm_lets_the_in_flight_analysis_finish(
    private_nats: NatsServer, tmp_path: Path, nc: NatsClient, storage: ObjectStorage, big_csv: BigFile
) -> None:
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    with analyzer_process(private_nats.url, tmp_path, SONDA_ANALYZER_SHUTDOWN_GRACE_S="60") as worker:
        await asyncio.to_thread(worker.start)
        await publish_request(js, analysis_id, await upload(storage, big_csv.path))
        await wait_for_events(js, analysis_id, until=profiling)
        assert await asyncio.to_thread(worker.terminate) in STOPPED
    events = await all_events(js, analysis_id)
    check_ended_once(events, attempts=[1])
    consumer = await js.consumer_info("EDA", "analyzer")
    assert consumer.num_ack_pending == 0


async def test_stop_past_the_grace_hands_the_analysis_back_at_once(
    make_settings: SettingsFactory, nc: NatsClient, storage: ObjectStorage, big_csv: BigFile
) -> None:
    # In-process (the same lifespan exit uvicorn runs on SIGTERM, minus two process starts). A long
    # ack wait: only a nak, not the ack wait running out, can bring the request back quickly.
    settings = make_settings(sonda_analyzer_shutdown_grace_s=0.1, sonda_analyzer_ack_wait_s=120.0)
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    async with running(settings):
        await publish_request(js, analysis_id, await upload(storage, big_csv.path))
        await wait_for_events(js, analysis_id, until=profiling)
    types = [e["type"] for e in await all_events(js, analysis_id)]
    # On a fast machine the profile can finish as the stop comes: the Completed event is then on
    # the bus although the request was handed back, and the next worker must skip it.
    raced = "AnalysisCompleted" in types
    consumer = await js.consumer_info("EDA", settings.sonda_analyzer_consumer)
    assert consumer.num_ack_pending + consumer.num_pending >= 1  # handed back, not acked

    async with running(settings):
        await wait_for_events(js, analysis_id, timeout=30)
        await asyncio.sleep(0.3)
        events = await all_events(js, analysis_id)
    check_ended_once(events, attempts=[1] if raced else [1, 2])
