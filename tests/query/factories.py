"""Builders of events and result objects for the query tests (valid per the contract and schema)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sonda_events.contract import (
    AnalysisCompleted,
    AnalysisDeleted,
    AnalysisFailed,
    AnalysisProgress,
    AnalysisRequested,
    AnalysisStarted,
    AnalysisSummary,
    AnyEvent,
    ColumnDigest,
    CompletedData,
    DeletedData,
    FailedData,
    ProgressData,
    RequestedData,
    ResultRef,
    StartedData,
    new_event,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Stream:
    """Events of one analysis with consecutive versions and increasing times."""

    def __init__(self, analysis_id: uuid.UUID | None = None, *, at: datetime = T0) -> None:
        self.analysis_id = analysis_id or uuid.uuid4()
        self.version = 0
        self.at = at

    def _next(self, cls: type[Any], data: Any, seconds: float = 1.0) -> AnyEvent:
        self.version += 1
        self.at += timedelta(seconds=seconds)
        event: AnyEvent = new_event(
            cls,
            analysis_id=self.analysis_id,
            version=self.version,
            data=data,
            producer="test",
            occurred_at=self.at,
        )
        return event

    def requested(self, file_key: str | None = None, filename: str | None = "data.csv") -> AnyEvent:
        key = file_key or f"uploads/{uuid.uuid4()}/{filename or 'data.csv'}"
        return self._next(
            AnalysisRequested, RequestedData(file_key=key, filename=filename, requested_by="test")
        )

    def started(self, attempt: int = 1) -> AnyEvent:
        return self._next(AnalysisStarted, StartedData(worker="w1", attempt=attempt))

    def progress(self, pct: float, stage: str = "profiling") -> AnyEvent:
        return self._next(AnalysisProgress, ProgressData(progress=pct, stage=stage, message=f"{pct:.0f}%"))

    def completed(self, *, rows: int = 100, columns: int = 3, ref: ResultRef | None = None) -> AnyEvent:
        summary = AnalysisSummary(
            rows=rows,
            columns=columns,
            missing_cells=0,
            duplicate_rows=0,
            format="csv",
            file_size=1234,
            column_digests=[
                ColumnDigest(name=f"c{i}", type="numeric", missing=0, distinct=rows) for i in range(columns)
            ],
        )
        ref = ref or ResultRef(key=f"results/{self.analysis_id}.json", sha256="0" * 64, size=2)
        return self._next(AnalysisCompleted, CompletedData(summary=summary, result=ref, duration_s=0.5))

    def failed(self, code: str = "unreadable_file", message: str = "cannot read it") -> AnyEvent:
        return self._next(AnalysisFailed, FailedData(error_code=code, error_message=message))

    def deleted(self, reason: str = "cleanup") -> AnyEvent:
        return self._next(AnalysisDeleted, DeletedData(reason=reason, deleted_by="test"))


def wide_result(columns: int, *, rows: int = 1000, seed: int = 7) -> dict[str, Any]:
    """A result object with ``columns`` columns of mixed types and many alerts (schema v1 shape)."""
    rng = random.Random(seed)
    profiles: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    names = [
        f"column_{i:04d}_{rng.choice(['price', 'city', 'when', 'flag', 'note'])}" for i in range(columns)
    ]
    for name in names:
        kind = name.rsplit("_", 1)[1]
        missing = rng.randrange(0, rows // 2)
        profile: dict[str, Any] = {
            "name": name,
            "dtype": "double",
            "semantic": [],
            "count": rows - missing,
            "missing": missing,
            "missing_pct": missing / rows,
            "distinct": rng.randrange(1, rows),
            "distinct_pct": 0.5,
            "unique": False,
            "memory_bytes": 8 * rows,
            "approximate": False,
        }
        if kind == "price":
            low = rng.uniform(-100, 100)
            profile |= {
                "type": "numeric",
                "stats": {
                    "min": low,
                    "max": low + 500,
                    "mean": low + 240.5,
                    "median": low + 250,
                    "std": 99.25,
                },
            }
        elif kind == "when":
            profile |= {
                "type": "datetime",
                "datetime": {"min": "2020-01-01T00:00:00", "max": "2024-12-31T00:00:00"},
            }
        elif kind == "flag":
            profile |= {
                "type": "boolean",
                "boolean": {"true": 600, "false": 400 - missing, "missing": missing},
            }
        else:
            tops = [{"value": f"City {j}", "count": 100 - j, "pct": (100 - j) / rows} for j in range(5)]
            profile |= {"type": "categorical", "top_values": tops}
        profiles.append(profile)
        if missing > rows * 0.3:
            alerts.append(
                {
                    "type": "missing",
                    "column": name,
                    "columns": [name],
                    "value": missing / rows,
                    "severity": "critical" if missing > rows * 0.45 else "warning",
                    "message": f"{name} is missing in {missing / rows:.1%} of the rows",
                }
            )
        elif rng.random() < 0.5:
            alerts.append(
                {
                    "type": "skewed",
                    "column": name,
                    "columns": [name],
                    "value": 3.1,
                    "severity": "info",
                    "message": f"{name} is skewed (skewness 3.10)",
                }
            )
    numeric = [p["name"] for p in profiles if p["type"] == "numeric"][:50]
    matrix = [
        [1.0 if i == j else round(rng.uniform(-1, 1), 4) for j in range(len(numeric))]
        for i in range(len(numeric))
    ]
    return {
        "schema_version": 1,
        "profiled_at": "2026-01-01T00:00:00Z",
        "duration_seconds": 1.5,
        "dataset": {
            "rows": rows,
            "columns": columns,
            "missing_cells": sum(p["missing"] for p in profiles),
            "missing_cells_pct": 0.1,
            "duplicate_rows": 3,
            "duplicate_rows_pct": 0.003,
            "memory_bytes": 1,
            "file_size": 123456,
            "format": "csv",
            "encoding": "latin-1",
            "delimiter": ";",
            "decimal": ",",
            "sheet": None,
            "approximate": False,
        },
        "columns": profiles,
        "correlations": {
            "pearson": {"columns": numeric, "matrix": matrix},
            "spearman": {"columns": [], "matrix": []},
            "cramers_v": {"columns": [], "matrix": []},
            "correlation_ratio": [],
        },
        "alerts": alerts,
        "sample": {"columns": names, "rows": [[rng.randrange(100) for _ in names] for _ in range(5)]},
        "approximations": [],
    }


def encoded(result: dict[str, Any]) -> tuple[bytes, str]:
    data = msgspec.json.encode(result)
    return data, hashlib.sha256(data).hexdigest()
