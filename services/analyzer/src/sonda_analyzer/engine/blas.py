"""Keep numpy's BLAS on one thread while profiling.

The engine already works on several columns at once; OpenBLAS's own threads on top of that
oversubscribe the cores, and on a busy machine each small matrix product then waits for threads
to wake (measured: a 10,000 x 40 correlation matrix took over a second instead of milliseconds).
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads")


def _openblas() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:  # type: ignore[name-defined]
    """numpy's bundled OpenBLAS (wheels ship it beside the package); None when not found."""
    base = os.path.dirname(np.__file__)
    for path in glob.glob(base + ".libs/*openblas*") + glob.glob(os.path.join(base, ".libs", "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in zip(_SETTERS, _GETTERS, strict=True):
            if hasattr(lib, setter) and hasattr(lib, getter):
                return getattr(lib, setter), getattr(lib, getter)
    return None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    found = _openblas()
    if found is None:
        yield
        return
    set_threads, get_threads = found
    previous = int(get_threads())
    set_threads(1)
    try:
        yield
    finally:
        set_threads(previous)
