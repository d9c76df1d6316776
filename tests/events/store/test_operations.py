"""Dead letters, health checks and an unreachable database."""

from __future__ import annotations

import pytest
from sonda_events.errors import StoreUnavailableError
from sonda_events.store import EventStore

from tests.support.servers import free_port


async def test_dead_letters_are_kept_with_their_reason(store: EventStore) -> None:
    await store.record_dead_letter(
        subject="eda.analysis.x.requested",
        payload=b"\xff not json",
        error_code="invalid_event",
        reason="invalid event: malformed JSON",
        stream_sequence=7,
    )
    await store.record_dead_letter(
        subject="eda.analysis.y.started",
        payload=b"{}",
        error_code="unknown_event_type",
        reason="no type",
        stream_sequence=None,
        consumer="analyzer",
    )

    newest, oldest = await store.dead_letters()
    assert (oldest.subject, oldest.payload, oldest.error_code, oldest.stream_sequence) == (
        "eda.analysis.x.requested",
        b"\xff not json",
        "invalid_event",
        7,
    )
    assert oldest.reason == "invalid event: malformed JSON"
    assert (newest.consumer, newest.error_code, newest.stream_sequence) == (
        "analyzer",
        "unknown_event_type",
        None,
    )
    assert newest.recorded_at >= oldest.recorded_at
    assert len(await store.dead_letters(limit=1)) == 1


async def test_ping_answers(store: EventStore) -> None:
    await store.ping()


async def test_unreachable_database_is_store_unavailable() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StoreUnavailableError) as caught:
        await EventStore.open(url)
    assert caught.value.retryable

    store = await EventStore.open(url, migrate=False)
    try:
        with pytest.raises(StoreUnavailableError):
            await store.ping()
        with pytest.raises(StoreUnavailableError):
            await store.last_position()
    finally:
        await store.close()
