"""The same end-to-end promise over S3 (moto in server mode over real HTTP), not only local disk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sonda_analyzer.settings import AnalyzerSettings
from sonda_storage import ObjectStorage, S3Storage, storage_from_settings

from tests.analyzer.worker.datasets import check_result, make_frame, write
from tests.analyzer.worker.harness import (
    assert_consecutive,
    fetch_result,
    publish_request,
    upload,
    wait_for_events,
)
from tests.analyzer.worker.stack import SettingsFactory, running
from tests.support.servers import S3Endpoint

pytestmark = pytest.mark.slow


@pytest.fixture
def s3_settings(make_settings: SettingsFactory, s3_endpoint: S3Endpoint) -> AnalyzerSettings:
    env = s3_endpoint.env(f"sonda-analyzer-{uuid.uuid4().hex[:10]}")
    return make_settings(**{name.lower(): value for name, value in env.items()})


@pytest.fixture
async def s3_storage(s3_settings: AnalyzerSettings) -> AsyncIterator[ObjectStorage]:
    backend = storage_from_settings(s3_settings.storage, s3_settings.sonda_data_dir)
    assert isinstance(backend, S3Storage)
    await backend.start()
    yield backend
    await backend.close()


async def test_brazilian_csv_on_s3_completes_with_a_checked_result_object(
    s3_settings: AnalyzerSettings, s3_storage: ObjectStorage, nc: NatsClient, tmp_path: Path
) -> None:
    frame = make_frame(rows=800, seed=11)
    dataset = write("br_csv", tmp_path, frame)
    js = nc.jetstream()
    analysis_id = uuid.uuid4()
    async with running(s3_settings) as analyzer:
        await publish_request(js, analysis_id, await upload(s3_storage, dataset.path))
        events = await wait_for_events(js, analysis_id)
        ready = await analyzer.get("/api/v1/health/ready")
    assert_consecutive(events)
    assert events[-1]["type"] == "AnalysisCompleted", events[-1]
    check_result(await fetch_result(s3_storage, events[-1]), frame)
    # the store recorded the checksum the worker computed while writing
    ref = events[-1]["data"]["result"]
    head = await s3_storage.head(ref["key"])
    assert head is not None
    assert head.sha256 == ref["sha256"]
    assert ready.status_code == 200
    assert ready.json()["checks"]["storage"]["ok"] is True
