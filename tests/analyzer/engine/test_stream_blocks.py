"""Streaming reads a CSV in small parse blocks joined into chunks, or as pieces parsed side by side:
the chunks hold every row once, in order, and a line longer than a parse block makes the pass
restart with larger blocks (longer than the window a piece's end is looked for in: with one stream)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sonda_analyzer.engine import profile_file
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.progress import ProgressReporter
from sonda_analyzer.engine.read_csv import CsvPieces, NoPieces, pieces_stream
from sonda_analyzer.engine.source import detect_source
from sonda_analyzer.engine.stream_read import PARSE_BLOCK, LongLine, plan_stream
from sonda_analyzer.engine.streaming import profile_streaming

from tests.analyzer.engine.conftest import column

#: A budget whose chunks are several parse blocks (the tests' files stay small).
BUDGET = 1 << 30


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": np.arange(rows),
        "amount": rng.normal(100, 30, rows).round(2),
        "word": rng.choice(np.array(["alpha", "beta", "gamma", None], dtype=object), rows),
        "note": [f"note {i} " + "x" * int(k) for i, k in enumerate(rng.integers(0, 40, rows))],
    })  # fmt: skip


def test_chunks_join_parse_blocks_and_hold_every_row_in_order(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _frame(250_000, 1).to_csv(path, index=False)
    assert path.stat().st_size > 4 * PARSE_BLOCK
    plan = plan_stream(detect_source(path), ProfileOptions(), BUDGET)
    assert plan.block_bytes > 2 * PARSE_BLOCK
    # a chunk is a whole number of parse blocks: chunks x chunk size is the content read
    assert plan.block_bytes % PARSE_BLOCK == 0
    batches, reader = plan.open_batches(plan.types)
    chunks = list(batches)
    assert reader is not None
    reader.close()
    whole = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    joined = pa.Table.from_batches(chunks)
    # fewer chunks than parse blocks: each chunk joins several
    assert len(chunks) < path.stat().st_size / PARSE_BLOCK
    assert joined.num_rows == whole.num_rows
    for name in whole.column_names:
        assert joined.column(name).to_pylist() == whole.column(name).to_pylist(), name


def test_a_line_longer_than_a_parse_block_restarts_with_larger_blocks(tmp_path: Path) -> None:
    frame = _frame(40_000, 2)
    long_note = "y" * (3 * PARSE_BLOCK)
    frame.loc[25_000, "note"] = long_note
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    source = detect_source(path)
    plan = plan_stream(source, ProfileOptions(), BUDGET)
    batches, reader = plan.open_batches(plan.types)
    with pytest.raises(LongLine):
        list(batches)
    assert plan.csv_state is not None and plan.csv_state.block_size == plan.block_bytes
    assert reader is not None
    reader.close()
    with ProgressReporter(None) as reporter:
        streamed = profile_streaming(source, ProfileOptions(), BUDGET, reporter)
    exact = profile_file(path, {"streaming": False})
    assert streamed.dataset.mode == "streaming" and streamed.dataset.rows == len(frame)
    note = column(streamed, "note")
    assert note.text is not None and note.text.length_max == len(long_note)
    for name in frame.columns:
        s, e = column(streamed, name), column(exact, name)
        assert (s.count, s.missing, s.distinct) == (e.count, e.missing, e.distinct), name


@pytest.mark.parametrize(("block", "newline", "last_newline"), [(10_000, "\n", True), (7_777, "\r\n", False)])
def test_pieces_hold_every_row_once_in_order(
    tmp_path: Path, block: int, newline: str, last_newline: bool
) -> None:
    """A plain file streamed as pieces parsed side by side (cut just after a line end past every
    ``block`` bytes): the rows of Arrow's whole-file parse, in order, whatever the line ends."""
    path = tmp_path / "pieces.csv"
    text = _frame(30_000, 3).to_csv(index=False, lineterminator=newline)
    path.write_bytes((text if last_newline else text.rstrip()).encode())
    source = detect_source(path)
    plan = plan_stream(source, ProfileOptions(), BUDGET)
    assert plan.csv_state is not None and pieces_stream(source, plan.csv_state, plan.block_bytes)
    pieces = CsvPieces(source, plan.csv_state, plan.types, block, ahead=2)
    positions = []
    chunks = []
    for batch in pieces.batches():
        chunks.append(batch)
        positions.append(pieces.position())
    assert len(chunks) > 20 and positions == sorted(positions) and positions[-1] == path.stat().st_size
    whole = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    joined = pa.Table.from_batches(chunks)
    assert joined.num_rows == whole.num_rows
    for name in whole.column_names:
        assert joined.column(name).to_pylist() == whole.column(name).to_pylist(), name


def test_pieces_count_every_malformed_row_once(tmp_path: Path) -> None:
    """Rows with a field too many are skipped and counted, in whichever piece they fall."""
    frame = _frame(100_000, 4)
    lines = frame.to_csv(index=False).splitlines()
    bad = set(range(1, len(lines), 997))
    path = tmp_path / "malformed.csv"
    path.write_text("\n".join(line + ",extra" if i in bad else line for i, line in enumerate(lines)) + "\n")
    source = detect_source(path)
    plan = plan_stream(source, ProfileOptions(), BUDGET)
    assert plan.csv_state is not None and plan.csv_state.skip_malformed
    block = 100_000
    assert path.stat().st_size > 20 * block
    pieces = CsvPieces(source, plan.csv_state, plan.types, block, ahead=2)
    plan.csv_state.malformed_rows = 0
    kept = pa.Table.from_batches(list(pieces.batches()))
    assert plan.csv_state.malformed_rows == len(bad)
    good = frame.drop(index=[i - 1 for i in bad]).reset_index(drop=True)
    assert kept.num_rows == len(good)
    assert kept.column("id").to_pylist() == good["id"].tolist()


def test_a_stretch_without_line_ends_reads_the_file_in_one_stream(tmp_path: Path) -> None:
    """A line longer than the window a piece's end is looked for in: the pass starts again with
    Arrow's streaming reader, and every row is profiled."""
    frame = _frame(30_000, 5)
    frame.loc[20_000, "note"] = "z" * (3 << 20)
    path = tmp_path / "stretch.csv"
    frame.to_csv(path, index=False)
    source = detect_source(path)
    plan = plan_stream(source, ProfileOptions(), BUDGET)
    assert plan.csv_state is not None
    head = path.read_bytes().index(b"z" * 100)
    pieces = CsvPieces(source, plan.csv_state, plan.types, head + 1000, ahead=2)
    with pytest.raises(NoPieces):
        list(pieces.batches())
    with ProgressReporter(None) as reporter:
        streamed = profile_streaming(source, ProfileOptions(), BUDGET, reporter)
    assert streamed.dataset.rows == len(frame)
    note = column(streamed, "note")
    assert note.text is not None and note.text.length_max == 3 << 20
