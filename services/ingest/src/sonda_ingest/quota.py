"""At most N analyses in flight per API key (per ingest instance).

One key must not be able to fill the analyzers' queue for everyone else. The count is kept in
this process and checked against the bus only when a key reaches its limit: each analysis it
remembers is looked up (the lifecycle's reader and fold) and forgotten once it finished, failed,
was deleted or cannot be found, so a missed event can never lock a key out for good. With
several ingest instances behind a balancer each enforces the limit on its own share.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sonda_ingest.errors import TooManyActiveAnalysesError
from sonda_ingest.history import AnalysisHistory


@dataclass
class _Key:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    active: set[uuid.UUID] = field(default_factory=set)


class ActiveAnalyses:
    """``async with quota.slot(key) as admit: ... admit(analysis_id)`` around a start."""

    def __init__(self, history: AnalysisHistory, limit: int) -> None:
        self._history = history
        self.limit = limit
        self._keys: dict[str, _Key] = {}

    @contextlib.asynccontextmanager
    async def slot(self, requester: str) -> AsyncIterator[set[uuid.UUID]]:
        """Hold the key's turn (starts of one key are checked one at a time); raise
        ``TooManyActiveAnalysesError`` when it has ``limit`` analyses in flight. Add the started
        analysis' id to the yielded set once it is published."""
        if self.limit <= 0:
            yield set()
            return
        state = self._keys.setdefault(requester, _Key())
        async with state.lock:
            if len(state.active) >= self.limit:
                await self._forget_finished(state)
            if len(state.active) >= self.limit:
                raise TooManyActiveAnalysesError(
                    f"this API key already has {len(state.active)} analyses in progress, the most "
                    f"allowed at once; start more when some have finished"
                )
            yield state.active

    async def _forget_finished(self, state: _Key) -> None:
        for analysis_id in list(state.active):
            read = await self._history.read(analysis_id)
            if read is None or read.state.finished:
                state.active.discard(analysis_id)

    def active(self, requester: str) -> int:
        state = self._keys.get(requester)
        return len(state.active) if state else 0
