"""Soak: a steady stream of uploads and analyses plus 500 WebSocket clients against ``sonda up``.

    uv run python bench/soak.py [--minutes 10] [--rate 1.0] [--websockets 500] [--postgres URL] [--json out.json]

Loopback only and bounded in time. It starts ``sonda up`` (embedded NATS, SQLite store or
``--postgres``, local-disk storage) in a fresh data folder on a free port, then for ``--minutes``:

- uploaders start ``--rate`` analyses per second: upload URL, PUT of a generated CSV (1,000 to
  20,000 rows), start; each step timed;
- a poller asks the status of every analysis in flight once a second (timed);
- ``--websockets`` clients each follow a recent analysis over the one origin's WebSocket until it
  ends, then pick another (connect time and messages counted).

Then it stops starting work, waits for the analyses in flight, and checks count in = count out
(every started analysis Completed or Failed, in the store and in the read model) and that every
event is stored once (event ids unique, versions consecutive per analysis, store count = JetStream's
count). It reports p50/p95/p99 latencies and each process' RSS at start and at end, and stops
``sonda up`` with Ctrl-C (SIGINT), which must exit cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil
from nats.aio.client import Client as NatsClient
from sonda_events.bus import close_nats, connect_nats
from sonda_events.lifecycle import TERMINAL_TYPES
from sonda_events.store import EventStore
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

TERMINAL_STATUSES = {"completed", "failed"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def csv_bytes(rng: random.Random) -> bytes:
    rows = rng.randint(1_000, 20_000)
    cities = ["Belém", "Curitiba", "São Paulo", "Maceió", "Goiânia"]
    lines = ["id;cidade;preço;quantidade"]
    for i in range(rows):
        price = f"{rng.gauss(1500, 400):.2f}".replace(".", ",")
        lines.append(f"{i};{rng.choice(cities)};{price};{rng.randint(0, 400)}")
    return ("\n".join(lines) + "\n").encode("latin-1")


class Latencies:
    def __init__(self) -> None:
        self._samples: dict[str, list[float]] = defaultdict(list)

    def add(self, name: str, seconds: float) -> None:
        self._samples[name].append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, values in sorted(self._samples.items()):
            ordered = sorted(values)

            def pick(q: float, ordered: list[float] = ordered) -> float:
                return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

            out[name] = {
                "n": len(ordered),
                "p50": pick(0.5),
                "p95": pick(0.95),
                "p99": pick(0.99),
                "max": pick(1.0),
            }
        return out


ROLES = ("ingest", "analyzer", "notifier", "query", "gateway", "nats-server")


def rss_by_role(up_pid: int) -> dict[str, float]:
    """Resident memory (MiB) of each process ``sonda up`` runs; profiling processes count apart."""
    rss: dict[str, float] = defaultdict(float)
    root = psutil.Process(up_pid)
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            cmdline = " ".join(proc.cmdline())
            if "sonda_analyzer.child" in cmdline:
                role = "analyzer profilers"
            elif proc.pid == up_pid:
                role = "sonda up"
            else:
                role = next((r for r in ROLES if r in cmdline), "other")
            rss[role] += proc.memory_info().rss / 2**20
    return {role: round(mb, 1) for role, mb in sorted(rss.items())}


def process_table(report: dict[str, Any]) -> str:
    checks = report["checks"]
    lines = [
        f"soak: {report['minutes']} min at {report['rate_per_s']}/s, {report['websocket_clients']} WebSocket clients",
        f"analyses: {checks['analyses_started']} started, {checks['completed']} completed, "
        f"{checks['failed']} failed, {len(checks['unfinished'])} unfinished",
        f"events: {checks['events_in_jetstream']} in JetStream, {checks['events_in_store']} in the store, "
        f"{checks['events_stored_twice']} stored twice, {len(checks['analyses_with_broken_streams'])} broken streams, "
        f"positions gap-free: {checks['positions_gap_free']}",
        f"websocket: {report['websocket_sessions']} sessions, {report['websocket_messages']} messages",
        f"errors: {report['errors'] or 'none'}",
        "",
        f"{'latency (ms)':<24}{'n':>8}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>10}",
    ]
    for name, row in report["latency_ms"].items():
        lines.append(
            f"{name:<24}{row['n']:>8}{row['p50']:>10}{row['p95']:>10}{row['p99']:>10}{row['max']:>10}"
        )
    lines += ["", f"{'RSS (MiB)':<24}{'start':>10}{'end':>10}"]
    start, end = report["rss_mb"]["start"], report["rss_mb"]["end"]
    for role in sorted(set(start) | set(end)):
        lines.append(f"{role:<24}{start.get(role, 0):>10}{end.get(role, 0):>10}")
    roles = sorted(set(start) | set(end))
    lines += ["", "RSS (MiB) each minute: " + ", ".join(roles)]
    for sample in report["rss_mb"]["each_minute"]:
        lines.append(f"  {sample['minute']:>3}: " + " ".join(f"{sample.get(r, 0):>7}" for r in roles))
    lines.append(f"\nsonda up exit code after Ctrl-C: {report['sonda_up_exit_code']}")
    return "\n".join(lines)


class Soak:
    def __init__(self, origin: str, args: argparse.Namespace) -> None:
        self.origin = origin
        self.args = args
        self.latency = Latencies()
        self.started: dict[uuid.UUID, float] = {}
        self.finished: dict[uuid.UUID, tuple[str, float]] = {}
        self.recent: list[uuid.UUID] = []
        self.errors: Counter[str] = Counter()
        self.ws_messages = 0
        self.ws_sessions = 0
        self.stop_starting = asyncio.Event()
        self.stop_all = asyncio.Event()

    async def timed(self, name: str, request: Any) -> httpx.Response:
        t0 = time.perf_counter()
        response: httpx.Response = await request
        self.latency.add(name, time.perf_counter() - t0)
        if response.status_code >= 400:
            self.errors[f"{name} {response.status_code}"] += 1
        return response

    async def uploader(self, client: httpx.AsyncClient, seed: int, interval: float) -> None:
        rng = random.Random(seed)
        next_at = time.monotonic()
        while not self.stop_starting.is_set():
            next_at += interval
            try:
                await self.start_one(client, rng)
            except httpx.HTTPError as exc:
                self.errors[f"upload {type(exc).__name__}"] += 1
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def start_one(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        issued = await self.timed(
            "presign", client.get("/api/v1/r2/presigned-upload", params={"filename": "vendas.csv"})
        )
        if issued.status_code != 200:
            return
        body = issued.json()
        put = await self.timed("upload", client.put(body["upload_url"], content=csv_bytes(rng)))
        if put.status_code != 200:
            return
        started = await self.timed(
            "start", client.post("/api/v1/analysis/start-enhanced", json={"file_key": body["file_key"]})
        )
        if started.status_code == 202:
            analysis_id = uuid.UUID(started.json()["analysis_id"])
            self.started[analysis_id] = time.monotonic()
            self.recent = [*self.recent[-19:], analysis_id]

    async def poller(self, client: httpx.AsyncClient) -> None:
        while not self.stop_all.is_set():
            for analysis_id in [a for a in self.started if a not in self.finished]:
                response = await self.timed(
                    "status", client.get(f"/api/v1/analysis/status-enhanced/{analysis_id}")
                )
                if response.status_code == 200 and response.json()["status"] in TERMINAL_STATUSES:
                    done_at = time.monotonic()
                    self.finished[analysis_id] = (response.json()["status"], done_at)
                    self.latency.add("analysis end to end", done_at - self.started[analysis_id])
            await asyncio.sleep(1.0)

    async def websocket_client(self, seed: int) -> None:
        rng = random.Random(seed)
        base = self.origin.replace("http://", "ws://")
        while not self.stop_all.is_set():
            # Follow an analysis in flight, as a browser does after a start; else a recent one.
            in_flight = [a for a in self.recent if a not in self.finished]
            if not (in_flight or self.recent):
                await asyncio.sleep(0.5)
                continue
            analysis_id = rng.choice(in_flight or self.recent)
            t0 = time.perf_counter()
            try:
                async with connect(f"{base}/api/v1/analysis/websocket/{analysis_id}", open_timeout=30) as ws:
                    self.latency.add("websocket connect", time.perf_counter() - t0)
                    self.ws_sessions += 1
                    await self.follow(ws)
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # a person reads the result, then moves on
            except (OSError, TimeoutError, ConnectionClosed, InvalidStatus) as exc:
                self.errors[f"websocket {type(exc).__name__}"] += 1
                await asyncio.sleep(1.0)

    async def follow(self, ws: Any) -> None:
        deadline = time.monotonic() + 60
        while not self.stop_all.is_set() and time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), 5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send('{"type":"pong"}')
                continue
            self.ws_messages += 1
            if message["type"] in ("analysis_completed", "analysis_error"):
                return


def start_stack(data_dir: Path, port: int, postgres: str | None, log: Path) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SONDA_", "NATS_", "DATABASE_", "CLOUDFLARE_R2_"))
    }
    # 500 clients from one address: the per-client WebSocket limit would refuse most of them.
    env.update(
        {
            "SONDA_WS_MAX_PER_CLIENT": "0",
            "SONDA_MAX_ACTIVE_ANALYSES_PER_KEY": "0",
            "SONDA_LOG_LEVEL": "warning",
        }
    )
    argv = [sys.executable, "-m", "sonda", "up", "--data-dir", str(data_dir), "--port", str(port)]
    if postgres:
        argv += ["--postgres", postgres]
    return subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def wait_ready(origin: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"sonda up exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{origin}/api/v1/health")).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise TimeoutError("sonda up never became ready")


async def verify(store_url: str, nats_url: str, soak: Soak) -> dict[str, Any]:
    """Count in = count out, and every event stored once."""
    store = await EventStore.open(store_url, migrate=False)
    nc: NatsClient = await connect_nats(nats_url, name="soak-check")
    try:
        info = await nc.jetstream().stream_info("EDA")
        for _ in range(60):  # the recorder may still be storing the last events
            if await store.last_position() >= info.state.messages:
                break
            await asyncio.sleep(1)
        recorded = await store.read_all(limit=10_000_000)
    finally:
        await close_nats(nc)
        await store.close()
    ids = Counter(r.event.event_id for r in recorded)
    streams: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in recorded:
        streams[r.event.analysis_id].append(r.event)
    broken = [
        str(a)
        for a, events in streams.items()
        if [e.version for e in events] != list(range(1, len(events) + 1))
        or sum(e.type in TERMINAL_TYPES for e in events) != 1
    ]
    unfinished = [str(a) for a in soak.started if a not in soak.finished]
    return {
        "analyses_started": len(soak.started),
        "analyses_finished": len(soak.finished),
        "completed": sum(s == "completed" for s, _ in soak.finished.values()),
        "failed": sum(s == "failed" for s, _ in soak.finished.values()),
        "unfinished": unfinished,
        "events_in_jetstream": info.state.messages,
        "events_in_store": len(recorded),
        "events_stored_twice": sum(1 for c in ids.values() if c > 1),
        "analyses_with_broken_streams": broken,
        "positions_gap_free": [r.position for r in recorded] == list(range(1, len(recorded) + 1)),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="sonda-soak-"))
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    proc = start_stack(data_dir, port, args.postgres, data_dir / "up.log")
    try:
        await wait_ready(origin, proc)
        rss_start = rss_by_role(proc.pid)
        soak = Soak(origin, args)
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=origin, timeout=60, limits=limits) as client:
            uploaders = max(1, round(args.rate * 2))
            tasks = [
                asyncio.create_task(soak.uploader(client, i, uploaders / args.rate)) for i in range(uploaders)
            ]
            tasks.append(asyncio.create_task(soak.poller(client)))
            tasks += [asyncio.create_task(soak.websocket_client(1000 + i)) for i in range(args.websockets)]
            timeline = []
            for minute in range(1, int(args.minutes) + 1):
                await asyncio.sleep(60)
                timeline.append({"minute": minute, **rss_by_role(proc.pid)})
            await asyncio.sleep(args.minutes * 60 - 60 * int(args.minutes))
            soak.stop_starting.set()
            drain_until = time.monotonic() + args.drain_s
            while len(soak.finished) < len(soak.started) and time.monotonic() < drain_until:
                await asyncio.sleep(1)
            rss_end = rss_by_role(proc.pid)
            soak.stop_all.set()
            await asyncio.wait(tasks, timeout=30)
            info = httpx.get(f"{origin}/api/v1/analysis/websocket-info", timeout=10).json()
        nats_port = (data_dir / "nats" / "port").read_text().strip()
        store_url = args.postgres or f"sqlite+aiosqlite:///{data_dir / 'sonda.db'}"
        checks = await verify(store_url, f"nats://127.0.0.1:{nats_port}", soak)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            exit_code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            exit_code = proc.wait(10)
    return {
        "minutes": args.minutes,
        "rate_per_s": args.rate,
        "websocket_clients": args.websockets,
        "websocket_sessions": soak.ws_sessions,
        "websocket_messages": soak.ws_messages,
        "websocket_info_at_end": {
            k: info.get(k) for k in ("active_connections", "slow_client_closes", "connections_total")
        },
        "checks": checks,
        "errors": dict(soak.errors),
        "latency_ms": soak.latency.summary(),
        "rss_mb": {"start": rss_start, "end": rss_end, "each_minute": timeline},
        "sonda_up_exit_code": exit_code,
        "data_dir": str(data_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to keep starting work")
    parser.add_argument("--rate", type=float, default=1.0, help="analyses started per second")
    parser.add_argument("--websockets", type=int, default=500, help="WebSocket clients at all times")
    parser.add_argument("--drain-s", type=float, default=180.0, help="wait for analyses in flight")
    parser.add_argument("--postgres", help="event store URL (default: SQLite in the data folder)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(process_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    checks = report["checks"]
    ok = (
        not checks["unfinished"]
        and checks["events_stored_twice"] == 0
        and not checks["analyses_with_broken_streams"]
        and checks["events_in_store"] == checks["events_in_jetstream"]
        and checks["positions_gap_free"]
        and report["sonda_up_exit_code"] == 0
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
