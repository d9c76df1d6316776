"""The recorder's JetStream consumers: every event subject, and the dead-letter stream."""

from __future__ import annotations

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from sonda_events.bus import DEAD_LETTER_STREAM
from sonda_events.subjects import ALL_SUBJECTS, DEAD_LETTER_SUBJECT_PREFIX

RECORDER_CONSUMER = "recorder"
DEAD_LETTER_CONSUMER = "recorder-deadletters"


def recorder_consumer_config(*, ack_wait_s: float = 60.0, max_ack_pending: int = 20_000) -> ConsumerConfig:
    """One durable consumer shared by every recorder instance (they split the messages).

    Explicit acks, never ``AckPolicy.ALL``: with two instances, acking message N would also ack the
    messages below N that the *other* instance has fetched but not yet committed. No ``max_deliver``:
    the store is the system of record, so the recorder never gives up on an event because the
    database was down for a while; events that can never be stored are dead-lettered explicitly.
    """
    return ConsumerConfig(
        durable_name=RECORDER_CONSUMER,
        filter_subject=ALL_SUBJECTS,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        max_deliver=-1,
        max_ack_pending=max_ack_pending,
    )


def dead_letter_consumer_config() -> ConsumerConfig:
    """Copies other consumers' dead letters (``eda.deadletter.<consumer>``) into the store."""
    return ConsumerConfig(
        durable_name=DEAD_LETTER_CONSUMER,
        filter_subject=f"{DEAD_LETTER_SUBJECT_PREFIX}.>",
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30.0,
        max_deliver=-1,
        max_ack_pending=1000,
    )


__all__ = [
    "DEAD_LETTER_CONSUMER",
    "DEAD_LETTER_STREAM",
    "RECORDER_CONSUMER",
    "dead_letter_consumer_config",
    "recorder_consumer_config",
]
