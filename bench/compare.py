"""Comparison benchmark: how long comparing two stored profiles takes, against profiling the files.

    uv run python bench/compare.py [--rows 1000000] [--wide-cols 1000] [--repeat 50] [--write-docs]

A comparison reads only the two stored results (docs/result-schema.md), never the data: a profile
holds a fixed number of figures per column (20 histogram bins, 7 quantiles, 10 top values)
whatever the file's size, so the time depends on the number of columns, not on rows or bytes. The
benchmark shows it:

1. a mixed 20-column table (bench/datagen.py) of ``--rows`` rows, and a copy with prices up 30%,
   the state column reshuffled and 20% of scores gone missing, written as CSV and profiled in
   streaming mode (sketches, as a file above the memory budget is);
2. a wide table (``--wide-cols`` columns, numeric, integer, categorical and boolean) and a
   reshuffled copy, profiled in exact mode;
3. each pair compared ``--repeat`` times as the query service does it after reading the two
   objects: decode both JSON results, compare, encode the answer.

Prints a table; ``--write-docs`` writes it with this command into the "Comparison" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from docsection import write_section  # type: ignore[import-not-found]
from rich.console import Console
from rich.table import Table
from sonda_analyzer.engine import encode_result, profile_file
from sonda_query.compare import compare_results
from sonda_query.compare.stored import decode_for_comparison

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datagen import mixed_table, wide_table, write_csv  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- compare:start -->", "<!-- compare:end -->"


def shifted_mixed(rows: int) -> pa.Table:
    """Another month of the mixed table: prices up 30%, states reshuffled, a fifth of scores gone."""
    table = mixed_table(rows, seed=8)
    rng = np.random.default_rng(9)
    price = pc.multiply(table["price"], 1.3)
    states = pa.array(rng.choice(["SP", "RJ", "MG"], rows))
    score = pc.if_else(pa.array(rng.random(rows) < 0.2), pa.scalar(None, pa.float64()), table["score"])
    for name, column in (("price", price), ("state", states), ("score", score)):
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


class Case(msgspec.Struct, kw_only=True):
    name: str
    columns: int
    rows: int
    file_bytes: int
    result_bytes: int
    profile_s: float
    compare_ms: list[float]
    drifted: int
    dataset_drift: bool


def profile(path: Path, streaming: bool) -> tuple[bytes, float]:
    started = time.perf_counter()
    result = profile_file(path, {"streaming": streaming})
    return encode_result(result), time.perf_counter() - started


def run_case(
    name: str, base: pa.Table, target: pa.Table, work: Path, *, streaming: bool, repeat: int
) -> Case:
    paths = [write_csv(t, work / f"{name}_{i}.csv") for i, t in enumerate((base, target))]
    (a, ta), (b, tb) = (profile(p, streaming) for p in paths)
    timings: list[float] = []
    comparison = None
    for _ in range(repeat):
        started = time.perf_counter()
        comparison = compare_results(decode_for_comparison(a), decode_for_comparison(b))
        msgspec.json.encode(comparison)
        timings.append(1000 * (time.perf_counter() - started))
    assert comparison is not None
    return Case(
        name=name,
        columns=base.num_columns,
        rows=base.num_rows,
        file_bytes=sum(p.stat().st_size for p in paths) // 2,
        result_bytes=(len(a) + len(b)) // 2,
        profile_s=(ta + tb) / 2,
        compare_ms=timings,
        drifted=comparison.drift.drifted_columns,
        dataset_drift=comparison.dataset_drift,
    )


def table(cases: list[Case]) -> tuple[Table, str]:
    headers = [
        "table",
        "columns",
        "rows",
        "CSV MB",
        "result KB",
        "profile s (each)",
        "compare ms p50",
        "p95",
        "drifted",
    ]
    view = Table(*headers)
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for case in cases:
        ordered = sorted(case.compare_ms)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        row = [
            case.name,
            f"{case.columns:,}",
            f"{case.rows:,}",
            f"{case.file_bytes / 1e6:,.0f}",
            f"{case.result_bytes / 1e3:,.0f}",
            f"{case.profile_s:.1f}",
            f"{statistics.median(case.compare_ms):.1f}",
            f"{p95:.1f}",
            f"{case.drifted}" + (" (dataset drift)" if case.dataset_drift else ""),
        ]
        view.add_row(*row)
        lines.append("| " + " | ".join(row) + " |")
    return view, "\n".join(lines)


def write_doc(section: str) -> None:
    write_section(START, END, section, doc=DOC)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the mixed table")
    parser.add_argument("--wide-cols", type=int, default=1000, help="columns of the wide table")
    parser.add_argument("--wide-rows", type=int, default=20_000, help="rows of the wide table")
    parser.add_argument("--repeat", type=int, default=50, help="comparisons timed per pair")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="sonda-compare-") as tmp:
        work = Path(tmp)
        cases = [
            run_case(
                "mixed, streamed",
                mixed_table(args.rows, seed=7),
                shifted_mixed(args.rows),
                work,
                streaming=True,
                repeat=args.repeat,
            ),
            run_case(
                "wide, exact",
                wide_table(args.wide_rows, args.wide_cols, seed=11),
                wide_table(args.wide_rows, args.wide_cols, seed=12),
                work,
                streaming=False,
                repeat=args.repeat,
            ),
        ]
    view, markdown = table(cases)
    console.print(view)
    command = "uv run python bench/compare.py " + " ".join(a for a in sys.argv[1:] if a != "--write-docs")
    load = os.getloadavg()[0]
    section = f"""## Comparison of two analyses

Produced by:

```
{command.strip()} --write-docs
```

Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()};
run on {datetime.now(UTC):%Y-%m-%d}, load average {load:.1f} at the end (other work shared the machine).

*profile s* is the analyzer's engine on one CSV (`profile_file`, streaming mode for the mixed
table as for a file above the memory budget); *compare ms* is what the query service does once
it has read the two result objects: decode both JSON results, compare (schema, one verdict per
column, the dataset's rule), encode the answer — median and 95th percentile of {args.repeat} runs.

{markdown}

A profile keeps a fixed number of figures per column (20 histogram bins, 7 quantiles, 10 top
values) whatever the file's size, so comparing the profiles of two 5 GB files of the mixed table
costs what the row above costs: the time grows with the number of columns, never with rows or
bytes. Nothing is read again.
"""
    if args.write_docs:
        write_doc(section)
        console.print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
