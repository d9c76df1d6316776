"""Dead letters: messages a consumer will never process, kept with the reason.

A message that fails validation is terminated (never retried forever) and a ``DeadLetter`` record is
published to the dead-letter stream, where the recorder stores it in the event store's dead-letter
table and operators can read it (``sonda events dead-letters``).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Protocol

import msgspec
from nats.js import JetStreamContext

from sonda_events.logging import get_logger
from sonda_events.subjects import DEAD_LETTER_SUBJECT_PREFIX

log = get_logger(__name__)

#: Payloads are cut to this size in the record: a dead letter must never be too big to publish.
MAX_KEPT_PAYLOAD = 64 * 1024


class DeadLetter(msgspec.Struct, kw_only=True, frozen=True):
    consumer: str
    subject: str
    stream_sequence: int | None
    error_code: str
    reason: str
    payload_b64: str
    payload_size: int
    occurred_at: datetime

    @classmethod
    def build(
        cls,
        *,
        consumer: str,
        subject: str,
        stream_sequence: int | None,
        error_code: str,
        reason: str,
        payload: bytes,
    ) -> DeadLetter:
        return cls(
            consumer=consumer,
            subject=subject[:512],
            stream_sequence=stream_sequence,
            error_code=error_code,
            reason=reason[:2000],
            payload_b64=base64.b64encode(payload[:MAX_KEPT_PAYLOAD]).decode(),
            payload_size=len(payload),
            occurred_at=datetime.now(UTC),
        )

    def payload(self) -> bytes:
        return base64.b64decode(self.payload_b64)


class DeadLetterSink(Protocol):
    async def __call__(self, letter: DeadLetter) -> None: ...


class JetStreamDeadLetterSink:
    """Publishes dead letters to ``eda.deadletter.<consumer>``."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def __call__(self, letter: DeadLetter) -> None:
        log.warning(
            "dead_letter",
            consumer=letter.consumer,
            subject=letter.subject,
            error_code=letter.error_code,
            reason=letter.reason,
        )
        await self._js.publish(f"{DEAD_LETTER_SUBJECT_PREFIX}.{letter.consumer}", msgspec.json.encode(letter))
