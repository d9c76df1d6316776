"""This instance's own view of the live event stream.

Each notifier instance runs an ordered push consumer (ephemeral, in memory on the server, no acks)
on every analysis subject with deliver policy NEW: events published from now on, in stream order.
Instances do not share a consumer, so any number of them behind a balancer each see every event and
serve their own clients. nats-py recreates an ordered consumer from the last sequence it delivered
when it misses heartbeats or sees a sequence gap (e.g. after a server restart), so the feed resumes
without a hole; each connection also de-duplicates and fills gaps by version on its own.
"""

from __future__ import annotations

import contextlib

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sonda_events import codec
from sonda_events.errors import EventValidationError
from sonda_events.logging import get_logger
from sonda_events.subjects import ALL_SUBJECTS, STREAM_NAME, parse_subject

from sonda_notifier.hub import Hub

log = get_logger(__name__)


class Feed:
    def __init__(self, js: JetStreamContext, hub: Hub, *, stream: str = STREAM_NAME) -> None:
        self._js = js
        self._hub = hub
        self._stream = stream
        self._sub: JetStreamContext.PushSubscription | None = None

    @property
    def running(self) -> bool:
        return self._sub is not None

    async def start(self) -> None:
        last_seq = (await self._js.stream_info(self._stream)).state.last_seq
        self._sub = await self._js.subscribe(
            ALL_SUBJECTS,
            stream=self._stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=1.0,  # a lost consumer is recreated within ~2 s of NATS coming back
        )
        # nats-py recreates an ordered consumer from the last stream sequence it *delivered*, which
        # is 0 until a first event arrives: a NATS restart before that would replay the whole stream
        # to this instance. Start its bookkeeping at the stream's end instead (deliver policy NEW).
        # (Private nats-py state; tests/notifier/test_outage.py fails if this stops working.)
        jsi = getattr(getattr(self._sub, "_sub", None), "_jsi", None)
        if jsi is not None and getattr(jsi, "_sseq", None) == 0:
            jsi._sseq = last_seq
        else:
            log.warning("feed_resume_point_not_set", reason="nats-py internals changed")
        log.info("feed_started", stream=self._stream)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = codec.decode(msg.data)
        except EventValidationError as exc:
            # Not ours to repair: the recorder dead-letters it; clients never see it.
            self._hub.counters.invalid_events += 1
            log.info("feed_invalid_event_ignored", subject=msg.subject, error=str(exc)[:200])
            return
        parsed = parse_subject(msg.subject)
        if parsed is None or parsed[0] != event.analysis_id:
            self._hub.counters.invalid_events += 1
            log.info("feed_misfiled_event_ignored", subject=msg.subject, analysis_id=str(event.analysis_id))
            return
        self._hub.dispatch(event)
