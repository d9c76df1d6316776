"""Declare the JetStream stream and consumers Sonda needs; safe to run at every start.

Creating is idempotent. When a stream or consumer already exists with a different config, the
difference is returned as ``Drift`` and logged — never silently ignored. Fields JetStream allows to
change in place are updated when ``update=True``; the rest need an operator (``strict=True`` raises).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from sonda_events.errors import ProvisioningDriftError
from sonda_events.logging import get_logger
from sonda_events.subjects import ALL_SUBJECTS, DEAD_LETTER_SUBJECT_PREFIX, STREAM_NAME

log = get_logger(__name__)

DAY = 24 * 3600.0
DEAD_LETTER_STREAM = f"{STREAM_NAME}_DEADLETTER"


@dataclass(frozen=True)
class Drift:
    """One field whose live value differs from the declared one."""

    target: str
    field: str
    declared: object
    live: object


def eda_stream_config(
    *,
    max_age_s: float = 7 * DAY,
    max_bytes: int = 1 << 30,
    duplicate_window_s: float = 120.0,
) -> StreamConfig:
    """The bounded window of events (the Postgres store keeps everything forever)."""
    return StreamConfig(
        name=STREAM_NAME,
        subjects=[ALL_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age_s,
        max_bytes=max_bytes,
        max_msg_size=1 << 20,
        duplicate_window=duplicate_window_s,
        allow_direct=True,
    )


def dead_letter_stream_config() -> StreamConfig:
    return StreamConfig(
        name=DEAD_LETTER_STREAM,
        subjects=[f"{DEAD_LETTER_SUBJECT_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * DAY,
        duplicate_window=120.0,
        max_msg_size=1 << 20,
    )


def work_queue_consumer(
    durable: str,
    filter_subject: str,
    *,
    max_deliver: int = 5,
    ack_wait_s: float = 30.0,
    max_ack_pending: int = 1000,
) -> ConsumerConfig:
    """A durable pull consumer whose messages are acked one by one (explicit acks)."""
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=filter_subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        max_deliver=max_deliver,
        max_ack_pending=max_ack_pending,
    )


_STREAM_FIELDS = (
    "subjects",
    "retention",
    "storage",
    "discard",
    "max_age",
    "max_bytes",
    "max_msg_size",
    "duplicate_window",
    "allow_direct",
)
_UPDATABLE_STREAM_FIELDS = frozenset(
    {"subjects", "discard", "max_age", "max_bytes", "max_msg_size", "duplicate_window", "allow_direct"}
)
_CONSUMER_FIELDS = (
    "filter_subject",
    "deliver_policy",
    "ack_policy",
    "ack_wait",
    "max_deliver",
    "max_ack_pending",
)


def _diff(target: str, declared: object, live: object, fields: tuple[str, ...]) -> list[Drift]:
    drifts = []
    for name in fields:
        want, have = getattr(declared, name, None), getattr(live, name, None)
        if want is None:
            continue
        if isinstance(want, float) and isinstance(have, (int, float)) and abs(want - have) < 1e-3:
            continue
        if want != have:
            drifts.append(Drift(target, name, want, have))
    return drifts


async def ensure_stream(
    js: JetStreamContext, config: StreamConfig, *, update: bool = True, strict: bool = False
) -> list[Drift]:
    """Create the stream if missing; report (and where allowed, fix) drift from ``config``."""
    try:
        info = await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream_created", stream=config.name)
        return []
    drifts = _diff(f"stream {config.name}", config, info.config, _STREAM_FIELDS)
    for drift in drifts:
        log.warning(
            "provisioning_drift",
            target=drift.target,
            field=drift.field,
            declared=str(drift.declared),
            live=str(drift.live),
        )
    fixable = [d for d in drifts if d.field in _UPDATABLE_STREAM_FIELDS]
    if update and fixable and len(fixable) == len(drifts):
        await js.update_stream(config)
        log.info("stream_updated", stream=config.name, fields=[d.field for d in fixable])
    if strict and drifts:
        raise ProvisioningDriftError(
            "; ".join(f"{d.target}.{d.field}: declared {d.declared}, live {d.live}" for d in drifts)
        )
    return drifts


async def ensure_consumer(
    js: JetStreamContext,
    stream: str,
    config: ConsumerConfig,
    *,
    update: bool = True,
    strict: bool = False,
) -> list[Drift]:
    """Create a durable consumer if missing; report (and where allowed, fix) drift."""
    durable = config.durable_name or ""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
        log.info("consumer_created", stream=stream, consumer=durable)
        return []
    drifts = _diff(f"consumer {stream}/{durable}", config, info.config, _CONSUMER_FIELDS)
    for drift in drifts:
        log.warning(
            "provisioning_drift",
            target=drift.target,
            field=drift.field,
            declared=str(drift.declared),
            live=str(drift.live),
        )
    # deliver_policy and ack_policy are fixed at creation; the rest JetStream lets us update.
    frozen = [d for d in drifts if d.field in {"deliver_policy", "ack_policy"}]
    if update and drifts and not frozen:
        await js.add_consumer(stream, config)  # add_consumer with an existing name updates it
        log.info("consumer_updated", stream=stream, consumer=durable)
    if strict and drifts:
        raise ProvisioningDriftError(
            "; ".join(f"{d.target}.{d.field}: declared {d.declared}, live {d.live}" for d in drifts)
        )
    return drifts


async def provision(js: JetStreamContext) -> list[Drift]:
    """Everything every Sonda process expects to exist: the event stream and the dead-letter stream."""
    drifts = await ensure_stream(js, eda_stream_config())
    drifts += await ensure_stream(js, dead_letter_stream_config())
    return drifts
