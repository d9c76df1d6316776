"""Pure pieces of the notifier: message shapes, current state, the coalescing outbox, parsing."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
    DeletedData,
    FailedData,
    ProgressData,
    RequestedData,
    StartedData,
    new_event,
)
from sonda_events.lifecycle import STATUS_AFTER
from sonda_notifier.messages import PING, Outgoing, current_state, message_for
from sonda_notifier.outbox import Outbox
from sonda_notifier.routes.socket import parse_since

from tests.notifier.conftest import summary

AID = uuid.uuid4()


def event(cls: type[Any], version: int, data: Any) -> AnyEvent:
    made: AnyEvent = new_event(cls, analysis_id=AID, version=version, data=data, producer="t")
    return made


def requested(v: int = 1) -> AnyEvent:
    return event(AnalysisRequested, v, RequestedData(file_key="uploads/a/b.csv"))


def started(v: int) -> AnyEvent:
    return event(AnalysisStarted, v, StartedData(worker="w"))


def progress(v: int, value: float = 50.0) -> AnyEvent:
    return event(AnalysisProgress, v, ProgressData(progress=value, stage="s", message="m", rows_done=7))


def completed(v: int) -> AnyEvent:
    return event(AnalysisCompleted, v, summary(AID))


def failed(v: int) -> AnyEvent:
    return event(AnalysisFailed, v, FailedData(error_code="x", error_message="boom", retryable=True))


def deleted(v: int) -> AnyEvent:
    return event(AnalysisDeleted, v, DeletedData(reason="old"))


def as_json(e: AnyEvent) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(Outgoing.of_event(e).text)
    return decoded


def test_messages_keep_the_seed_names_and_carry_the_version() -> None:
    assert as_json(requested()) | {"occurred_at": None} == {
        "type": "analysis_status",
        "analysis_id": str(AID),
        "version": 1,
        "position": 1,
        "status": "pending",
        "progress": 0.0,
        "stage": "queued",
        "message": "waiting for an analyzer",
        "rows_done": 0,
        "bytes_done": 0,
        "occurred_at": None,
    }
    assert as_json(started(2))["status"] == "running"
    p = as_json(progress(3, 42.5))
    assert (p["type"], p["progress"], p["message"], p["rows_done"], p["position"]) == (
        "analysis_status",
        42.5,
        "m",
        7,
        3,
    )
    c = as_json(completed(4))
    assert (c["type"], c["summary"]["rows"], c["position"], c["progress"]) == (
        "analysis_completed",
        10,
        4,
        100.0,
    )
    f = as_json(failed(4))
    assert (f["type"], f["error_message"], f["retryable"]) == ("analysis_error", "boom", True)
    assert as_json(deleted(5))["type"] == "analysis_deleted"
    # The status a message carries is the lifecycle's, the one the REST status shows.
    for e in (requested(), started(2), progress(3), completed(4), failed(4)):
        assert as_json(e)["status"] == STATUS_AFTER[e.type]
        assert as_json(e)["version"] == as_json(e)["position"] == e.version
    assert msgspec.json.decode(PING.text) == {"type": "ping"}
    assert type(message_for(progress(3))).__name__ == "AnalysisStatus"


def test_current_state_collapses_status_runs_only() -> None:
    history = [requested(), started(2), progress(3), progress(4), completed(5)]
    assert [e.version for e in current_state(history)] == [4, 5]
    assert [e.version for e in current_state(history[:3])] == [3]
    retried = [requested(), started(2), failed(3), started(4), progress(5), deleted(6)]
    assert [e.version for e in current_state(retried)] == [2, 3, 5, 6]
    assert current_state([]) == []


def out(e: AnyEvent) -> Outgoing:
    return Outgoing.of_event(e)


async def test_outbox_coalesces_status_when_full_and_never_drops_others() -> None:
    box = Outbox(limit=4)
    for item in (out(progress(1)), out(progress(2)), out(progress(3)), PING):
        assert box.put(item)
    assert box.put(out(progress(5)))  # full: 1-3 collapse to 3
    assert box.coalesced == 2
    assert box.put(out(completed(6)))
    got = [await box.get() for _ in range(len(box))]
    assert [g.position for g in got] == [3, None, 5, 6]


async def test_outbox_overflows_when_nothing_can_be_coalesced() -> None:
    box = Outbox(limit=4)
    for v in range(1, 5):
        assert box.put(out(completed(v)))
    assert not box.put(out(failed(5)))
    assert len(box) == 4 and box.coalesced == 0


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("0", 0), ("17", 17)])
def test_since_parses(raw: str | None, expected: int | None) -> None:
    assert parse_since(raw) == expected


@pytest.mark.parametrize("raw", ["", "x", "-1", "1.5", str(2**60)])
def test_bad_since_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_since(raw)
