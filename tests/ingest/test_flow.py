"""The whole flow as a client drives it over real HTTP: upload URL -> PUT -> start -> the event on NATS.

Ingest runs under uvicorn in its own process with API keys on; the PUT goes with a plain HTTP client
and no key (like a browser to R2), to moto's S3 or to ingest's signed local route.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pytest
from nats.js import JetStreamContext
from sonda_events import codec
from sonda_events.contract import AnalysisRequested
from sonda_events.settings import load_settings
from sonda_events.subjects import subject_for
from sonda_ingest.identity import requested_event_id
from sonda_ingest.settings import IngestSettings
from sonda_storage import (
    UrlSigner,
    load_signing_secret,
    new_upload_key,
    storage_from_settings,
)

from tests.ingest.conftest import (
    API_KEY,
    AUTH,
    KEY_ID,
    IngestServer,
    analysis_events,
    ingest_env,
    running_ingest_server,
)
from tests.support.servers import NatsServer, S3Endpoint

MIB = 1024 * 1024
# A Brazilian CSV: Latin-1, ';' separated, decimal commas.
CSV = "cidade;valor;data\nSão Paulo;1.234,56;2024-01-02\nBelém;7,5;2024-02-03\n".encode("latin-1")


class Servers:
    """One ingest process per backend for the whole module, started on first use (start-up is slow)."""

    def __init__(self, tmp: Path, nats_url: str, s3: S3Endpoint) -> None:
        self.tmp, self.nats_url, self.s3 = tmp, nats_url, s3
        self.stack = contextlib.ExitStack()
        self.running: dict[str, IngestServer] = {}

    def get(self, backend: str) -> IngestServer:
        if backend not in self.running:
            env = ingest_env(backend, self.tmp / backend, self.nats_url, self.s3, SONDA_API_KEYS=API_KEY)
            self.running[backend] = self.stack.enter_context(
                running_ingest_server(env, self.tmp / f"ingest-{backend}.log")
            )
        return self.running[backend]


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, nats_server: NatsServer, s3_endpoint: S3Endpoint
) -> Iterator[Servers]:
    found = Servers(tmp_path_factory.mktemp("ingest"), nats_server.url, s3_endpoint)
    with found.stack:
        yield found


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, servers: Servers) -> IngestServer:
    return servers.get(str(request.param))


@pytest.fixture
def local_server(servers: Servers) -> IngestServer:
    return servers.get("local")


async def read_object(env: dict[str, str], key: str) -> bytes:
    settings = load_settings(IngestSettings, env)
    storage = storage_from_settings(settings.storage, settings.sonda_data_dir)
    await storage.start()
    try:
        return b"".join([chunk async for chunk in storage.read(key)])
    finally:
        await storage.close()


async def test_upload_start_and_the_event_on_the_bus(server: IngestServer, js: JetStreamContext) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as client:
        issued = await client.get(
            "/api/v1/r2/presigned-upload", params={"filename": "Relatório de vendas.csv"}
        )
        assert issued.status_code == 200, issued.text
        upload = issued.json()
        assert re.fullmatch(r"uploads/[0-9a-f-]{36}/Relatorio_de_vendas\.csv", upload["file_key"])
        expires_at = datetime.fromisoformat(upload["expires_at"])
        assert 3500 < (expires_at - datetime.now(UTC)).total_seconds() <= 3600
        assert upload["upload_url"].startswith("http")

        async with httpx.AsyncClient() as browser:  # no API key: the URL is the credential
            put = await browser.put(upload["upload_url"], content=CSV, headers=upload["headers"])
        assert put.status_code == 200, put.text
        assert await read_object(server.env, upload["file_key"]) == CSV

        body = {
            "file_key": upload["file_key"],
            "analysis_type": "basic_eda",
            "options": {
                "delimiter": ";",
                "decimal": ",",
                "encoding": "latin-1",
                "thresholds": {"missing_pct": 0.2},
            },
        }
        headers = {"Idempotency-Key": f"flow-{uuid.uuid4()}", "X-Correlation-Id": "flow-test-1"}
        started = await client.post("/api/v1/analysis/start-enhanced", json=body, headers=headers)
        assert started.status_code == 202, started.text
        answer = started.json()
        analysis_id = uuid.UUID(answer["analysis_id"])
        assert answer["status"] == "pending"
        assert answer["status_url"] == f"/api/v1/analysis/status-enhanced/{analysis_id}"
        assert answer["websocket_url"] == f"/api/v1/analysis/websocket/{analysis_id}"
        assert started.headers["location"] == answer["status_url"]

        events = await analysis_events(js, analysis_id)
        assert len(events) == 1
        event, nats_headers = events[0]
        assert isinstance(event, AnalysisRequested)
        assert event.analysis_id == analysis_id
        assert event.version == 1
        assert event.event_id == requested_event_id(analysis_id)
        assert nats_headers["Nats-Msg-Id"] == str(event.event_id)
        assert event.producer == "ingest"
        assert event.correlation_id == "flow-test-1"
        assert event.schema_version == AnalysisRequested.CURRENT_SCHEMA
        assert (datetime.now(UTC) - event.occurred_at).total_seconds() < 30
        assert event.data.file_key == upload["file_key"]
        assert event.data.analysis_type == "basic_eda"
        assert event.data.filename == "Relatorio_de_vendas.csv"
        assert event.data.file_size == len(CSV)
        assert event.data.requested_by == KEY_ID
        assert event.data.options == {
            "delimiter": ";",
            "decimal": ",",
            "encoding": "latin-1",
            "thresholds": {**event.data.options["thresholds"], "missing_pct": 0.2},
        }
        raw = await js.get_last_msg("EDA", subject_for(analysis_id, "AnalysisRequested"))
        assert API_KEY.encode() not in (raw.data or b"")  # an id of the key, never the key

        # A retried start (same Idempotency-Key) is the same analysis: nothing new on the bus.
        again = await client.post("/api/v1/analysis/start-enhanced", json=body, headers=headers)
        assert again.status_code == 202
        assert again.json()["analysis_id"] == str(analysis_id)
        assert again.json()["replayed"] is True
        assert again.headers["idempotent-replayed"] == "true"
        assert len(await analysis_events(js, analysis_id)) == 1

        # Without a key every endpoint but health refuses.
        async with httpx.AsyncClient(base_url=server.url) as anonymous:
            refused = await anonymous.post("/api/v1/analysis/start-enhanced", json=body)
            assert refused.status_code == 401
            assert refused.json()["code"] == "unauthorized"
            assert (await anonymous.get("/api/v1/health/ready")).status_code == 200
    assert codec.decode(raw.data or b"").event_id == event.event_id


class PeakRss:
    """Samples a process' resident memory in a thread while a block runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def data_dir(server: IngestServer) -> Path:
    return Path(server.env["SONDA_DATA_DIR"])


