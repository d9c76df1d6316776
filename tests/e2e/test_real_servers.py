"""``sonda up --nats URL --postgres URL --s3 ENDPOINT``: the same command on real servers.

Nothing embedded may start: no nats-server child, no SQLite file; events land in Postgres, uploads
and results in the S3 bucket, and the browser-side upload goes straight to the S3 endpoint.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import aioboto3
import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from sonda.gateway.routes import SERVICES
from tests.e2e.conftest import running_sonda
from tests.e2e.flow import analyse
from tests.support.servers import NatsServer, S3Endpoint

pytestmark = pytest.mark.slow


def event_count(pg_url: str, analysis_id: str) -> int:
    url = make_url(pg_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE stream_id::text = %s", (analysis_id,)
        ).fetchone()
        assert row is not None
        return int(row[0])


async def test_up_on_real_servers(
    tmp_path: Path, private_nats: NatsServer, pg_url: str, s3_endpoint: S3Endpoint, sales_csv: Path
) -> None:
    bucket = f"sonda-up-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    args = (
        "--nats", private_nats.url,
        "--postgres", pg_url.replace("postgresql+psycopg://", "postgresql://"),
        "--s3", s3_endpoint.url,
        "--s3-bucket", bucket,
        "--s3-access-key", s3_endpoint.access_key_id,
        "--s3-secret-key", s3_endpoint.secret_access_key,
        "--s3-region", s3_endpoint.region,
    )  # fmt: skip
    with running_sonda(data, *args) as sonda:
        sonda.wait_healthy()
        assert set(sonda.children()) == {"gateway", *SERVICES}, "no embedded NATS with --nats"
        assert private_nats.url in sonda.output
        analysis_id, messages = await analyse(sonda.url, sonda.ws_url, sales_csv, upload_to=s3_endpoint.url)
        assert messages[-1]["type"] == "analysis_completed", f"{messages[-1]}\n{sonda.logs()}"
        async with httpx.AsyncClient(base_url=sonda.url, timeout=30, trust_env=False) as client:
            results = await client.get(f"/api/v1/analysis/results-enhanced/{analysis_id}")
            assert results.status_code == 200, results.text

    assert not (data / "sonda.db").exists() and not (data / "nats").exists()
    assert event_count(pg_url, analysis_id) == len(
        [m for m in messages if m["type"] != "connection_established"]
    ) or (event_count(pg_url, analysis_id) >= 3)
    session = aioboto3.Session()
    async with session.client(
        "s3",
        endpoint_url=s3_endpoint.url,
        aws_access_key_id=s3_endpoint.access_key_id,
        aws_secret_access_key=s3_endpoint.secret_access_key,
        region_name=s3_endpoint.region,
    ) as s3:
        listed = await s3.list_objects_v2(Bucket=bucket)
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert any(k.endswith(sales_csv.name) for k in keys), keys
    assert any(analysis_id in k and k.startswith("results/") for k in keys), keys
