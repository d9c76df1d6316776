"""numpy's CPU code paths in the profiling process (AVX-512 left out where its sorts are slow),
OpenBLAS's threads and glibc's malloc arenas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sonda_analyzer.native_env import (
    AVX512_FEATURES,
    MALLOC_ARENAS,
    NUMPY_DISABLED_FEATURES,
    OPENBLAS_THREADS,
    slow_avx512_sort,
)


def cpuinfo(vendor: str, family: int, flags: str) -> str:
    block = f"processor\t: {{n}}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 17\nflags\t\t: {flags}\n"
    # two processors, as /proc/cpuinfo lists them: the first one tells
    return block.format(n=0) + "\n" + block.format(n=1).replace(flags, "fpu")


ZEN4 = cpuinfo("AuthenticAMD", 25, "fpu sse2 avx2 avx512f avx512bw avx512vl")


def test_only_amd_family_25_with_avx512_leaves_it_out() -> None:
    assert slow_avx512_sort(ZEN4)
    assert not slow_avx512_sort(cpuinfo("AuthenticAMD", 25, "fpu sse2 avx2"))  # Zen 3: nothing to leave out
    assert not slow_avx512_sort(cpuinfo("AuthenticAMD", 26, "fpu avx2 avx512f"))  # a later family
    assert not slow_avx512_sort(cpuinfo("GenuineIntel", 6, "fpu avx2 avx512f avx512bw"))
    assert not slow_avx512_sort("")


SCRIPT = """
import os, sys
from pathlib import Path
from sonda_analyzer.native_env import NUMPY_DISABLED_FEATURES, set_native_options
if sys.argv[2] == "numpy-first":
    import numpy
set_native_options(cpuinfo=Path(sys.argv[1]))
import numpy as np
from numpy._core._multiarray_umath import __cpu_features__
x = np.random.default_rng(3).random(10_000)
assert (np.sort(x) == sorted(x)).all() and (x[np.argsort(x)] == np.sort(x)).all()
print(os.environ.get(NUMPY_DISABLED_FEATURES, "-"), __cpu_features__["AVX512F"], sep="|")
"""


def run(info: Path, *extra: str, env: dict[str, str] | None = None) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k != NUMPY_DISABLED_FEATURES}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(info), *extra, "-"],
        capture_output=True, text=True, check=True, env={**base, **(env or {})},
    )  # fmt: skip
    return out.stdout.strip().split("|")


def test_the_profiling_process_tells_numpy_before_it_loads(tmp_path: Path) -> None:
    zen4 = tmp_path / "zen4"
    zen4.write_text(ZEN4)
    intel = tmp_path / "intel"
    intel.write_text(cpuinfo("GenuineIntel", 6, "fpu avx2 avx512f"))
    # numpy reads the setting as it loads, and then uses no AVX-512 code (sorts still right)
    assert run(zen4) == [AVX512_FEATURES, "False"]
    # elsewhere numpy keeps its own choice
    assert run(intel)[0] == "-"
    assert run(tmp_path / "absent")[0] == "-"
    # too late once numpy is loaded: the variable is left alone rather than set for nothing
    assert run(zen4, "numpy-first")[0] == "-"
    # an operator's own setting is kept
    assert run(zen4, env={NUMPY_DISABLED_FEATURES: "AVX512_SPR"})[0] == "AVX512_SPR"


BLAS_SCRIPT = """
from sonda_analyzer.native_env import set_native_options
set_native_options()
import numpy as np
from sonda_analyzer.engine.blas import _openblas
found = _openblas()
print(found[1]() if found else "none")
"""


def _printed(script: str, unset: str, env: dict[str, str]) -> str:
    """What ``script`` prints, run in a process whose environment lacks ``unset`` but has ``env``."""
    base = {k: v for k, v in os.environ.items() if k != unset}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**base, **env}
    )
    return out.stdout.strip()


def test_openblas_starts_with_one_thread_unless_the_operator_says_otherwise() -> None:
    def threads(env: dict[str, str]) -> str:
        return _printed(BLAS_SCRIPT, OPENBLAS_THREADS, env)

    assert threads({}) == "1"
    assert threads({OPENBLAS_THREADS: "2"}) == "2"


ARENA_SCRIPT = """
import ctypes, sys, threading, time
from sonda_analyzer.native_env import set_native_options
set_native_options()
import numpy, pyarrow
def allocate():  # four threads at once, each allocating and freeing as a profile's threads do
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        blocks = [bytearray(2048) for _ in range(200)]
        del blocks
threads = [threading.Thread(target=allocate) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(ctypes.string_at(text, size.value).decode().count("<heap nr="))
"""


def test_the_profiling_process_allocates_from_one_malloc_arena_unless_the_operator_says_otherwise() -> None:
    """Threads that allocate share glibc's one arena (each new one made its own: six in a
    profile), unless the operator set how many there may be."""
    if not os.confstr("CS_GNU_LIBC_VERSION"):
        return  # not glibc: nothing to set

    def arenas(env: dict[str, str]) -> int:
        return int(_printed(ARENA_SCRIPT, MALLOC_ARENAS, env))

    assert arenas({}) == 1
    assert 1 < arenas({MALLOC_ARENAS: "3"}) <= 3
