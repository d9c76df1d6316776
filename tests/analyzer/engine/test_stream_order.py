"""Streaming mode overlaps chunks: each summary still takes its chunks one after another, in order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sonda_analyzer.engine.streaming import InOrder


def test_a_summary_takes_its_chunks_in_order_while_others_go_ahead() -> None:
    log: list[tuple[int, int]] = []
    release = threading.Event()

    def update(key: int, chunk: int, hold: threading.Event | None = None) -> int:
        if hold is not None:
            hold.wait()  # until the test releases it (the suite's timeout ends a stuck test)
        log.append((key, chunk))
        return chunk

    with ThreadPoolExecutor(max_workers=2) as pool:
        chains = InOrder(pool)
        slow = chains.submit(0, update, 0, 0, release)  # summary 0 stuck on its first chunk
        after = chains.submit(0, update, 0, 1)
        others = [chains.submit(1, update, 1, c) for c in range(3)]
        assert [f.result() for f in others] == [0, 1, 2]
        # summary 1 went through three chunks; summary 0's second one has not started
        assert (0, 1) not in log and not after.done() and not slow.done()
        release.set()
        assert after.result() == 1
        chains.settle()
    assert [c for k, c in log if k == 0] == [0, 1]
    assert [c for k, c in log if k == 1] == [0, 1, 2]


def test_an_error_reaches_its_chunk_and_settle_waits_for_every_update() -> None:
    ran: list[int] = []

    def update(chunk: int) -> None:
        ran.append(chunk)
        if chunk == 1:
            raise ValueError("a value that does not fit")

    with ThreadPoolExecutor(max_workers=2) as pool:
        chains = InOrder(pool)
        futures = [chains.submit(0, update, c) for c in range(4)]
        chains.settle()
        assert all(f.done() for f in futures)
        with pytest.raises(ValueError, match="does not fit"):
            futures[1].result()
    assert ran == [0, 1, 2, 3]
