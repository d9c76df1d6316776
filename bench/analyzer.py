"""Benchmark: Sonda's full profile vs DuckDB SUMMARIZE, polars describe, ydata-profiling and a bare
pyarrow parse, on the same files, in one run (on each file the tools take turns).

    uv run python bench/analyzer.py                      # all tools; ydata-profiling on the 100k file
    uv run python bench/analyzer.py --stream-gb 1 --stream-budget-mb 512   # a smaller streaming check

Files: 100,000 and 1,000,000 rows x 20 mixed columns and a wide 10,000 x 500 table (bench/datagen.py),
plus one big CSV for the streaming check. Every measurement runs in its own subprocess: wall time
and peak RSS (``wait4``) of the whole process, and the time of the work alone (after imports)
reported by the process itself. Bytecode is cached in a private folder and every tool is imported
once before measuring, so no run pays for compiling Python sources. The figures go to the
"Analyzer" section of docs/benchmarks.md, with the command that produced them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docsection import write_section  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- analyzer:start -->", "<!-- analyzer:end -->"


# ---------------------------------------------------------------- one measured run (child side)


def _pkg_resources_shim() -> None:
    """ydata-profiling 4.x imports ``pkg_resources`` only to read package versions; environments
    without setuptools lack it, so the benchmark stands in with importlib.metadata."""
    import importlib.metadata
    import types

    shim = types.ModuleType("pkg_resources")
    shim.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
        version=importlib.metadata.version(name)
    )
    sys.modules.setdefault("pkg_resources", shim)


def run_one(tool: str, path: str, budget_mb: int) -> None:
    """Runs in the child: import, work, print the timings as JSON on the last line."""
    started = time.perf_counter()
    extra: dict[str, object] = {}
    if tool == "warm":  # compiles every module once into the private bytecode cache
        import warnings

        warnings.filterwarnings("ignore")
        _pkg_resources_shim()
        import dataprof
        import duckdb
        import pandas  # noqa: F401
        import polars  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import sonda_analyzer.engine
        import sonda_analyzer.engine.streaming  # noqa: F401

        if path != "no-ydata":
            import ydata_profiling  # noqa: F401
        return
    if tool == "pyarrow":
        import pyarrow.csv as pacsv

        imported = time.perf_counter()
        rows = pacsv.read_csv(path).num_rows
    elif tool == "polars-describe":
        import polars as pl

        imported = time.perf_counter()
        frame = pl.read_csv(path, infer_schema_length=10_000)
        described = frame.describe()
        rows = frame.height
        extra = {"result_bytes": len(described.write_json())}
    elif tool == "duckdb-summarize":
        import duckdb

        imported = time.perf_counter()
        con = duckdb.connect()
        quoted = path.replace("'", "''")
        summary = con.sql(f"SUMMARIZE SELECT * FROM read_csv_auto('{quoted}')").fetchall()
        rows = int(summary[0][-2]) if summary else 0  # the count column of SUMMARIZE
        extra = {"result_bytes": len(json.dumps(summary, default=str))}
    elif tool == "dataprof":
        import dataprof

        imported = time.perf_counter()
        report = dataprof.profile_file(path)
        rows = int(report.rows)
        extra = {"columns": len(report.column_profiles)}
    elif tool == "sonda":
        from sonda_analyzer.native_env import set_native_options

        set_native_options()  # before pyarrow and numpy load, as the analyzer's profiling process does
        from sonda_analyzer.engine import encode_result, profile_file
        from sonda_analyzer.engine.allocator import use_returning_allocator

        allocator = use_returning_allocator()  # as the analyzer's profiling process runs it

        imported = time.perf_counter()
        result = profile_file(Path(path), budget_mb=budget_mb, allocator=allocator)
        size = len(encode_result(result))
        rows = result.dataset.rows
        extra = {"mode": result.dataset.mode, "result_bytes": size,
                 "correlated": len(result.correlations.pearson.columns),
                 "alerts": len(result.alerts)}  # fmt: skip
    elif tool.startswith("ydata"):
        import warnings

        warnings.filterwarnings("ignore")
        _pkg_resources_shim()
        import pandas as pd
        from ydata_profiling import ProfileReport

        imported = time.perf_counter()
        frame = pd.read_csv(path)
        report = ProfileReport(frame, minimal=tool == "ydata-minimal", progress_bar=False)
        size = len(report.to_json())
        rows = len(frame)
        extra = {"result_bytes": size}
    else:
        raise SystemExit(f"unknown tool {tool}")
    done = time.perf_counter()
    out = {"rows": rows, "import_s": imported - started, "work_s": done - imported}
    if tool != "pyarrow":
        out.update(extra)
    print(json.dumps(out))


# ---------------------------------------------------------------- the harness (parent side)


@dataclass
class Measure:
    tool: str
    file: str
    rows: int
    wall_s: float
    work_s: float
    peak_mb: float
    note: str = ""
    #: user + system CPU seconds of the whole process: steadier than wall time on a busy machine
    cpu_s: float = 0.0
    #: one-minute load average when the run started (2 means both cores already busy)
    load: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s else 0.0


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def measure(tool: str, path: Path, env: dict[str, str], budget_mb: int, timeout: float) -> Measure:
    cmd = [sys.executable, __file__, "--run-one", tool, str(path), "--budget-mb", str(budget_mb)]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            cpu = usage.ru_utime + usage.ru_stime
            return Measure(
                tool, path.name, 0, timeout, timeout, usage.ru_maxrss / 1024, "timed out", cpu, load
            )
        time.sleep(0.02)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"{tool} on {path.name} failed:\n{err[-3000:]}")
    data = json.loads(out.strip().splitlines()[-1])
    note = data.get("mode", "")
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss / 1024
    return Measure(tool, path.name, data["rows"], wall, data["work_s"], peak, note, cpu, load)


def cached(path: Path) -> None:
    """Reads the file once, untimed, so that the run after it finds it in the page cache: the
    machine hands back cold file pages between runs, and a 5 GB file read from disk took Sonda
    31 s where it took 26 s cached, while the tool measured next found it cached."""
    with path.open("rb", buffering=0) as f:
        while f.read(16 << 20):
            pass


def streamed_pairs(
    n: int, big: Path, env: dict[str, str], budget_mb: int, timeout: float
) -> tuple[Measure, Measure]:
    """Sonda and DuckDB on the big file ``n`` times each, in alternating order (Sonda first,
    then DuckDB first, ...), each run after the file was read into the page cache: the median
    of each."""

    def before(tool: str) -> None:
        cached(big)
        print(f"{tool} {big.name} ...", flush=True)

    medians = interleaved(n, ["sonda", "duckdb-summarize"], big, env, budget_mb, timeout, before)
    return medians["sonda"], medians["duckdb-summarize"]


def interleaved(
    n: int,
    tools: list[str],
    path: Path,
    env: dict[str, str],
    budget_mb: int,
    timeout: float,
    before: Callable[[str], None] | None = None,
) -> dict[str, Measure]:
    """Each tool's median run of ``n`` (the machine is shared; the median resists a noisy
    neighbour), the tools taking turns: round ``i`` starts with tool ``i`` (mod their number);
    ``before`` is called with the tool before each run. Run tool by tool, a drift of the
    machine's speed fell on whichever tool ran during it: the same code measured 0.91x and 1.22x
    DuckDB's time in two runs of the 1M-row file within an hour, DuckDB's own CPU time moving
    by 39 % between them."""
    runs: dict[str, list[Measure]] = {tool: [] for tool in tools}
    for i in range(n):
        for tool in tools[i % len(tools) :] + tools[: i % len(tools)]:
            if before is not None:
                before(tool)
            runs[tool].append(measure(tool, path, env, budget_mb, timeout))
    for measures in runs.values():
        measures.sort(key=lambda m: m.wall_s)
    return {tool: measures[len(measures) // 2] for tool, measures in runs.items()}


FILES = {"mixed_100k.csv": 100_000, "mixed_1m.csv": 1_000_000, "wide_10k_x_500.csv": 10_000}


def generate_files(work: Path) -> None:
    """Runs in a child, so the harness stays small: a child inherits its parent's peak RSS."""
    sys.path.insert(0, str(ROOT / "bench"))
    from datagen import mixed_table, wide_table, write_csv  # type: ignore[import-not-found]

    for name, rows in FILES.items():
        path = work / name
        if not path.exists():
            print(f"generating {name} ...", flush=True)
            table = wide_table(rows, 500) if name.startswith("wide") else mixed_table(rows)
            write_csv(table, path)


