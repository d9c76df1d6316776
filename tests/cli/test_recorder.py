"""``sonda recorder`` as its own process: it stores what NATS carries and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import nats
import pytest
from sonda_events.bus import Publisher, provision
from sonda_events.contract import AnalysisRequested, RequestedData, new_event
from sonda_events.store import EventStore

from tests.support.servers import NatsServer

pytestmark = pytest.mark.slow


async def publish_and_wait(nats_url: str, db_url: str, analysis_id: uuid.UUID) -> int:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await provision(js)
        await Publisher(js).publish(
            new_event(
                AnalysisRequested,
                analysis_id=analysis_id,
                version=1,
                data=RequestedData(file_key="uploads/r/data.csv"),
                producer="test",
            )
        )
    finally:
        await nc.close()
    store = await EventStore.open(db_url)
    try:
        for _ in range(200):
            if await store.stream_version(analysis_id) == 1:
                return 1
            await asyncio.sleep(0.1)
        return await store.stream_version(analysis_id)
    finally:
        await store.close()


def test_recorder_stores_events_and_stops_on_sigterm(private_nats: NatsServer, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'sonda.db'}"
    env = {**os.environ, "NATS_URL": private_nats.url, "DATABASE_URL": db_url, "SONDA_LOG_JSON": "true"}
    recorder = subprocess.Popen(
        [sys.executable, "-m", "sonda", "recorder"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        analysis_id = uuid.uuid4()
        assert asyncio.run(publish_and_wait(private_nats.url, db_url, analysis_id)) == 1
    finally:
        recorder.send_signal(signal.SIGTERM)
        output, _ = recorder.communicate(timeout=30)
    assert recorder.returncode == 0, output.decode(errors="replace")
    assert b"recorder_stopped" in output
