"""Every HTTP API fuzzed against its own OpenAPI schema with schemathesis: no 5xx, and every error a
JSON problem body ``{type, title, status, detail, code}``
(``type`` omitted means ``about:blank``) whose ``status`` is the response's.

ingest, the notifier and query run as real processes (uvicorn) on a private NATS and a fresh
Postgres database, with one analysis started so that some generated ids exist. Positive and
negative cases (schema-valid and schema-breaking) are mixed; the example count is bounded so the
module runs in about a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.reliability.clients import close_code, started, upload_file
from tests.reliability.services import ServiceProcess, Services, clean_env, services
from tests.support.servers import fresh_postgres_database, running_nats

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SONDA_FUZZ_EXAMPLES", "300"))
#: ``type`` may be left out: RFC 9457 reads a missing ``type`` as "about:blank".
PROBLEM_FIELDS = {"title", "status", "detail", "code"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    root = tmp_path_factory.mktemp("http-fuzz")
    with (
        running_nats(root / "nats") as nats_server,
        fresh_postgres_database() as database_url,
    ):
        env = clean_env(
            NATS_URL=nats_server.url,
            DATABASE_URL=database_url,
            SONDA_DATA_DIR=str(root / "data"),
            SONDA_LOG_JSON="true",
            SONDA_LOG_LEVEL="warning",
            SONDA_WS_UNKNOWN_GRACE="0.2",
            QUERY_STATUS_WAIT_S="0.1",
        )
        with services(env, root / "logs") as group:
            asyncio.run(_start(group))
            yield group.running


async def _start(group: Services) -> None:
    ingest, _, _ = await asyncio.gather(group.start("ingest"), group.start("notifier"), group.start("query"))
    sample = ingest.log_path.parent / "sample.csv"
    sample.write_text("a,b\n1,2\n3,4\n")
    async with httpx.AsyncClient(base_url=ingest.url, timeout=30) as client:
        await started(client, await upload_file(client, sample))


def _schema(process: ServiceProcess) -> Any:
    return schemathesis.openapi.from_url(f"{process.url}/schema/openapi.json", timeout=10)


def _check(response: Any, case: Any) -> None:
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith(("application/problem+json", "application/json")), where
        body = response.json()
        assert set(body) >= PROBLEM_FIELDS, where
        assert body["status"] == response.status_code, where
        assert isinstance(body["code"], str) and body["code"], where
        assert body.get("type", "about:blank") == "about:blank" or body["type"].startswith("http"), where


@pytest.mark.parametrize("service", ["ingest", "notifier", "query"])
def test_api_never_answers_5xx_and_every_error_is_a_problem(
    running: dict[str, ServiceProcess], service: str, tmp_path: Path
) -> None:
    process = running[service]
    schema = _schema(process)
    strategy = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    seen: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        response = case.call(base_url=process.url, timeout=15)
        seen[f"{case.method} {case.path}"] = seen.get(f"{case.method} {case.path}", 0) + 1
        _check(response, case)

    fuzz()
    # every operation of the schema got generated requests
    operations = {
        f"{result.ok().method.upper()} {result.ok().path}" for result in schema.get_all_operations()
    }
    assert operations <= set(seen), operations - set(seen)
    # and the service is still healthy afterwards
    with contextlib.closing(httpx.Client(timeout=10)) as client:
        assert client.get(f"{process.url}/api/v1/health/ready").status_code == 200


#: Ids no service may take, each as it appears in a URL path: not a UUID, and UUID spellings
#: ``uuid.UUID`` would accept (non-ASCII digits, braces, no hyphens, a trailing blank).
MALFORMED_IDS = [
    "not-a-uuid",
    "1234",
    quote("١١١١١١١١-١١١١-١١١١-١١١١-١١١١١١١١١١١١"),
    quote("{12345678-1234-1234-1234-1234567890ab}"),
    "123456781234123412341234567890ab",
    "12345678-1234-1234-1234-1234567890a%20",
]


async def _answers(running: dict[str, ServiceProcess], analysis_id: str) -> dict[str, tuple[int, str]]:
    """Status and problem code of every HTTP route taking an analysis id in its path."""
    requests = [
        ("ingest", "DELETE", f"/api/v1/analysis/{analysis_id}"),
        ("query", "GET", f"/api/v1/analysis/status-enhanced/{analysis_id}"),
        ("query", "GET", f"/api/v1/analysis/results-enhanced/{analysis_id}"),
        ("query", "GET", f"/api/v1/analysis/summary-for-llm/{analysis_id}"),
        ("query", "GET", f"/api/v1/analysis/schema/{analysis_id}"),
    ]
    answers = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service, method, path in requests:
            response = await client.request(method, running[service].url + path)
            answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    return answers


def _websocket(running: dict[str, ServiceProcess], analysis_id: str) -> str:
    return running["notifier"].url.replace("http://", "ws://") + f"/api/v1/analysis/websocket/{analysis_id}"


@pytest.mark.parametrize("malformed", MALFORMED_IDS)
async def test_a_malformed_analysis_id_is_refused_alike_by_every_service(
    running: dict[str, ServiceProcess], malformed: str
) -> None:
    answers = await _answers(running, malformed)
    assert set(answers.values()) == {(400, "invalid_analysis_id")}, answers
    async with connect(_websocket(running, malformed), open_timeout=10) as socket:
        assert await close_code(socket) == 4400  # the WebSocket form of a 400


async def test_a_path_escape_reaches_no_route_of_any_service(running: dict[str, ServiceProcess]) -> None:
    # ``%2F`` is decoded before routing: ``../etc`` is two segments, so no route takes it as an id
    answers = await _answers(running, "..%2Fetc")
    assert set(answers.values()) == {(404, "not_found")}, answers
    with pytest.raises(InvalidStatus) as refused:
        async with connect(_websocket(running, "..%2Fetc"), open_timeout=10):
            pass
    # no route: the handshake is refused (uvicorn answers any refusal before accept with 403)
    assert refused.value.response.status_code == 403