def generate_big(work: Path, target_gb: float) -> None:
    """A big CSV of distinct chunks (each 1M rows with its own seed and ids); runs in a child."""
    sys.path.insert(0, str(ROOT / "bench"))
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    from datagen import mixed_table

    path = big_path(work, target_gb)
    if path.exists() and path.stat().st_size >= target_gb * 1e9 * 0.98:
        return
    print(f"generating {path.name} ...", flush=True)
    with pa.OSFile(str(path), "wb") as sink:
        chunk = 0
        while sink.tell() < target_gb * 1e9:
            table = mixed_table(1_000_000, seed=100 + chunk)
            table = table.set_column(0, "id", pc.add(table.column("id"), chunk * 1_000_000))
            options = pacsv.WriteOptions(include_header=chunk == 0)
            pacsv.write_csv(table, sink, write_options=options)
            chunk += 1


def big_path(work: Path, target_gb: float) -> Path:
    return work / f"big_{target_gb:g}gb.csv"


def in_child(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, __file__, *args], env=env, check=True)


def fmt_table(rows: list[Measure], floor: dict[str, Measure]) -> str:
    lines = [
        "| file | tool | wall s | work s | CPU s | peak RSS MB | rows/s | vs pyarrow (wall / CPU) "
        "| Sonda vs it (wall / RSS) | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sonda = {m.file: m for m in rows if m.tool == "sonda"}
    for m in rows:
        base = floor.get(m.file)
        mine = sonda.get(m.file)
        versus = (
            f"{mine.wall_s / m.wall_s:.2f}x / {mine.peak_mb / m.peak_mb:.2f}x"
            if mine is not None and m.tool != "sonda" and m.note != "timed out" and m.wall_s
            else ""
        )
        if m.note == "timed out":
            ratio = f"stopped after {m.wall_s:.0f} s"
        elif base is not None and m.tool != "pyarrow":
            ratio = f"{m.wall_s / base.wall_s:.1f}x / {m.cpu_s / base.cpu_s:.1f}x"
        else:
            ratio = "1.0x (floor)" if m.tool == "pyarrow" else ""
        tool = m.tool + (f" ({m.note})" if m.note and m.note != "timed out" else "")
        lines.append(
            f"| {m.file} | {tool} | {m.wall_s:.2f} | {m.work_s:.2f} | {m.cpu_s:.2f} | "
            f"{m.peak_mb:,.0f} | {m.rows_per_s:,.0f} | {ratio} | {versus} | {m.load:.1f} |"
        )
    return "\n".join(lines)


def shown_args(argv: list[str]) -> list[str]:
    """The command's arguments without the work folder (a path of one machine only)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--work-dir":
            skip = True
        elif not arg.startswith("--work-dir="):
            out.append(arg)
    return out


def cpu_model() -> str:
    """The processor's name as the kernel reports it, with its family and model: the same run
    differs by vendor and family (numpy's sorts, Arrow's parser, the cost of a page fault), and
    virtual machines often name every Intel processor alike ("Intel(R) Xeon(R) Processor"),
    so the figures say which one they come from."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break  # the first processor tells for all of them
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), " ".join(value.split()))
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown processor"
    if "cpu family" in fields and "model" in fields:
        name += f", family {fields['cpu family']} model {fields['model']}"
    return name


