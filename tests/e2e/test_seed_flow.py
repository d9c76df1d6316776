"""The seed flow end to end through ``sonda up``'s one origin: upload, start, live progress, results.

Numbers in the results are checked against pandas on the same frame, never hard-coded.
"""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.e2e.flow import analyse
from tests.e2e.sonda_up import SondaUp

pytestmark = pytest.mark.slow


async def test_seed_flow_through_one_origin(sonda: SondaUp, sales: pd.DataFrame, sales_csv: Path) -> None:
    analysis_id, messages = await analyse(sonda.url, sonda.ws_url, sales_csv)

    kinds = [m["type"] for m in messages]
    assert kinds[0] == "connection_established"
    assert kinds[-1] == "analysis_completed", messages[-1]
    progress = [m["progress"] for m in messages if m["type"] == "analysis_status"]
    assert progress, "no live progress arrived over the WebSocket"
    assert progress == sorted(progress) and progress[0] >= 0 and progress[-1] <= 100
    assert messages[-1]["summary"]["rows"] == len(sales)

    async with httpx.AsyncClient(base_url=sonda.url, timeout=30, trust_env=False) as client:
        results = await client.get(f"/api/v1/analysis/results-enhanced/{analysis_id}")
        assert results.status_code == 200, results.text
        body = results.json()["results"]
        assert body["dataset"]["rows"] == len(sales)
        assert body["dataset"]["columns"] == sales.shape[1]
        assert body["dataset"]["delimiter"] == ";"
        columns = {c["name"]: c for c in body["columns"]}
        assert set(columns) == set(sales.columns)
        for name in ("preco", "total"):
            stats = columns[name]["stats"]
            assert math.isclose(stats["mean"], sales[name].mean(), rel_tol=1e-9)
            assert math.isclose(stats["std"], sales[name].std(), rel_tol=1e-9)
        assert columns["cidade"]["distinct"] == sales["cidade"].nunique()

        summary = await client.get(f"/api/v1/analysis/summary-for-llm/{analysis_id}")
        assert summary.status_code == 200, summary.text
        llm = summary.json()
        assert sales_csv.name in llm["text"] and "cidade" in llm["text"]
        assert 0 < llm["tokens"] <= llm["max_tokens"]

        status = (await client.get(f"/api/v1/analysis/status-enhanced/{analysis_id}")).json()
        assert status["status"] == "completed"
        listed = (
            await client.get(
                "/api/v1/analysis/list",
                params={"status": "completed", "limit": 50, "file_key": status["file_key"]},
            )
        ).json()
        assert analysis_id in [item["analysis_id"] for item in listed["items"]]

        info = await client.get("/api/v1/analysis/websocket-info")
        assert info.status_code == 200 and "active_connections" in info.json()
        health = await client.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["service"] == "query"


async def test_delete_goes_to_ingest_and_the_read_model_follows(sonda: SondaUp, sales_csv: Path) -> None:
    analysis_id, _ = await analyse(sonda.url, sonda.ws_url, sales_csv)
    async with httpx.AsyncClient(base_url=sonda.url, timeout=30, trust_env=False) as client:
        deleted = await client.delete(f"/api/v1/analysis/{analysis_id}")
        assert deleted.status_code in (200, 202, 204), deleted.text
        for _ in range(100):
            status = (await client.get(f"/api/v1/analysis/status-enhanced/{analysis_id}")).json()
            if status["status"] == "deleted":
                break
        assert status["status"] == "deleted"


async def test_the_page_and_unknown_paths(sonda: SondaUp) -> None:
    async with httpx.AsyncClient(base_url=sonda.url, timeout=10, trust_env=False) as client:
        page = await client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert 'id="file-input"' in page.text
        script = await client.get("/app.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        again = await client.get("/app.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304
        missing = await client.get("/api/v1/no-such-endpoint")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        outside = await client.get("/../../etc/passwd")
        assert outside.status_code == 404
