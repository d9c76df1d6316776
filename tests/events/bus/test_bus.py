"""Bus promises against a real nats-server: provisioning, dedupe, optimistic concurrency, retries,
consumer acks, dead letters and max deliveries."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import nats
import pytest
from nats.js.api import ConsumerConfig
from sonda_events.bus import (
    DEAD_LETTER_STREAM,
    AnalysisWriter,
    DeadLetter,
    Delivery,
    JetStreamDeadLetterSink,
    Publisher,
    PullConsumer,
    Reject,
    close_nats,
    connect_nats,
    eda_stream_config,
    ensure_stream,
    provision,
    work_queue_consumer,
)
from sonda_events.contract import (
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    FailedData,
    ProgressData,
    RequestedData,
    StartedData,
    new_event,
)
from sonda_events.errors import BusUnavailableError, StreamVersionConflictError
from sonda_events.lifecycle import AnalysisStreamReader
from sonda_events.subjects import STREAM_NAME, analysis_subjects, type_subjects

from tests.support.servers import NatsServer


def requested(analysis_id: uuid.UUID | None = None) -> AnalysisRequested:
    return new_event(
        AnalysisRequested,
        analysis_id=analysis_id or uuid.uuid4(),
        version=1,
        data=RequestedData(file_key="uploads/a/b.csv"),
        producer="test",
    )


async def count_subject(js: nats.js.JetStreamContext, subject: str) -> int:
    info = await js.stream_info(STREAM_NAME, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def test_provisioning_is_idempotent_and_reports_drift(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    assert await provision(js) == []
    assert await provision(js) == []  # second start: nothing to do, nothing reported
    drifted = eda_stream_config(max_age_s=3600.0)
    drifts = await ensure_stream(js, drifted, update=False)
    assert [d.field for d in drifts] == ["max_age"]
    # with update=True the fixable drift is applied, after which nothing drifts
    await ensure_stream(js, drifted, update=True)
    assert await ensure_stream(js, drifted, update=False) == []
    await close_nats(nc)


async def test_same_event_published_three_times_is_stored_once(nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="t")
    js = nc.jetstream()
    await provision(js)
    pub = Publisher(js)
    event = requested()
    acks = [await pub.publish(event) for _ in range(3)]
    assert [bool(a.duplicate) for a in acks] == [False, True, True]
    assert await count_subject(js, analysis_subjects(event.analysis_id)) == 1
    await close_nats(nc)


async def test_stale_writer_cannot_publish_over_a_newer_one(nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="t")
    js = nc.jetstream()
    await provision(js)
    pub = Publisher(js)
    first = requested()
    await pub.publish(first)
    a = await AnalysisWriter.resume(pub, first.analysis_id, producer="a")
    b = await AnalysisWriter.resume(pub, first.analysis_id, producer="b")
    assert (a.version, b.version) == (1, 1)
    started = await a.emit(AnalysisStarted, StartedData(worker="a"))
    assert started.version == 2
    with pytest.raises(StreamVersionConflictError):
        await b.emit(AnalysisStarted, StartedData(worker="b"))
    # the winner keeps going with consecutive versions
    progress = await a.emit(AnalysisProgress, ProgressData(progress=10, stage="reading"))
    assert progress.version == 3
    last = await pub.last_message(first.analysis_id)
    assert last is not None and last[0] == progress
    await close_nats(nc)


async def test_a_writer_goes_past_messages_the_lifecycle_skips_but_not_past_a_rival(nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="t")
    js = nc.jetstream()
    await provision(js)
    pub = Publisher(nc)
    reader = AnalysisStreamReader(nc)
    first = requested()
    await pub.publish(first)
    a = AnalysisWriter.after(pub, await reader.read(first.analysis_id), producer="a", reader=reader)
    b = AnalysisWriter.after(pub, await reader.read(first.analysis_id), producer="b", reader=reader)
    # After both read: the same request again (another system, no message id) and garbage.
    subject = f"eda.analysis.{first.analysis_id}.requested"
    await js.publish(subject, msgspec.json.encode(first), headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await js.publish(f"eda.analysis.{first.analysis_id}.progress", b"{not an event")
    started = await a.emit(AnalysisStarted, StartedData(worker="a"))
    assert started.version == 2  # not a lost race: nothing the lifecycle accepts came in between
    with pytest.raises(StreamVersionConflictError):  # a rival's accepted event is one
        await b.emit(AnalysisStarted, StartedData(worker="b"))
    read = await reader.read(first.analysis_id)
    assert [e.event_id for e in read.events] == [first.event_id, started.event_id]
    await close_nats(nc)


async def test_publisher_retries_until_pub_ack_across_a_restart(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    await provision(js)
    pub = Publisher(nc, request_timeout=0.5, deadline=20)  # with the connection: waits for it
    private_nats.stop()
    event = requested()
    publishing = asyncio.create_task(pub.publish(event))
    await asyncio.sleep(1.5)
    assert not publishing.done()  # still retrying, not failed
    private_nats.start()
    ack = await asyncio.wait_for(publishing, 20)
    assert ack.seq >= 1
    assert await count_subject(js, analysis_subjects(event.analysis_id)) == 1
    await close_nats(nc)


async def test_publisher_gives_up_at_its_deadline(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    await provision(js)
    private_nats.stop()
    with pytest.raises(BusUnavailableError):
        await Publisher(nc, request_timeout=0.3, deadline=1.0).publish(requested())
    await close_nats(nc)


async def dead_letters(js: nats.js.JetStreamContext, consumer: str) -> list[DeadLetter]:
    sub = await js.pull_subscribe(f"eda.deadletter.{consumer}", stream=DEAD_LETTER_STREAM)
    try:
        msgs = await sub.fetch(100, timeout=1)
    except nats.errors.TimeoutError:
        return []
    finally:
        await sub.unsubscribe()
    return [msgspec.json.decode(m.data, type=DeadLetter) for m in msgs]


async def test_consumer_dead_letters_invalid_messages_and_keeps_going(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    await provision(js)
    seen: list[uuid.UUID] = []

    async def handler(d: Delivery) -> None:
        seen.append(d.event.analysis_id)

    consumer = PullConsumer(
        js,
        work_queue_consumer("worker", type_subjects("AnalysisRequested")),
        dead_letters=JetStreamDeadLetterSink(js),
    )
    good = requested()
    bad_id = uuid.uuid4()
    await js.publish(f"eda.analysis.{bad_id}.requested", b'{"type": "AnalysisRequested", "version": -1}')
    await js.publish(f"eda.analysis.{bad_id}.requested", b"\x00garbage")
    await Publisher(js).publish(good)
    stop = asyncio.Event()
    runner = asyncio.create_task(consumer.run(handler, stop=stop))
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await runner
    assert seen == [good.analysis_id]
    letters = await dead_letters(js, "worker")
    assert [letter.error_code for letter in letters] == ["invalid_event", "invalid_event"]
    assert letters[1].payload() == b"\x00garbage"
    assert "version" in letters[0].reason
    info = await js.consumer_info(STREAM_NAME, "worker")
    assert info.num_ack_pending == 0 and info.num_pending == 0
    await close_nats(nc)


async def test_failures_are_retried_then_exhausted_with_a_final_event(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    await provision(js)
    pub = Publisher(js)
    attempts: list[int] = []

    async def handler(d: Delivery) -> None:
        attempts.append(d.num_delivered)
        if d.event.data.file_key.endswith("reject.csv"):  # type: ignore[union-attr]
            raise Reject("cannot ever work")
        raise RuntimeError("transient failure")

    async def exhausted(d: Delivery, exc: BaseException) -> None:
        writer = await AnalysisWriter.resume(pub, d.event.analysis_id, producer="t")
        await writer.emit(AnalysisFailed, FailedData(error_code="exhausted", error_message=str(exc)))

    config: ConsumerConfig = work_queue_consumer(
        "flaky", type_subjects("AnalysisRequested"), max_deliver=3, ack_wait_s=5
    )
    consumer = PullConsumer(js, config, dead_letters=JetStreamDeadLetterSink(js))
    event = requested()
    await pub.publish(event)
    reject = new_event(
        AnalysisRequested,
        analysis_id=uuid.uuid4(),
        version=1,
        data=RequestedData(file_key="uploads/a/reject.csv"),
        producer="t",
    )
    await pub.publish(reject)
    stop = asyncio.Event()
    import sonda_events.bus.consumer as consumer_module

    original = consumer_module.retry_delay
    consumer_module.retry_delay = lambda n, base=0.1, cap=0.2: 0.1  # type: ignore[assignment]
    try:
        runner = asyncio.create_task(consumer.run(handler, stop=stop, on_exhausted=exhausted))
        for _ in range(200):
            last = await pub.last_message(event.analysis_id)
            if last and isinstance(last[0], AnalysisFailed):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await runner
    finally:
        consumer_module.retry_delay = original
    assert attempts.count(1) == 2 and attempts.count(2) == 1 and attempts.count(3) == 1
    last = await pub.last_message(event.analysis_id)
    assert last is not None and isinstance(last[0], AnalysisFailed) and last[0].version == 2
    assert [letter.error_code for letter in await dead_letters(js, "flaky")] == ["rejected"]
    await close_nats(nc)


@pytest.mark.slow
async def test_keep_alive_prevents_redelivery_of_long_work(private_nats: NatsServer) -> None:
    nc = await connect_nats(private_nats.url, name="t")
    js = nc.jetstream()
    await provision(js)
    deliveries: list[int] = []

    async def slow(d: Delivery) -> None:
        deliveries.append(d.num_delivered)
        async with d.keep_alive(interval=0.3):
            await asyncio.sleep(2.5)  # > ack_wait: only in-progress acks keep it ours

    consumer = PullConsumer(
        js,
        work_queue_consumer("slow", type_subjects("AnalysisRequested"), ack_wait_s=1),
        dead_letters=JetStreamDeadLetterSink(js),
    )
    await Publisher(js).publish(requested())
    stop = asyncio.Event()
    runner = asyncio.create_task(consumer.run(slow, stop=stop, concurrency=2))
    await asyncio.sleep(3.5)
    stop.set()
    await runner
    assert deliveries == [1]
    await close_nats(nc)
