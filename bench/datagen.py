"""Deterministic synthetic tables for the analyzer benchmark (20 mixed columns, a wide table).

Built column by column with numpy and pyarrow.compute so that a million rows take seconds, and
written with pyarrow's CSV writer. The mix is what a person uploads: ids, numbers with skew,
negatives, zeros and gaps, low- and high-cardinality categories, free text, e-mails, URLs,
timestamps, dates, booleans and a column of mixed types.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CITIES = [f"City {i:02d}" for i in range(60)]
STATES = ["SP", "RJ", "MG", "BA", "PR", "RS", "PE", "CE", "PA", "SC", "GO", "MA", "AM", "ES"]
WORDS = [
    "data",
    "profile",
    "column",
    "value",
    "missing",
    "report",
    "fast",
    "quality",
    "sample",
    "table",
    "file",
    "number",
    "text",
    "date",
    "city",
    "price",
    "order",
    "customer",
    "product",
    "review",
    "great",
    "bad",
    "ok",
    "delivery",
    "late",
    "early",
    "good",
]


def _with_nulls(arr: pa.Array, rng: np.random.Generator, share: float) -> pa.Array:
    mask = pa.array(rng.random(len(arr)) < share)
    return pc.if_else(mask, pa.scalar(None, arr.type), arr)


def _pick(rng: np.random.Generator, values: list[str], n: int, zipf: bool = False) -> pa.Array:
    if zipf:
        weights = 1.0 / np.arange(1, len(values) + 1)
        idx = rng.choice(len(values), size=n, p=weights / weights.sum())
    else:
        idx = rng.integers(0, len(values), n)
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), pa.array(values)).cast(pa.string())


_HEX = pa.array([f"{i:02x}" for i in range(256)])


def _uuids(rng: np.random.Generator, rows: int) -> pa.Array:
    """Random version-4-looking UUID strings, built without a Python loop."""
    raw = rng.integers(0, 256, (rows, 16), dtype=np.uint8).ravel()
    pairs = pa.DictionaryArray.from_arrays(pa.array(raw.astype(np.int32)), _HEX).cast(pa.string())
    offsets = pa.array(np.arange(0, rows * 16 + 1, 16, dtype=np.int32))
    hexes = pc.binary_join(pa.ListArray.from_arrays(offsets, pairs), "")
    parts = [pc.utf8_slice_codeunits(hexes, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    return pc.binary_join_element_wise(*parts, "-")


def mixed_table(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1)
    hexes = pa.array(rng.integers(0, 2**63 - 1, rows)).cast(pa.string())
    words = [_pick(rng, WORDS, rows) for _ in range(6)]
    n_words = rng.integers(2, 7, rows)
    sentence = words[0]
    for k in range(1, 6):
        sentence = pc.if_else(
            pa.array(n_words > k), pc.binary_join_element_wise(sentence, words[k], " "), sentence
        )
    start = np.datetime64("2020-01-01T00:00:00", "s")
    created = start + rng.integers(0, 4 * 365 * 86400, rows).astype("timedelta64[s]")
    birth = np.datetime64("1950-01-01", "D") + rng.integers(0, 60 * 365, rows).astype("timedelta64[D]")
    code = pc.if_else(
        pa.array(rng.random(rows) < 0.7),
        pa.array(rng.integers(100, 999, rows)).cast(pa.string()),
        pc.binary_join_element_wise("X", pa.array(rng.integers(0, 99, rows)).cast(pa.string()), ""),
    )
    columns = {
        "id": pa.array(ids),
        "uuid": _uuids(rng, rows),
        "age": _with_nulls(pa.array(rng.integers(18, 90, rows)), rng, 0.02),
        "income": _with_nulls(pa.array(np.round(rng.lognormal(8, 1, rows), 2)), rng, 0.05),
        "score": pa.array(rng.normal(50, 10, rows)),
        "ratio": pa.array(rng.random(rows)),
        "visits": pa.array(rng.poisson(0.8, rows)),
        "temperature": pa.array(np.round(rng.normal(5, 12, rows), 1)),
        "price": pa.array(np.round(rng.gamma(2, 30, rows), 2)),
        "city": _pick(rng, CITIES, rows, zipf=True),
        "state": _pick(rng, STATES, rows),
        "segment": _pick(rng, ["retail", "retail", "retail", "retail", "b2b", "gov"], rows),
        "email": pc.binary_join_element_wise(pc.utf8_slice_codeunits(hexes, 0, 8), "example.com", "@"),
        "url": pc.binary_join_element_wise(
            "https://shop.example.com/p", pa.array(rng.integers(0, 50_000, rows)).cast(pa.string()), "/"
        ),
        "comment": _with_nulls(sentence, rng, 0.1),
        "active": pa.array(rng.random(rows) < 0.3),
        "created_at": pa.array(created),
        "birth_date": pa.array(birth),
        "status": _with_nulls(_pick(rng, ["open", "closed", "pending"], rows), rng, 0.15),
        "code": code,
    }
    return pa.table(columns)


def wide_table(rows: int, cols: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    base = rng.normal(size=rows)
    for i in range(cols):
        kind = i % 5
        if kind == 0:
            columns[f"n{i}"] = pa.array(base * rng.random() + rng.normal(size=rows))
        elif kind == 1:
            columns[f"i{i}"] = pa.array(rng.integers(0, 1000, rows))
        elif kind == 2:
            columns[f"f{i}"] = _with_nulls(pa.array(rng.exponential(3, rows)), rng, 0.1)
        elif kind == 3:
            columns[f"c{i}"] = _pick(rng, CITIES[: 3 + i % 40], rows)
        else:
            columns[f"b{i}"] = pa.array(rng.random(rows) < 0.5)
    return pa.table(columns)


def write_csv(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)
    return path
