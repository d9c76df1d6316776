"""Fixtures for the event store tests: an open store per test and a factory of valid events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sonda_events.contract import (
    AnalysisProgress,
    AnalysisRequested,
    AnyEvent,
    ProgressData,
    RequestedData,
    new_event,
)
from sonda_events.store import EventStore


def make_events(analysis_id: uuid.UUID, count: int, *, first_version: int = 1) -> list[AnyEvent]:
    """``count`` consecutive events of one analysis: Requested at version 1, then Progress."""
    events: list[AnyEvent] = []
    for version in range(first_version, first_version + count):
        if version == 1:
            events.append(
                new_event(
                    AnalysisRequested,
                    analysis_id=analysis_id,
                    version=1,
                    data=RequestedData(file_key=f"uploads/{analysis_id}/data.csv", requested_by="test"),
                    producer="test",
                )
            )
        else:
            events.append(
                new_event(
                    AnalysisProgress,
                    analysis_id=analysis_id,
                    version=version,
                    data=ProgressData(progress=min(100.0, version), stage="profiling", rows_done=version),
                    producer="test",
                )
            )
    return events


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    """A migrated store on a fresh database (Postgres and SQLite)."""
    opened = await EventStore.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[EventStore]:
    """A migrated store on a fresh Postgres database (for Postgres-only promises)."""
    opened = await EventStore.open(pg_url, pool_size=20)
    try:
        yield opened
    finally:
        await opened.close()
