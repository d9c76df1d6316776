"""The bar moves while one long read runs: the heartbeat turns the bytes read into progress."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
from sonda_analyzer.engine import profile_file
from sonda_analyzer.engine.progress import ProgressReporter, ProgressUpdate


class _Seen:
    """The updates a reporter sent (from its heartbeat thread), and a wait for the bar to reach a
    value."""

    def __init__(self) -> None:
        self.updates: list[ProgressUpdate] = []
        self._changed = threading.Condition()

    def __call__(self, update: ProgressUpdate) -> None:
        with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def shown(self, progress: float) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: any(u.progress >= progress for u in self.updates), timeout=60
            )


def test_the_heartbeat_moves_the_bar_with_the_bytes_read() -> None:
    position = 0
    seen = _Seen()
    with ProgressReporter(seen, interval=0.05, bytes_source=lambda: position) as reporter:
        reporter.update(1.0, "reading", "reading the csv file", force=True)
        reporter.read_span = (1.0, 35.0, 1000)
        position = 500  # half the file read, inside one call that sends nothing itself
        assert seen.shown(18.0)
        position = 1000
        assert seen.shown(35.0)
    # bytes and progress only grow, and the read never claims more than its share
    progress = [u.progress for u in seen.updates]
    assert progress == sorted(progress)
    assert max(progress) == 35.0
    assert [u.bytes_done for u in seen.updates] == sorted(u.bytes_done for u in seen.updates)


def test_a_read_moves_the_bar_by_each_step_without_waiting_for_the_heartbeat() -> None:
    """Bytes read move the bar as soon as they make ``min_step`` points, not once an interval:
    the interval here is an hour, so only the step can send these."""
    position = 0
    seen = _Seen()
    with ProgressReporter(seen, interval=3600, min_step=5.0, bytes_source=lambda: position) as reporter:
        reporter.update(1.0, "reading", "reading the csv file", force=True)
        reporter.read_span = (1.0, 35.0, 1000)
        for read, bar in ((200, 7.8), (400, 14.6), (700, 24.8), (1000, 35.0)):
            position = read
            assert seen.shown(bar)
    progress = [u.progress for u in seen.updates]
    assert progress == sorted(progress) and progress[-1] == 35.0
    assert len(progress) >= 4  # the start and at least three steps of the read


def test_a_read_profile_reports_progress_between_start_and_profiling(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rng = np.random.default_rng(1)
    pd.DataFrame({"a": rng.normal(size=50_000), "b": rng.integers(0, 9, 50_000)}).to_csv(path, index=False)
    seen: list[ProgressUpdate] = []
    profile_file(path, on_progress=seen.append)
    reading = [u.progress for u in seen if u.stage == "reading"]
    assert reading and max(reading) <= 35.0
    assert [u.progress for u in seen] == sorted(u.progress for u in seen)
    assert seen[-1].progress == 100.0
