"""Every format, requested straight over NATS by another system, ends in a correct AnalysisCompleted.

One analyzer serves the whole module (its start and graceful stop cost a couple of seconds).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.analyzer.worker.datasets import FORMATS, check_result, make_frame, write
from tests.analyzer.worker.harness import (
    assert_consecutive,
    fetch_result,
    publish_request,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import Stack, analyzer_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

EXPECTED_FORMAT = {"br_csv": "csv", "csv_gz": "csv"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with analyzer_stack(tmp_path_factory.mktemp("analyzer-formats")) as stack:
        yield stack


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_format_completes_with_independently_checked_statistics(
    fmt: str, tmp_path: Path, stack: Stack
) -> None:
    frame = make_frame(seed=FORMATS.index(fmt))
    dataset = write(fmt, tmp_path / "files", frame)
    storage = stack.storage
    key = await upload(storage, dataset.path)
    analysis_id = uuid.uuid4()
    js = stack.nc.jetstream()

    await publish_request(js, analysis_id, key, dataset.options)
    events = await wait_for_events(js, analysis_id)

    assert_consecutive(events)
    types = [e["type"] for e in events]
    assert types[1] == "AnalysisStarted", types
    assert types[-1] == "AnalysisCompleted", events[-1]
    assert set(types[2:-1]) == {"AnalysisProgress"}, types
    assert events[1]["data"]["attempt"] == 1
    # every event continues the requester's correlation id and names the request as its cause
    assert {e["correlation_id"] for e in events} == {events[0]["correlation_id"]}
    assert all(e["causation_id"] == events[0]["event_id"] for e in events[1:])
    progress = [e["data"]["progress"] for e in events if e["type"] == "AnalysisProgress"]
    assert progress == sorted(progress)

    completed = events[-1]["data"]
    summary = completed["summary"]
    assert (summary["rows"], summary["columns"]) == frame.shape
    assert summary["format"] == EXPECTED_FORMAT.get(fmt, fmt)
    assert summary["missing_cells"] == int(frame.isna().sum().sum())
    assert {c["name"]: c["missing"] for c in summary["column_digests"]} == frame.isna().sum().to_dict()
    assert completed["result"]["key"] == f"results/{analysis_id}.json"

    result = await fetch_result(storage, events[-1])  # size and SHA-256 checked inside
    check_result(result, frame)
    if fmt == "br_csv":
        assert (result["dataset"]["delimiter"], result["dataset"]["decimal"]) == (";", ",")
        assert result["dataset"]["encoding"].lower().replace("-", "") in {"latin1", "iso88591", "cp1252"}

    info = (await stack.analyzer.get("/api/v1/analyzer/info")).json()
    assert info["processed"]["completed"] >= 1
    assert info["processed"]["failed"] == 0
    assert info["in_flight"] == []
