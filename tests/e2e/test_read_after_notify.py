"""Read your notification: the instant the WebSocket says ``analysis_completed``, the REST reads agree.

The seed's own flow, as a client writes it: start, follow the WebSocket, and the moment the terminal
message arrives GET the results, the status, the LLM summary and the list of running analyses — no
retry, no polling, no sleep. The
projector is usually some milliseconds behind the notifier; the query service must answer from the
events then, never with 409 or an older status. Many analyses run at once, so the race is hit often:
nearly every read lands in that window (a status read right after the notification answers from
JetStream in about 99 of 100 analyses here), so 80 analyses put it to the test 80 times.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import running_sonda
from tests.e2e.flow import follow, start, upload
from tests.e2e.sonda_up import SondaUp
from tests.support.servers import NatsServer

pytestmark = pytest.mark.slow

ANALYSES = 80
AT_ONCE = 16


def small_csv(path: Path) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "valor": rng.normal(100, 15, 40).round(2),
            "qtd": rng.integers(0, 9, 40),
            "uf": rng.choice(["SP", "RJ", "MG"], 40),
        }
    )
    frame.to_csv(path, index=False)
    return path, frame


async def read_after_notify(sonda: SondaUp, path: Path, frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Run ``ANALYSES`` analyses, ``AT_ONCE`` at a time; what each read answered right after the
    notification that does not match it."""
    found: dict[str, list[Any]] = {"non_200": [], "stale": [], "wrong": []}
    turns = asyncio.Semaphore(AT_ONCE)
    async with httpx.AsyncClient(base_url=sonda.url, timeout=60, trust_env=False) as client:
        key = await upload(client, path)

        async def one(index: int) -> None:
            async with turns:
                analysis_id = await start(client, key)
                messages = await follow(sonda.ws_url, analysis_id)
                done = messages[-1]
                assert done["type"] == "analysis_completed", done
                base = "/api/v1/analysis"
                reads = [
                    client.get(f"{base}/results-enhanced/{analysis_id}"),
                    client.get(f"{base}/status-enhanced/{analysis_id}"),
                ]
                if index % 5 == 0:
                    reads.append(client.get(f"{base}/summary-for-llm/{analysis_id}"))
                    running = client.get(f"{base}/list", params={"status": "running", "limit": 200})
                    pending = client.get(f"{base}/list", params={"status": "pending", "limit": 200})
                    done_list = client.get(
                        f"{base}/list", params={"status": "completed", "limit": 200, "file_key": key}
                    )
                    lists = await asyncio.gather(running, pending, done_list)
                    for listed in lists[:2]:
                        ids = [item["analysis_id"] for item in listed.json()["items"]]
                        if analysis_id in ids:
                            found["stale"].append((analysis_id, "listed", listed.request.url.query))
                    if analysis_id not in [item["analysis_id"] for item in lists[2].json()["items"]]:
                        found["stale"].append((analysis_id, "not listed as completed"))
                answers = await asyncio.gather(*reads)
            for answer in answers:
                if answer.status_code != 200:
                    found["non_200"].append((answer.request.url.path, answer.status_code, answer.text[:200]))
            results, status = answers[0], answers[1]
            if status.status_code == 200:
                body = status.json()
                if body["status"] != "completed" or body["version"] < done["version"]:
                    found["stale"].append((analysis_id, body["status"], body["version"], done["version"]))
            if results.status_code == 200:
                dataset = results.json()["results"]["dataset"]
                if (dataset["rows"], dataset["columns"]) != frame.shape:
                    found["wrong"].append((analysis_id, dataset["rows"], dataset["columns"]))

        await asyncio.gather(*(one(i) for i in range(ANALYSES)))
    return found


async def test_reads_right_after_completed_on_sqlite(sonda: SondaUp, tmp_path: Path) -> None:
    path, frame = small_csv(tmp_path / "vendas.csv")
    found = await read_after_notify(sonda, path, frame)
    assert found == {"non_200": [], "stale": [], "wrong": []}


async def test_reads_right_after_completed_on_postgres(
    tmp_path: Path, private_nats: NatsServer, pg_url: str
) -> None:
    path, frame = small_csv(tmp_path / "vendas.csv")
    postgres = pg_url.replace("postgresql+psycopg://", "postgresql://")
    data = tmp_path / f"data-{uuid.uuid4().hex[:6]}"
    with running_sonda(data, "--nats", private_nats.url, "--postgres", postgres) as sonda:
        found = await read_after_notify(sonda, path, frame)
    assert found == {"non_200": [], "stale": [], "wrong": []}
