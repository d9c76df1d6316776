"""Outages answer fast with 503 and a stable code, never hang; readiness tells which dependency is down."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sonda_events.settings import load_settings
from sonda_ingest.app import create_app
from sonda_ingest.settings import IngestSettings

from tests.ingest.conftest import ingest_env, local_files
from tests.support.servers import LOCAL, NatsServer, S3Endpoint, free_port


@pytest.mark.fault
async def test_start_answers_503_while_nats_is_down_and_recovers(
    tmp_path: Path, private_nats: NatsServer
) -> None:
    env = ingest_env("local", tmp_path / "data", private_nats.url, SONDA_PUBLISH_DEADLINE_S="2")
    async with AsyncTestClient(app=create_app(load_settings(IngestSettings, env)), base_url=LOCAL) as client:
        issued = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "n.csv"})).json()
        assert (await client.put(issued["upload_url"], content=b"a\n1\n")).status_code == 200
        files = local_files(tmp_path / "data")

        private_nats.stop()
        # bus_unavailable is the publish deadline's answer; the guard only catches a hang
        async with asyncio.timeout(120):
            response = await client.post(
                "/api/v1/analysis/start-enhanced", json={"file_key": issued["file_key"]}
            )
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "bus_unavailable"
        assert response.headers["retry-after"]
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["nats"]["ok"] is False
        assert ready.json()["checks"]["storage"]["ok"] is True
        assert local_files(tmp_path / "data") == files

        private_nats.start()
        for _ in range(100):
            if (await client.get("/api/v1/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        retried = await client.post("/api/v1/analysis/start-enhanced", json={"file_key": issued["file_key"]})
        assert retried.status_code == 202, retried.text


@pytest.mark.fault
async def test_unreachable_object_storage_is_503_and_not_ready(tmp_path: Path, nats_url: str) -> None:
    nowhere = S3Endpoint(url=f"http://127.0.0.1:{free_port()}")
    env = ingest_env("s3", tmp_path / "data", nats_url, nowhere)
    async with AsyncTestClient(app=create_app(load_settings(IngestSettings, env)), base_url=LOCAL) as client:
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["storage"]["ok"] is False
        assert ready.json()["checks"]["nats"]["ok"] is True
        response = await client.post(
            "/api/v1/analysis/start-enhanced", json={"file_key": f"uploads/{uuid.uuid4()}/a.csv"}
        )
        assert response.status_code == 503
        assert response.json()["code"] == "storage_unavailable"
