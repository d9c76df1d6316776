"""Status, results and their error answers, through the HTTP app (SQLite store, local objects)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import nats
import pytest
from sonda_events.bus import provision
from sonda_events.codec import encode
from sonda_events.lifecycle import EventNotAllowedError
from sonda_events.subjects import subject_for

from tests.query.conftest import Harness, HarnessFactory
from tests.query.factories import Stream, wide_result

STATUS = "/api/v1/analysis/status-enhanced/{}"
RESULTS = "/api/v1/analysis/results-enhanced/{}"
SUMMARY = "/api/v1/analysis/summary-for-llm/{}"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    # ``type`` is left out when it is RFC 9457's default, about:blank.
    assert {"title", "status", "detail", "code"} <= body.keys()
    assert body.get("type", "about:blank") == "about:blank"
    assert (body["status"], body["code"]) == (status, code)
    return body


async def test_status_follows_the_events(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(filename="vendas.csv"), s.started(), s.progress(42, "reading"))
    await harness.settle()
    body = (await harness.client.get(STATUS.format(s.analysis_id))).json()
    assert body["status"] == "running"
    assert (body["progress"], body["stage"], body["version"]) == (42.0, "reading", 3)
    assert (body["filename"], body["source"]) == ("vendas.csv", "projection")
    await harness.append(s.failed("unreadable_file", "not a table"))
    await harness.settle()
    body = (await harness.client.get(STATUS.format(s.analysis_id))).json()
    assert (body["status"], body["error_code"], body["error_message"]) == (
        "failed",
        "unreadable_file",
        "not a table",
    )


async def test_status_asked_before_the_start_waits_for_it(harness: Harness) -> None:
    s = Stream()
    request = asyncio.create_task(harness.client.get(STATUS.format(s.analysis_id)))
    await asyncio.sleep(0.15)  # the request is already waiting when the event arrives
    await harness.append(s.requested())
    response = await request
    assert response.status_code == 200
    # The events answer as soon as the store has them, whether or not the projector has run.
    assert response.json()["status"] == "pending"
    assert response.json()["source"] in ("projection", "event_store")


async def test_status_waits_for_a_version(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(), s.started())
    await harness.settle()
    request = asyncio.create_task(harness.client.get(STATUS.format(s.analysis_id), params={"min_version": 3}))
    await asyncio.sleep(0.1)
    await harness.append(s.progress(10))
    assert (await request).json()["version"] == 3


async def test_status_from_the_store_and_from_jetstream_before_projection(
    query_app: HarnessFactory, sqlite_url: str, nats_url: str
) -> None:
    async with query_app(sqlite_url, query_projector="false") as running:
        stored = Stream()
        await running.append(stored.requested(), stored.started())
        body = (await running.client.get(STATUS.format(stored.analysis_id))).json()
        assert (body["status"], body["source"], body["version"]) == ("running", "event_store", 2)

        published = Stream()
        event = published.requested()
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            await provision(js)
            await js.publish(subject_for(event.analysis_id, event.type), encode(event))
        finally:
            await nc.close()
        body = (await running.client.get(STATUS.format(published.analysis_id))).json()
        assert (body["status"], body["source"]) == ("pending", "jetstream")

        unknown = await running.client.get(STATUS.format(uuid.uuid4()))
        assert_problem(unknown, 404, "analysis_not_found")


async def test_unknown_and_invalid_ids(harness: Harness) -> None:
    for path in (STATUS, RESULTS, SUMMARY):
        assert_problem(await harness.client.get(path.format(uuid.uuid4())), 404, "analysis_not_found")
        # as ingest answers it (tests/fuzz/test_http_apis.py checks every service)
        body = assert_problem(await harness.client.get(path.format("not-a-uuid")), 400, "invalid_analysis_id")
        assert "analysis id" in body["detail"]
    bad_version = await harness.client.get(STATUS.format(uuid.uuid4()), params={"min_version": "x"})
    assert_problem(bad_version, 422, "invalid_parameter")


async def test_results_of_a_completed_analysis(harness: Harness) -> None:
    s = Stream()
    result = wide_result(6)
    await harness.append(s.requested(filename="vendas.csv"), s.started(), await harness.completed(s, result))
    await harness.settle()
    response = await harness.client.get(RESULTS.format(s.analysis_id))
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == result
    assert (body["analysis_id"], body["status"], body["filename"]) == (
        str(s.analysis_id),
        "completed",
        "vendas.csv",
    )
    assert body["summary"]["rows"] == 100
    assert body["version"] == 3


async def test_results_before_completion_after_failure_and_after_delete(harness: Harness) -> None:
    running, failed, deleted = Stream(), Stream(), Stream()
    await harness.append(running.requested(), running.started())
    await harness.append(failed.requested(), failed.failed("timeout", "took too long"))
    await harness.append(deleted.requested(), await harness.completed(deleted), deleted.deleted())
    await harness.settle()
    for path in (RESULTS, SUMMARY):
        body = assert_problem(
            await harness.client.get(path.format(running.analysis_id)), 409, "analysis_not_completed"
        )
        assert "running" in body["detail"]
        body = assert_problem(
            await harness.client.get(path.format(failed.analysis_id)), 409, "analysis_failed"
        )
        assert "took too long" in body["detail"]
        assert_problem(await harness.client.get(path.format(deleted.analysis_id)), 410, "analysis_deleted")
    status = (await harness.client.get(STATUS.format(deleted.analysis_id))).json()
    assert status["status"] == "deleted" and status["deleted_at"] is not None


async def test_a_result_object_that_does_not_match_its_checksum_is_not_served(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(), await harness.completed(s))
    await harness.settle()
    key = f"results/{s.analysis_id}.json"
    await harness.storage.put_bytes(key, msgspec.json.encode(wide_result(2, seed=99)))
    assert_problem(await harness.client.get(RESULTS.format(s.analysis_id)), 502, "result_unavailable")
    await harness.storage.delete(key)
    assert_problem(await harness.client.get(SUMMARY.format(s.analysis_id)), 502, "result_unavailable")


async def test_health_endpoints(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(), s.started())
    await harness.settle()
    health = await harness.client.get("/api/v1/health")
    assert health.status_code == 200
    checks = health.json()["checks"]
    assert checks["projection"]["detail"]["projections"]["analyses"] == {"position": 2, "lag": 0}
    assert checks["cache"]["detail"]["kind"] == "memory"
    database = await harness.client.get("/api/v1/health/database")
    assert database.status_code == 200 and database.json()["detail"]["store_position"] == 2
    storage = await harness.client.get("/api/v1/health/storage")
    assert storage.status_code == 200 and storage.json()["detail"]["kind"] == "local"
    ready = await harness.client.get("/api/v1/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["projection"]["detail"]["lag"] == 0


async def test_readiness_fails_when_the_projector_stopped(query_app: HarnessFactory, sqlite_url: str) -> None:
    async with query_app(sqlite_url) as running:
        assert running.query.projector is not None
        running.query.projector.stats.running = False
        ready = await running.client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        assert "not running" in ready.json()["checks"]["projection"]["error"]


async def test_openapi_documents_the_endpoints(harness: Harness) -> None:
    schema = (await harness.client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/analysis/status-enhanced/{analysis_id}",
        "/api/v1/analysis/results-enhanced/{analysis_id}",
        "/api/v1/analysis/summary-for-llm/{analysis_id}",
        "/api/v1/analysis/list",
        "/api/v1/health",
        "/api/v1/health/database",
        "/api/v1/health/storage",
    ):
        assert path in paths, sorted(paths)
    results = paths["/api/v1/analysis/results-enhanced/{analysis_id}"]["get"]["responses"]
    assert {"200", "404", "409", "410", "422"} <= set(results)


async def test_a_late_event_after_completion_keeps_the_results_served(harness: Harness) -> None:
    s = Stream()
    await harness.append(s.requested(), s.started(), await harness.completed(s))
    await harness.settle()
    first = await harness.client.get(RESULTS.format(s.analysis_id))
    with pytest.raises(EventNotAllowedError):  # e.g. a progress report that lost a race
        await harness.append(s.progress(99.0, "late"))
    await harness.settle()
    again = await harness.client.get(RESULTS.format(s.analysis_id))
    assert first.status_code == again.status_code == 200
    assert (first.json()["version"], again.json()["version"]) == (3, 3)
    assert again.json()["results"] == first.json()["results"]
    status = (await harness.client.get(STATUS.format(s.analysis_id))).json()
    assert (status["status"], status["progress"]) == ("completed", 100.0)


async def test_a_listing_holds_an_analysis_completed_on_the_bus_before_the_projector_saw_it(
    query_app: HarnessFactory, sqlite_url: str, private_nats: Any
) -> None:
    """Read your notification, for lists: the analysis a client was just told completed is
    listed as completed, though the projector (polling every few seconds here) has not run yet."""
    async with query_app(
        sqlite_url,
        NATS_URL=private_nats.url,
        query_recorder="true",
        query_projector_poll_s="3",
        query_status_wait_s="30",
    ) as running:
        s = Stream()
        events = [s.requested(filename="fresh.csv"), s.started(), await running.completed(s)]
        nc = await nats.connect(private_nats.url)
        try:
            js = nc.jetstream()
            await provision(js)
            for event in events:
                await js.publish(subject_for(event.analysis_id, event.type), encode(event))
        finally:
            await nc.close()
        listed = await running.client.get("/api/v1/analysis/list", params={"status": "completed"})
        assert listed.status_code == 200, listed.text
        assert [item["analysis_id"] for item in listed.json()["items"]] == [str(s.analysis_id)]
        running_now = await running.client.get("/api/v1/analysis/list", params={"status": "running"})
        assert running_now.json()["items"] == []
