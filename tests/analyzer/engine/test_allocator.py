"""The profiling process hands freed Arrow memory back (jemalloc where the build has it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sonda_analyzer.engine.stream_memory import KEEP_FREED_FROM
from sonda_analyzer.native_env import ARENAS, DIRTY_DECAY_MS, JEMALLOC_CONF, MUZZY_DECAY_MS

SCRIPT = """
import pyarrow as pa
from sonda_analyzer.engine.allocator import use_returning_allocator
chosen = use_returning_allocator()
print(chosen.backend, pa.default_memory_pool().backend_name)
"""


def test_the_profiling_process_allocator_is_chosen_explicitly() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    chosen, in_use = out.stdout.split()
    assert chosen == in_use
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return  # a build without jemalloc keeps its default, as documented
    assert in_use == "jemalloc"


ARENAS_SCRIPT = """
import json
import os
from sonda_analyzer.native_env import JEMALLOC_CONF, set_native_options
set_native_options()
print(os.environ[JEMALLOC_CONF])
os.environ[JEMALLOC_CONF] += ",stats_print:true"  # jemalloc prints its options when the process ends
import pyarrow as pa
from sonda_analyzer.engine.allocator import use_returning_allocator
use_returning_allocator()
pa.allocate_buffer(1 << 20)
"""


def test_the_profiling_process_sets_jemalloc_arenas_before_pyarrow_loads() -> None:
    """jemalloc reads its options once, as pyarrow loads: the profiling process's setting must
    reach it then (a setting made after ``import pyarrow`` is silently ignored)."""
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return  # a build without jemalloc: nothing to configure
    env = {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF}
    out = subprocess.run(
        [sys.executable, "-c", ARENAS_SCRIPT], capture_output=True, text=True, check=True, env=env
    )
    assert (
        out.stdout.split()[0]
        == f"narenas:{ARENAS},dirty_decay_ms:{DIRTY_DECAY_MS},muzzy_decay_ms:{MUZZY_DECAY_MS}"
    )
    assert f"opt.narenas: {ARENAS}" in out.stderr
    # every arena, the first one included, hands freed pages back this soon, and at once
    # (not lazily, where they would still count as the process's memory)
    assert f"opt.dirty_decay_ms: {DIRTY_DECAY_MS}" in out.stderr
    assert f"opt.muzzy_decay_ms: {MUZZY_DECAY_MS}" in out.stderr
    assert f"arenas.dirty_decay_ms: {DIRTY_DECAY_MS}" in out.stderr
    # an operator's own setting is kept
    mine = subprocess.run(
        [sys.executable, "-c", ARENAS_SCRIPT], capture_output=True, text=True, check=True,
        env={**env, JEMALLOC_CONF: "narenas:5"},
    )  # fmt: skip
    assert mine.stdout.split()[0] == "narenas:5"
    assert "opt.narenas: 5" in mine.stderr


def test_the_profiling_process_module_loads_no_pyarrow_before_its_main_runs() -> None:
    """``sonda_analyzer.child.main`` sets jemalloc's options and only then imports the engine:
    importing the module itself must not load pyarrow already."""
    script = "import sys, sonda_analyzer.child; print('pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


STREAMING_SCRIPT = """
import json, sys
from pathlib import Path
from sonda_analyzer.native_env import set_native_options
set_native_options()
from sonda_analyzer.engine import encode_result, profile_file
from sonda_analyzer.engine.allocator import use_returning_allocator
import pyarrow as pa
allocator = use_returning_allocator()
path = Path(sys.argv[1])
keeping, smaller = int(sys.argv[2]), int(sys.argv[2]) // 2
seen = []
def watch(update):
    seen.append(pa.default_memory_pool().backend_name)
kept = json.loads(encode_result(profile_file(
    path, {"streaming": True}, budget_mb=keeping, allocator=allocator, on_progress=watch)))
seen.append(pa.default_memory_pool().backend_name)
plain = json.loads(encode_result(profile_file(path, {"streaming": True}, budget_mb=keeping)))
below = []
profile_file(path, {"streaming": True}, budget_mb=smaller, allocator=allocator,
             on_progress=lambda _: below.append(pa.default_memory_pool().backend_name))
after = json.loads(encode_result(profile_file(path, {"streaming": False}, allocator=allocator)))
print(json.dumps([kept["dataset"], plain["dataset"], after["dataset"]["rows"], allocator.backend, seen, below]))
"""


def test_streaming_with_the_process_allocators_profiles_the_same(tmp_path: Path) -> None:
    """The profiling process lets streaming keep freed memory between chunks (from the budget
    where that pays) and tightens it again afterwards: the figures are those of a streaming pass
    without it, and an exact profile after it runs as usual. A smaller budget keeps nothing."""
    import json

    rng = np.random.default_rng(4)
    path = tmp_path / "s.csv"
    pd.DataFrame({"a": rng.normal(size=120_000), "b": rng.integers(0, 50, 120_000)}).to_csv(path, index=False)
    out = subprocess.run(
        [sys.executable, "-c", STREAMING_SCRIPT, str(path), str(KEEP_FREED_FROM >> 20)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    kept, plain, rows, backend, pools, below = json.loads(out.stdout)
    # Arrow's buffers come from a pool that keeps freed pages while chunks stream (mimalloc where
    # the build has it), and from the process's own pool again afterwards
    if _has_mimalloc():
        assert "mimalloc" in pools[:-1]
    assert pools[-1] == backend
    assert set(below) == {backend}  # the smaller budget's chunks came from the process's own pool
    assert kept["mode"] == plain["mode"] == "streaming"
    for key in ("rows", "columns", "missing_cells", "duplicate_rows"):
        assert kept[key] == plain[key], key
    assert rows == kept["rows"] == 120_000


def _has_mimalloc() -> bool:
    try:
        pa.mimalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


COLUMNS_SCRIPT = """
import ctypes, json
import numpy as np
from sonda_analyzer.engine.allocator import use_returning_allocator

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
allocator = use_returning_allocator()

def mapped_while_held(rows):
    before = libc.mallinfo2().hblkhd
    block = np.ones(rows)  # a column of 8-byte values
    mapped = libc.mallinfo2().hblkhd - before
    del block
    return mapped

seen = {"before": mapped_while_held(1_000_000)}
with allocator.columns(1_000_000):
    seen["columns"] = mapped_while_held(1_000_000)
    seen["wider"] = mapped_while_held(5_000_000)  # beyond glibc's largest threshold
seen["after"] = mapped_while_held(1_000_000)
print(json.dumps([allocator.glibc, seen]))
"""


def test_columns_working_arrays_come_from_the_heap_while_columns_are_profiled() -> None:
    """While the columns are profiled, a block the size of a column of 8-byte values comes from
    glibc's heap (reused for the next column), not a mapping of its own; before and after, and
    beyond glibc's largest threshold, it is mapped (and handed back when freed) as before."""
    out = subprocess.run([sys.executable, "-c", COLUMNS_SCRIPT], capture_output=True, text=True, check=True)
    glibc, seen = json.loads(out.stdout)
    if not glibc:
        return  # another libc: nothing is set
    column = 8 * 1_000_000
    assert seen["before"] >= column
    assert seen["columns"] == 0
    assert seen["wider"] >= 5 * column
    assert seen["after"] >= column
