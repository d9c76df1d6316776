"""20,000 bad messages mixed with good events: the recorder stores every good one, dead-letters every
bad one with its reason, and leaves no analysis unfinished.

The bad messages are the kinds a probe sent (bytes that are not UTF-8, a NUL inside a string, an
upcaster given data of the wrong shape, garbage, unknown types, events on another analysis'
subject), published by "another system" on the same analysis subjects as the good events and
interleaved with them, so nearly every fetched batch holds both.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
import uuid
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from sonda_events import codec
from sonda_events.contract import (
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
    FailedData,
    ProgressData,
    RequestedData,
    StartedData,
    new_event,
)
from sonda_events.lifecycle import AnalysisState, evolve
from sonda_events.recorder import RECORDER_CONSUMER
from sonda_events.store import EventStore
from sonda_events.store.schema import dead_letters
from sonda_events.subjects import STREAM_NAME, subject_for

from tests.events.recorder.conftest import running_recorder
from tests.events.recorder.helpers import assert_stored_exactly_once
from tests.support.servers import NatsServer

pytestmark = pytest.mark.slow

BAD_MESSAGES = 20_000
ANALYSES = 200


def analysis_stream(analysis_id: uuid.UUID) -> list[AnyEvent]:
    """Requested, started, two progress events, failed: a finished analysis of five events."""
    steps: list[tuple[type[AnyEvent], Any]] = [
        (AnalysisRequested, RequestedData(file_key=f"uploads/{analysis_id}/data.csv")),
        (AnalysisStarted, StartedData(worker="w")),
        (AnalysisProgress, ProgressData(progress=40, stage="read")),
        (AnalysisProgress, ProgressData(progress=80, stage="profile")),
        (AnalysisFailed, FailedData(error_code="parse_error", error_message="bad file")),
    ]
    return [
        new_event(cls, analysis_id=analysis_id, version=version, data=data, producer="other-system")
        for version, (cls, data) in enumerate(steps, start=1)
    ]


def bad_message(n: int, analysis_id: uuid.UUID, sample: AnyEvent) -> tuple[str, bytes, str]:
    """(subject, payload, the dead letter's code) of the n-th bad message."""
    requested = subject_for(analysis_id, "AnalysisRequested")
    progress = subject_for(analysis_id, "AnalysisProgress")
    raw = codec.to_builtins(sample)
    kind = n % 8
    if kind == 0:  # one byte that is not UTF-8
        return requested, b'{"type": "AnalysisRequested", "x": "\xff"}', "invalid_event"
    if kind == 1:  # a NUL inside a string: valid JSON no database can store
        nul = {**raw, "event_id": str(uuid.uuid4()), "producer": "a\x00b"}
        return subject_for(analysis_id, sample.type), msgspec.json.encode(nul), "invalid_event"
    if kind == 2:  # an old schema whose upcaster meets data of the wrong shape
        return requested, b'{"type":"AnalysisRequested","schema_version":1,"data":[1]}', "invalid_event"
    if kind == 3:
        return progress, b"{not json", "invalid_event"
    if kind == 4:
        return progress, b"", "invalid_event"
    if kind == 5:
        return progress, b'{"type": "AnalysisExploded"}', "unknown_event_type"
    if kind == 6:  # wrong types
        wrong = {**raw, "event_id": str(uuid.uuid4()), "version": "three"}
        return progress, msgspec.json.encode(wrong), "invalid_event"
    # a valid event, filed under another analysis' subject
    stray = {**raw, "event_id": str(uuid.uuid4()), "analysis_id": str(uuid.uuid4())}
    return subject_for(analysis_id, sample.type), msgspec.json.encode(stray), "subject_mismatch"


async def _settled(nc: NatsClient, timeout: float = 120.0) -> None:
    js = nc.jetstream()
    deadline = time.monotonic() + timeout
    info = None
    while time.monotonic() < deadline:
        with contextlib.suppress(NotFoundError):  # the recorder creates it as it starts
            info = await js.consumer_info(STREAM_NAME, RECORDER_CONSUMER)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the recorder consumer did not settle: {info}")


async def test_twenty_thousand_bad_messages_never_hold_back_a_good_one(
    store: EventStore, nc: NatsClient, pg_url: str, private_nats: NatsServer
) -> None:
    streams = [analysis_stream(uuid.uuid4()) for _ in range(ANALYSES)]
    good = [event for stream in streams for event in stream]
    # Interleave: each good event is followed by ~20 bad ones, published on its analysis' subjects.
    per_good = BAD_MESSAGES // len(good)
    expected_codes: collections.Counter[str] = collections.Counter()
    n = 0
    messages: list[tuple[str, bytes, dict[str, str]]] = []
    for index, event in enumerate(good):
        messages.append((subject_for(event.analysis_id, event.type), codec.encode(event), {}))
        count = per_good + (1 if index < BAD_MESSAGES - per_good * len(good) else 0)
        for _ in range(count):
            subject, payload, code = bad_message(n, event.analysis_id, event)
            # A fresh message id each: JetStream's de-duplication must not hide any of them.
            messages.append((subject, payload, {"Nats-Msg-Id": f"bad-{n}"}))
            expected_codes[code] += 1
            n += 1
    assert n == BAD_MESSAGES
    # Another system publishes straight to the stream, pipelined; JetStream stores them in order.
    for subject, payload, headers in messages:
        await nc.publish(subject, payload, headers={**headers} or {"Nats-Msg-Id": str(uuid.uuid4())})
    await nc.flush(timeout=60)
    js = nc.jetstream()
    for _ in range(600):
        if (await js.stream_info(STREAM_NAME)).state.messages == len(messages):
            break
        await asyncio.sleep(0.05)
    assert (await js.stream_info(STREAM_NAME)).state.messages == len(messages)

    async with running_recorder(pg_url, private_nats.url):
        await _settled(nc)

    await assert_stored_exactly_once(store, streams)
    columns = (dead_letters.c.stream_sequence, dead_letters.c.error_code, dead_letters.c.consumer)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(sa.select(*columns))).all()
    # Dead letters are kept at least once (a term lost after the commit stores one again): one
    # per bad message, with the code its kind deserves.
    by_sequence = {sequence: code for sequence, code, _ in rows}
    assert collections.Counter(by_sequence.values()) == expected_codes
    assert {consumer for _, _, consumer in rows} == {RECORDER_CONSUMER}
    # Nothing stuck: every analysis, read back from the store, has ended.
    for stream in streams:
        state = AnalysisState(analysis_id=stream[0].analysis_id)
        for recorded in await store.read_stream(stream[0].analysis_id):
            state = evolve(state, recorded.event)
        assert state.finished and state.status == "failed", state
