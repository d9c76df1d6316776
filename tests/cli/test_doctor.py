"""``sonda doctor`` against real servers: what works is ok, what does not fails with a fix."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import aioboto3
import pytest
from click.testing import CliRunner
from sonda_events.store import EventStore

from sonda.cli import cli
from tests.support.servers import S3Endpoint, free_port

ISOLATED = {
    "NATS_URL": None,
    "DATABASE_URL": None,
    "SONDA_API_KEYS": None,
    "CLOUDFLARE_R2_ENDPOINT_URL": None,
}


def doctor(*args: str, **env: str | None) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner(env={**ISOLATED, **env}).invoke(cli, ["doctor", "--json", *args])
    checks: list[dict[str, Any]] = json.loads(result.output)
    return result.exit_code, checks


def by_name(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in checks}


def test_everything_reachable(tmp_path: Path, nats_url: str, pg_url: str) -> None:
    asyncio.run(_migrate(pg_url))
    code, checks = doctor(
        "--data-dir", str(tmp_path), "--nats", nats_url, "--postgres", pg_url, "--port", str(free_port())
    )
    found = by_name(checks)
    assert code == 0, checks
    assert found["NATS"]["status"] == "ok" and found["JetStream"]["status"] == "ok"
    assert found["Event store"]["status"] == "ok" and "schema at" in found["Event store"]["detail"]
    assert found["Data folder"]["status"] == "ok"
    assert all(c["status"] != "fail" for c in checks)


async def _migrate(url: str) -> None:
    store = await EventStore.open(url)
    await store.close()


def test_an_empty_database_is_a_warning_with_what_happens_next(tmp_path: Path, pg_url: str) -> None:
    code, checks = doctor("--data-dir", str(tmp_path), "--postgres", pg_url, "--port", str(free_port()))
    store = by_name(checks)["Event store"]
    assert code == 0
    assert store["status"] == "warn" and "schema at nothing" in store["detail"] and store["fix"]


@pytest.mark.slow
def test_unreachable_servers_and_bad_settings_fail_with_a_fix(tmp_path: Path) -> None:
    dead = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        code, checks = doctor(
            "--data-dir",
            str(tmp_path),
            "--nats",
            f"nats://127.0.0.1:{dead}",
            "--postgres",
            f"postgresql://postgres@127.0.0.1:{dead}/nothing",
            "--port",
            str(taken),
            SONDA_MAX_BODY_KB="lots",
        )
    found = by_name(checks)
    assert code == 1
    assert found["NATS"]["status"] == "fail" and "NATS_URL" in found["NATS"]["fix"]
    assert found["Event store"]["status"] == "fail" and "DATABASE_URL" in found["Event store"]["fix"]
    assert found["Settings"]["status"] == "fail" and "SONDA_MAX_BODY_KB" in found["Settings"]["detail"]
    assert found["Port of the origin"]["status"] == "warn" and "--port" in found["Port of the origin"]["fix"]


def test_the_table_names_every_check(tmp_path: Path) -> None:
    result = CliRunner(env=ISOLATED).invoke(
        cli, ["doctor", "--data-dir", str(tmp_path / "new"), "--port", str(free_port())]
    )
    assert result.exit_code == 0, result.output
    for name in ("Python", "Services", "Settings", "Data folder", "nats-server", "Event store", "Storage"):
        assert name in result.output
    assert "0 failed" in result.output
    assert not (tmp_path / "new").exists(), "doctor only looks; it creates nothing"


async def _create_bucket(s3: S3Endpoint, bucket: str) -> None:
    session = aioboto3.Session()
    async with session.client(
        "s3",
        endpoint_url=s3.url,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        region_name=s3.region,
    ) as client:
        await client.create_bucket(Bucket=bucket)


def test_s3_storage_is_written_to(tmp_path: Path, s3_endpoint: S3Endpoint) -> None:
    bucket = f"doctor-{uuid.uuid4().hex[:8]}"
    args = [
        "--data-dir", str(tmp_path), "--port", str(free_port()), "--s3", s3_endpoint.url,
        "--s3-access-key", s3_endpoint.access_key_id, "--s3-secret-key", s3_endpoint.secret_access_key,
        "--s3-region", s3_endpoint.region,
    ]  # fmt: skip
    code, checks = doctor(*args, "--s3-bucket", bucket)
    storage = by_name(checks)["Storage (S3)"]
    assert code == 1 and storage["status"] == "fail" and "bucket" in storage["fix"]
    asyncio.run(_create_bucket(s3_endpoint, bucket))
    code, checks = doctor(*args, "--s3-bucket", bucket)
    assert code == 0 and by_name(checks)["Storage (S3)"]["status"] == "ok"
