"""Benchmark: what the service path adds to the engine — start → ``analysis_completed`` through
``sonda up`` against the engine's own time for the same file, in one run.

    uv run python bench/service.py                       # the 1,000,000-row file, 3 analyses
    uv run python bench/service.py --rows 100000 --repeat 5

A client's view: the file is uploaded once through the presigned URL, then each round starts an
analysis of it (``POST start-enhanced``) and follows it over the WebSocket; the time is from the
start request to the ``analysis_completed`` message. Beside it, the engine alone profiles the same
file in a fresh process (``profile_file``, the time after imports, as a warm worker has them), so
the ratio is what the services add: the bus, the hand-over of the upload, the worker process,
storing the result and the notification. The progress messages seen while the file was being read
show whether the bar moves during reading. Results go to the "Service path" section of
docs/benchmarks.md with the command (``--no-doc`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docsection import write_section  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- service:start -->", "<!-- service:end -->"

ENGINE = """
import json, sys, time
from pathlib import Path
from sonda_analyzer.native_env import set_native_options
set_native_options()
from sonda_analyzer.engine import profile_file
from sonda_analyzer.engine.allocator import use_returning_allocator
allocator = use_returning_allocator()
started = time.perf_counter()
result = profile_file(Path(sys.argv[1]), allocator=allocator)
print(json.dumps({"work_s": time.perf_counter() - started, "rows": result.dataset.rows}))
"""


def engine_seconds(path: Path) -> float:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", ENGINE, str(path)], capture_output=True, text=True, check=True, env=env
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["work_s"])


async def service_rounds(path: Path, repeat: int) -> list[dict[str, Any]]:
    from sonda.client.api import SondaClient
    from sonda.client.embedded import temporary_sonda

    rounds: list[dict[str, Any]] = []
    async with temporary_sonda() as url, SondaClient(url, timeout=600) as client:
        key = await client.upload(path, lambda _n: None)
        for _ in range(repeat + 1):  # the first round warms the worker; it is reported apart
            reading: list[float] = []

            def seen(message: dict[str, Any], reading: list[float] = reading) -> None:
                if message.get("type") == "analysis_status" and message.get("stage") == "reading":
                    reading.append(float(message.get("progress") or 0.0))

            started = time.perf_counter()
            accepted = await client.start(key)
            last = await client.follow(str(accepted["analysis_id"]), seen)
            elapsed = time.perf_counter() - started
            if last.get("type") != "analysis_completed":
                raise SystemExit(f"the analysis did not complete: {json.dumps(last)[:500]}")
            rounds.append({"seconds": elapsed, "reading_steps": len(set(reading)),
                           "reading_max": max(reading, default=0.0)})  # fmt: skip
    return rounds


def write_doc(text: str) -> None:
    write_section(START, END, text, heading="Service path", doc=DOC)


def _span(counts: Iterable[int]) -> str:
    """``3`` or ``3-5``: the range of a count over the analyses."""
    seen = list(counts)
    low, high = min(seen), max(seen)
    return str(low) if low == high else f"{low}-{high}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "sonda-bench")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from datagen import mixed_table, write_csv  # type: ignore[import-not-found]

    path = args.work_dir / f"mixed_{args.rows}.csv"
    if not path.exists():
        write_csv(mixed_table(args.rows), path)
    load = os.getloadavg()[0]
    rounds = asyncio.run(service_rounds(path, args.repeat))
    warm = rounds[1:]
    engine = [engine_seconds(path) for _ in range(args.repeat + 1)][1:]  # the first compiles bytecode
    service_s = statistics.median(r["seconds"] for r in warm)
    engine_s = statistics.median(engine)
    lines = [
        f"Command: `uv run python bench/service.py --rows {args.rows} --repeat {args.repeat}` — "
        f"{platform.machine()}, {os.cpu_count()} cores, load {load:.1f} at the start; "
        f"{args.rows:,} rows x 20 columns ({path.stat().st_size / 1e6:.0f} MB CSV), medians of {args.repeat}.",
        "",
        "| path | seconds | vs engine |",
        "|---|---:|---:|",
        f"| engine in process (`profile_file`, after imports) | {engine_s:.2f} | 1.00x |",
        f"| `sonda up`: start -> `analysis_completed` (warm worker) | {service_s:.2f} | "
        f"{service_s / engine_s:.2f}x |",
        f"| `sonda up`: first analysis after start-up | {rounds[0]['seconds']:.2f} | "
        f"{rounds[0]['seconds'] / engine_s:.2f}x |",
        "",
        f"Progress while reading: the WebSocket showed {_span(r['reading_steps'] for r in warm)} "
        "distinct reading values per analysis, the "
        f"highest {max(r['reading_max'] for r in warm):.0f} % (reading takes the bar from 1 % to "
        "35 %: the heartbeat looks at the bytes read ten times a second and sends each 5 % step "
        "of the bar, and the profiling stage takes over at 35 %).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_doc:
        write_doc(text)


if __name__ == "__main__":
    main()
