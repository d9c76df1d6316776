"""JetStream helpers: connection, provisioning, publishing, pull consumers, dead letters."""

from sonda_events.bus.connection import close_nats, connect_nats
from sonda_events.bus.consumer import Delivery, PullConsumer, Reject, retry_delay
from sonda_events.bus.deadletter import DeadLetter, DeadLetterSink, JetStreamDeadLetterSink
from sonda_events.bus.provisioning import (
    DEAD_LETTER_STREAM,
    Drift,
    dead_letter_stream_config,
    eda_stream_config,
    ensure_consumer,
    ensure_stream,
    provision,
    work_queue_consumer,
)
from sonda_events.bus.publisher import CORRELATION_HEADER, AnalysisWriter, Publisher
from sonda_events.bus.server import (
    MIN_NATS_SERVER,
    MIN_NATS_SERVER_TEXT,
    ServerSupport,
    redact_url,
    require_supported_server,
    server_support,
)

__all__ = [
    "CORRELATION_HEADER",
    "DEAD_LETTER_STREAM",
    "MIN_NATS_SERVER",
    "MIN_NATS_SERVER_TEXT",
    "AnalysisWriter",
    "DeadLetter",
    "DeadLetterSink",
    "Delivery",
    "Drift",
    "JetStreamDeadLetterSink",
    "Publisher",
    "PullConsumer",
    "Reject",
    "ServerSupport",
    "close_nats",
    "connect_nats",
    "dead_letter_stream_config",
    "eda_stream_config",
    "ensure_consumer",
    "ensure_stream",
    "provision",
    "redact_url",
    "require_supported_server",
    "retry_delay",
    "server_support",
    "work_queue_consumer",
]
