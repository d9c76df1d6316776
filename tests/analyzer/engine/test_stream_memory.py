"""Streaming mode keeps to its memory budget: a profiling process, set up as the analyzer sets one
up, streams a file several times its chunk size and its peak resident memory stays under the budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sonda_analyzer.engine.stream_memory import KEEP_FREED_FROM, stream_memory

pytestmark = pytest.mark.slow

#: Below the budget from which freed memory is kept: its share goes to larger chunks.
BUDGET_MB = 640
ROWS = 900_000

CHILD = """
import json, sys
from pathlib import Path
from sonda_analyzer.native_env import set_native_options
set_native_options()  # before pyarrow loads, as the analyzer's profiling process does
from sonda_analyzer.engine import profile_file
from sonda_analyzer.engine.allocator import use_returning_allocator
allocator = use_returning_allocator()
result = profile_file(Path(sys.argv[1]), {"streaming": True}, budget_mb=int(sys.argv[2]), allocator=allocator)
# The high-water mark of this program's own memory. Not ru_maxrss: Linux carries the parent's
# high-water mark over into a child's at exec, and the test process can be the larger of the two.
status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
peak = int(status["VmHWM"].split()[0]) * 1024
print(json.dumps({"mode": result.dataset.mode, "rows": result.dataset.rows, "peak": peak,
                  "mean": next(c.stats.mean for c in result.columns if c.name == "amount")}))
"""


def _write(path: Path) -> pa.Table:
    """Twenty mixed columns, about 200 MB of CSV."""
    rng = np.random.default_rng(7)
    columns: dict[str, pa.Array] = {"id": pa.array(np.arange(ROWS))}
    columns["amount"] = pa.array(rng.lognormal(4, 1, ROWS).round(2))
    for i in range(6):
        columns[f"x{i}"] = pa.array(rng.normal(i, 3, ROWS))
    for i in range(4):
        columns[f"n{i}"] = pa.array(rng.integers(0, 10 ** (i + 2), ROWS))
    words = np.array([f"word{i}" for i in range(300)])
    for i in range(4):
        columns[f"c{i}"] = pa.array(words[rng.integers(0, 30 * (i + 1), ROWS)])
    tags = rng.integers(0, 10**12, ROWS)
    columns["tag"] = pa.array([f"t-{v:012d}" for v in tags])
    columns["flag"] = pa.array(rng.random(ROWS) < 0.3)
    columns["when"] = pa.array(
        np.datetime64("2020-01-01") + rng.integers(0, 10**8, ROWS).astype("timedelta64[s]")
    )
    columns["note"] = pa.array([f"note {v} of the day" for v in rng.integers(0, 5_000, ROWS)])
    table = pa.table(columns)
    pacsv.write_csv(table, path)
    return table


def test_a_streamed_file_stays_within_the_memory_budget(tmp_path: Path) -> None:
    budget = BUDGET_MB << 20
    memory = stream_memory(budget)
    assert budget < KEEP_FREED_FROM and not memory.keep_freed
    path = tmp_path / "wide.csv"
    table = _write(path)
    assert path.stat().st_size > 6 * memory.block_bytes  # chunks in flight and read ahead at once
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(BUDGET_MB)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["mode"] == "streaming"
    assert seen["rows"] == ROWS
    assert seen["mean"] == pytest.approx(float(np.mean(table.column("amount").to_numpy())), rel=1e-12)
    assert seen["peak"] < budget, f"peak {seen['peak'] >> 20} MB over a {BUDGET_MB} MB budget"
