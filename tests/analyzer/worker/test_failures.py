"""Requests that cannot be served end in AnalysisFailed with a stable code and a readable reason, and
the worker goes on serving the next request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.analyzer.worker.datasets import check_result, make_frame, write
from tests.analyzer.worker.harness import (
    assert_consecutive,
    fetch_result,
    publish_request,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import Stack, analyzer_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

MAX_FILE_MB = 1


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("analyzer-failures")
    async with analyzer_stack(root, sonda_analyzer_max_file_mb=MAX_FILE_MB) as stack:
        yield stack


async def test_malformed_file_fails_readably_and_the_worker_serves_the_next_request(
    stack: Stack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"a": 1, "b": 2}, {"a": 3, "b": ')  # cut off mid-record
    good = write("csv", tmp_path / "good", make_frame(rows=300))
    js = stack.nc.jetstream()
    bad_id, good_id = uuid.uuid4(), uuid.uuid4()
    # both queued at once: the second must not wait on, or be harmed by, the first
    await publish_request(js, bad_id, await upload(stack.storage, broken))
    await publish_request(js, good_id, await upload(stack.storage, good.path))

    failed = await wait_for_events(js, bad_id)
    assert_consecutive(failed)
    assert [e["type"] for e in failed][:2] == ["AnalysisRequested", "AnalysisStarted"]
    assert failed[-1]["type"] == "AnalysisFailed"
    data = failed[-1]["data"]
    assert data["error_code"] == "parse_error"
    assert data["retryable"] is False
    assert data["attempt"] == 1
    assert "json" in data["error_message"].lower()
    assert "Traceback" not in data["error_message"]

    completed = await wait_for_events(js, good_id)
    assert completed[-1]["type"] == "AnalysisCompleted"
    check_result(await fetch_result(stack.storage, completed[-1]), good.frame)


async def _fail_reason(
    stack: Stack, file_key: str, options: dict[str, object] | None = None
) -> dict[str, object]:
    js = stack.nc.jetstream()
    analysis_id = uuid.uuid4()
    await publish_request(js, analysis_id, file_key, options)
    events = await wait_for_events(js, analysis_id)
    assert_consecutive(events)
    assert events[-1]["type"] == "AnalysisFailed", events[-1]
    data: dict[str, object] = events[-1]["data"]
    return data


async def test_missing_upload_fails_with_file_not_found(stack: Stack) -> None:
    data = await _fail_reason(stack, f"uploads/{uuid.uuid4()}/never-uploaded.csv")
    assert data["error_code"] == "file_not_found"
    assert "never-uploaded.csv" in str(data["error_message"])


async def test_file_over_the_size_limit_fails_before_any_download(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * ((MAX_FILE_MB << 20) // 4 + 10))
    data = await _fail_reason(stack, await upload(stack.storage, path))
    assert data["error_code"] == "file_too_large"
    assert f"{path.stat().st_size:,} bytes" in str(data["error_message"])
    assert f"{MAX_FILE_MB << 20:,} bytes" in str(data["error_message"])


async def test_invalid_options_fail_naming_the_option(stack: Stack, tmp_path: Path) -> None:
    good = write("csv", tmp_path, make_frame(rows=20))
    data = await _fail_reason(stack, await upload(stack.storage, good.path), {"histogram_bins": "many"})
    assert data["error_code"] == "invalid_options"
    assert "histogram_bins" in str(data["error_message"])


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "uploads/../../secret.csv", "/etc/passwd", "results/x.json"]
)
async def test_hostile_file_keys_fail_without_touching_storage(stack: Stack, key: str) -> None:
    data = await _fail_reason(stack, key)
    assert data["error_code"] == "invalid_file_key"


async def test_foreign_message_is_dead_lettered_and_the_worker_goes_on(stack: Stack, tmp_path: Path) -> None:
    js = stack.nc.jetstream()
    await js.publish(f"eda.analysis.{uuid.uuid4()}.requested", b"this is not an event")
    good = write("jsonl", tmp_path, make_frame(rows=50))
    analysis_id = uuid.uuid4()
    await publish_request(js, analysis_id, await upload(stack.storage, good.path))
    assert (await wait_for_events(js, analysis_id))[-1]["type"] == "AnalysisCompleted"
    info = await js.stream_info("EDA_DEADLETTER")
    assert info.state.messages >= 1
