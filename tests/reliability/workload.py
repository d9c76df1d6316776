"""Files and requests the fault tests feed Sonda, with the figures expected from them.

Expected figures come from numpy on the arrays the file was written from, never from reading the
file back, so a reader bug cannot make its own expectation.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from nats.js import JetStreamContext
from sonda_events.bus import Publisher
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    AnyEvent,
    CompletedData,
    FailedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)
from sonda_storage import ObjectStorage


@dataclass(frozen=True)
class Table:
    path: Path
    rows: int
    amount: np.ndarray[Any, np.dtype[np.float64]]


def write_csv(path: Path, rows: int, seed: int = 11) -> Table:
    """A numeric and categorical CSV; ``amount`` is kept to check the statistics against."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(250.0, 80.0, rows)
    table = pa.table(
        {
            "amount": amount,
            "units": rng.integers(0, 5000, rows),
            "ratio": rng.uniform(0.0, 1.0, rows).round(4),
            "region": pa.array(rng.choice(["north", "south", "east", "west"], rows)),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)
    return Table(path=path, rows=rows, amount=amount)


async def upload(storage: ObjectStorage, path: Path) -> str:
    key = f"uploads/{uuid.uuid4()}/{path.name}"
    await storage.put_file(key, path)
    return key


async def request(js: JetStreamContext, file_key: str, *, options: dict[str, Any] | None = None) -> uuid.UUID:
    """Publish ``AnalysisRequested`` (version 1) the way ingest does; returns the analysis id."""
    analysis_id = uuid.uuid4()
    event = new_event(
        AnalysisRequested,
        analysis_id=analysis_id,
        version=1,
        data=RequestedData(file_key=file_key, options=options or {}, requested_by="fault-test"),
        producer="fault-test",
    )
    await Publisher(js).publish(event, expected_last_seq=0)
    return analysis_id


async def checked_result(storage: ObjectStorage, completed: AnalysisCompleted) -> dict[str, Any]:
    """The claim-checked result object, after checking its size and SHA-256 against the event."""
    ref = completed.data.result
    data = b"".join([chunk async for chunk in storage.read(ref.key)])
    assert len(data) == ref.size, "the result object is not the one the event references"
    assert hashlib.sha256(data).hexdigest() == ref.sha256, "the result object was overwritten"
    result: dict[str, Any] = msgspec.json.decode(data)
    return result


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in result["columns"] if c["name"] == name)
    return found


def analysis_events(analysis_id: uuid.UUID, count: int, *, fail: bool = False) -> list[AnyEvent]:
    """A whole analysis as the analyzer would publish it: Requested, Started, Progress…, a terminal."""
    assert count >= 3
    make = partial(new_event, analysis_id=analysis_id, producer="fault-test")
    events: list[AnyEvent] = [
        make(
            AnalysisRequested,
            version=1,
            data=RequestedData(file_key=f"uploads/{analysis_id}/data.csv", requested_by="fault-test"),
        ),
        make(AnalysisStarted, version=2, data=StartedData(worker="fault-test")),
    ]
    for version in range(3, count):
        progress = round(100.0 * version / count, 2)
        events.append(
            make(
                AnalysisProgress,
                version=version,
                data=ProgressData(progress=progress, stage="profiling", rows_done=version * 1000),
            )
        )
    if fail:
        events.append(
            make(
                AnalysisFailed, version=count, data=FailedData(error_code="parse_error", error_message="bad")
            )
        )
    else:
        summary = AnalysisSummary(rows=count * 1000, columns=3, missing_cells=count, duplicate_rows=0)
        ref = ResultRef(key=f"results/{analysis_id}.json", sha256="0" * 64, size=1)
        events.append(make(AnalysisCompleted, version=count, data=CompletedData(summary=summary, result=ref)))
    return events


def interleaved(streams: list[list[AnyEvent]]) -> list[AnyEvent]:
    """Round robin over the analyses: version k of every analysis before version k+1 of any."""
    return [e for wave in zip(*streams, strict=True) for e in wave]
