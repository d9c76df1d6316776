"""Failing analyses whose request ran out of deliveries while no worker was there to say so.

``on_exhausted`` covers a last delivery that failed inside a handler. It cannot cover a worker that
died (SIGKILL, out-of-memory kill, power loss) during the last delivery: JetStream then stops
redelivering and nobody would ever publish ``AnalysisFailed``. JetStream announces exactly that
moment with a ``MAX_DELIVERIES`` advisory (a core NATS message naming the stream sequence); this
watcher, in a queue group so one analyzer instance handles each advisory, reads the request at that
sequence and fails its analysis unless it already finished.
"""

from __future__ import annotations

import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from sonda_events import codec
from sonda_events.contract import AnalysisRequested
from sonda_events.errors import EventValidationError
from sonda_events.logging import bind_context, get_logger
from sonda_events.subjects import STREAM_NAME

from sonda_analyzer.worker import AnalysisWorker

log = get_logger(__name__)

QUEUE_GROUP = "sonda-analyzer-exhausted"


class MaxDeliveriesAdvisory(msgspec.Struct, kw_only=True, frozen=True):
    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


def advisory_subject(consumer: str, stream: str = STREAM_NAME) -> str:
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}"


class ExhaustedWatcher:
    def __init__(
        self, nc: NatsClient, js: JetStreamContext, worker: AnalysisWorker, *, consumer: str
    ) -> None:
        self._nc = nc
        self._js = js
        self._worker = worker
        self._subject = advisory_subject(consumer)
        self._sub: Subscription | None = None
        self.handled = 0

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(self._subject, queue=QUEUE_GROUP, cb=self._on_advisory)

    async def close(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:  # the connection may already be closing
                log.info("advisory_unsubscribe_failed", error=type(exc).__name__)
            self._sub = None

    async def _on_advisory(self, msg: Msg) -> None:
        try:
            advisory = msgspec.json.decode(msg.data, type=MaxDeliveriesAdvisory)
            raw = await self._js.get_msg(STREAM_NAME, advisory.stream_seq)
            event = codec.decode(raw.data or b"")
        except (msgspec.DecodeError, EventValidationError) as exc:
            log.warning("advisory_unusable", error=str(exc))
            return
        except Exception as exc:  # the message aged out, NATS blipped: nothing left to act on
            log.warning("advisory_lookup_failed", error=type(exc).__name__)
            return
        if not isinstance(event, AnalysisRequested):
            return
        bind_context(
            analysis_id=event.analysis_id, correlation_id=event.correlation_id, event_id=event.event_id
        )
        message = (
            f"the analysis was handed to a worker {advisory.deliveries} times and none finished it "
            "(the workers stopped or crashed while profiling it)"
        )
        try:
            if await self._worker.fail_exhausted(event, message, attempts=advisory.deliveries):
                self.handled += 1
        except Exception as exc:
            log.error("advisory_fail_publish_failed", error=str(exc))