def write_doc(section: str) -> None:
    write_section(START, END, section, doc=DOC)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-one", nargs=2, metavar=("TOOL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, metavar=("DIR", "GB"), help=argparse.SUPPRESS)
    parser.add_argument("--budget-mb", type=int,
                        default=int(os.environ.get("SONDA_ANALYZER_MEMORY_MB", "1024")))  # fmt: skip
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "sonda-bench")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast tools (median kept)")
    parser.add_argument("--ydata-timeout", type=float, default=1800.0)
    parser.add_argument("--ydata-default-timeout", type=float, default=900.0)
    parser.add_argument("--skip-ydata", action="store_true")
    parser.add_argument(
        "--ydata-all",
        action="store_true",
        help="ydata-profiling on the 1M and wide files too (about 10 minutes more)",
    )
    parser.add_argument("--ydata-default-1m", action="store_true",
                        help="also run ydata's default mode on 1M rows (hours)")  # fmt: skip
    parser.add_argument("--stream-gb", type=float, default=5.0, help="0 skips the streaming check")
    parser.add_argument("--stream-budget-mb", type=int, default=None)
    parser.add_argument(
        "--stream-repeat",
        type=int,
        default=3,
        help="runs of each tool on the big file, in alternating order (median kept)",
    )
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--reuse-stream", action="store_true",
                        help="take the streaming check from the last run in the work folder")  # fmt: skip
    parser.add_argument("--reuse-ydata", action="store_true",
                        help="take ydata-profiling's figures from the last run in the work folder")  # fmt: skip
    args = parser.parse_args()
    if args.run_one:
        run_one(args.run_one[0], args.run_one[1], args.budget_mb)
        return
    if args.generate:
        target = float(args.generate[1])
        if target > 0:
            generate_big(Path(args.generate[0]), target)
        else:
            generate_files(Path(args.generate[0]))
        return

    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    env = child_env(work / "pycache")
    in_child(env, "--generate", str(work), "0")
    files = {name: work / name for name in FILES}
    print("warming the bytecode cache ...", flush=True)
    in_child(env, "--run-one", "warm", "no-ydata" if args.skip_ydata else "all")

    results: list[Measure] = []
    floor: dict[str, Measure] = {}
    plan: list[tuple[str, str]] = []
    fast = ["pyarrow", "duckdb-summarize", "polars-describe", "dataprof", "sonda"]
    for name in files:
        plan += [(tool, name) for tool in fast]
        # ydata-profiling takes minutes per file: the 100k file by default, the others on request.
        if not args.skip_ydata and (name == "mixed_100k.csv" or args.ydata_all):
            plan.append(("ydata-minimal", name))
            if name != "mixed_1m.csv" or args.ydata_default_1m:
                plan.append(("ydata-default", name))
    saved_path = work / "measures.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    medians: dict[str, Measure] = {}
    for tool, name in plan:
        path = files[name]
        if tool == fast[0]:  # the fast tools of this file, taking turns
            print(f"{', '.join(fast)} on {name}, {args.repeat} rounds ...", flush=True)
            medians = interleaved(args.repeat, fast, path, env, args.budget_mb, 600)
        print(f"{tool:14s} {name} ...", end=" ", flush=True)
        key = f"{tool}|{name}"
        if tool.startswith("ydata") and args.reuse_ydata and key in saved:
            m = Measure(**saved[key])  # measured by an earlier run of this script
        elif tool.startswith("ydata"):
            limit = args.ydata_default_timeout if tool == "ydata-default" else args.ydata_timeout
            m = measure(tool, path, env, args.budget_mb, limit)
        else:
            m = medians[tool]
        print(
            f"{m.wall_s:.2f}s wall, {m.work_s:.2f}s work, {m.cpu_s:.2f}s CPU, "
            f"{m.peak_mb:,.0f} MB {m.note} (load {m.load:.1f})",
            flush=True,
        )
        results.append(m)
        saved[key] = vars(m)
        saved_path.write_text(json.dumps(saved, indent=1))
        if tool == "pyarrow":
            floor[name] = m

    stream: Measure | None = None
    stream_duck: Measure | None = None
    stream_budget = args.stream_budget_mb or args.budget_mb
    big_size = 0
    if args.stream_gb > 0:
        big = big_path(work, args.stream_gb)
        key = f"stream|{big.name}|{stream_budget}"
        duck_key = f"stream-duckdb|{big.name}"
        if args.reuse_stream and key in saved and duck_key in saved and big.exists():
            stream = Measure(**saved[key])  # measured by an earlier run of this script
            stream_duck = Measure(**saved[duck_key])
        else:
            in_child(env, "--generate", str(work), str(args.stream_gb))
            print(f"streaming {big.name} with a {stream_budget} MB budget, {args.stream_repeat} runs each",
                  flush=True)  # fmt: skip
            stream, stream_duck = streamed_pairs(args.stream_repeat, big, env, stream_budget, 7200)
            saved[key], saved[duck_key] = vars(stream), vars(stream_duck)
            saved_path.write_text(json.dumps(saved, indent=1))
        big_size = big.stat().st_size
        print(f"{stream.wall_s:.1f}s wall, {stream.peak_mb:,.0f} MB peak, mode {stream.note}; "
              f"DuckDB {stream_duck.wall_s:.1f}s, {stream_duck.peak_mb:,.0f} MB", flush=True)  # fmt: skip

    table = fmt_table(results, floor)
    print("\n" + table)
    by = {(m.tool, m.file): m for m in results}
    lines = [
        "## Analyzer: full profile vs DuckDB SUMMARIZE, polars describe, ydata-profiling and a bare parse",
        "",
        "Produced by:",
        "",
        "```",
        "uv run python bench/analyzer.py " + " ".join(shown_args(sys.argv[1:])),
        "```",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; run on {time.strftime('%Y-%m-%d')}. The "
        "machine was shared with other work while measuring, so timings carry some noise; the fast "
        f"tools are the median of {args.repeat} rounds in which they took turns (each round starting "
        "with the next tool), ydata-profiling ran once.",
        "",
        "*wall* is the whole process (interpreter start, imports, work) with warm bytecode; *work* "
        "excludes start-up and imports; *CPU* is user + system time of the process and *peak RSS* "
        "its high-water mark, both from `wait4`; *load* is the one-minute load average when the "
        "run started (the machine has 2 cores: above 2, other work was competing). The floor is "
        "`pyarrow.csv.read_csv(path)` with its defaults. Sonda's run is `profile_file` (exact mode: "
        "every statistic, histograms, top values, duplicates, Pearson/Spearman/Cramér's V/"
        "correlation ratio, alerts) plus encoding the JSON result; ydata-profiling's is "
        "`pandas.read_csv` + `ProfileReport(...).to_json()`; DuckDB's is "
        "`SUMMARIZE SELECT * FROM read_csv_auto(path)` (min, max, approximate distinct, mean, std, "
        "approximate quartiles, null share); polars' is `read_csv(path).describe()` (count, nulls, "
        "mean, std, min, quartiles, max). *Sonda vs it* is Sonda's wall time and peak RSS divided by "
        "the tool's on the same file (below 1 means Sonda is faster or smaller). dataprof's is "
        "`dataprof.profile_file(path)` (its Rust engine: counts, nulls, types, quality findings).",
        "",
        table,
        "",
    ]
    s1, p1, y1, d1 = (
        by.get((t, "mixed_1m.csv")) for t in ("sonda", "pyarrow", "ydata-minimal", "duckdb-summarize")
    )
    sw, pw = by.get(("sonda", "wide_10k_x_500.csv")), by.get(("polars-describe", "wide_10k_x_500.csv"))
    if s1 and p1:
        speed = (
            f"{y1.wall_s / s1.wall_s:.0f}x faster than ydata-profiling minimal by wall time "
            f"({y1.cpu_s / s1.cpu_s:.0f}x by CPU time); "
            if y1 and y1.note != "timed out"
            else ""
        )
        duck = (
            f"{s1.wall_s / d1.wall_s:.2f}x DuckDB SUMMARIZE's wall time and {s1.peak_mb / d1.peak_mb:.2f}x "
            f"its peak RSS (targets: at most 1x and 2x); "
            if d1
            else ""
        )
        wide = (
            f"on the wide file {sw.wall_s / pw.wall_s:.2f}x polars describe's wall time (target: at most 1x); "
            if sw and pw
            else ""
        )
        lines += [
            f"Targets on 1,000,000 rows: Sonda {s1.wall_s:.2f}s wall — {speed}{duck}{wide}"
            f"{s1.wall_s / p1.wall_s:.1f}x the pyarrow parse by wall time "
            f"({s1.cpu_s / p1.cpu_s:.1f}x by CPU time).",
            "",
            "Reading: Sonda's exact profile parses a plain UTF-8 CSV in pieces of about 16 MB, "
            "one per core at a time (pyarrow's whole-file reader on one thread each, every piece "
            "typed by the file's first block), then profiles the columns on Arrow buffers with "
            "numpy and pyarrow.compute, two at a time, the smallest first, freeing each column "
            "once profiled. One sort per numeric column feeds quantiles, histogram, extremes, "
            "distinct counts and the Spearman ranks (whole numbers, tenths or hundredths in a "
            "narrow span are not sorted but counted per value, which gives the same sorted values "
            "and every rank, and a column already in order is its own sort); one encoding per "
            "text column feeds distinct counts, "
            "top values, lengths, duplicates and associations (a column of nearly unique values is "
            "grouped by a hash of its bytes and one sort, the rows sharing a hash compared string "
            "by string; a column of at most 1,024 values per block is read as a dictionary, whose "
            "indices are its codes; the others by Arrow's dictionary encoding). Text columns of "
            "16 MB or more come "
            "last: when a sample of each shows it can be neither a category nor read as numbers "
            "or dates, the correlations of the other columns are taken first and the big columns "
            "then encoded two at a time. Pearson, Cramér's V and the correlation ratios are summed "
            "a block of rows at a time; Spearman ranks each column once per set of complete rows "
            "(as doubled integer ranks) and takes every pair of that set from one matrix product. "
            "What it computes beyond DuckDB's SUMMARIZE is exact: distinct counts and quantiles "
            "(DuckDB approximates both), top values, histograms, duplicate rows, four association "
            "measures, text patterns and semantic types. Where the load column is above 2, other "
            "processes "
            "held the cores and wall times stretch accordingly; CPU time is the steadier comparison.",
            "",
        ]
    if args.reuse_ydata:
        lines += [
            "The ydata-profiling rows were measured by an earlier run of this script on the same "
            "files (`--reuse-ydata`); they do not depend on Sonda's code.",
            "",
        ]
    if not args.skip_ydata and not args.ydata_all:
        lines += [
            "ydata-profiling ran on the 100k file only (`--ydata-all` adds the 1M and wide files: "
            "its minimal mode alone took 376 s and 6.4 GB on the 1M file in an earlier run).",
            "",
        ]
    elif not args.ydata_default_1m and not args.skip_ydata:
        lines += [
            "ydata-profiling's default mode was run on the 100k and wide files only: on 1M rows its "
            "minimal mode alone takes minutes and the default adds correlations and interactions "
            "over all pairs, far longer (pass `--ydata-default-1m` to try).",
            "",
        ]
    if stream is not None:
        under = "under" if stream.peak_mb < stream_budget else "OVER"
        lines += [
            "### Streaming check",
            "",
            f"A {big_size / 1e9:.2f} GB CSV ({stream.rows:,} rows x 20 mixed columns, distinct "
            f"chunks) profiled with `budget_mb={stream_budget}` (SONDA_ANALYZER_MEMORY_MB): mode "
            f"**{stream.note}**, {stream.wall_s:.0f} s wall and {stream.cpu_s:.0f} s CPU at load "
            f"{stream.load:.1f} ({stream.rows_per_s:,.0f} rows/s, "
            f"{big_size / 1e6 / stream.wall_s:.0f} MB/s), peak RSS **{stream.peak_mb:,.0f} MB**, "
            f"{under} the budget. Each tool ran {args.stream_repeat} times on it in alternating "
            "order, each run right after the file was read into the page cache (the machine hands "
            "cold file pages back between runs, and whichever tool ran first read the file from "
            "disk: 31 s against 26 s for Sonda); the median run of each is shown.",
            "",
        ]
        if stream_duck is not None:
            lines += [
                f"DuckDB SUMMARIZE on the same file: {stream_duck.wall_s:.0f} s wall, "
                f"{stream_duck.cpu_s:.0f} s CPU, {big_size / 1e6 / stream_duck.wall_s:.0f} MB/s, peak RSS "
                f"{stream_duck.peak_mb:,.0f} MB: Sonda's streaming throughput is "
                f"{stream_duck.wall_s / stream.wall_s:.2f}x DuckDB's (target: at least 1x).",
                "",
            ]
        lines += [
            "Reading: streaming mode cuts a plain UTF-8 CSV into pieces of a chunk each at line "
            "ends and parses two at a time on threads of their own, in place in the page cache "
            "(other files: Arrow's streaming reader, in 2 MB blocks joined into chunks). Each "
            "column's summaries take the chunks in order, and the next chunk's columns "
            "start while the last one's slowest still run; the row-wide summaries (row hashes, "
            "duplicate rows, missingness, row samples) run as one more such chain. Exact counts "
            "and moments stay exact. Numbers and instants are counted per value while they have "
            "at most 65,536 distinct values, which makes their quantiles, histograms and ends "
            "exact; past that, quantiles come from KLL sketches (fed every 8th value of each "
            "run of 65,536 values sorted outside the GIL, its bound added to theirs) and distinct "
            "counts from "
            "HyperLogLog, and frequent text values from a frequent-items sketch. Text columns of "
            "nearly unique values are grouped by a hash of each value. Duplicate rows are counted "
            "by 64-bit row hashes (polars), and Spearman is taken on a row sample. Every "
            "approximation is listed with its bound. From a 1 GB budget on, while the file streams, "
            "Arrow's buffers come from mimalloc, which reuses the pages a chunk freed, and glibc "
            "keeps a 32nd of the budget of freed heap: that is where most of the peak above the "
            "fixed part comes from. Below 1 GB nothing freed is kept and the chunks are larger "
            "instead (12 MB at a 512 MB budget), which is faster there than keeping memory beside "
            "smaller chunks.",
            "",
        ]
        if args.reuse_stream:
            lines += ["(The streaming check comes from an earlier run of this script.)", ""]
    if not args.no_doc:
        write_doc("\n".join(lines))
        print(f"\nwrote the analyzer section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
