"""The hostile-file corpus through the real analyzer: each file ends as ``AnalysisFailed`` with a
clear reason or as a correct profile, within the worker's memory and time limits, and the analyzer
keeps serving (a good file completes afterwards, its profiling processes stayed under the limit).

All requests are published at once by "another system" (plain JSON on NATS); two analyses run at a
time, each in a profiling process with a 700 MiB ceiling and an 8 s limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient
from sonda_analyzer.app import create_app
from sonda_analyzer.settings import AnalyzerSettings
from sonda_events.settings import load_settings
from sonda_storage import ObjectStorage, storage_from_settings

from tests.fuzz.corpus import Case, corpus
from tests.support.servers import LOCAL, running_nats

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

MEMORY_LIMIT_MB = 700
TIMEOUT_S = 8.0
TERMINAL = ("AnalysisCompleted", "AnalysisFailed")


class Outcome:
    def __init__(self, case: Case, events: list[dict[str, Any]], seconds: float) -> None:
        self.case = case
        self.events = events
        self.seconds = seconds

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1]


async def _publish(nc: NatsClient, analysis_id: uuid.UUID, file_key: str, options: dict[str, Any]) -> None:
    event = {
        "type": "AnalysisRequested",
        "event_id": str(uuid.uuid4()),
        "schema_version": 2,
        "analysis_id": str(analysis_id),
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "hostile-corpus",
        "correlation_id": f"corpus-{analysis_id.hex[:8]}",
        "data": {"file_key": file_key, "analysis_type": "basic_eda", "options": options},
    }
    await nc.jetstream().publish(
        f"eda.analysis.{analysis_id}.requested",
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": event["event_id"]},
    )


async def _collect(
    nc: NatsClient, wanted: set[uuid.UUID], timeout: float
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Every event of the wanted analyses, until each has a terminal event."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {a: [] for a in wanted}
    sub = await nc.jetstream().subscribe("eda.analysis.>", ordered_consumer=True)
    deadline = time.monotonic() + timeout
    try:
        while any(not e or e[-1]["type"] not in TERMINAL for e in found.values()):
            if time.monotonic() > deadline:
                pending = [a for a, e in found.items() if not e or e[-1]["type"] not in TERMINAL]
                raise AssertionError(f"{len(pending)} analyses never finished")
            try:
                msg = await sub.next_msg(timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            event = json.loads(msg.data)
            analysis_id = uuid.UUID(event["analysis_id"])
            if analysis_id in found:
                found[analysis_id].append(event)
    finally:
        await sub.unsubscribe()
    return found


class Run:
    def __init__(
        self,
        outcomes: dict[str, Outcome],
        client: AsyncTestClient[Any],
        storage: ObjectStorage,
        nc: NatsClient,
    ) -> None:
        self.outcomes = outcomes
        self.client = client
        self.storage = storage
        self.nc = nc


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    root = tmp_path_factory.mktemp("corpus")
    with running_nats(root / "nats") as server:
        settings = load_settings(
            AnalyzerSettings,
            env={},
            nats_url=server.url,
            sonda_data_dir=str(root / "data"),
            sonda_analyzer_concurrency=2,
            sonda_analyzer_memory_mb=128,
            sonda_analyzer_memory_limit_mb=MEMORY_LIMIT_MB,
            sonda_analyzer_timeout_s=TIMEOUT_S,
            sonda_analyzer_max_file_mb=64,
            sonda_analyzer_max_deliver=2,
            sonda_analyzer_ack_wait_s=5.0,
            sonda_log_level="warning",
            sonda_log_json=True,
        )
        storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
        await storage.start()
        nc = await nats.connect(server.url)
        try:
            async with AsyncTestClient(create_app(settings), base_url=LOCAL) as client:
                cases = corpus()
                ids: dict[uuid.UUID, Case] = {}
                started = time.monotonic()
                for case in cases:
                    key = f"uploads/{uuid.uuid4()}/{case.name}"
                    await storage.put_bytes(key, case.data)
                    analysis_id = uuid.uuid4()
                    ids[analysis_id] = case
                    await _publish(nc, analysis_id, key, case.options)
                events = await _collect(nc, set(ids), timeout=180)
                seconds = time.monotonic() - started
                outcomes = {ids[a].name: Outcome(ids[a], e, seconds) for a, e in events.items()}
                yield Run(outcomes, client, storage, nc)
        finally:
            await nc.close()
            await storage.close()


@pytest.mark.parametrize("case", corpus(), ids=lambda case: case.name)
async def test_each_file_fails_clearly_or_profiles_correctly(run: Run, case: Case) -> None:
    outcome = run.outcomes[case.name]
    events = outcome.events
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    last = outcome.last
    if last["type"] == "AnalysisFailed":
        data = last["data"]
        assert data["error_code"] in case.fails_with, (case.name, data)
        message = data["error_message"]
        assert message and len(message) < 4000
        assert "Traceback" not in message and "Error(" not in message, message
        assert "sonda-analysis-" not in message and "/tmp" not in message, message  # no server paths
    else:
        assert case.may_complete, (case.name, "profiled a file that must fail", last["data"]["summary"])
        ref = last["data"]["result"]
        body = b"".join([chunk async for chunk in run.storage.read(ref["key"])])
        assert hashlib.sha256(body).hexdigest() == ref["sha256"]
        assert case.check is not None
        case.check(json.loads(body))


async def test_the_analyzer_kept_serving_within_its_limits(run: Run, tmp_path: Path) -> None:
    good = "cidade;preço\nBelém;10,5\nCuritiba;20,5\nSão Paulo;30,5\n".encode("latin-1")
    key = f"uploads/{uuid.uuid4()}/good.csv"
    await run.storage.put_bytes(key, good)
    analysis_id = uuid.uuid4()
    await _publish(run.nc, analysis_id, key, {})
    events = (await _collect(run.nc, {analysis_id}, timeout=60))[analysis_id]
    assert events[-1]["type"] == "AnalysisCompleted", events[-1]
    assert events[-1]["data"]["summary"]["rows"] == 3
    assert (await run.client.get("/api/v1/health/ready")).status_code == 200
    info = (await run.client.get("/api/v1/analyzer/info")).json()
    assert info["in_flight"] == []
    assert all(p["peak_rss_mb"] < MEMORY_LIMIT_MB for p in info["profilers"]), info["profilers"]
    # every file was decided within the time limit plus the work around it
    assert max(o.seconds for o in run.outcomes.values()) < 120
    await asyncio.sleep(0)
