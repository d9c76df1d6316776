"""The Arrow allocator of a process that profiles files.

Arrow's default allocator (mimalloc) keeps the pages of freed buffers for its own later use. The
engine frees the table column by column while numpy, which allocates elsewhere, builds each
column's working arrays, so those kept pages only add up: on the 1,000,000 x 20 benchmark file
the peak was about 710 MB with mimalloc and about 600 MB with jemalloc, which hands freed pages
back, at the same CPU time. Process-wide, so it is chosen by whoever owns the process (the
analyzer's profiling process, a benchmark), never as a side effect of importing the engine.
jemalloc reads its options from the environment when pyarrow loads, so that process sets them
first (``sonda_analyzer.arrow_env``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pyarrow as pa

_DECAY_MS = 250
#: glibc's ``mallopt`` parameter for the size from which a block gets its own mapping.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 1 << 20


def use_returning_allocator() -> str:
    """Make jemalloc Arrow's default allocator where the build has it; returns the one in use."""
    _map_large_blocks()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc (some platforms): keep the default
        return str(pa.default_memory_pool().backend_name)
    pa.set_memory_pool(pool)
    # Freed pages go back after a fraction of a second instead of jemalloc's default ten: a
    # profile is over in a few seconds, so the long delay kept every freed column resident. At 0
    # (at once) the peak fell further (about 550 MB) but page faults cost about 20 % more CPU.
    pa.jemalloc_set_decay_ms(_DECAY_MS)
    return str(pool.backend_name)


def _map_large_blocks() -> None:
    """Blocks of a megabyte or more from glibc's malloc (numpy arrays, the pieces a CSV is read
    in) get their own mapping, handed back when freed.

    glibc raises that threshold each time such a block is freed, up to 32 MB, after which blocks
    of a few megabytes come from the heap and their freed space is kept: reading a CSV as two
    halves (as it was read then) held about 100 MB more at its peak that way. Setting the
    threshold turns the raising off. The price: a block of a megabyte or more is faulted in
    afresh each time, so a loop's working arrays are kept under it.
    """
    if platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
