"""``sonda events tail``: follow the event bus, one line per event."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import msgspec
from sonda_events import codec
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisPurged,
    AnalysisRequested,
    AnalysisStarted,
    AnyEvent,
)
from sonda_events.errors import EventValidationError
from sonda_events.subjects import ALL_SUBJECTS, STREAM_NAME, analysis_subjects

from sonda.commands.options import data_dir_option, nats_option
from sonda.embedded.config import UpConfig


def resolve_nats_url(nats_url: str | None, data_dir: Path) -> str:
    """The given URL, else the embedded NATS of the `sonda up` that uses ``data_dir``.

    Never a guess such as localhost:4222: a folder with no Sonda in it would then follow some other
    NATS and print nothing, which looks like a quiet bus instead of a wrong folder.
    """
    if nats_url:
        return nats_url
    port_file = UpConfig(data_dir=data_dir).nats_port_file
    try:
        port = int(port_file.read_text().strip())
    except (OSError, ValueError):
        raise click.UsageError(
            f"no Sonda in {data_dir} (no embedded NATS found there): pass the folder of a "
            "`sonda up` with --data-dir, or a server with --nats URL"
        ) from None
    return f"nats://127.0.0.1:{port}"


def describe(event: AnyEvent) -> str:
    """The part of an event a person wants to see in one line."""
    match event:
        case AnalysisRequested(data=d):
            return f"{d.filename or d.file_key} ({d.analysis_type}) by {d.requested_by}"
        case AnalysisStarted(data=d):
            return f"worker {d.worker}, attempt {d.attempt}"
        case AnalysisProgress(data=d):
            return f"{d.progress:5.1f}% {d.stage}" + (f": {d.message}" if d.message else "")
        case AnalysisCompleted(data=d):
            s = d.summary
            return f"{s.rows} rows x {s.columns} columns, {len(s.alerts)} alerts, {d.duration_s:.2f}s"
        case AnalysisFailed(data=d):
            return f"{d.error_code}: {d.error_message}" + (" (retryable)" if d.retryable else "")
        case AnalysisDeleted(data=d):
            return f"by {d.deleted_by}" + (f": {d.reason}" if d.reason else "")
        case AnalysisPurged(data=d):
            return f"by {d.purged_by}, {len(d.objects_deleted)} objects removed" + (
                f": {d.reason}" if d.reason else ""
            )


def format_line(event: AnyEvent, sequence: int | None) -> str:
    when = event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    seq = f"#{sequence:<6}" if sequence is not None else ""
    return f"{when} {seq} {event.analysis_id} v{event.version:<3} {event.type:<18} {describe(event)}"


async def _reachable(url: str) -> None:
    """Fail fast when nothing listens (nats-py would retry the first connection for minutes)."""
    parsed = urlsplit(url if "://" in url else f"nats://{url}")
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 4222), 5.0
    )
    writer.close()


async def tail_events(
    url: str, subject: str, *, deliver_all: bool, as_json: bool, count: int | None, out: Any
) -> int:
    """Print events until interrupted (or ``count`` printed); returns how many were printed."""
    import nats
    from nats.js.api import DeliverPolicy

    await _reachable(url)
    # After the first connection, follow the server through restarts for as long as the tail runs.
    nc = await nats.connect(url, connect_timeout=5, name="sonda-events-tail", max_reconnect_attempts=-1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    printed = 0
    try:
        js = nc.jetstream()
        # An ordered consumer: ephemeral, flow-controlled, re-created by the client after a gap, so
        # the tail never skips or repeats and leaves nothing behind on the server.
        sub = await js.subscribe(
            subject,
            stream=STREAM_NAME,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL if deliver_all else DeliverPolicy.NEW,
        )
        while not stop.is_set() and (count is None or printed < count):
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                continue
            sequence = msg.metadata.sequence.stream if msg.metadata else None
            try:
                event = codec.decode(msg.data)
            except EventValidationError as exc:
                print(f"{'':24}#{sequence} {msg.subject}: not a valid event ({exc})", file=out, flush=True)
                printed += 1
                continue
            if as_json:
                print(msgspec.json.encode(event).decode(), file=out, flush=True)
            else:
                print(format_line(event, sequence), file=out, flush=True)
            printed += 1
        await sub.unsubscribe()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await nc.close()
    return printed


@click.group()
def events() -> None:
    """Watch the events flowing through NATS."""


@events.command()
@click.option("--analysis", "analysis_id", type=click.UUID, help="Only the events of this analysis.")
@nats_option
@data_dir_option
@click.option(
    "--all/--new",
    "deliver_all",
    default=None,
    help="Start with the events JetStream still holds, or only new ones [default: --all with --analysis, else --new].",
)
@click.option("--json", "as_json", is_flag=True, help="Print each event as one JSON line.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many events.")
def tail(
    *,
    analysis_id: uuid.UUID | None,
    nats_url: str | None,
    data_dir: Path,
    deliver_all: bool | None,
    as_json: bool,
    count: int | None,
) -> None:
    """Follow the bus: one line per event (time, stream sequence, analysis, version, type, details).

    Without --nats it connects to the embedded NATS of the `sonda up` using --data-dir. Ctrl-C stops.
    """
    url = resolve_nats_url(nats_url, data_dir)
    subject = analysis_subjects(analysis_id) if analysis_id else ALL_SUBJECTS
    everything = deliver_all if deliver_all is not None else analysis_id is not None
    try:
        asyncio.run(
            tail_events(url, subject, deliver_all=everything, as_json=as_json, count=count, out=sys.stdout)
        )
    except (OSError, TimeoutError) as exc:
        raise click.ClickException(f"cannot follow NATS at {url}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("nats"):
            raise click.ClickException(f"cannot follow NATS at {url}: {exc or type(exc).__name__}") from exc
        raise
