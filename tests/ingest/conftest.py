"""Ingest under test: in-process (AsyncTestClient) for the many small cases, a real uvicorn server
for the flows a real HTTP client drives; always real NATS, real storage (local folder or S3 over
HTTP via moto) and a real event store."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from sonda_events import codec
from sonda_events.contract import AnyEvent
from sonda_events.settings import load_settings
from sonda_events.subjects import STREAM_NAME, analysis_subjects
from sonda_ingest.app import create_app
from sonda_ingest.settings import IngestSettings

from tests.support.servers import LOCAL, S3Endpoint, free_port, wait_for_port

API_KEY = "test-key-0123456789"
KEY_ID = "key_" + hashlib.sha256(API_KEY.encode()).hexdigest()[:12]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: Without API keys a POST must be JSON (CSRF); the bodiless ones say so too.
JSON_TYPE = {"Content-Type": "application/json"}

Env = dict[str, str]


def ingest_env(
    backend: str, data_dir: Path, nats_url: str, s3: S3Endpoint | None = None, **extra: str
) -> Env:
    """Environment variables of one ingest instance (exactly what an operator would set)."""
    env: Env = {
        "NATS_URL": nats_url,
        "SONDA_DATA_DIR": str(data_dir),
        "SONDA_LOG_JSON": "true",
        "SONDA_LOG_LEVEL": "warning",
    }
    if backend == "s3":
        assert s3 is not None
        env.update(s3.env(f"sonda-ingest-{uuid.uuid4().hex[:10]}"))
    env.update(extra)
    return env


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_url)
    yield nc.jetstream()
    await nc.close()


ClientFactory = Callable[..., contextlib.AbstractAsyncContextManager[AsyncTestClient[Litestar]]]


@pytest.fixture
def make_client(tmp_path: Path, nats_url: str, s3_endpoint: S3Endpoint) -> ClientFactory:
    """``async with make_client("local", SONDA_MAX_UPLOAD_MB="1") as client`` -> the app in-process."""

    @contextlib.asynccontextmanager
    async def factory(backend: str = "local", **extra: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
        env = ingest_env(backend, tmp_path / "data", nats_url, s3_endpoint, **extra)
        settings = load_settings(IngestSettings, env)
        async with AsyncTestClient(app=create_app(settings), base_url=LOCAL) as client:
            client.app.state.env = env
            yield client

    return factory


async def stream_messages(js: JetStreamContext, subject: str = "eda.analysis.>") -> int:
    info = await js.stream_info(STREAM_NAME, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def analysis_events(
    js: JetStreamContext, analysis_id: uuid.UUID
) -> list[tuple[AnyEvent, dict[str, str]]]:
    """Every event of one analysis on the bus, in order, with its NATS headers."""
    expected = await stream_messages(js, analysis_subjects(analysis_id))
    if expected == 0:
        return []
    sub = await js.subscribe(analysis_subjects(analysis_id), ordered_consumer=True)
    found: list[tuple[AnyEvent, dict[str, str]]] = []
    try:
        for _ in range(expected):
            msg = await sub.next_msg(timeout=5)
            found.append((codec.decode(msg.data), dict(msg.headers or {})))
    finally:
        await sub.unsubscribe()
    return found


def local_files(data_dir: Path) -> set[Path]:
    root = data_dir / "objects"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@dataclass
class IngestServer:
    """ingest under uvicorn in its own process, as ``sonda serve ingest`` runs it."""

    url: str
    proc: subprocess.Popen[bytes]
    env: Env


@contextlib.contextmanager
def running_ingest_server(env: Env, log_path: Path) -> Iterator[IngestServer]:
    port = free_port()
    full_env = {**os.environ, **env}
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "sonda_ingest.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=full_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v1/health/ready", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise TimeoutError(f"ingest never became ready; see {log_path}")
        yield IngestServer(url=url, proc=proc, env=env)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log_file.close()
