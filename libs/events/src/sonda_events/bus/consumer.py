"""A durable pull consumer loop with the JetStream acks done right, in one place.

- ``fetch`` hides nats-py's quirks: an idle fetch raises ``TimeoutError`` (here: an empty list), and
  a connection that is reconnecting raises various errors (here: a short sleep, then an empty list).
- A message that fails validation is terminated and dead-lettered with the reason: never retried
  forever, never crashing the loop.
- A handler that succeeds is acked with ``ack_sync`` (double ack) after its own commit/publish; one
  that raises is nak'ed with an increasing delay; after ``max_deliver`` attempts ``on_exhausted`` runs
  (e.g. publish ``AnalysisFailed``) and the message is terminated.
- ``keep_alive`` sends in-progress acks while a long handler works, so it is not redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from sonda_events import codec
from sonda_events.bus.deadletter import DeadLetter, DeadLetterSink
from sonda_events.bus.provisioning import ensure_consumer
from sonda_events.codes import Code
from sonda_events.contract import AnyEvent
from sonda_events.errors import EventValidationError, SondaError
from sonda_events.logging import bind_context, get_logger
from sonda_events.subjects import STREAM_NAME

log = get_logger(__name__)


class Reject(SondaError):
    """Raised by a handler for a message that can never succeed: terminate and dead-letter it."""

    code = Code.REJECTED


@dataclass
class Delivery:
    """One message with its decoded event."""

    msg: Msg
    event: AnyEvent

    @property
    def num_delivered(self) -> int:
        return int(self.msg.metadata.num_delivered or 1)

    @property
    def stream_sequence(self) -> int | None:
        return self.msg.metadata.sequence.stream if self.msg.metadata.sequence else None

    @contextlib.asynccontextmanager
    async def keep_alive(self, interval: float = 5.0) -> AsyncIterator[None]:
        """Send in-progress acks every ``interval`` seconds while the block runs."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(interval)
                with contextlib.suppress(Exception):
                    await self.msg.in_progress()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


Handler = Callable[[Delivery], Awaitable[None]]
ExhaustedHandler = Callable[[Delivery, BaseException], Awaitable[None]]


def retry_delay(num_delivered: int, base: float = 1.0, cap: float = 30.0) -> float:
    """Backoff for a nak: 1 s, 2 s, 4 s, ... up to ``cap``."""
    return float(min(cap, base * 2 ** max(0, num_delivered - 1)))


class PullConsumer:
    """A durable pull consumer on the EDA stream."""

    def __init__(
        self,
        js: JetStreamContext,
        config: ConsumerConfig,
        *,
        dead_letters: DeadLetterSink,
        stream: str = STREAM_NAME,
    ) -> None:
        self._js = js
        self.config = config
        self.name = config.durable_name or "consumer"
        self._stream = stream
        self._dead_letters = dead_letters
        self._sub: JetStreamContext.PullSubscription | None = None

    async def start(self) -> None:
        """Provision the durable consumer (idempotent) and bind to it."""
        await ensure_consumer(self._js, self._stream, self.config)
        self._sub = await self._js.pull_subscribe_bind(self.name, stream=self._stream)

    async def close(self) -> None:
        """Stop pulling (the durable consumer stays on the server for the next start)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def fetch(self, batch: int = 1, timeout: float = 1.0) -> list[Msg]:
        """Up to ``batch`` messages; an empty list when idle or while NATS reconnects."""
        if self._sub is None:
            await self.start()
        assert self._sub is not None
        try:
            return await self._sub.fetch(batch, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        except (
            nats.errors.ConnectionClosedError,
            nats.errors.ConnectionReconnectingError,
            nats.errors.NoRespondersError,
            nats.errors.Error,
        ) as exc:
            log.warning("fetch_failed", consumer=self.name, error=type(exc).__name__)
            await asyncio.sleep(0.5)
            return []

    async def decode(self, msg: Msg) -> Delivery | None:
        """The message's event, or None after dead-lettering a message that is not a valid event."""
        try:
            return Delivery(msg, codec.decode(msg.data))
        except Exception as exc:  # ``codec`` raises EventValidationError; anything else is one too
            code = exc.code if isinstance(exc, EventValidationError) else Code.INVALID_EVENT
            log.warning("message_skipped", consumer=self.name, subject=msg.subject[:200], code=code)
            await self.dead_letter(msg, code, str(exc) or type(exc).__name__)
            return None

    async def dead_letter(self, msg: Msg, error_code: str, reason: str) -> None:
        seq = msg.metadata.sequence.stream if msg.metadata.sequence else None
        await self._dead_letters(
            DeadLetter.build(
                consumer=self.name,
                subject=msg.subject,
                stream_sequence=seq,
                error_code=error_code,
                reason=reason,
                payload=msg.data,
            )
        )
        await msg.term()

    async def run(
        self,
        handler: Handler,
        *,
        stop: asyncio.Event,
        concurrency: int = 1,
        on_exhausted: ExhaustedHandler | None = None,
        fetch_timeout: float = 1.0,
    ) -> None:
        """Process messages until ``stop`` is set; in-flight messages finish before returning."""
        if self._sub is None:
            await self.start()
        slots = asyncio.Semaphore(concurrency)
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await slots.acquire()
            if stop.is_set():
                slots.release()
                break
            msgs = await self.fetch(1, timeout=fetch_timeout)
            if not msgs:
                slots.release()
                continue
            task = asyncio.create_task(self._process(msgs[0], handler, on_exhausted))
            tasks.add(task)
            task.add_done_callback(self._finished(tasks, slots))
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.close()

    @staticmethod
    def _finished(
        tasks: set[asyncio.Task[None]], slots: asyncio.Semaphore
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            slots.release()

        return done

    async def _process(self, msg: Msg, handler: Handler, on_exhausted: ExhaustedHandler | None) -> None:
        delivery = await self.decode(msg)
        if delivery is None:
            return
        event = delivery.event
        bind_context(
            analysis_id=event.analysis_id,
            correlation_id=event.correlation_id,
            event_id=event.event_id,
            consumer=self.name,
        )
        try:
            await handler(delivery)
        except Reject as exc:
            await self.dead_letter(msg, exc.code, exc.message)
            return
        except Exception as exc:
            max_deliver = self.config.max_deliver or -1
            if 0 < max_deliver <= delivery.num_delivered:
                log.error("delivery_exhausted", attempts=delivery.num_delivered, error=str(exc))
                if on_exhausted is not None:
                    try:
                        await on_exhausted(delivery, exc)
                    except Exception as final:
                        log.error("on_exhausted_failed", error=str(final))
                        await msg.nak(delay=retry_delay(delivery.num_delivered))
                        return
                await msg.term()
                return
            delay = retry_delay(delivery.num_delivered)
            log.warning(
                "handler_failed",
                error=str(exc),
                error_type=type(exc).__name__,
                attempt=delivery.num_delivered,
                retry_in_s=delay,
            )
            with contextlib.suppress(Exception):
                await msg.nak(delay=delay)
            return
        try:
            await msg.ack_sync()
        except Exception as exc:  # the work is done; a lost ack means a harmless redelivery
            log.warning("ack_failed", error=type(exc).__name__)