def leftovers(server: IngestServer) -> list[Path]:
    return [p for p in (data_dir(server) / "objects" / ".tmp").iterdir() if p.name.startswith("obj-")]


@pytest.mark.slow
async def test_a_200_mb_upload_streams_to_disk_with_bounded_memory(
    local_server: IngestServer, js: JetStreamContext
) -> None:
    size = 200 * MIB
    block = bytes(range(256)) * 4096  # 1 MiB
    digest = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(block)):
            digest.update(block)
            yield block

    async with httpx.AsyncClient(base_url=local_server.url, headers=AUTH, timeout=120) as client:
        upload = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "big.csv"})).json()
        await client.get("/api/v1/health/ready")  # warm code paths so the baseline includes them
        with PeakRss(local_server.proc.pid) as rss:
            put = await client.put(
                upload["upload_url"], content=body(), headers={"Content-Length": str(size)}
            )
        assert put.status_code == 200, put.text
        assert put.json() == {"file_key": upload["file_key"], "size": size, "sha256": digest.hexdigest()}
        started = await client.post("/api/v1/analysis/start-enhanced", json={"file_key": upload["file_key"]})
        assert started.status_code == 202
    growth_mib = (rss.peak - rss.baseline) / MIB
    print(f"server RSS growth during a 200 MiB upload: {growth_mib:.1f} MiB")
    assert growth_mib < 40
    assert (data_dir(local_server) / "objects" / upload["file_key"]).stat().st_size == size
    events = await analysis_events(js, uuid.UUID(started.json()["analysis_id"]))
    assert isinstance(events[0][0], AnalysisRequested)
    assert events[0][0].data.file_size == size


async def test_a_streamed_upload_past_the_limit_is_cut_off(local_server: IngestServer) -> None:
    """Chunked transfer (no Content-Length): the limit applies while streaming; nothing is kept."""
    key = new_upload_key("chunked.csv")
    signer = UrlSigner(load_signing_secret(data_dir(local_server)))
    expires = int(time.time()) + 60
    sig = signer.sign("PUT", key, expires=expires, max_bytes=MIB)
    url = f"{local_server.url}/api/v1/{key}?expires={expires}&max={MIB}&sig={sig}"

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * (MIB // 2)

    async with httpx.AsyncClient() as client:
        response = await client.put(url, content=body())
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert not (data_dir(local_server) / "objects" / key).exists()
    assert leftovers(local_server) == []


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(local_server: IngestServer) -> None:
    async with httpx.AsyncClient(base_url=local_server.url, headers=AUTH) as client:
        upload = (await client.get("/api/v1/r2/presigned-upload", params={"filename": "cut.csv"})).json()

        async def body() -> AsyncIterator[bytes]:
            for _ in range(8):
                yield b"y" * MIB
            raise ConnectionAbortedError("the browser tab was closed")

        with pytest.raises(ConnectionAbortedError):
            await client.put(upload["upload_url"], content=body(), headers={"Content-Length": str(50 * MIB)})
    deadline = time.monotonic() + 10
    while leftovers(local_server) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert leftovers(local_server) == []
    assert not (data_dir(local_server) / "objects" / upload["file_key"]).exists()
