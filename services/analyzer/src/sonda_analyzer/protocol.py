"""Messages between the worker and its profiling process: one JSON object per line.

The worker writes a ``Job`` to the process' stdin; the process answers on its own pipe with
``Progress`` lines and then exactly one ``Done`` or ``Failure``. The full result never crosses the
pipe: the process writes it to ``Job.result_path`` and ``Done`` carries only the event summary.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sonda_events.contract import AnalysisSummary


class Job(msgspec.Struct, tag="job", kw_only=True, frozen=True):
    analysis_id: str
    path: str
    options: dict[str, Any]
    budget_mb: int
    result_path: str


class Ready(msgspec.Struct, tag="ready", kw_only=True, frozen=True):
    pid: int


class Progress(msgspec.Struct, tag="progress", kw_only=True, frozen=True):
    progress: float
    stage: str
    message: str
    rows_done: int
    bytes_done: int


class Done(msgspec.Struct, tag="done", kw_only=True, frozen=True):
    summary: AnalysisSummary
    #: Schema version of the result object written to ``Job.result_path``.
    schema_version: int
    duration_s: float


class Failure(msgspec.Struct, tag="failure", kw_only=True, frozen=True):
    code: str
    message: str
    retryable: bool


ChildMessage = Ready | Progress | Done | Failure

encoder = msgspec.json.Encoder()
job_decoder = msgspec.json.Decoder(Job)
message_decoder = msgspec.json.Decoder(ChildMessage)
