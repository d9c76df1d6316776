"""Dead letters into the event store: the recorder's own, and those other consumers publish."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from nats.aio.msg import Msg

from sonda_events.bus import DeadLetter, PullConsumer
from sonda_events.errors import EventStoreError
from sonda_events.logging import get_logger
from sonda_events.store import EventStore

log = get_logger(__name__)


async def store_dead_letter(store: EventStore, letter: DeadLetter, payload: bytes) -> None:
    await store.record_dead_letter(
        subject=letter.subject,
        payload=payload,
        error_code=letter.error_code,
        reason=letter.reason,
        stream_sequence=letter.stream_sequence,
        consumer=letter.consumer,
    )


class StoreDeadLetterSink:
    """A ``DeadLetterSink`` writing straight into the store's ``dead_letters`` table."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def __call__(self, letter: DeadLetter) -> None:
        log.warning(
            "dead_letter",
            consumer=letter.consumer,
            subject=letter.subject,
            error_code=letter.error_code,
            reason=letter.reason,
        )
        await store_dead_letter(self._store, letter, letter.payload())


class DeadLetterCopier:
    """Moves dead letters from the JetStream dead-letter stream into the store, acking after commit.

    At least once: a crash between the commit and the ack stores that dead letter twice, which is
    harmless for a record operators only read.
    """

    def __init__(self, store: EventStore, consumer: PullConsumer, *, fetch_timeout: float = 1.0) -> None:
        self._store = store
        self._consumer = consumer
        self._fetch_timeout = fetch_timeout
        self.copied = 0

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.start()
        try:
            while not stop.is_set():
                for msg in await self._consumer.fetch(100, timeout=self._fetch_timeout):
                    await self._copy(msg)
        finally:
            await self._consumer.close()

    async def _copy(self, msg: Msg) -> None:
        try:
            letter = msgspec.json.decode(msg.data, type=DeadLetter)
            payload = letter.payload()
        except Exception as exc:  # any failure (bad base64, not UTF-8, not JSON, wrong shape)
            # Not even a dead letter: keep the raw bytes with the reason, never loop on it.
            letter = DeadLetter.build(
                consumer="unknown",
                subject=msg.subject,
                stream_sequence=None,
                error_code="invalid_dead_letter",
                reason=str(exc),
                payload=msg.data,
            )
            payload = msg.data
        try:
            await store_dead_letter(self._store, letter, payload)
        except EventStoreError as exc:
            log.warning("dead_letter_copy_failed", error=str(exc))
            with contextlib.suppress(Exception):
                await msg.nak(delay=5.0)
            return
        await msg.ack()
        self.copied += 1
