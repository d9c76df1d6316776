"""The nats-server floor against real servers: Debian's 2.9 is refused, the wheel's server is accepted,
and a "wrong last sequence" answer nobody caused is never taken for a lost race."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import nats
import pytest
from sonda_events.bus import (
    MIN_NATS_SERVER,
    AnalysisWriter,
    Publisher,
    close_nats,
    connect_nats,
    provision,
    redact_url,
    server_support,
)
from sonda_events.bus.server import parse_version, version_is_supported
from sonda_events.contract import AnalysisRequested, AnalysisStarted, RequestedData, StartedData, new_event
from sonda_events.errors import NatsUnsupportedError, StreamVersionConflictError
from sonda_events.subjects import STREAM_NAME, analysis_subjects

from tests.support.servers import (
    NatsServer,
    running_old_nats,
)


@pytest.fixture(scope="module")
def old_nats() -> Iterator[NatsServer]:
    """A private nats-server older than the floor (Debian's 2.9), on its own port and data folder."""
    with running_old_nats() as server:
        yield server


def requested(analysis_id: uuid.UUID | None = None) -> AnalysisRequested:
    return new_event(
        AnalysisRequested,
        analysis_id=analysis_id or uuid.uuid4(),
        version=1,
        data=RequestedData(file_key="uploads/a/b.csv"),
        producer="test",
    )


def test_the_floor_is_2_11() -> None:
    assert MIN_NATS_SERVER == (2, 11)
    assert parse_version("nats-server: v2.9.10") == (2, 9, 10)
    assert parse_version("2.11") == (2, 11, 0)
    assert not version_is_supported("2.10.29") and not version_is_supported("unknown")
    assert version_is_supported("2.11.0") and version_is_supported("2.15.1") and version_is_supported("3.0.0")


def test_printed_urls_never_carry_credentials() -> None:
    assert redact_url("nats://alice:s3cret@nats.example:4222") == "nats://nats.example:4222"
    assert redact_url("tls://t0ken@a:4222, nats://b:4222") == "tls://a:4222,nats://b:4222"
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


async def test_connecting_to_an_old_server_is_refused_with_both_versions(old_nats: NatsServer) -> None:
    url = old_nats.url.replace("nats://", "nats://alice:s3cret@")
    with pytest.raises(NatsUnsupportedError) as refused:
        await connect_nats(url, name="t")
    message = str(refused.value)
    assert message.startswith("nats-server 2.9.") and f"at {old_nats.url} is not supported" in message
    assert "Sonda needs nats-server >= 2.11" in message
    assert "Nats-Expected-Last-Subject-Sequence-Subject" in message
    assert "s3cret" not in message and "alice" not in message
    assert refused.value.code == "nats_unsupported" and refused.value.retryable is False


async def test_the_wheel_server_is_accepted(nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="t")
    try:
        support = server_support(nc)
        assert support.supported and support.needs == ">= 2.11"
        assert version_is_supported(support.version) and support.server == nats_url
    finally:
        await close_nats(nc)


@pytest.mark.parametrize("with_connection", [True, False])
async def test_a_refusal_nobody_caused_is_not_a_conflict(old_nats: NatsServer, with_connection: bool) -> None:
    """2.9 compares the literal subject: the second event of an analysis is refused although nothing
    else was published. The publisher reads the stream, sees that, and names the server instead."""
    nc = await nats.connect(old_nats.url)  # past the floor check on purpose: what if a writer got here?
    try:
        js = nc.jetstream()
        await provision(js)
        pub = Publisher(nc if with_connection else js)
        first = requested()
        await pub.publish(first, expected_last_seq=0)  # a new literal subject: 2.9 accepts it
        writer = await AnalysisWriter.resume(pub, first.analysis_id, producer="analyzer")
        with pytest.raises(NatsUnsupportedError) as refused:
            await writer.emit(AnalysisStarted, StartedData(worker="w"))
        assert not isinstance(refused.value, StreamVersionConflictError)
        message = str(refused.value)
        assert "Sonda needs nats-server >= 2.11" in message
        if with_connection:
            assert message.startswith("nats-server 2.9.") and "is not supported" in message
        else:
            assert "wrong last sequence" in message and f"still at sequence {writer.last_seq}" in message
        last = await pub.last_message(first.analysis_id)
        assert last is not None and last[0] == first, "nothing else reached the analysis"
        info = await js.stream_info(STREAM_NAME, subjects_filter=analysis_subjects(first.analysis_id))
        assert sum((info.state.subjects or {}).values()) == 1
    finally:
        await nc.close()


async def test_a_real_conflict_is_still_a_conflict_on_a_supported_server(nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="t")
    try:
        await provision(nc.jetstream())
        pub = Publisher(nc)
        first = requested()
        await pub.publish(first, expected_last_seq=0)
        a = await AnalysisWriter.resume(pub, first.analysis_id, producer="a")
        b = await AnalysisWriter.resume(pub, first.analysis_id, producer="b")
        await a.emit(AnalysisStarted, StartedData(worker="a"))
        with pytest.raises(StreamVersionConflictError):
            await b.emit(AnalysisStarted, StartedData(worker="b"))
    finally:
        await close_nats(nc)
