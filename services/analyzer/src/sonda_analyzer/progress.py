"""Progress events, throttled: at least every second, every 5 % or at each new stage, never a flood.

The engine already reports at that pace (with a heartbeat while one long step runs); this side
drops what comes faster, so a burst of updates becomes one event, but a new stage (reading,
profiling, correlations, ...) is always shown at once. Each published update is an
``AnalysisProgress`` appended with the analysis' next version, so a conflict here means another
worker got ahead and stops this analysis.
"""

from __future__ import annotations

import time

from sonda_events.bus import AnalysisWriter
from sonda_events.contract import AnalysisProgress, ProgressData

from sonda_analyzer.protocol import Progress
from sonda_analyzer.status import InFlight

_MAX_MESSAGE = 1000


class ProgressPublisher:
    def __init__(
        self, writer: AnalysisWriter, flight: InFlight, *, interval_s: float = 1.0, min_step: float = 5.0
    ) -> None:
        self._writer = writer
        self._flight = flight
        self._interval_s = interval_s
        self._min_step = min_step
        self._last_at = float("-inf")
        self._last_progress = -100.0
        self._last_stage = ""
        self.published = 0

    async def __call__(self, update: Progress, *, force: bool = False) -> None:
        """Record ``update``; publish it when due. Raises what ``AnalysisWriter.emit`` raises."""
        progress = min(100.0, max(0.0, update.progress))
        flight = self._flight
        flight.stage, flight.progress, flight.rows_done = update.stage, progress, update.rows_done
        now = time.monotonic()
        due = (
            now - self._last_at >= self._interval_s
            or progress - self._last_progress >= self._min_step
            or update.stage != self._last_stage
        )
        if not (force or due):
            return
        self._last_at, self._last_progress, self._last_stage = now, progress, update.stage
        await self._writer.emit(
            AnalysisProgress,
            ProgressData(
                progress=round(progress, 1),
                stage=update.stage[:256],
                message=update.message[:_MAX_MESSAGE],
                rows_done=max(0, update.rows_done),
                bytes_done=max(0, update.bytes_done),
            ),
        )
        self.published += 1
