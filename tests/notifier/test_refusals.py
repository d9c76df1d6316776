"""Edges: refused ids, hostile or foreign messages on the bus, API keys, and history from the store."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import msgspec
import pytest
from sonda_events import codec
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisProgress,
    AnalysisRequested,
    AnyEvent,
    ProgressData,
    RequestedData,
    new_event,
)
from sonda_events.store import EventStore
from sonda_events.subjects import STREAM_NAME, analysis_subjects
from sonda_service import ApiKeys
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.notifier.conftest import NotifierFactory, Producer, Running, summary, ws_client

#: A fixed id no analysis has: parametrized ids must be the same in every test process (xdist).
UNKNOWN_ID = uuid.UUID("5b1f3c0e-8a2d-4c6b-9e7f-0a1b2c3d4e5f")


@pytest.mark.parametrize(
    ("path_id", "query"),
    [
        ("not-a-uuid", ""),
        ("1234", "?since=1"),
        (str(UNKNOWN_ID), "?since=abc"),
        (str(UNKNOWN_ID), "?since=-1"),
    ],
)
async def test_malformed_id_or_since_is_refused_with_4400(
    notifier: Running, path_id: str, query: str
) -> None:
    url = f"ws://127.0.0.1:{notifier.port}/api/v1/analysis/websocket/{path_id}{query}"
    async with ws_client(url) as client:
        assert await client.closed() == (4400, "malformed analysis id or since")
    assert (await notifier.info())["refused_malformed"] == 1


async def test_unknown_analysis_is_refused_with_4404_after_the_grace(notifier: Running) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with ws_client(notifier.ws_url(uuid.uuid4())) as client:
        assert await client.closed() == (4404, "unknown analysis")
    assert loop.time() - started >= notifier.settings.sonda_ws_unknown_grace
    info = await notifier.info()
    assert info["refused_unknown"] == 1 and info["active_connections"] == 0


async def test_a_client_slightly_ahead_of_the_request_is_served(
    notifier: Running, producer: Producer
) -> None:
    analysis_id = uuid.uuid4()
    async with ws_client(notifier.ws_url(analysis_id)) as client:
        await asyncio.sleep(0.2)  # within the grace
        writer = await producer.request(analysis_id)
        await producer.run(writer, 2)
        await client.until_terminal()
    assert client.positions == [1, 2, 3, 4, 5]


async def test_invalid_and_misfiled_messages_are_ignored(notifier: Running, producer: Producer) -> None:
    writer = await producer.request()
    aid = writer.analysis_id
    js = producer.nc.jetstream()
    async with ws_client(notifier.ws_url(aid, since=0)) as live:
        await live.next()
        await js.publish(f"eda.analysis.{aid}.progress", b"{not json")
        await js.publish(f"eda.analysis.{aid}.progress", b'{"type": "AnalysisProgress", "version": 2}')
        stranger = new_event(
            AnalysisProgress,
            analysis_id=uuid.uuid4(),
            version=2,
            data=ProgressData(progress=99, stage="forged"),
            producer="someone",
        )
        await js.publish(f"eda.analysis.{aid}.progress", codec.encode(stranger))
        writer.last_seq = (await producer.publisher.last_message(aid) or (None, 0))[1]
        await producer.run(writer, 3)
        await live.until_terminal()
    assert live.positions == list(range(1, 7))
    assert all(e.get("stage") != "forged" for e in live.events)
    # the same messages sit in JetStream: a late client's history skips them too
    async with ws_client(notifier.ws_url(aid, since=0)) as late:
        await late.until_terminal()
    assert late.positions == list(range(1, 7))
    assert (await notifier.info())["invalid_events"] >= 3


async def test_api_keys_apply_to_websockets(notifier_factory: NotifierFactory, producer: Producer) -> None:
    async with notifier_factory(sonda_api_keys="k1") as notifier:
        writer = await producer.request(requested_by=ApiKeys("k1").identify("k1") or "")
        with pytest.raises(InvalidStatus):
            async with connect(notifier.ws_url(writer.analysis_id)):
                pass
        with pytest.raises(InvalidStatus):
            async with connect(notifier.ws_url(writer.analysis_id, api_key="wrong")):
                pass
        async with ws_client(notifier.ws_url(writer.analysis_id, api_key="k1")) as client:
            assert (await client.next())["type"] == "connection_established"
        async with ws_client(
            notifier.ws_url(writer.analysis_id), subprotocols=["sonda.v1", "bearer.k1"]
        ) as client:
            assert client.ws.subprotocol == "sonda.v1"
            assert (await client.next())["type"] == "connection_established"
        # A client offering only its key as a subprotocol connects, and gets no key echoed back.
        async with ws_client(notifier.ws_url(writer.analysis_id), subprotocols=["bearer.k1"]) as client:
            assert client.ws.subprotocol is None
            assert (await client.next())["type"] == "connection_established"
        async with httpx.AsyncClient() as http:
            info_url = f"{notifier.http}/api/v1/analysis/websocket-info"
            assert (await http.get(info_url)).status_code == 401
            assert (await http.get(info_url, headers={"X-API-Key": "k1"})).status_code == 200
            assert (await http.get(f"{notifier.http}/api/v1/health/ready")).status_code == 200


def history(analysis_id: uuid.UUID, count: int) -> list[AnyEvent]:
    events: list[AnyEvent] = [
        new_event(
            AnalysisRequested,
            analysis_id=analysis_id,
            version=1,
            data=RequestedData(file_key=f"uploads/{analysis_id}/a.csv"),
            producer="test",
        )
    ]
    events += [
        new_event(
            AnalysisProgress,
            analysis_id=analysis_id,
            version=v,
            data=ProgressData(progress=10.0 * v, stage="profiling"),
            producer="test",
        )
        for v in range(2, count + 1)
    ]
    return events


async def test_events_aged_out_of_jetstream_come_from_the_event_store(
    notifier_factory: NotifierFactory, producer: Producer, sqlite_url: str
) -> None:
    store = await EventStore.open(sqlite_url)
    aid = uuid.uuid4()
    events = history(aid, 6)
    sequences = [(await producer.publisher.publish(e)).seq for e in events]
    await store.append(events, expected_version=0)
    js = producer.nc.jetstream()
    # versions 1-4 age out of the stream; 5 and 6 stay
    await js.purge_stream(STREAM_NAME, subject=analysis_subjects(aid), seq=sequences[4])
    assert msgspec.json.decode((await js.get_msg(STREAM_NAME, sequences[4])).data or b"")["version"] == 5
    try:
        async with notifier_factory(sonda_notifier_event_store=True, database_url=sqlite_url) as notifier:
            async with ws_client(notifier.ws_url(aid, since=0)) as client:
                await client.next()
                for _ in range(6):
                    await client.next()
            assert client.positions == [1, 2, 3, 4, 5, 6]
            # all of it aged out: the store alone
            await js.purge_stream(STREAM_NAME, subject=analysis_subjects(aid))
            async with ws_client(notifier.ws_url(aid, since=2)) as client:
                await client.next()
                for _ in range(4):
                    await client.next()
            assert client.positions == [3, 4, 5, 6]
            async with ws_client(notifier.ws_url(aid)) as client:
                assert (await client.next())["position"] == 6
                assert (await client.next())["position"] == 6
            async with httpx.AsyncClient() as http:
                ready = (await http.get(f"{notifier.http}/api/v1/health/ready")).json()
            assert ready["checks"]["event_store"]["ok"] is True
    finally:
        await store.close()


async def test_a_version_skipped_by_a_foreign_publisher_is_not_forwarded_and_stalls_nothing(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    aid = writer.analysis_id
    async with ws_client(notifier.ws_url(aid, since=0)) as client:
        await client.next()
        assert (await client.next())["position"] == 1
        # another system publishes version 3 straight to NATS: version 2 never existed anywhere,
        # so the lifecycle (and the store) refuse it, and no client is told of it
        skipping = new_event(
            AnalysisProgress,
            analysis_id=aid,
            version=3,
            data=ProgressData(progress=5, stage="x"),
            producer="other",
        )
        await producer.publisher.publish(skipping)
        writer.last_seq = (await producer.publisher.last_message(aid) or (None, 0))[1]
        await producer.start(writer)
        await producer.complete(writer)
        events = await client.until_terminal()
    assert client.positions == [1, 2, 3]
    assert [e["type"] for e in events][-2:] == ["analysis_status", "analysis_completed"]


async def test_a_second_completion_pointing_elsewhere_is_never_forwarded(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    aid = writer.analysis_id
    await producer.start(writer)
    await producer.complete(writer)
    async with ws_client(notifier.ws_url(aid, since=0)) as client:
        await client.next()
        await client.until_terminal()
        # a second AnalysisCompleted on the finished analysis, pointing at another's result
        await writer.emit(AnalysisCompleted, summary(uuid.uuid4()))
        writer.version = 3  # where the lifecycle says the analysis is: the refused event took none
        await producer.delete(writer)
        deleted = await client.next()
    assert deleted["type"] == "analysis_deleted" and deleted["version"] == 4
    assert client.positions == [1, 2, 3, 4]


async def test_one_client_cannot_hold_more_than_its_share_of_connections(
    notifier_factory: NotifierFactory, producer: Producer
) -> None:
    async with notifier_factory(sonda_ws_max_per_client=2) as notifier:
        writer = await producer.request()
        url = notifier.ws_url(writer.analysis_id)
        async with ws_client(url) as first, ws_client(url) as second:
            await first.next()
            await second.next()
            async with ws_client(url) as third:
                assert await third.closed() == (4429, "too many connections from this client")
        # the slots were given back
        async with ws_client(url) as again:
            assert (await again.next())["type"] == "connection_established"
        info = await notifier.info()
        assert info["refused_too_many"] == 1
