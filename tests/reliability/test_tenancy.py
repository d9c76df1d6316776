"""Tenancy, against the four services as processes: keys own their analyses and uploads.

Key A and key B each upload a file and run an analysis; B then tries every endpoint on A's analysis
and upload, and each answers exactly as for an id nobody knows (404, the same code), while A and
an admin key get their answers. ``docs/reliability.md`` lists the cases as a table.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
from sonda_events.bus import Publisher, close_nats, connect_nats
from sonda_events.contract import AnalysisRequested, RequestedData, new_event
from websockets.asyncio.client import connect

from tests.reliability.clients import close_code
from tests.reliability.services import ServiceProcess, clean_env, services
from tests.support.servers import fresh_postgres_database, running_nats

pytestmark = pytest.mark.slow

KEY_A = "tenant-a-key-5b1d0c9e7f"
KEY_B = "tenant-b-key-8e2a4f6d13"
ADMIN = "tenant-admin-key-c4e8a2"
CSV = b"city;amount\nRecife;1,5\nNatal;2,5\nBelem;4,0\n"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Tenants:
    ingest: ServiceProcess
    query: ServiceProcess
    notifier: ServiceProcess
    #: A's analysis and upload, completed; B's analysis.
    a_analysis: str
    a_file_key: str
    b_analysis: str


async def _upload(client: httpx.AsyncClient, key: str) -> str:
    issued = await client.get(
        "/api/v1/r2/presigned-upload", params={"filename": "vendas.csv"}, headers=auth(key)
    )
    assert issued.status_code == 200, issued.text
    put = await client.put(issued.json()["upload_url"], content=CSV)
    assert put.status_code == 200, put.text
    file_key: str = issued.json()["file_key"]
    return file_key


async def _start(client: httpx.AsyncClient, key: str, file_key: str) -> httpx.Response:
    return await client.post(
        "/api/v1/analysis/start-enhanced",
        json={"file_key": file_key, "analysis_type": "basic_eda"},
        headers=auth(key),
    )


async def _completed(query: httpx.AsyncClient, key: str, analysis_id: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await query.get(f"/api/v1/analysis/status-enhanced/{analysis_id}", headers=auth(key))
        if status.status_code == 200 and status.json()["status"] == "completed":
            return
        assert status.status_code == 200, status.text
        assert status.json()["status"] in ("pending", "running"), status.text
        await asyncio.sleep(0.1)
    raise TimeoutError(f"analysis {analysis_id} did not complete")


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("tenants")
    with running_nats(root / "nats") as nats_server, fresh_postgres_database() as database_url:
        env = clean_env(
            NATS_URL=nats_server.url,
            DATABASE_URL=database_url,
            SONDA_DATA_DIR=str(root / "data"),
            SONDA_LOG_JSON="true",
            SONDA_LOG_LEVEL="info",
            SONDA_API_KEYS=f"{digest(KEY_A)},{digest(KEY_B)}",
            SONDA_ADMIN_API_KEYS=digest(ADMIN),
            # An unknown id is waited for this long before its 404: keeps the many 404s short.
            QUERY_STATUS_WAIT_S="0.3",
        )
        with services(env, root / "logs") as group:

            async def start_all() -> Tenants:
                ingest, query, notifier, _ = await asyncio.gather(
                    group.start("ingest"),
                    group.start("query"),
                    group.start("notifier"),
                    group.start("analyzer"),
                )
                async with (
                    httpx.AsyncClient(base_url=ingest.url, timeout=30, trust_env=False) as ing,
                    httpx.AsyncClient(base_url=query.url, timeout=30, trust_env=False) as qry,
                ):
                    a_file = await _upload(ing, KEY_A)
                    a_started = await _start(ing, KEY_A, a_file)
                    b_started = await _start(ing, KEY_B, await _upload(ing, KEY_B))
                    assert a_started.status_code == b_started.status_code == 202
                    a_id, b_id = a_started.json()["analysis_id"], b_started.json()["analysis_id"]
                    await _completed(qry, KEY_A, a_id)
                    await _completed(qry, KEY_B, b_id)
                return Tenants(ingest, query, notifier, a_id, a_file, b_id)

            yield asyncio.run(start_all())


@pytest.fixture
async def query(tenants: Tenants) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=tenants.query.url, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
async def ingest(tenants: Tenants) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=tenants.ingest.url, timeout=30, trust_env=False) as client:
        yield client


def _not_found(response: httpx.Response, code: str = "analysis_not_found") -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/analysis/status-enhanced/{id}",
        "/api/v1/analysis/results-enhanced/{id}",
        "/api/v1/analysis/summary-for-llm/{id}",
        "/api/v1/analysis/summary-for-llm/{id}?format=json&max_tokens=500",
    ],
)
async def test_another_keys_analysis_reads_as_unknown(
    tenants: Tenants, query: httpx.AsyncClient, path: str
) -> None:
    unknown = await query.get(path.format(id=uuid.uuid4()), headers=auth(KEY_B))
    theirs = await query.get(path.format(id=tenants.a_analysis), headers=auth(KEY_B))
    _not_found(unknown)
    _not_found(theirs)
    assert theirs.json()["title"] == unknown.json()["title"]
    # The owner and an admin read it.
    assert (await query.get(path.format(id=tenants.a_analysis), headers=auth(KEY_A))).status_code == 200
    assert (await query.get(path.format(id=tenants.a_analysis), headers=auth(ADMIN))).status_code == 200
    assert (await query.get(path.format(id=tenants.b_analysis), headers=auth(KEY_B))).status_code == 200


async def test_listings_hold_only_the_callers_analyses(tenants: Tenants, query: httpx.AsyncClient) -> None:
    async def listed(key: str, **params: str) -> set[str]:
        found: set[str] = set()
        cursor: str | None = None
        while True:
            page = await query.get(
                "/api/v1/analysis/list",
                params={**params, "limit": "1", **({"cursor": cursor} if cursor else {})},
                headers=auth(key),
            )
            assert page.status_code == 200, page.text
            found |= {item["analysis_id"] for item in page.json()["items"]}
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return found

    assert await listed(KEY_A) == {tenants.a_analysis}
    assert await listed(KEY_B) == {tenants.b_analysis}
    assert await listed(ADMIN) == {tenants.a_analysis, tenants.b_analysis}
    assert await listed(KEY_B, file_key=tenants.a_file_key) == set()
    assert await listed(KEY_B, status="completed") == {tenants.b_analysis}
    assert await listed(KEY_B, include_deleted="true") == {tenants.b_analysis}
    # A cursor is bound to its listing: A's cursor replayed by B is refused, not a peek at A's rows.
    first = await query.get("/api/v1/analysis/list", params={"limit": "1"}, headers=auth(ADMIN))
    cursor = first.json()["next_cursor"]
    replayed = await query.get(
        "/api/v1/analysis/list", params={"limit": "1", "cursor": cursor}, headers=auth(KEY_B)
    )
    assert replayed.status_code == 422 and replayed.json()["code"] == "invalid_cursor"


async def test_another_key_cannot_delete_nor_reanalyse(
    tenants: Tenants, ingest: httpx.AsyncClient, query: httpx.AsyncClient
) -> None:
    _not_found(await ingest.delete(f"/api/v1/analysis/{tenants.a_analysis}", headers=auth(KEY_B)))
    _not_found(await ingest.delete(f"/api/v1/analysis/{uuid.uuid4()}", headers=auth(KEY_B)))
    status = await query.get(f"/api/v1/analysis/status-enhanced/{tenants.a_analysis}", headers=auth(KEY_A))
    assert status.json()["status"] == "completed", "B's delete changed nothing"

    # A's upload, as B: the same answer as an upload that does not exist.
    theirs = await _start(ingest, KEY_B, tenants.a_file_key)
    missing = await _start(ingest, KEY_B, f"uploads/{uuid.uuid4()}/vendas.csv")
    _not_found(theirs, "object_not_found")
    _not_found(missing, "object_not_found")
    # The owner may analyse it again; so may an admin.
    again = await _start(ingest, KEY_A, tenants.a_file_key)
    assert again.status_code == 202, again.text
    by_admin = await _start(ingest, ADMIN, tenants.a_file_key)
    assert by_admin.status_code == 202, by_admin.text
    # That analysis is the admin's own: A does not see it.
    admin_id = by_admin.json()["analysis_id"]
    await _completed(query, ADMIN, admin_id)
    _not_found(await query.get(f"/api/v1/analysis/status-enhanced/{admin_id}", headers=auth(KEY_A)))
    # Delete by the owner works (on the re-run, so the other tests keep A's first analysis).
    again_id = again.json()["analysis_id"]
    await _completed(query, KEY_A, again_id)
    deleted = await ingest.delete(f"/api/v1/analysis/{again_id}", headers=auth(KEY_A))
    assert deleted.status_code == 200, deleted.text


async def test_maintenance_needs_an_admin_key(tenants: Tenants, ingest: httpx.AsyncClient) -> None:
    path = "/api/v1/maintenance/cleanup-old-analyses?days_old=3650"
    for key in (KEY_A, KEY_B):
        refused = await ingest.post(path, headers=auth(key))
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
    allowed = await ingest.post(path, headers=auth(ADMIN))
    assert allowed.status_code == 200, allowed.text


async def test_websockets_open_only_the_callers_analyses(tenants: Tenants) -> None:
    base = tenants.notifier.url.replace("http://", "ws://") + "/api/v1/analysis/websocket"

    async def code_of(analysis_id: str, key: str) -> int | None:
        async with connect(f"{base}/{analysis_id}?api_key={key}", open_timeout=10) as ws:
            return await close_code(ws)

    unknown, theirs = await asyncio.gather(
        code_of(str(uuid.uuid4()), KEY_B), code_of(tenants.a_analysis, KEY_B)
    )
    assert unknown == theirs == 4404
    for key in (KEY_A, ADMIN):
        async with connect(f"{base}/{tenants.a_analysis}?api_key={key}", open_timeout=10) as ws:
            types = []
            async with asyncio.timeout(10):
                while "analysis_completed" not in types:
                    types.append(msgspec.json.decode(await ws.recv())["type"])
            assert types[0] == "connection_established", types


async def test_websocket_info_shows_a_key_only_its_own(tenants: Tenants) -> None:
    base = tenants.notifier.url.replace("http://", "ws://") + "/api/v1/analysis/websocket"
    info_url = f"{tenants.notifier.url}/api/v1/analysis/websocket-info"
    async with (
        connect(f"{base}/{tenants.a_analysis}?api_key={KEY_A}", open_timeout=10) as a_ws,
        connect(f"{base}/{tenants.b_analysis}?api_key={KEY_B}", open_timeout=10) as b_ws,
        httpx.AsyncClient(timeout=10, trust_env=False) as client,
    ):
        await a_ws.recv()
        await b_ws.recv()  # both sessions are established
        seen = {}
        for key in (KEY_A, KEY_B, ADMIN):
            info = await client.get(info_url, headers=auth(key))
            assert info.status_code == 200, info.text
            seen[key] = info.json()
    assert seen[KEY_A]["analyses"] == {tenants.a_analysis: 1} and seen[KEY_A]["active_connections"] == 1
    assert seen[KEY_B]["analyses"] == {tenants.b_analysis: 1} and seen[KEY_B]["active_connections"] == 1
    assert seen[ADMIN]["analyses"] == {tenants.a_analysis: 1, tenants.b_analysis: 1}


async def test_events_without_a_principal_belong_to_the_default_one(
    tenants: Tenants, query: httpx.AsyncClient
) -> None:
    """Another system's ``AnalysisRequested`` without ``requested_by`` is ``anonymous``'s: only
    admins see it while keys are on; with ``requested_by`` set to a key's id, that key owns it."""
    nc = await connect_nats(tenants.ingest.env["NATS_URL"], name="other-system")
    ids: dict[str | None, str] = {}
    key_a_id = "key_" + hashlib.sha256(KEY_A.encode()).hexdigest()[:12]
    try:
        publisher = Publisher(nc)
        for owner in (None, key_a_id):
            data = RequestedData(file_key=tenants.a_file_key, analysis_type="basic_eda")
            if owner is not None:
                data = msgspec.structs.replace(data, requested_by=owner)
            event = new_event(
                AnalysisRequested, analysis_id=uuid.uuid4(), version=1, data=data, producer="other"
            )
            await publisher.publish(event, expected_last_seq=0)
            ids[owner] = str(event.analysis_id)
    finally:
        await close_nats(nc)
    await _completed(query, ADMIN, ids[None])
    for key in (KEY_A, KEY_B):
        _not_found(await query.get(f"/api/v1/analysis/status-enhanced/{ids[None]}", headers=auth(key)))
    await _completed(query, KEY_A, ids[key_a_id])
    _not_found(await query.get(f"/api/v1/analysis/status-enhanced/{ids[key_a_id]}", headers=auth(KEY_B)))
