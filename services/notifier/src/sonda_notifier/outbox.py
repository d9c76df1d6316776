"""The bounded queue of messages waiting for one connection.

Putting never blocks: the dispatcher serving every connection must not wait for one slow client.
When the queue is full, each run of consecutive status messages is collapsed to its newest (a client
that cannot keep up sees fewer, never older, progress updates); terminal and other messages are never
dropped. If the queue is still full after that, ``put`` answers False and the caller closes the
connection as a slow client.
"""

from __future__ import annotations

import asyncio
from collections import deque

from sonda_notifier.messages import Outgoing


class Outbox:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        #: Status messages dropped because a newer one superseded them while waiting.
        self.coalesced = 0
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> bool:
        """Queue ``item``; False when the queue overflows even after coalescing."""
        if len(self._items) >= self.limit:
            self._compact()
            if len(self._items) >= self.limit:
                return False
        self._items.append(item)
        self._ready.set()
        return True

    async def get(self) -> Outgoing:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def _compact(self) -> None:
        kept: deque[Outgoing] = deque()
        for item in self._items:
            if kept and item.coalescable and kept[-1].coalescable:
                kept[-1] = item
            else:
                kept.append(item)
        self.coalesced += len(self._items) - len(kept)
        self._items = kept
