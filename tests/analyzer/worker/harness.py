"""Talking to the analyzer the way another system would: plain JSON on NATS, no Sonda client code."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from sonda_storage import ObjectStorage

Event = dict[str, Any]
TERMINAL = frozenset({"AnalysisCompleted", "AnalysisFailed"})


def request_payload(analysis_id: uuid.UUID, file_key: str, options: dict[str, Any] | None = None) -> Event:
    """An ``AnalysisRequested`` written by hand, as a system without our libraries would."""
    return {
        "type": "AnalysisRequested",
        "event_id": str(uuid.uuid4()),
        "schema_version": 2,
        "analysis_id": str(analysis_id),
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "producer": "etl-pipeline",
        "correlation_id": f"etl-{analysis_id.hex[:8]}",
        "data": {
            "file_key": file_key,
            "analysis_type": "basic_eda",
            "options": options or {},
            "requested_by": "etl",
        },
    }


async def publish_request(
    js: JetStreamContext, analysis_id: uuid.UUID, file_key: str, options: dict[str, Any] | None = None
) -> Event:
    payload = request_payload(analysis_id, file_key, options)
    await js.publish(
        f"eda.analysis.{analysis_id}.requested",
        json.dumps(payload).encode(),
        headers={"Nats-Msg-Id": payload["event_id"]},
    )
    return payload


async def wait_for_events(
    js: JetStreamContext,
    analysis_id: uuid.UUID,
    until: Callable[[list[Event]], bool] = lambda events: bool(events) and events[-1]["type"] in TERMINAL,
    timeout: float = 30.0,
) -> list[Event]:
    """Every event of the analysis from the start, until ``until(events)`` holds."""
    sub = await js.subscribe(f"eda.analysis.{analysis_id}.*", ordered_consumer=True)
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; events so far: {[e['type'] for e in events]}")
            try:
                msg = await sub.next_msg(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
            events.append(json.loads(msg.data))
    finally:
        await sub.unsubscribe()
    return events


async def all_events(js: JetStreamContext, analysis_id: uuid.UUID) -> list[Event]:
    """Exactly the events the stream holds for the analysis now."""
    info = await js.stream_info("EDA", subjects_filter=f"eda.analysis.{analysis_id}.*")
    count = sum((info.state.subjects or {}).values())
    return await wait_for_events(js, analysis_id, until=lambda events: len(events) >= count, timeout=10)


async def upload(storage: ObjectStorage, path: Path) -> str:
    key = f"uploads/{uuid.uuid4()}/{path.name}"
    await storage.put_file(key, path)
    return key


async def read_object(storage: ObjectStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key)])


async def fetch_result(storage: ObjectStorage, completed: Event) -> dict[str, Any]:
    """The result object a Completed event references, after checking its size and SHA-256."""
    ref = completed["data"]["result"]
    data = await read_object(storage, ref["key"])
    assert len(data) == ref["size"]
    assert hashlib.sha256(data).hexdigest() == ref["sha256"]
    result: dict[str, Any] = json.loads(data)
    return result


def assert_consecutive(events: list[Event]) -> None:
    """Versions 1, 2, 3, ... in stream order; the first is the request."""
    assert [e["version"] for e in events] == list(range(1, len(events) + 1)), [
        (e["type"], e["version"]) for e in events
    ]
    assert events[0]["type"] == "AnalysisRequested"


async def until_true(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
