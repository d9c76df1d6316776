"""Options of Arrow's own jemalloc, which it reads from the environment once, when pyarrow loads.

A process that profiles files sets them before it imports pyarrow (the profiling process, the
benchmarks); ``engine.allocator`` then makes that jemalloc Arrow's default allocator.
"""

from __future__ import annotations

import os

#: The environment variable Arrow's jemalloc reads its options from.
JEMALLOC_CONF = "JE_ARROW_MALLOC_CONF"
#: jemalloc's arenas. Its default, four per core, gave every thread of a profile (the pool, the
#: big-column thread, the CSV pieces, Arrow's own) an arena of its own, each keeping the pages its
#: thread freed until they decay: on the 1M-row benchmark file two arenas peaked 32-40 MB lower
#: (521-540 MB against 557-573 MB) at about the same CPU time.
ARENAS = 2


def set_jemalloc_options() -> None:
    """Before pyarrow is imported; an operator's own setting of the variable is kept."""
    os.environ.setdefault(JEMALLOC_CONF, f"narenas:{ARENAS}")
