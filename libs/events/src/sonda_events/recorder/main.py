"""Run the recorder alone: ``python -m sonda_events.recorder`` (the CLI wires it as ``sonda recorder``).

Reads ``DATABASE_URL`` and ``NATS_URL`` (plus ``RECORDER_BATCH_SIZE``), provisions the streams and
the consumers, and records until SIGTERM or SIGINT; then it finishes the batch in hand, acks it, and
drains the NATS connection before exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

from msgspec import Meta
from nats.aio.client import Client as NatsClient

from sonda_events.bus import PullConsumer, close_nats, connect_nats, provision, redact_url
from sonda_events.bus.provisioning import DEAD_LETTER_STREAM
from sonda_events.logging import configure_logging, get_logger
from sonda_events.recorder.consumer import dead_letter_consumer_config, recorder_consumer_config
from sonda_events.recorder.deadletters import DeadLetterCopier, StoreDeadLetterSink
from sonda_events.recorder.recorder import Recorder
from sonda_events.settings import CommonSettings, load_settings
from sonda_events.store import EventStore

log = get_logger(__name__)


class RecorderSettings(CommonSettings, kw_only=True):
    """The recorder's own settings on top of the common ones."""

    #: Most events stored per transaction (and fetched per pull request).
    recorder_batch_size: Annotated[int, Meta(ge=1, le=5000)] = 500
    #: Seconds before JetStream redelivers a message a recorder fetched but never acked: after a
    #: crash, that is how long the events the dead instance held take to come back.
    recorder_ack_wait_s: Annotated[float, Meta(ge=1, le=600)] = 10.0


def build_recorder(
    store: EventStore,
    nc: NatsClient,
    *,
    batch_size: int = 500,
    ack_wait_s: float = 10.0,
    fetch_timeout: float = 1.0,
) -> Recorder:
    """The recorder over one NATS connection; the query service calls this inside its process.

    ``fetch_timeout`` bounds how long a stop waits for the pull in flight.
    """
    js = nc.jetstream()
    consumer = PullConsumer(
        js, recorder_consumer_config(ack_wait_s=ack_wait_s), dead_letters=StoreDeadLetterSink(store)
    )
    # A gap is usually an event another instance holds: it commits within milliseconds, or (if
    # that instance died) comes back after the ack wait. Parked messages must be handed back
    # before JetStream would redeliver them anyway.
    gap_hold_s = ack_wait_s * 0.6
    return Recorder(
        store, nc, consumer, batch_size=batch_size, fetch_timeout=fetch_timeout, gap_hold_s=gap_hold_s
    )


def build_dead_letter_copier(
    store: EventStore, nc: NatsClient, *, fetch_timeout: float = 1.0
) -> DeadLetterCopier:
    js = nc.jetstream()
    consumer = PullConsumer(
        js,
        dead_letter_consumer_config(),
        dead_letters=StoreDeadLetterSink(store),
        stream=DEAD_LETTER_STREAM,
    )
    return DeadLetterCopier(store, consumer, fetch_timeout=fetch_timeout)


async def run(settings: RecorderSettings, stop: asyncio.Event) -> None:
    """Record until ``stop`` is set, then shut down cleanly."""
    store = await EventStore.open(
        settings.resolved_database_url(),
        echo=settings.database.database_echo,
        pool_size=settings.database.database_pool_size,
    )
    nc = await connect_nats(settings.nats_url, name="sonda-recorder")
    try:
        await provision(nc.jetstream())
        recorder = build_recorder(
            store, nc, batch_size=settings.recorder_batch_size, ack_wait_s=settings.recorder_ack_wait_s
        )
        copier = build_dead_letter_copier(store, nc)
        log.info("recorder_started", nats_url=redact_url(settings.nats_url))
        await asyncio.gather(recorder.run(stop), copier.run(stop))
        log.info("recorder_stopped", **_stats(recorder))
    finally:
        await close_nats(nc)
        await store.close()


def _stats(recorder: Recorder) -> dict[str, int]:
    return {f: getattr(recorder.stats, f) for f in recorder.stats.__struct_fields__}


async def _main() -> None:
    settings = load_settings(RecorderSettings)
    configure_logging("recorder", settings.sonda_log_level, settings.sonda_log_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)


def main() -> None:
    """Entry point of ``python -m sonda_events.recorder`` and ``sonda recorder``."""
    asyncio.run(_main())
