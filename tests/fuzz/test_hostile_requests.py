"""Hostile requests against a real ingest process: path traversal and foreign keys, tampered and
expired upload signatures, huge headers, slow-loris uploads. Each is refused with a problem body
(or the connection is closed), nothing is written to storage or published, and ingest keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sonda_storage import UrlSigner, load_signing_secret

from tests.reliability.services import ServiceProcess, clean_env, services
from tests.support.servers import fresh_postgres_database, running_nats

pytestmark = pytest.mark.slow

IDLE_TIMEOUT_S = 2.0


@dataclass
class Ingest:
    process: ServiceProcess
    data_dir: Path
    nats_url: str

    @property
    def url(self) -> str:
        return self.process.url

    def files(self) -> set[Path]:
        """Every file under the objects folder (finished objects and temporary ones)."""
        root = self.data_dir / "objects"
        return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()

    def messages(self) -> int:
        async def count() -> int:
            nc = await nats.connect(self.nats_url)
            try:
                info = await nc.jetstream().stream_info("EDA")
                return int(info.state.messages)
            finally:
                await nc.close()

        return asyncio.run(count())


@pytest.fixture(scope="module")
def ingest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    root = tmp_path_factory.mktemp("hostile")
    with running_nats(root / "nats") as nats_server, fresh_postgres_database() as database_url:
        env = clean_env(
            NATS_URL=nats_server.url,
            DATABASE_URL=database_url,
            SONDA_DATA_DIR=str(root / "data"),
            SONDA_LOG_JSON="true",
            SONDA_LOG_LEVEL="info",
            SONDA_MAX_UPLOAD_MB="1",
            SONDA_UPLOAD_IDLE_TIMEOUT_S=str(IDLE_TIMEOUT_S),
        )
        with services(env, root / "logs") as group:
            process = asyncio.run(group.start("ingest"))
            yield Ingest(process, root / "data", nats_server.url)


@pytest.fixture
def untouched(ingest: Ingest) -> Iterator[None]:
    """Nothing is written to storage and nothing is published while the test runs."""
    files, messages = ingest.files(), ingest.messages()
    yield
    assert ingest.files() == files
    assert ingest.messages() == messages
    assert httpx.get(f"{ingest.url}/api/v1/health/ready", timeout=10).status_code == 200


def _issue(ingest: Ingest, filename: str = "data.csv") -> dict[str, Any]:
    response = httpx.get(
        f"{ingest.url}/api/v1/r2/presigned-upload", params={"filename": filename}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _raw(ingest: Ingest, request: bytes, *, timeout: float = 10.0) -> bytes:
    """Send bytes exactly as given (no client normalises the path) and read the answer."""
    with socket.create_connection(("127.0.0.1", ingest.process.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _problem(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    expected = (status,) if isinstance(status, int) else status
    assert response.status_code in expected, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] and body["status"] == response.status_code
    return body


TRAVERSALS = [
    "/api/v1/uploads/../../../../tmp/pwned-{tag}",
    "/api/v1/uploads/{id}/..%2f..%2f..%2ftmp%2fpwned-{tag}",
    "/api/v1/uploads/{id}/%2e%2e%2fpwned-{tag}",
    "/api/v1/uploads/%2e%2e/%2e%2e/pwned-{tag}",
    "/api/v1/uploads/{id}/..\\..\\pwned-{tag}",
    "/api/v1/uploads/{id}/pwned%00-{tag}.csv",
    "/api/v1/uploads/not-a-uuid/pwned-{tag}.csv",
    "/api/v1/uploads/{id}/.hidden-{tag}",
    "/api/v1/uploads/{id}/sub/dir/pwned-{tag}.csv",
    "/api/v1/uploads//etc/pwned-{tag}",
]


@pytest.mark.parametrize("template", TRAVERSALS)
def test_path_traversal_in_the_upload_path_is_refused(ingest: Ingest, untouched: None, template: str) -> None:
    genuine = _issue(ingest)
    query = urlsplit(genuine["upload_url"]).query
    tag = uuid.uuid4().hex[:8]
    path = template.format(id=uuid.uuid4(), tag=tag)
    body = b"a,b\n1,2\n"
    answer = _raw(
        ingest,
        f"PUT {path}?{query} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body,
    )
    assert 400 <= _status(answer) < 500, answer[:300]
    assert not any(Path(p).exists() for p in (f"/tmp/pwned-{tag}", f"/etc/pwned-{tag}"))


def test_tampered_and_expired_signatures_are_refused(ingest: Ingest, untouched: None) -> None:
    genuine = _issue(ingest)
    parts = urlsplit(genuine["upload_url"])
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{ingest.url}{parts.path}"
    other_key_path = parts.path.replace(genuine["file_key"].split("/")[1], str(uuid.uuid4()))
    flipped = params["sig"][:-1] + ("A" if params["sig"][-1] != "A" else "B")
    signer = UrlSigner(load_signing_secret(ingest.data_dir))
    key = genuine["file_key"]
    past = int(time.time()) - 60
    expired_sig = signer.sign("PUT", key, expires=past, max_bytes=int(params["max"]))
    cases = {
        "flipped signature": (base, {**params, "sig": flipped}),
        "later expiry": (base, {**params, "expires": str(int(params["expires"]) + 3600)}),
        "larger limit": (base, {**params, "max": str(int(params["max"]) * 1000)}),
        "no signature": (base, {k: v for k, v in params.items() if k != "sig"}),
        "another key": (f"{ingest.url}{other_key_path}", params),
        "expired but genuine": (base, {"expires": str(past), "max": params["max"], "sig": expired_sig}),
        "garbage numbers": (base, {**params, "expires": "1e9", "max": "-1"}),
    }
    codes = {}
    for name, (url, query) in cases.items():
        response = httpx.put(url, params=query, content=b"a,b\n1,2\n", timeout=10)
        codes[name] = _problem(response, (400, 401, 403, 404, 410))["code"]
    assert codes["expired but genuine"] != codes["flipped signature"], codes  # expiry told apart


def test_huge_and_numerous_headers_are_refused_and_ingest_survives(ingest: Ingest, untouched: None) -> None:
    huge = "x" * (256 * 1024)
    answer = _raw(
        ingest, f"GET /api/v1/health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: {huge}\r\n\r\n".encode()
    )
    assert _status(answer) in (0, 400, 431), answer[:200]  # refused, or the connection dropped
    many = "".join(f"X-H{i}: {i}\r\n" for i in range(20_000))
    answer = _raw(ingest, f"GET /api/v1/health/live HTTP/1.1\r\nHost: localhost\r\n{many}\r\n".encode())
    assert _status(answer) in (0, 400, 431), answer[:200]
    # an API key or an id that is far too long is refused as a value, not a crash
    response = httpx.post(
        f"{ingest.url}/api/v1/analysis/start-enhanced",
        json={"file_key": "uploads/x/y.csv"},
        headers={"Idempotency-Key": "k" * 8000, "X-Correlation-Id": "c" * 8000},
        timeout=10,
    )
    assert 400 <= response.status_code < 500


def _response(sock: socket.socket) -> bytes:
    """One HTTP response (head and Content-Length body), without waiting for the close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def _put_head(parts: Any, length: int) -> bytes:
    return f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n\r\n".encode()


