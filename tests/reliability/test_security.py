"""Security hardening, checked against real service processes: API keys (digests at rest,
constant-time compare) on HTTP and WebSocket, the CORS allow-list, body and upload limits,
analyses in flight per key, WebSockets per client, and no secret or signed URL in any log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nats
import pytest
from sonda_events.bus import AnalysisWriter, Publisher
from sonda_events.contract import AnalysisFailed, FailedData
from sonda_service import ApiKeys
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.reliability.clients import close_code
from tests.reliability.services import ServiceProcess, clean_env, services
from tests.support.servers import (
    NatsServer,
    S3Endpoint,
    fresh_postgres_database,
    nats_server_binary,
    running_nats,
    wait_for_port,
)

pytestmark = pytest.mark.slow

KEY = "sonda-test-key-1f2e3d4c5b6a"
OTHER_KEY = "sonda-test-key-other-998877"
#: Used only by the WebSocket limit test: connections other tests closed cannot hold its slots.
WS_KEY = "sonda-test-key-ws-445566"
DIGESTS = ",".join(f"sha256:{hashlib.sha256(k.encode()).hexdigest()}" for k in (KEY, OTHER_KEY, WS_KEY))
ALLOWED_ORIGIN = "https://app.example"


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Secured:
    ingest: ServiceProcess
    notifier: ServiceProcess
    nats_url: str


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("secured")
    with running_nats(root / "nats") as nats_server, fresh_postgres_database() as database_url:
        env = clean_env(
            NATS_URL=nats_server.url,
            DATABASE_URL=database_url,
            SONDA_DATA_DIR=str(root / "data"),
            SONDA_LOG_JSON="true",
            SONDA_LOG_LEVEL="info",
            # only digests: the services never see a key itself
            SONDA_API_KEYS=DIGESTS,
            SONDA_CORS_ORIGINS=ALLOWED_ORIGIN,
            SONDA_MAX_BODY_KB="16",
            SONDA_MAX_UPLOAD_MB="1",
            SONDA_MAX_ACTIVE_ANALYSES_PER_KEY="2",
            SONDA_WS_MAX_PER_CLIENT="3",
        )
        with services(env, root / "logs") as group:
            ingest, notifier = asyncio.run(_start_two(group.start("ingest"), group.start("notifier")))
            yield Secured(ingest, notifier, nats_server.url)


async def _start_two(a: Any, b: Any) -> tuple[ServiceProcess, ServiceProcess]:
    first, second = await asyncio.gather(a, b)
    return first, second


def _upload(ingest: ServiceProcess, key: str = KEY, body: bytes = b"a,b\n1,2\n") -> str:
    issued = httpx.get(
        f"{ingest.url}/api/v1/r2/presigned-upload",
        params={"filename": "d.csv"},
        headers=auth(key),
        timeout=10,
    ).json()
    assert httpx.put(issued["upload_url"], content=body, timeout=10).status_code == 200
    file_key: str = issued["file_key"]
    return file_key


def _start(ingest: ServiceProcess, file_key: str, key: str = KEY) -> httpx.Response:
    return httpx.post(
        f"{ingest.url}/api/v1/analysis/start-enhanced",
        json={"file_key": file_key},
        headers=auth(key),
        timeout=15,
    )


def test_keys_are_held_as_digests_and_compared_in_full() -> None:
    keys = ApiKeys(f"{KEY}, sha256:{hashlib.sha256(OTHER_KEY.encode()).hexdigest()}")
    held = repr(vars(keys))
    assert KEY not in held and OTHER_KEY not in held
    assert keys.identify(KEY) == "key_" + hashlib.sha256(KEY.encode()).hexdigest()[:12]
    assert keys.identify(OTHER_KEY) is not None
    for wrong in ("", KEY[:-1], KEY + "x", KEY.upper(), "sha256:" + hashlib.sha256(KEY.encode()).hexdigest()):
        assert keys.identify(wrong) is None, wrong


def test_http_needs_a_valid_key_and_health_stays_open(secured: Secured) -> None:
    url = f"{secured.ingest.url}/api/v1/r2/presigned-upload?filename=a.csv"
    for headers in ({}, auth("wrong"), {"Authorization": "Basic " + KEY}, {"X-API-Key": KEY[:-1]}):
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["code"] == "unauthorized"
    assert httpx.get(url, headers=auth(), timeout=10).status_code == 200
    assert httpx.get(url, headers={"X-API-Key": OTHER_KEY}, timeout=10).status_code == 200
    assert httpx.get(f"{secured.ingest.url}/api/v1/health/live", timeout=10).status_code == 200


async def test_websockets_need_a_valid_key(secured: Secured) -> None:
    base = secured.notifier.url.replace("http://", "ws://") + f"/api/v1/analysis/websocket/{uuid.uuid4()}"
    refused_cases: list[tuple[str, list[Subprotocol] | None]] = [
        (base, None),
        (f"{base}?api_key=wrong", None),
        (base, [Subprotocol("bearer.wrong")]),
    ]
    for url, protocols in refused_cases:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, open_timeout=10, subprotocols=protocols):
                pass
        assert refused.value.response.status_code in (401, 403)
    accepted_cases: list[tuple[str, list[Subprotocol] | None]] = [
        (f"{base}?api_key={KEY}", None),
        (base, [Subprotocol("sonda.v1"), Subprotocol(f"bearer.{KEY}")]),
    ]
    for url, protocols in accepted_cases:
        async with connect(url, open_timeout=10, subprotocols=protocols) as ws:  # the handshake passed
            assert ws.protocol is not None


async def test_a_websocket_key_in_the_query_is_not_logged(secured: Secured) -> None:
    analysis_id = uuid.uuid4()
    url = secured.notifier.url.replace("http://", "ws://") + f"/api/v1/analysis/websocket/{analysis_id}"
    async with connect(f"{url}?api_key={KEY}", open_timeout=10):
        pass
    with pytest.raises(InvalidStatus):
        async with connect(f"{url}?api_key=wrong-{KEY}", open_timeout=10):
            pass
    for _ in range(50):  # the handshake lines are written after the client saw the answer
        lines = [
            line
            for line in secured.notifier.log_lines()
            if line.get("logger") == "uvicorn.error" and str(analysis_id) in line["event"]
        ]
        if len(lines) >= 2:
            break
        await asyncio.sleep(0.1)
    # uvicorn's own lines are JSON lines as any other, with the key scrubbed from the path
    assert len(lines) >= 2, secured.notifier.tail()
    assert all("api_key=**********" in line["event"] for line in lines), lines
    assert KEY not in secured.notifier.log_text()


def test_cors_answers_only_the_allowed_origin(secured: Secured) -> None:
    url = f"{secured.ingest.url}/api/v1/analysis/start-enhanced"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = httpx.options(url, headers={"Origin": ALLOWED_ORIGIN, **preflight}, timeout=10)
    assert allowed.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN
    evil = httpx.options(url, headers={"Origin": "https://evil.example", **preflight}, timeout=10)
    assert "access-control-allow-origin" not in evil.headers
    simple = httpx.get(
        f"{secured.ingest.url}/api/v1/health/live", headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert "access-control-allow-origin" not in simple.headers


def test_body_and_upload_limits(secured: Secured) -> None:
    big_json = {"file_key": "uploads/x/y.csv", "options": {"pad": "x" * 64 * 1024}}
    response = httpx.post(
        f"{secured.ingest.url}/api/v1/analysis/start-enhanced", json=big_json, headers=auth(), timeout=10
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    too_big = httpx.get(
        f"{secured.ingest.url}/api/v1/r2/presigned-upload",
        params={"filename": "a.csv", "size": str(2 << 20)},
        headers=auth(),
        timeout=10,
    )
    assert too_big.status_code == 413
    issued = httpx.get(
        f"{secured.ingest.url}/api/v1/r2/presigned-upload",
        params={"filename": "a.csv"},
        headers=auth(),
        timeout=10,
    ).json()
    put = httpx.put(issued["upload_url"], content=b"x" * (1 << 20) + b"x", timeout=30)
    assert put.status_code == 413, put.text


async def test_analyses_in_flight_are_limited_per_key(secured: Secured) -> None:
    ingest = secured.ingest
    first, second = (uuid.UUID(_start(ingest, _upload(ingest)).json()["analysis_id"]) for _ in range(2))
    refused = _start(ingest, _upload(ingest))
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_active_analyses"
    assert _start(ingest, _upload(ingest, OTHER_KEY), OTHER_KEY).status_code == 202  # per key

    # an analyzer fails the first one: its slot is free again
    nc = await nats.connect(secured.nats_url)
    try:
        writer = await AnalysisWriter.resume(Publisher(nc.jetstream()), first, producer="test-analyzer")
        await writer.emit(AnalysisFailed, FailedData(error_code="parse_error", error_message="bad"))
    finally:
        await nc.close()
    assert _start(ingest, _upload(ingest)).status_code == 202
    assert _start(ingest, _upload(ingest)).status_code == 429
    assert second


async def test_websockets_are_limited_per_client(secured: Secured) -> None:
    ingest = secured.ingest
    analysis_id = _start(ingest, _upload(ingest, WS_KEY), WS_KEY).json()["analysis_id"]
    # Keys own their analyses: the other client watches one of its own.
    others = _start(ingest, _upload(ingest, OTHER_KEY), OTHER_KEY).json()["analysis_id"]
    url = (
        secured.notifier.url.replace("http://", "ws://")
        + f"/api/v1/analysis/websocket/{analysis_id}?api_key={WS_KEY}"
    )
    async with contextlib.AsyncExitStack() as stack:
        held = [await stack.enter_async_context(connect(url, open_timeout=10)) for _ in range(3)]
        for ws in held:
            assert "connection_established" in str(await ws.recv())
        async with connect(url, open_timeout=10) as extra:
            assert await close_code(extra) == 4429
        # another client (another key) is not affected
        other = url.replace(WS_KEY, OTHER_KEY).replace(analysis_id, others)
        async with connect(other, open_timeout=10) as ws:
            assert "connection_established" in str(await ws.recv())
        await held[0].close()
        # the slot comes back as soon as the server has seen the close
        for _ in range(50):
            async with connect(url, open_timeout=10) as again:
                try:
                    first = str(await asyncio.wait_for(again.recv(), 5))
                except ConnectionClosed:
                    first = ""
            if "connection_established" in first:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the closed connection's slot never came back")
    info = httpx.get(
        f"{secured.notifier.url}/api/v1/analysis/websocket-info", headers=auth(), timeout=10
    ).json()
    assert info["refused_too_many"] >= 1


# -- logs -----------------------------------------------------------------------------------------

NATS_PASSWORD = "nats-pw-5d1c9a"
DB_PASSWORD = "db-pw-77e0b1"
SIGNING_SECRET = "signing-secret-0f9e8d7c6b5a4f3e2d1c"


class AuthNats(NatsServer):
    """A nats-server that wants a user and password."""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                nats_server_binary(),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                "--user",
                "sonda",
                "--pass",
                NATS_PASSWORD,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"nats://sonda:{NATS_PASSWORD}@127.0.0.1:{self.port}"


async def _exercise(process: ServiceProcess, server: AuthNats) -> list[str]:
    """Everything that might log a secret: uploads, starts, refusals, a NATS outage. Returns the
    signed values the test saw (which must not be logged either)."""
    seen: list[str] = []
    async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
        for _ in range(2):
            issued = (
                await client.get("/api/v1/r2/presigned-upload", params={"filename": "d.csv"}, headers=auth())
            ).json()
            query = parse_qs(urlsplit(issued["upload_url"]).query)
            seen += [
                v[0] for k, v in query.items() if k.lower() in ("sig", "x-amz-signature", "x-amz-credential")
            ]
            put = await client.put(issued["upload_url"], content=b"a,b\n1,2\n", headers=issued["headers"])
            assert put.status_code == 200, put.text
            started = await client.post(
                "/api/v1/analysis/start-enhanced", json={"file_key": issued["file_key"]}, headers=auth()
            )
            assert started.status_code == 202, started.text
        await client.get(
            "/api/v1/r2/presigned-upload", params={"filename": "d.csv"}, headers=auth("wrong-" + KEY)
        )
        server.stop()
        refused = await client.post("/api/v1/analysis/start-enhanced", json={"file_key": "x"}, headers=auth())
        assert refused.status_code in (422, 400, 503)
        await asyncio.sleep(1.0)
        server.start()
        await asyncio.sleep(1.5)
        assert (await client.get("/api/v1/health/ready")).status_code == 200
    return seen


@pytest.mark.parametrize("storage", ["local", "s3"])
async def test_no_secret_or_signed_url_in_any_log_line(
    storage: str, tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    server = AuthNats(tmp_path / "nats")
    server.start()
    try:
        with fresh_postgres_database() as database_url:
            url_with_password = database_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
            env = clean_env(
                NATS_URL=server.url,
                DATABASE_URL=url_with_password,
                SONDA_DATA_DIR=str(tmp_path / "data"),
                SONDA_LOG_JSON="true",
                SONDA_LOG_LEVEL="debug",
                SONDA_API_KEYS=KEY,
                SONDA_SIGNING_SECRET=SIGNING_SECRET,
            )
            if storage == "s3":
                env.update(s3_endpoint.env(f"sonda-logs-{uuid.uuid4().hex[:8]}"))
            with services(env, tmp_path / "logs") as group:
                process = await group.start("ingest")
                signed = await _exercise(process, server)
                text = process.log_text()
    finally:
        server.stop()
    assert "presigned" in text or "upload_received" in text or "analysis_requested" in text  # it did log
    secrets = [KEY, NATS_PASSWORD, DB_PASSWORD, SIGNING_SECRET, *signed]
    if storage == "s3":
        secrets.append(s3_endpoint.secret_access_key)
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, [(s, text[max(0, text.index(s) - 200) : text.index(s) + 50]) for s in leaked]
