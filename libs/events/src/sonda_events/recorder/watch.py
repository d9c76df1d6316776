"""Is the recorder keeping up with JetStream? For readiness: far behind and not moving is a failure.

JetStream knows how far the recorder is: the durable consumer's undelivered messages
(``num_pending``) plus those delivered and not yet acknowledged (``num_ack_pending``). A backlog
alone is no fault (a burst, a restart catching up); a backlog whose ack floor has not moved for
``stall_s`` is: every recorder instance is stopped, stuck or failing each batch, and finished
analyses would read ``pending`` from the store forever.
"""

from __future__ import annotations

import time
from typing import Any

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from sonda_events.recorder.consumer import RECORDER_CONSUMER
from sonda_events.subjects import STREAM_NAME

#: A backlog whose ack floor has not moved for this long means the recorder is stuck.
STALL_S = 30.0


class RecorderStalledError(Exception):
    """The recorder is far behind JetStream and not moving."""


class RecorderWatch:
    """Reads the recorder consumer's state; remembers when its ack floor last moved."""

    def __init__(
        self, nc: NatsClient, *, max_behind: int, stall_s: float = STALL_S, stream: str = STREAM_NAME
    ) -> None:
        self._nc = nc
        self._max_behind = max_behind
        self._stall_s = stall_s
        self._stream = stream
        self._floor: int | None = None
        self._moved = time.monotonic()

    async def check(self) -> dict[str, Any]:
        """The recorder's backlog and ack floor.

        Raises:
            RecorderStalledError: more than ``max_behind`` messages wait and the ack floor has not
                moved for ``stall_s`` seconds.
        """
        if not self._nc.is_connected:
            return {"nats": "not connected"}  # a NATS outage is not the recorder's fault
        try:
            info = await self._nc.jetstream().consumer_info(self._stream, RECORDER_CONSUMER, timeout=2.0)
        except NotFoundError:
            return {"consumer": "not created yet"}
        except (nats.errors.Error, TimeoutError) as exc:
            return {"nats": f"no answer ({type(exc).__name__})"}
        floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
        now = time.monotonic()
        if floor != self._floor:
            self._floor, self._moved = floor, now
        behind = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        idle = now - self._moved
        if behind > self._max_behind and idle >= self._stall_s:
            raise RecorderStalledError(
                f"the recorder is {behind} messages behind JetStream and has not moved for {idle:.0f} s"
            )
        return {"behind": behind, "ack_floor": floor, "idle_s": round(idle, 1)}