def test_a_slow_loris_upload_is_cut_off_and_leaves_nothing(ingest: Ingest, untouched: None) -> None:
    parts = urlsplit(_issue(ingest)["upload_url"])
    with socket.create_connection(("127.0.0.1", ingest.process.port), timeout=IDLE_TIMEOUT_S * 5) as sock:
        sock.sendall(_put_head(parts, 100_000) + b"a,b\n")
        started = time.monotonic()
        # A byte now and then: never idle long enough for the idle timeout, far below the rate.
        while not select.select([sock], [], [], IDLE_TIMEOUT_S * 0.6)[0]:
            assert time.monotonic() - started < IDLE_TIMEOUT_S * 30, "the trickle was never cut off"
            sock.sendall(b"1")
        answer = _response(sock)
    assert _status(answer) == 408, answer[:300]
    assert b"upload_too_slow" in answer


def test_a_stalled_upload_is_cut_off(ingest: Ingest, untouched: None) -> None:
    parts = urlsplit(_issue(ingest)["upload_url"])
    with socket.create_connection(("127.0.0.1", ingest.process.port), timeout=IDLE_TIMEOUT_S * 5) as sock:
        sock.sendall(_put_head(parts, 1000) + b"a,b\n")
        started = time.monotonic()
        answer = _response(sock)
        waited = time.monotonic() - started
    assert _status(answer) == 408, answer[:300]
    assert IDLE_TIMEOUT_S * 0.9 < waited < IDLE_TIMEOUT_S * 3, waited


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    file_key=st.one_of(
        st.text(max_size=200),
        st.sampled_from(
            [
                "results/00000000-0000-0000-0000-000000000000.json",
                "../../etc/passwd",
                "/etc/passwd",
                "uploads/../../etc/passwd",
                "uploads/00000000-0000-0000-0000-000000000000/../../x.csv",
                "uploads/00000000-0000-0000-0000-000000000000/a\x00b.csv",
                "uploads\\00000000-0000-0000-0000-000000000000\\a.csv",
                "uploads/00000000-0000-0000-0000-000000000000/never-uploaded.csv",
                "s3://other-bucket/secret.csv",
                "uploads/" + "a" * 5000,
            ]
        ),
    ),
    options=st.one_of(
        st.none(), st.dictionaries(st.text(max_size=20), st.integers() | st.text(max_size=20), max_size=3)
    ),
)
def test_foreign_file_keys_never_start_anything(ingest: Ingest, file_key: str, options: Any) -> None:
    before = ingest.messages()
    response = httpx.post(
        f"{ingest.url}/api/v1/analysis/start-enhanced",
        json={"file_key": file_key, "analysis_type": "basic_eda", "options": options},
        timeout=10,
    )
    _problem(response, (400, 404, 413, 422))
    assert ingest.messages() == before
