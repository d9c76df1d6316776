"""The recorder: every event from JetStream into the event store, acknowledged only after commit.

One loop fetches batches (up to ``batch_size``, with ``bus.BatchPuller``) while the other stores the
previous one, so the network and the database work at the same time. Per batch:

1. decode; a message that is not a valid event (whatever fails in decoding it), or whose subject
   does not match its event, is dead-lettered with the reason and terminated (it never stalls the
   consumer);
2. ``store.record`` writes the batch in one transaction and says what happened to each event; a
   batch the database refuses (not: cannot be reached) is recorded in halves, down to the event it
   refuses alone, which is dead-lettered: one bad event never fails the others of its batch;
3. stored and duplicate events are acked (after the commit: a crash before it means redelivery, and
   the store's unique event id makes that harmless); a ``gap`` (an earlier version has not arrived
   yet, e.g. another recorder instance holds it) is parked and tried again with the next batches
   for up to ``gap_hold_s`` (the missing version usually commits milliseconds later), then nak'ed
   with a delay; a ``conflict`` (another event already holds that version) and a ``refused`` event
   (the lifecycle does not allow it after the stream's newest event) are dead-lettered and
   terminated;
4. one ``flush`` per batch makes the server receive all acks before the next batch (a batched
   double ack: one round trip instead of one per message).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from sonda_events.bus import Delivery, PullConsumer, retry_delay
from sonda_events.bus.batch import BatchPuller
from sonda_events.bus.deadletter import MAX_KEPT_PAYLOAD
from sonda_events.bus.provisioning import ensure_consumer
from sonda_events.codes import Code
from sonda_events.errors import EventValidationError, StoreUnavailableError
from sonda_events.lifecycle import EventNotAllowedError
from sonda_events.logging import get_logger
from sonda_events.recorder.decoding import decode_event
from sonda_events.store import EventStore, Incoming, NewDeadLetter, RecordOutcome
from sonda_events.subjects import STREAM_NAME, subject_for

log = get_logger(__name__)


class RecorderStats(msgspec.Struct, kw_only=True):
    """Counters since start (for health endpoints, tests and benchmarks)."""

    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    gaps: int = 0
    conflicts: int = 0
    #: Events the lifecycle does not allow after their stream's newest one (dead-lettered).
    refused: int = 0
    dead_letters: int = 0
    store_failures: int = 0


_MIN_RETRY_S = 0.01
_MAX_RETRY_S = 0.2


@dataclass
class _Refusal:
    """A message that is no storable event, and why."""

    msg: Msg
    code: str
    reason: str


@dataclass
class _Parked:
    delivery: Delivery
    since: float


class Recorder:
    """Consumes every event subject with the durable ``recorder`` consumer; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        nc: NatsClient,
        consumer: PullConsumer,
        *,
        batch_size: int = 500,
        fetch_timeout: float = 1.0,
        max_gap_deliveries: int = 100,
        gap_hold_s: float = 6.0,
    ) -> None:
        self._store = store
        self._nc = nc
        #: Declares the durable consumer, decodes and dead-letters; the puller fetches.
        self._consumer = consumer
        self._puller = BatchPuller(nc, STREAM_NAME, consumer.name)
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        #: A version still missing after this many deliveries is dead-lettered (several minutes).
        self._max_gap_deliveries = max_gap_deliveries
        self._gap_hold_s = gap_hold_s
        self._parked: list[_Parked] = []
        #: Parked messages held in memory at most (about 1 KiB each); above it the newest go back.
        self._park_limit = 10 * batch_size
        #: How soon parked messages are tried again: short while retries make progress.
        self._retry_interval = _MIN_RETRY_S
        self.stats = RecorderStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Record until ``stop`` is set; what was fetched by then is still recorded and acked."""
        await ensure_consumer(self._nc.jetstream(), STREAM_NAME, self._consumer.config)
        await self._puller.start()
        batches: asyncio.Queue[list[Msg] | None] = asyncio.Queue(maxsize=1)
        fetcher = asyncio.create_task(self._fetch(batches, stop))
        try:
            while (msgs := await self._next_batch(batches)) is not None:
                try:
                    await self._handle(msgs)
                except Exception:
                    # Never let one batch stop the recorder: whatever was not acked comes back
                    # after the consumer's ack wait.
                    log.exception("batch_failed", messages=len(msgs))
        finally:
            if not fetcher.done():
                fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetcher
            await self._release_parked()
            await self._puller.close()

    async def _next_batch(self, batches: asyncio.Queue[list[Msg] | None]) -> list[Msg] | None:
        """The next fetched batch (None: stopping), or [] to retry only the parked messages.

        New messages keep being taken while some are parked: the missing versions are among them
        (e.g. redelivered after a crashed instance's ack wait).
        """
        if not self._parked:
            return await batches.get()
        try:
            return await asyncio.wait_for(batches.get(), timeout=self._retry_interval)
        except TimeoutError:
            return []

    async def _fetch(self, batches: asyncio.Queue[list[Msg] | None], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                msgs = await self._puller.fetch(self._batch_size, timeout=self._fetch_timeout)
            except Exception:  # the fetch helper absorbs NATS' quirks; anything else: log, go on
                log.exception("fetch_failed")
                await asyncio.sleep(1.0)
                continue
            if msgs:
                await batches.put(msgs)
        await batches.put(None)  # the batch before it is still recorded and acked

    async def _release_parked(self) -> None:
        """Hand parked messages back to JetStream (on shutdown: another instance may take them)."""
        parked, self._parked = self._parked, []
        for item in parked:
            with contextlib.suppress(Exception):
                await item.delivery.msg.nak(delay=0.5)
        with contextlib.suppress(Exception):
            await self._nc.flush(timeout=5)

    async def _handle(self, msgs: list[Msg]) -> None:
        parked, self._parked = self._parked, []
        since = {id(p.delivery): p.since for p in parked}
        decoded = [self._decode(msg) for msg in msgs]
        await self._dead_letter_all([d for d in decoded if isinstance(d, _Refusal)])
        fresh = [d for d in decoded if isinstance(d, Delivery)]
        deliveries = [p.delivery for p in parked] + fresh
        if not deliveries:
            return
        try:
            recorded = await self._record(deliveries)
        except StoreUnavailableError as exc:
            # Nothing (or, mid-split, only part) was committed: every message comes back later,
            # stored ones as harmless duplicates; the store is the system of record, so the
            # recorder waits for it rather than dropping anything.
            self.stats.store_failures += 1
            delay = retry_delay(min(d.num_delivered for d in deliveries), base=0.5, cap=10.0)
            log.warning("record_failed", error=str(exc), messages=len(deliveries), retry_in_s=delay)
            for d in deliveries:
                with contextlib.suppress(Exception):
                    await d.msg.nak(delay=delay)
            await asyncio.sleep(min(delay, 1.0))
            return
        outcomes = [outcome for _, outcome in recorded]
        now = time.monotonic()
        for delivery, outcome in recorded:
            first_seen = since.get(id(delivery), now)
            if outcome.status == "gap" and now - first_seen < self._gap_hold_s:
                self._parked.append(_Parked(delivery, first_seen))
            else:
                await self._settle(delivery, outcome)
        if any(outcome.status == "stored" for outcome in outcomes):
            self._retry_interval = _MIN_RETRY_S
        else:
            self._retry_interval = min(_MAX_RETRY_S, self._retry_interval * 2)
        # Bound the memory held by parked messages: hand back the newest, as the oldest are the
        # versions most likely to fill the gaps next.
        limit = self._park_limit
        if len(self._parked) > limit:
            for item in self._parked[limit:]:
                await self._settle(item.delivery, RecordOutcome(status="gap"))
            del self._parked[limit:]
        self.stats.batches += 1
        try:
            await self._nc.flush(timeout=5)
        except Exception as exc:  # acks lost with the connection mean redelivery, then duplicates
            log.warning("ack_flush_failed", error=type(exc).__name__)

    async def _record(self, deliveries: list[Delivery]) -> list[tuple[Delivery, RecordOutcome]]:
        """Record the batch in one transaction; when the store refuses it for another reason than
        being unreachable, record it in halves, down to the events it refuses on their own, which
        are dead-lettered: one unstorable event never holds back the others of its batch.

        Raises:
            StoreUnavailableError: the database cannot be reached (the caller naks the batch).
        """
        batch = [Incoming(event=d.event, stream_sequence=d.stream_sequence) for d in deliveries]
        try:
            outcomes = await self._store.record(batch)
        except StoreUnavailableError:
            raise
        except Exception as exc:
            if len(deliveries) > 1:
                half = len(deliveries) // 2
                return await self._record(deliveries[:half]) + await self._record(deliveries[half:])
            log.warning("record_refused", error=str(exc)[:300], error_type=type(exc).__name__)
            reason = f"the event store refused the event ({type(exc).__name__})"
            await self._dead_letter(deliveries[0], Code.EVENT_STORE_ERROR, reason)
            return []
        return list(zip(deliveries, outcomes, strict=True))

    def _decode(self, msg: Msg) -> Delivery | _Refusal:
        """The message's event, or why it will never be one (to dead-letter)."""
        try:
            event = decode_event(msg.data)
        except Exception as exc:  # ``codec`` raises EventValidationError; anything else is one too
            code = exc.code if isinstance(exc, EventValidationError) else Code.INVALID_EVENT
            return _Refusal(msg, code, str(exc) or type(exc).__name__)
        expected = subject_for(event.analysis_id, event.type)
        if msg.subject != expected:
            return _Refusal(msg, "subject_mismatch", f"published on {msg.subject}, expected {expected}")
        return Delivery(msg, event)

    async def _dead_letter_all(self, refusals: list[_Refusal]) -> None:
        """Keep the refused messages in the store in one transaction, then terminate them; when the
        store cannot take them, they come back later (nak) rather than being lost."""
        if not refusals:
            return
        letters = []
        for r in refusals:
            seq = r.msg.metadata.sequence.stream if r.msg.metadata.sequence else None
            log.warning(
                "dead_letter",
                consumer=self._consumer.name,
                subject=r.msg.subject[:200],
                error_code=r.code,
                reason=r.reason[:300],
            )
            letters.append(
                NewDeadLetter(
                    subject=r.msg.subject,
                    payload=r.msg.data[:MAX_KEPT_PAYLOAD],
                    error_code=r.code,
                    reason=r.reason[:2000],
                    stream_sequence=seq,
                    consumer=self._consumer.name,
                )
            )
        try:
            await self._store.record_dead_letters(letters)
        except Exception as exc:  # keep the messages until their dead letters can be written
            log.warning("dead_letter_failed", error=str(exc)[:300], error_type=type(exc).__name__)
            for r in refusals:
                with contextlib.suppress(Exception):
                    await r.msg.nak(delay=5.0)
            return
        for r in refusals:
            with contextlib.suppress(Exception):  # a lost term means one more (stored-again) delivery
                await r.msg.term()
        self.stats.dead_letters += len(refusals)

    async def _settle(self, delivery: Delivery, outcome: RecordOutcome) -> None:
        msg = delivery.msg
        if outcome.status == "stored":
            self.stats.stored += 1
            await msg.ack()
        elif outcome.status == "duplicate":
            self.stats.duplicates += 1
            await msg.ack()
        elif outcome.status == "gap" and delivery.num_delivered < self._max_gap_deliveries:
            self.stats.gaps += 1
            await msg.nak(delay=retry_delay(delivery.num_delivered, base=0.25, cap=2.0))
        elif outcome.status == "gap":
            await self._dead_letter(
                delivery,
                "version_gap",
                f"version {delivery.event.version} still follows version {outcome.stream_version} "
                f"after {delivery.num_delivered} deliveries",
            )
        elif outcome.status == "refused":
            self.stats.refused += 1
            await self._dead_letter(delivery, EventNotAllowedError.code, outcome.reason or "refused")
        else:
            self.stats.conflicts += 1
            await self._dead_letter(
                delivery,
                "version_conflict",
                f"version {delivery.event.version} of analysis {delivery.event.analysis_id} "
                "is already held by another event",
            )

    async def _dead_letter(self, delivery: Delivery, code: str, reason: str) -> None:
        log.warning("event_rejected", event_id=str(delivery.event.event_id), code=code, reason=reason)
        await self._dead_letter_all([_Refusal(delivery.msg, code, reason)])
