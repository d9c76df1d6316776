"""The lifecycle's rules and fold, and the event store applying the same rules when it records."""

from __future__ import annotations

import uuid

import pytest
from sonda_events.contract import AnyEvent
from sonda_events.lifecycle import (
    AnalysisState,
    EventNotAllowedError,
    Phase,
    VersionGapError,
    evolve,
    fold,
)
from sonda_events.store import EventStore, Incoming

from tests.events.lifecycle.events import completed, deleted, failed, progress, purged, requested, started


def run(events: list[AnyEvent]) -> AnalysisState:
    state = AnalysisState(analysis_id=events[0].analysis_id)
    for event in events:
        state = evolve(state, event)
    return state


def test_a_run_from_request_to_completion() -> None:
    aid = uuid.uuid4()
    seen = []
    state = AnalysisState(analysis_id=aid)
    history: list[AnyEvent] = [requested(aid), started(aid, 2), progress(aid, 3, 40.0), completed(aid, 4)]
    for event in history:
        state = evolve(state, event)
        seen.append((state.status, state.phase, state.progress))
    assert seen == [
        ("pending", Phase.OPEN, 0.0),
        ("running", Phase.OPEN, 0.0),
        ("running", Phase.OPEN, 40.0),
        ("completed", Phase.ENDED, 100.0),
    ]
    assert state.version == 4 and state.finished and not state.deleted
    assert state.completed is not None and state.request is not None


def test_an_event_applied_twice_changes_nothing() -> None:
    aid = uuid.uuid4()
    events: list[AnyEvent] = [requested(aid), started(aid, 2)]
    state = run(events)
    assert evolve(state, events[1]) is state
    assert evolve(state, progress(aid, 2)) is state  # a loser at a version already taken


@pytest.mark.parametrize(
    ("history", "late", "rule"),
    [
        ("r", lambda a: requested(a, 2, "uploads/b/other.csv"), "already_requested"),
        ("", lambda a: started(a, 1), "not_requested"),
        ("rsc", lambda a: completed(a, 4), "already_ended"),
        ("rsc", lambda a: progress(a, 4), "already_ended"),
        ("rsf", lambda a: started(a, 4, attempt=2), "already_ended"),
        ("rsd", lambda a: completed(a, 4), "already_deleted"),
        ("rsd", lambda a: deleted(a, 4), "already_deleted"),
        ("rsp", lambda a: deleted(a, 4), "already_purged"),
        ("rs", lambda a: completed(a, 3, key=f"results/{uuid.uuid4()}.json"), "foreign_result"),
        ("rs", lambda a: completed(a, 3, key="uploads/x/data.csv"), "foreign_result"),
    ],
)
def test_refused_events(history: str, late: object, rule: str) -> None:
    aid = uuid.uuid4()
    makers = {"r": requested, "s": started, "c": completed, "f": failed, "d": deleted, "p": purged}
    events: list[AnyEvent] = [
        makers[c](aid) if c == "r" else makers[c](aid, i + 1)  # type: ignore[operator]
        for i, c in enumerate(history)
    ]
    state = run(events) if events else AnalysisState(analysis_id=aid)
    with pytest.raises(EventNotAllowedError) as refused:
        evolve(state, late(aid))  # type: ignore[operator]
    assert refused.value.rule == rule
    assert refused.value.code == "event_not_allowed"


def test_deletion_and_purge_after_the_end() -> None:
    aid = uuid.uuid4()
    state = run([requested(aid), started(aid, 2), failed(aid, 3), deleted(aid, 4), purged(aid, 5)])
    assert state.status == "failed" and state.deleted and state.purged
    assert state.public_status == "deleted" and state.phase is Phase.PURGED


def test_a_retention_deletion_recorded_before_purges_existed_counts_as_a_purge() -> None:
    aid = uuid.uuid4()
    state = run([requested(aid), deleted(aid, 2, by="retention")])
    assert state.purged and state.phase is Phase.PURGED


def test_foreign_events_and_gaps() -> None:
    aid = uuid.uuid4()
    state = run([requested(aid)])
    with pytest.raises(EventNotAllowedError) as foreign:
        evolve(state, started(uuid.uuid4(), 2))
    assert foreign.value.rule == "foreign_event"
    with pytest.raises(VersionGapError):
        evolve(state, progress(aid, 3))


def test_fold_skips_what_it_refuses() -> None:
    aid = uuid.uuid4()
    state, refused = fold(aid, [requested(aid), requested(aid, 2), started(aid, 2), completed(aid, 3)])
    assert state.status == "completed" and state.version == 3
    assert [type(e).__name__ for e in refused] == ["EventNotAllowedError"]


async def test_the_store_refuses_what_the_lifecycle_refuses(store: EventStore) -> None:
    aid, other = uuid.uuid4(), uuid.uuid4()
    await store.append([requested(aid), started(aid, 2), completed(aid, 3)])
    await store.append([requested(other)])
    outcomes = await store.record(
        [
            Incoming(event=completed(aid, 4)),  # a second completion
            Incoming(event=deleted(aid, 4)),  # a deletion is still allowed after it
            Incoming(event=requested(other, 2, "uploads/z/evil.csv")),  # a request rewriting the key
            Incoming(event=started(uuid.uuid4(), 1)),  # a stream opened by something else
        ]
    )
    assert [o.status for o in outcomes] == ["refused", "stored", "refused", "refused"]
    assert outcomes[0].reason is not None and outcomes[0].reason.startswith("already_ended")
    with pytest.raises(EventNotAllowedError):
        await store.append([completed(aid, 5)])
    assert [r.event.type for r in await store.read_stream(aid)] == [
        "AnalysisRequested",
        "AnalysisStarted",
        "AnalysisCompleted",
        "AnalysisDeleted",
    ]


async def test_an_event_published_before_the_version_it_follows_is_refused(store: EventStore) -> None:
    aid = uuid.uuid4()
    await store.append([requested(aid)])
    guessed = progress(aid, 3)  # another system guessed version 3 before version 2 existed
    outcomes = await store.record(
        [
            Incoming(event=guessed, stream_sequence=2),
            Incoming(event=started(aid, 2), stream_sequence=3),
            Incoming(event=completed(aid, 3), stream_sequence=4),
        ]
    )
    assert [o.status for o in outcomes] == ["refused", "stored", "stored"]
    assert [r.event.type for r in await store.read_stream(aid)][-1] == "AnalysisCompleted"
