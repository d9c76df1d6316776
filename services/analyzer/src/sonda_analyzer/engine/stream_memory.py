"""How streaming mode spends its memory budget: the chunk size, and whether the process keeps
the memory a chunk freed for the next one.

The two are decided together because they share the budget: keeping freed memory saves page
faults (``engine.allocator``) but holds a share of the budget that the chunks then cannot have.
The reader (chunk size) and the allocator (keeping) both take their part from here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Memory streaming needs whatever the chunk size: the interpreter with pyarrow, numpy and pandas,
#: the sketches and the value counts of the columns still counted exactly (up to 65,536 values
#: each). A 5 GB run at a 1 GB budget peaked at 1.08 GB with 250 MB here: now 300 MB. The
#: duplicate-row hashes' tenth of the budget comes on top.
FIXED_BYTES = 300 << 20
#: Chunks the reader may fetch ahead of the one being profiled.
READ_AHEAD = 2
#: A chunk is held as text and as parsed columns while read ahead (about twice its size each)
#: and in about three copies while profiled.
CHUNK_COPIES = 2 * READ_AHEAD + 3
#: Freed memory is kept for the next chunk from this budget on. What is kept grows with the chunk
#: and stays beside it: on the 5 GB benchmark file at a 512 MB budget, 4 MB chunks peaked at 480 MB
#: kept and 16 MB chunks at 429 MB not, in 46 s against 31 s; at 768 MB, 12 MB chunks kept 682 MB
#: in 32 s, 48 MB chunks not 663 MB in 29 s. At 1 GB keeping wins: 30 MB chunks kept peaked at
#: 796 MB in 28 s, 64 MB chunks not at 872 MB in 29 s.
KEEP_FREED_FROM = 1024 << 20
#: The share of the budget the fixed part and the chunks in flight may take; the rest is for the
#: duplicate-row hashes (a tenth) and slack, and, when freed memory is kept, another quarter for
#: what is kept (glibc's heap keeps a 32nd of the budget, mimalloc the pages of Arrow's buffers).
_SHARE_KEEPING = 0.5
_SHARE = 0.75
_MIN_CHUNK = 1 << 20
_MAX_CHUNK = 64 << 20


@dataclass(frozen=True, slots=True)
class StreamMemory:
    #: Bytes of content per chunk.
    block_bytes: int
    #: Whether the memory a chunk freed is kept for the next (``ReturningAllocator.streaming``).
    keep_freed: bool


def stream_memory(budget_bytes: int) -> StreamMemory:
    """The chunk size and the keeping of freed memory for a budget, so that the chunks in flight
    fit beside the fixed part and what is kept."""
    keep = budget_bytes >= KEEP_FREED_FROM
    room = (_SHARE_KEEPING if keep else _SHARE) * budget_bytes - FIXED_BYTES
    block = int(min(_MAX_CHUNK, max(_MIN_CHUNK, room / CHUNK_COPIES)))
    return StreamMemory(block_bytes=block, keep_freed=keep)
