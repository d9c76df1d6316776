"""Listing: every filter, keyset pages in a stable order, and refused parameters (Postgres and SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sonda_events.contract import AnalysisRequested

from tests.query.conftest import Harness, HarnessFactory
from tests.query.factories import T0, Stream
from tests.query.test_endpoints import assert_problem

LIST = "/api/v1/analysis/list"
SHARED_KEY = f"uploads/{uuid.UUID(int=7)}/shared.csv"


@dataclass(frozen=True)
class Expected:
    analysis_id: str
    created_at: datetime
    status: str
    deleted: bool
    file_key: str


@pytest.fixture
async def population(
    query_app: HarnessFactory, database_url: str
) -> AsyncIterator[tuple[Harness, list[Expected]]]:
    async with query_app(database_url) as harness:
        expected = []
        for i in range(28):
            # Pairs share a creation time: the order must still be total (analysis_id breaks ties).
            s = Stream(at=T0 + timedelta(hours=i // 2))
            key = SHARED_KEY if i % 3 == 0 else None
            events = [s.requested(file_key=key)]
            kind = i % 5
            if kind >= 1:
                events.append(s.started())
            if kind in (2, 4):
                events.append(await harness.completed(s))
            if kind == 3:
                events.append(s.failed())
            if kind == 4:
                events.append(s.deleted())
            await harness.append(*events)
            requested = events[0]
            assert isinstance(requested, AnalysisRequested)
            status = {0: "pending", 1: "running", 2: "completed", 3: "failed", 4: "completed"}[kind]
            expected.append(
                Expected(
                    str(s.analysis_id), requested.occurred_at, status, kind == 4, requested.data.file_key
                )
            )
        await harness.settle()
        expected.sort(key=lambda e: (e.created_at, e.analysis_id), reverse=True)
        yield harness, expected


async def all_pages(harness: Harness, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await harness.client.get(LIST, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit


def ids(items: list[Any]) -> list[str]:
    return [item["analysis_id"] if isinstance(item, dict) else item.analysis_id for item in items]


async def test_pages_cover_everything_once_in_a_stable_order(
    population: tuple[Harness, list[Expected]],
) -> None:
    harness, expected = population
    visible = [e for e in expected if not e.deleted]
    for limit in (1, 5, 50):
        assert ids(await all_pages(harness, limit)) == ids(visible)
    first = (await harness.client.get(LIST)).json()
    assert first["next_cursor"] is None and len(first["items"]) == len(visible)
    item = first["items"][0]
    assert set(item) >= {
        "analysis_id", "file_key", "filename", "status", "progress", "stage",
        "created_at", "completed_at", "rows", "columns", "error_message",
    }  # fmt: skip


async def test_filters(population: tuple[Harness, list[Expected]]) -> None:
    harness, expected = population
    for status in ("pending", "running", "completed", "failed"):
        want = [e for e in expected if e.status == status and not e.deleted]
        got = await all_pages(harness, 3, status=status)
        assert ids(got) == ids(want)
        assert {item["status"] for item in got} <= {status}
    assert ids(await all_pages(harness, 4, status="deleted")) == ids([e for e in expected if e.deleted])
    assert ids(await all_pages(harness, 4, include_deleted="true")) == ids(expected)
    with_deleted = await all_pages(harness, 4, status="completed", include_deleted="true")
    assert ids(with_deleted) == ids([e for e in expected if e.status == "completed"])
    assert {i["status"] for i in with_deleted} == {"completed", "deleted"}
    assert ids(await all_pages(harness, 2, file_key=SHARED_KEY)) == ids(
        [e for e in expected if e.file_key == SHARED_KEY and not e.deleted]
    )
    after, before = T0 + timedelta(hours=3, seconds=1), T0 + timedelta(hours=9, seconds=1)
    window = await all_pages(harness, 3, created_after=after.isoformat(), created_before=before.isoformat())
    assert ids(window) == ids([e for e in expected if after <= e.created_at < before and not e.deleted])
    assert window  # the bounds hit rows: inclusive after, exclusive before
    naive = await all_pages(harness, 50, created_after="2026-01-01T03:00:01")  # no offset: UTC
    assert ids(naive) == ids([e for e in expected if e.created_at >= after and not e.deleted])


async def test_refused_parameters(population: tuple[Harness, list[Expected]]) -> None:
    harness, _ = population
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"status": "done"},
        {"created_after": "yesterday"},
        {"include_deleted": "maybe"},
    ):
        body = assert_problem(await harness.client.get(LIST, params=params), 422, "invalid_parameter")
        assert next(iter(params)) in body["detail"]
    assert_problem(await harness.client.get(LIST, params={"cursor": "%%%"}), 422, "invalid_cursor")
    cursor = (await harness.client.get(LIST, params={"limit": 2})).json()["next_cursor"]
    other = await harness.client.get(LIST, params={"limit": 2, "cursor": cursor, "status": "failed"})
    assert_problem(other, 422, "invalid_cursor")
