"""The Arrow allocator of a process that profiles files.

Arrow's default allocator (mimalloc) keeps the pages of freed buffers for its own later use. The
engine frees the table column by column while numpy, which allocates elsewhere, builds each
column's working arrays, so those kept pages only add up: on the 1,000,000 x 20 benchmark file
the peak was about 710 MB with mimalloc and about 600 MB with jemalloc, which hands freed pages
back, at the same CPU time. Process-wide, so it is chosen by whoever owns the process (the
analyzer's profiling process, a benchmark), never as a side effect of importing the engine.
jemalloc reads its options from the environment when pyarrow loads, so that process sets them
first (``sonda_analyzer.native_env``).
"""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa

#: glibc's ``mallopt`` parameters: the size from which a block gets its own mapping, and the free
#: space at the top of the heap from which it is handed back.
_M_MMAP_THRESHOLD = -3
_M_TRIM_THRESHOLD = -1
#: numpy asks the kernel for huge pages for arrays of 4 MB or more (``madvise``), so a fresh
#: mapping of one costs a fault per 2 MB; a smaller one was faulted in 4 KB at a time, each time
#: it was made. From 4 MB on, then, a block gets its own mapping; below, it comes from the heap,
#: which keeps this much freed space at its top for the next ones. The 1M-row benchmark file,
#: three runs each: 1.68-1.73 s of work, 0.31 million page faults and a peak of 440-458 MB,
#: against 1.82-1.91 s, 0.46 million and 428-449 MB with every block from 1 MB on mapped and
#: glibc's 128 KB kept (8 MB from the heap: a peak of 528-534 MB).
_MMAP_THRESHOLD = 4 << 20
_TRIM_THRESHOLD = 32 << 20
#: Once the small columns are profiled, a block as large as a column of 8-byte values (and a
#: little more) comes from the heap, up to this size: every column builds such arrays (its values,
#: its order, its codes widened to intp, Spearman's ranks per group of pairs), and with each one
#: mapped afresh and handed back, the correlations and big text columns of the 1,000,000 x 20
#: benchmark file took 57,000-92,000 page faults and 0.69-0.72 s; from the heap, which keeps them
#: for the next ones, 33,000-40,000 and 0.65-0.67 s (the whole profile 1.48 s of work against
#: 1.54 s, seven runs each taken in turns, the same peak). From the start, the first columns'
#: arrays kept beside the whole table and the read's freed memory raised the peak by 10-25 MB.
#: glibc takes no threshold above 32 MB on 64-bit systems.
_COLUMN_MMAP_MAX = 32 << 20
#: What a column's block holds beyond its values (numpy's header, alignment).
_COLUMN_SLACK = 1 << 20
#: While streaming: numpy's working arrays of a chunk (a few megabytes each) come from the heap.
_STREAM_MMAP_THRESHOLD = 16 << 20
#: While streaming, the freed heap space kept for the next chunk, as a share of the budget (with
#: Arrow's buffers in mimalloc meanwhile, 5 GB at a 1 GB budget peaked at 987 MB with an eighth,
#: 881 MB with a 32nd and 846 MB with a 64th, at about the same speed).
_STREAM_KEPT_SHARE = 32


@dataclass(frozen=True, slots=True)
class ReturningAllocator:
    """The allocators of a profiling process as :func:`use_returning_allocator` set them; the
    engine takes it (``profile_file(allocator=...)``) to loosen them while it streams."""

    backend: str
    glibc: bool

    @contextmanager
    def columns(self, rows: int) -> Iterator[None]:
        """While columns of a table of ``rows`` rows are profiled, a block the size of a column of
        8-byte values comes from the heap (see ``_COLUMN_MMAP_MAX``); then as before, and what
        the heap kept for them goes back (a warm profiling process waits for its next file)."""
        threshold = min(_COLUMN_MMAP_MAX, 8 * rows + _COLUMN_SLACK)
        if not self.glibc or threshold <= _MMAP_THRESHOLD:
            yield  # a small table: its columns' blocks come from the heap anyway
            return
        libc = _libc()
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)
        try:
            yield
        finally:
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            libc.malloc_trim(0)

    @contextmanager
    def streaming(self, budget_bytes: int, keep_freed: bool) -> Iterator[None]:
        """While a file streams, the memory freed by one chunk is kept for the next, when
        ``keep_freed`` (``engine.stream_memory`` decides, with the chunk size).

        Every chunk builds the same working arrays (a megabyte to a few each). With each of them
        mapped afresh and handed back when freed, a 5 GB pass took 9 million page faults and a
        third of its CPU time in the kernel (54 s wall). glibc now keeps some freed heap for
        numpy's arrays, and Arrow's buffers (the parsed blocks, the joined chunk, the encodings)
        come from mimalloc, which reuses the pages freed, where jemalloc hands them back after
        0.1 s (what exact mode's peak needs) and faults them in again for the next chunk. On the
        5 GB benchmark file at a 1 GB budget: 0.6 million page faults and 5-6 s in the kernel
        against 3.5 million and 13-15 s, 35-37 s against 42-50 s, for 881 MB at the peak against
        825 MB. What mimalloc kept goes back at the end, and exact mode keeps the tight setting:
        its peak is the whole table.
        """
        if not self.glibc or not keep_freed:
            yield  # a smaller budget: it goes to larger chunks instead
            return
        libc = _libc()
        libc.mallopt(_M_MMAP_THRESHOLD, _STREAM_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, budget_bytes // _STREAM_KEPT_SHARE)
        arrow_pool = pa.default_memory_pool()
        keeping = _keeping_pool()
        if keeping is not None:
            pa.set_memory_pool(keeping)
        try:
            yield
        finally:
            if keeping is not None:
                pa.set_memory_pool(arrow_pool)
                keeping.release_unused()
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
            libc.malloc_trim(0)


def _keeping_pool() -> pa.MemoryPool | None:
    """mimalloc, where the build has it (None elsewhere: Arrow's pool stays as it is)."""
    try:
        return pa.mimalloc_memory_pool()
    except NotImplementedError:
        return None


def use_returning_allocator() -> ReturningAllocator:
    """Make jemalloc Arrow's default allocator where the build has it; returns what is in use."""
    glibc = _map_large_blocks()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc (some platforms): keep the default
        return ReturningAllocator(str(pa.default_memory_pool().backend_name), glibc)
    pa.set_memory_pool(pool)
    # How soon freed pages go back is in jemalloc's options, set by the process's owner before
    # pyarrow loads (``sonda_analyzer.native_env``).
    return ReturningAllocator(str(pool.backend_name), glibc)


def _libc() -> ctypes.CDLL:
    # The process's own symbols, glibc's among them: no search for the library by name, whose
    # module loads subprocess and tempfile (3 ms of every profiling process's start).
    return ctypes.CDLL(None)


def _map_large_blocks() -> bool:
    """Blocks of ``_MMAP_THRESHOLD`` or more from glibc's malloc (numpy arrays, the pieces a CSV
    is read in) get their own mapping, handed back when freed; the heap keeps at most
    ``_TRIM_THRESHOLD`` of freed space.

    glibc raises the mapping threshold each time such a block is freed, up to 32 MB, after which
    blocks of several megabytes come from the heap and their freed space is kept: reading a CSV
    as two halves (as it was read then) held about 100 MB more at its peak that way. Setting the
    threshold turns the raising off. Returns whether the process allocates with glibc.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = _libc()
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    return True
