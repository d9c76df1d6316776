"""The profiling process hands freed Arrow memory back (jemalloc where the build has it)."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa

SCRIPT = """
import pyarrow as pa
from sonda_analyzer.engine.allocator import use_returning_allocator
chosen = use_returning_allocator()
print(chosen, pa.default_memory_pool().backend_name)
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
