"""How many threads the engine profiles with, in exact and in streaming mode alike."""

from __future__ import annotations

import os


def profile_threads() -> int:
    """One per core, at most eight: numpy sorts, Arrow kernels and the sketches release the GIL,
    so columns profile side by side; more threads than cores only add switching."""
    return max(1, min(8, os.cpu_count() or 1))
