"""Malformed, oversized, wrongly typed and replayed events from "another system" on NATS.

Each bad message becomes a dead letter with a stable code and a readable reason (the recorder's
own, and the analyzer's copied into the store), nothing invalid reaches the event store, and no
consumer stalls: an analysis requested after the garbage is profiled, recorded and pushed to a
WebSocket client as if nothing had happened.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from sonda_events import codec
from sonda_events.contract import AnalysisCompleted
from sonda_events.subjects import subject_for

from tests.reliability.checks import assert_analysis_consistent, by_analysis, until
from tests.reliability.clients import watching
from tests.reliability.stack import Stack, stack_on
from tests.reliability.workload import analysis_events, request, upload, write_csv
from tests.support.servers import NatsServer

pytestmark = pytest.mark.slow


@pytest.fixture
async def stack(private_nats: NatsServer, pg_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with stack_on(private_nats, pg_url, tmp_path) as running:
        yield running


def _raw(event: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(codec.encode(event))
    return raw


async def _send(js: JetStreamContext, subject: str, payload: bytes) -> None:
    # A fresh Nats-Msg-Id every time: JetStream's own de-duplication must not hide a replay.
    await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})


async def test_foreign_events_are_dead_lettered_and_nobody_stalls(stack: Stack, tmp_path: Path) -> None:
    js = stack.nc.jetstream()
    await stack.procs.start("recorder", RECORDER_ACK_WAIT_S="2")
    # A complete analysis already recorded, so that replays have something to collide with
    # (published before the analyzer runs: it must find it finished, not start it again).
    done = analysis_events(uuid.uuid4(), 5)
    target = done[0].analysis_id
    for event in done:
        await js.publish(
            subject_for(target, event.type), codec.encode(event), headers={"Nats-Msg-Id": str(event.event_id)}
        )
    await until(lambda: _count(stack, 5), timeout=30, what="the first analysis to be recorded")
    _, notifier = await asyncio.gather(
        stack.procs.start("analyzer", SONDA_ANALYZER_ACK_WAIT_S="3"), stack.procs.start("notifier")
    )

    requested, progress = _raw(done[0]), _raw(done[2])
    other = uuid.uuid4()
    hostile: list[tuple[str, str, bytes]] = [
        ("malformed", f"eda.analysis.{other}.requested", b"{not json"),
        ("empty", f"eda.analysis.{other}.requested", b""),
        ("not an object", f"eda.analysis.{other}.requested", b"[1, 2, 3]"),
        (
            "oversized",
            f"eda.analysis.{other}.requested",
            json.dumps(
                {
                    **requested,
                    "analysis_id": str(other),
                    "event_id": str(uuid.uuid4()),
                    "producer": "x" * 100,
                    "data": {**requested["data"], "options": {"pad": "x" * 600_000}},
                }
            ).encode(),
        ),
        (
            "wrong types",
            f"eda.analysis.{other}.requested",
            json.dumps(
                {**requested, "analysis_id": str(other), "version": "one", "data": {"file_key": 42}}
            ).encode(),
        ),
        (
            "out of range",
            f"eda.analysis.{target}.progress",
            json.dumps(
                {
                    **progress,
                    "event_id": str(uuid.uuid4()),
                    "version": 6,
                    "data": {**progress["data"], "progress": 500},
                }
            ).encode(),
        ),
        (
            "unknown type",
            f"eda.analysis.{other}.exploded",
            json.dumps({**requested, "type": "AnalysisExploded"}).encode(),
        ),
        (
            "newer schema",
            f"eda.analysis.{other}.requested",
            json.dumps(
                {**requested, "analysis_id": str(other), "event_id": str(uuid.uuid4()), "schema_version": 99}
            ).encode(),
        ),
        # A probe's finds: each used to fail its whole batch on every delivery, for ever.
        ("not UTF-8", f"eda.analysis.{other}.requested", b'{"type": "AnalysisRequested", "x": "\xff"}'),
        (
            "upcaster given a list",
            f"eda.analysis.{other}.requested",
            b'{"type":"AnalysisRequested","schema_version":1,"data":[1]}',
        ),
        (
            "NUL in a string",
            f"eda.analysis.{other}.requested",
            json.dumps(
                {
                    **requested,
                    "analysis_id": str(other),
                    "event_id": str(uuid.uuid4()),
                    "producer": "a\u0000b",
                }
            ).encode(),
        ),
        ("wrong subject", f"eda.analysis.{other}.progress", codec.encode(done[2])),
        (
            "replayed version",
            f"eda.analysis.{target}.progress",
            json.dumps({**progress, "event_id": str(uuid.uuid4())}).encode(),
        ),
        ("replayed event", f"eda.analysis.{target}.progress", codec.encode(done[2])),
        ("replayed request", f"eda.analysis.{target}.requested", codec.encode(done[0])),
        (
            "hostile file key",
            f"eda.analysis.{other}.requested",
            json.dumps(
                {
                    **requested,
                    "analysis_id": str(other),
                    "event_id": str(uuid.uuid4()),
                    "data": {**requested["data"], "file_key": "../../etc/passwd"},
                }
            ).encode(),
        ),
    ]
    for _, subject, payload in hostile:
        await _send(js, subject, payload)

    # Life goes on: a real analysis after the garbage, watched over WebSocket.
    table = write_csv(tmp_path / "good.csv", 500)
    good = await request(js, await upload(stack.storage, table.path))
    async with watching(notifier.url, good) as watcher:
        last = await watcher.until_terminal(timeout=60)
    assert last["type"] == "analysis_completed", watcher.messages

    def letters_by_code(letters: list[Any]) -> Counter[tuple[str | None, str]]:
        return Counter((letter.consumer, letter.error_code) for letter in letters)

    # The recorder sees every subject; the analyzer only *.requested ones.
    expected = Counter(
        {
            # malformed, empty, array, oversized, wrong types, out of range, newer schema,
            # not UTF-8, upcaster given a list, NUL
            ("recorder", "invalid_event"): 10,
            ("recorder", "unknown_event_type"): 1,
            ("recorder", "subject_mismatch"): 1,
            ("recorder", "version_conflict"): 1,  # a new event claiming a version already held
            ("analyzer", "invalid_event"): 9,  # the same, less the progress event
        }
    )

    async def all_letters() -> bool:
        return letters_by_code(await stack.store.dead_letters(limit=1000)) >= expected

    await until(all_letters, timeout=30, what="every dead letter in the store")
    letters = await stack.store.dead_letters(limit=1000)
    for letter in letters:
        assert letter.reason and "Traceback" not in letter.reason, letter
    reasons = " | ".join(letter.reason for letter in letters)
    for fragment in (
        "more than the 262144 allowed",
        "$.data.file_key",
        "$.data.progress",
        "AnalysisExploded",
        "newer than",
        "already held by another event",
        "not UTF-8",
        "cannot be read (TypeError)",
        "NUL character",
    ):
        assert fragment in reasons, (fragment, reasons)

    # The store holds exactly the good events: the first analysis once (replays were duplicates)
    # and the new one complete; the hostile file key failed cleanly instead of being read.
    async def recorded(analysis_id: uuid.UUID) -> bool:
        events = [r.event for r in await stack.store.read_stream(analysis_id)]
        return bool(events) and events[-1].type in ("AnalysisCompleted", "AnalysisFailed")

    await until(lambda: recorded(good), timeout=30, what="the good analysis in the store")
    await until(lambda: recorded(other), timeout=30, what="the hostile file key to fail")
    streams = by_analysis(await stack.store.read_all(limit=10_000))
    assert [e.event_id for e in streams[target]] == [e.event_id for e in done]
    completed = assert_analysis_consistent(streams[good], terminal="AnalysisCompleted")
    assert isinstance(completed, AnalysisCompleted)
    # The genuine request came after nine malformed ones on the same subject: it still ran.
    failed = assert_analysis_consistent(streams[other], terminal="AnalysisFailed")
    assert failed.data.error_code == "invalid_file_key"  # type: ignore[union-attr]

    # The notifier counted the invalid ones and kept serving.
    async with httpx.AsyncClient(timeout=10) as client:
        info = (await client.get(f"{notifier.url}/api/v1/analysis/websocket-info")).json()
    assert info["invalid_events"] >= 6, info


async def _count(stack: Stack, n: int) -> bool:
    return await stack.store.last_position() >= n


async def test_events_the_lifecycle_refuses_change_nothing_anyone_reads(stack: Stack, tmp_path: Path) -> None:
    """A finished analysis gets a second completion pointing at its upload, one pointing at another
    analysis' result, and requests that would rewrite its file key: every consumer refuses them
    alike (dead letters with the rule), and results, summary and status stay those of the real run."""
    js = stack.nc.jetstream()
    await stack.procs.start("recorder")
    _, _, query = await asyncio.gather(
        stack.procs.start("analyzer"), stack.procs.start("notifier"), stack.procs.start("query")
    )
    table = write_csv(tmp_path / "real.csv", 300)
    key = await upload(stack.storage, table.path)
    target = await request(js, key)
    base = f"{query.url}/api/v1/analysis"
    async with httpx.AsyncClient(timeout=30) as client:

        async def completed() -> bool:
            answer = await client.get(f"{base}/status-enhanced/{target}")
            return answer.status_code == 200 and answer.json()["status"] == "completed"

        await until(completed, timeout=60, what="the real analysis to complete")
        before = (await client.get(f"{base}/results-enhanced/{target}")).json()

        # The query service may answer from JetStream's head before the recorder has stored it.
        async def stored() -> bool:
            return isinstance((await stack.store.read_stream(target))[-1].event, AnalysisCompleted)

        await until(stored, timeout=60, what="the completion to be stored")
        events = [r.event for r in await stack.store.read_stream(target)]
        finished = events[-1]
        assert isinstance(finished, AnalysisCompleted)
        version = finished.version
        request_raw, completed_raw = _raw(events[0]), _raw(finished)

        def completion(result_key: str, at: int) -> bytes:
            data = {**completed_raw["data"], "result": {**completed_raw["data"]["result"], "key": result_key}}
            forged = {**completed_raw, "event_id": str(uuid.uuid4()), "version": at, "data": data}
            return json.dumps(forged).encode()

        def rerequest(at: int) -> bytes:
            data = {**request_raw["data"], "file_key": f"uploads/{uuid.uuid4()}/other.csv"}
            return json.dumps(
                {**request_raw, "event_id": str(uuid.uuid4()), "version": at, "data": data}
            ).encode()

        await _send(js, subject_for(target, "AnalysisCompleted"), completion(key, version + 1))
        await _send(
            js,
            subject_for(target, "AnalysisCompleted"),
            completion(f"results/{uuid.uuid4()}.json", version + 1),
        )
        await _send(js, subject_for(target, "AnalysisRequested"), rerequest(1))
        await _send(js, subject_for(target, "AnalysisRequested"), rerequest(version + 1))

        async def refused() -> bool:
            letters = await stack.store.dead_letters(limit=1000)
            return sum(1 for d in letters if d.error_code == "event_not_allowed") >= 3

        await until(refused, timeout=30, what="the refused events as dead letters")
        letters = [
            d for d in await stack.store.dead_letters(limit=1000) if d.error_code == "event_not_allowed"
        ]
        reasons = " | ".join(d.reason for d in letters)
        assert "already_ended" in reasons, reasons
        assert [r.event.event_id for r in await stack.store.read_stream(target)] == [
            e.event_id for e in events
        ]

        results = await client.get(f"{base}/results-enhanced/{target}")
        summary = await client.get(f"{base}/summary-for-llm/{target}")
        status = (await client.get(f"{base}/status-enhanced/{target}")).json()
    assert results.status_code == 200 and summary.status_code == 200, (results.text, summary.text)
    assert results.json()["results"] == before["results"]
    assert results.json()["results"]["dataset"]["rows"] == 300
    assert (status["status"], status["version"], status["file_key"]) == ("completed", version, key)
