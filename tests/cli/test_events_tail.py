"""``sonda events tail`` on a real NATS: one readable line per event, foreign messages shown as such."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
from click.testing import CliRunner
from sonda_events.bus import Publisher, provision
from sonda_events.contract import AnalysisProgress, AnalysisRequested, ProgressData, RequestedData, new_event
from sonda_events.subjects import subject_for

from sonda.cli import cli
from tests.support.servers import NatsServer


async def publish(url: str, analysis_id: uuid.UUID, other: uuid.UUID) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await provision(js)
        publisher = Publisher(js)
        for aid in (other, analysis_id):
            await publisher.publish(
                new_event(
                    AnalysisRequested,
                    analysis_id=aid,
                    version=1,
                    data=RequestedData(file_key="uploads/x/vendas.csv", filename="vendas.csv"),
                    producer="test",
                )
            )
        await publisher.publish(
            new_event(
                AnalysisProgress,
                analysis_id=analysis_id,
                version=2,
                data=ProgressData(progress=42.5, stage="profiling", message="column 2 of 4"),
                producer="test",
            )
        )
        await js.publish(subject_for(analysis_id, "AnalysisProgress"), b'{"not": "an event"}')
    finally:
        await nc.close()


def test_tail_one_analysis_from_the_start(private_nats: NatsServer) -> None:
    analysis_id, other = uuid.uuid4(), uuid.uuid4()
    asyncio.run(publish(private_nats.url, analysis_id, other))
    result = CliRunner().invoke(
        cli, ["events", "tail", "--nats", private_nats.url, "--analysis", str(analysis_id), "--count", "3"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert all(str(other) not in line for line in lines)
    assert "v1" in lines[0] and "AnalysisRequested" in lines[0] and "vendas.csv" in lines[0]
    assert "AnalysisProgress" in lines[1] and "42.5% profiling: column 2 of 4" in lines[1]
    assert "not a valid event" in lines[2]


def test_tail_everything_as_json(private_nats: NatsServer) -> None:
    analysis_id, other = uuid.uuid4(), uuid.uuid4()
    asyncio.run(publish(private_nats.url, analysis_id, other))
    result = CliRunner().invoke(
        cli, ["events", "tail", "--nats", private_nats.url, "--all", "--json", "--count", "3"]
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["analysis_id"] for e in events] == [str(other), str(analysis_id), str(analysis_id)]
    assert [e["type"] for e in events] == ["AnalysisRequested", "AnalysisRequested", "AnalysisProgress"]


def test_tail_says_when_nats_is_not_there() -> None:
    result = CliRunner().invoke(cli, ["events", "tail", "--nats", "nats://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot follow NATS at nats://127.0.0.1:9" in result.output
