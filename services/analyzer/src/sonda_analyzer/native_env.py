"""Options the native libraries read from the environment once, as they load: Arrow's jemalloc,
OpenBLAS's threads and the CPU code paths numpy picks; and glibc's malloc arenas, which the
threads those libraries start make as they first allocate.

A process that profiles files sets them before it imports pyarrow or numpy (the profiling
process, the benchmarks): :func:`set_native_options`. ``engine.allocator`` then makes that
jemalloc Arrow's default allocator.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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

#: The environment variable OpenBLAS (numpy's BLAS) reads as it loads, for its threads. A profile
#: keeps BLAS on one thread (``engine.blas``); started with a thread per core, OpenBLAS's other
#: thread spun while numpy loaded: about 0.1 s of CPU in every profiling process, for nothing.
OPENBLAS_THREADS = "OPENBLAS_NUM_THREADS"
#: The environment variable glibc reads, as the process starts, for the most malloc arenas.
MALLOC_ARENAS = "MALLOC_ARENA_MAX"
#: glibc's ``mallopt`` parameter for the same.
_M_ARENA_MAX = -8
#: The environment variable numpy reads, as it loads, for CPU features it must not use.
NUMPY_DISABLED_FEATURES = "NPY_DISABLE_CPU_FEATURES"
#: Every AVX-512 feature numpy dispatches on, by its names up to 2.3 and its later group name
#: (numpy skips the names it does not know).
AVX512_FEATURES = (
    "AVX512F AVX512CD AVX512VL AVX512BW AVX512DQ AVX512VNNI AVX512IFMA AVX512VBMI AVX512VBMI2 "
    "AVX512BITALG AVX512VPOPCNTDQ AVX512FP16 AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX "
    "AVX512_CNL AVX512_ICL AVX512_SPR X86_V4"
)
#: AMD's family 25 (0x19): Zen 3, without AVX-512, and Zen 4, with it.
_ZEN_3_4 = 25


def slow_avx512_sort(cpuinfo: str) -> bool:
    """Whether numpy's AVX-512 sorts are slower than its AVX2 ones on this CPU (``/proc/cpuinfo``).

    On AMD Zen 4, AVX-512's compress-store (writing the chosen lanes of a vector to memory), the
    heart of numpy's AVX-512 quicksort and argsort, is microcoded and slow: 1M float64 values
    sorted in 52 ms and argsorted in 72 ms, against 9 ms and 26 ms by the AVX2 code. A profile
    sorts every numeric column, the hashes of its text columns and its ranks: the 1M-row
    benchmark file took 1.58-1.65 s of work against 1.78-1.95 s, 2.8 s of CPU against 3.1-3.3 s.
    Intel's AVX-512 and later AMD families keep numpy's own choice.
    """
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor tells for all of them
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and fields.get("cpu family") == str(_ZEN_3_4)
        and "avx512f" in fields.get("flags", "").split()
    )


def set_native_options(cpuinfo: Path = Path("/proc/cpuinfo")) -> None:
    """Before pyarrow and numpy are imported; an operator's own setting of either variable is kept.

    The decay times go in jemalloc's options rather than through
    ``pyarrow.jemalloc_set_decay_ms``, which only sets them for arenas created afterwards (not
    the one already serving the main thread) and sets the muzzy time too.
    """
    env = os.environ
    _one_malloc_arena(env)
    env.setdefault(
        JEMALLOC_CONF,
        f"narenas:{ARENAS},dirty_decay_ms:{DIRTY_DECAY_MS},muzzy_decay_ms:{MUZZY_DECAY_MS}",
    )
    env.setdefault(OPENBLAS_THREADS, "1")
    if NUMPY_DISABLED_FEATURES in env or "numpy" in sys.modules:
        return  # the operator's choice, or too late: numpy reads it once, as it loads
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux, or no /proc: numpy's own choice
        return
    if slow_avx512_sort(text):
        env[NUMPY_DISABLED_FEATURES] = AVX512_FEATURES


def _one_malloc_arena(env: os._Environ[str]) -> None:
    """glibc's malloc gives each new thread that allocates an arena of its own, up to eight per
    core, each keeping its own freed space and holes: a profile's threads (the pool, the big
    columns, the CSV pieces, the native libraries' own) made six. One arena for the process: on
    the 1M-row benchmark file, seven interleaved runs each, a peak of 400-415 MB against
    416-447 MB, for 1.38 s of work against 1.35 s (two arenas: 405-440 MB); a 1 GB streaming
    pass no slower. Set before pyarrow and numpy load: set after them, the peak was 398-429 MB.
    An operator's own ``MALLOC_ARENA_MAX`` (read by glibc as the process started) is kept.
    """
    if MALLOC_ARENAS in env:
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
    except (ValueError, OSError):  # not glibc
        return
    import ctypes

    ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
