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
#: Freed pages go back after a tenth of a second instead of jemalloc's default ten: a profile is
#: over in a few seconds, so the long delay kept every freed column resident. At 0 (at once)
#: the 1M-row benchmark file peaked lower (465-477 MB) but took about 0.5 s more of CPU in page
#: faults; at 100 ms it peaked at 478-488 MB in 2.6 s of work, against 492-528 MB in 2.8 s at
#: 250 ms.
DIRTY_DECAY_MS = 100
#: Pages past their decay are handed back at once (``MADV_DONTNEED``). jemalloc's other way,
#: ``MADV_FREE``, leaves them counted in the process's memory until the kernel runs short.
MUZZY_DECAY_MS = 0


def set_jemalloc_options() -> None:
    """Before pyarrow is imported; an operator's own setting of the variable is kept.

    The decay times go in the options rather than through ``pyarrow.jemalloc_set_decay_ms``,
    which only sets them for arenas created afterwards (not the one already serving the main
    thread) and sets the muzzy time too.
    """
    os.environ.setdefault(
        JEMALLOC_CONF,
        f"narenas:{ARENAS},dirty_decay_ms:{DIRTY_DECAY_MS},muzzy_decay_ms:{MUZZY_DECAY_MS}",
    )
