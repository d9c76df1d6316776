"""What a client sees, whenever it connects: every state change once, in order, ending terminal."""

from __future__ import annotations

import asyncio
import contextlib

from tests.notifier.conftest import NotifierFactory, Producer, Running, ws_client


async def test_client_connected_before_start_sees_every_event_in_order(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    async with ws_client(notifier.ws_url(writer.analysis_id)) as client:
        established = await client.next()
        assert established["type"] == "connection_established"
        assert established["analysis_id"] == str(writer.analysis_id)
        assert established["position"] == 1
        await producer.run(writer, 20)
        events = await client.until_terminal()
    assert client.positions == list(range(1, 24))
    assert [e["type"] for e in events] == ["analysis_status"] * 22 + ["analysis_completed"]
    assert events[0]["status"] == "pending"
    assert {e["status"] for e in events[1:-1]} == {"running"}
    progress = [e["progress"] for e in events[2:-1]]
    assert progress == sorted(progress) and len(progress) == 20
    assert events[-1]["summary"]["rows"] == 10
    assert events[-1]["result"]["key"] == f"results/{writer.analysis_id}.json"


async def test_late_joiner_mid_way_gets_current_state_then_live(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    await producer.start(writer)
    for value in (10.0, 20.0, 30.0):
        await producer.progress(writer, value, message=f"at {value}")
    async with ws_client(notifier.ws_url(writer.analysis_id)) as client:
        established = await client.next()
        assert established["position"] == 5 and established["since"] is None
        state = await client.next()
        # the current state, not the progress history
        assert (state["type"], state["position"], state["progress"]) == ("analysis_status", 5, 30.0)
        assert state["message"] == "at 30.0"
        await producer.progress(writer, 40.0)
        await producer.complete(writer)
        await client.until_terminal()
    assert client.positions == [5, 6, 7]


async def test_client_after_completion_gets_completed_at_once(notifier: Running, producer: Producer) -> None:
    writer = await producer.request()
    await producer.run(writer, 5)
    async with ws_client(notifier.ws_url(writer.analysis_id)) as client:
        events = await client.until_terminal(timeout=3)
    assert [e["type"] for e in events] == ["analysis_status", "analysis_completed"]
    assert client.positions == [7, 8]
    assert client.messages[0]["position"] == 8


async def test_since_replays_exactly_what_came_after_and_zero_replays_all(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    await producer.run(writer, 6)  # versions 1..9
    async with ws_client(notifier.ws_url(writer.analysis_id, since=4)) as client:
        await client.until_terminal()
        assert client.messages[0]["since"] == 4
    assert client.positions == [5, 6, 7, 8, 9]
    async with ws_client(notifier.ws_url(writer.analysis_id, since=0)) as client:
        await client.until_terminal()
    assert client.positions == list(range(1, 10))
    # a client that already has everything gets nothing but the handshake, then live events
    async with ws_client(notifier.ws_url(writer.analysis_id, since=9)) as client:
        assert (await client.next())["type"] == "connection_established"
        await producer.delete(writer)
        deleted = await client.next()
        assert (deleted["type"], deleted["position"]) == ("analysis_deleted", 10)


async def test_failure_is_sent_as_analysis_error(notifier: Running, producer: Producer) -> None:
    writer = await producer.request()
    async with ws_client(notifier.ws_url(writer.analysis_id)) as client:
        await client.next()
        await producer.start(writer)
        await producer.fail(writer)
        events = await client.until_terminal()
    assert events[-1]["type"] == "analysis_error"
    assert events[-1]["error_message"] == "bad file"
    assert events[-1]["error_code"] == "unreadable"
    assert events[-1]["retryable"] is False
    assert client.positions == [1, 2, 3]


async def test_many_clients_of_one_analysis_each_get_everything(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(ws_client(notifier.ws_url(writer.analysis_id))) for _ in range(20)
        ]
        for client in clients:
            await client.next()
        info = await notifier.info()
        assert info["analyses"][str(writer.analysis_id)] == 20
        await producer.run(writer, 10)
        await asyncio.gather(*(client.until_terminal() for client in clients))
        for client in clients:
            assert client.positions == list(range(1, 14))
    await asyncio.sleep(0.1)
    info = await notifier.info()
    assert str(writer.analysis_id) not in info["analyses"]
    assert info["messages_sent"] >= 20 * 14


async def test_since_ahead_of_the_analysis_is_treated_as_current(
    notifier: Running, producer: Producer
) -> None:
    writer = await producer.request()
    await producer.start(writer)
    async with ws_client(notifier.ws_url(writer.analysis_id, since=100)) as client:
        established = await client.next()
        assert (established["position"], established["since"]) == (2, 100)
        await producer.complete(writer)
        await client.until_terminal()
    assert client.positions == [3]


async def test_stopping_the_notifier_closes_clients_so_they_reconnect(
    notifier_factory: NotifierFactory, producer: Producer
) -> None:
    writer = await producer.request()
    async with contextlib.AsyncExitStack() as outlives_the_server:
        async with notifier_factory() as notifier:
            url = notifier.ws_url(writer.analysis_id)
            client = await outlives_the_server.enter_async_context(ws_client(url))
            await client.next()
            stopping = asyncio.create_task(client.closed(timeout=15))
            await asyncio.sleep(0.05)
        code, _ = await stopping
    assert code in (1001, 1012)  # going away / service restart: a browser retries with ?since=
