"""Reading a plain UTF-8 CSV in pieces at once gives the table one stream gives, or gives nothing
(and the one-stream reader decides) when a later piece does not fit the first block's types or a
piece would start inside a quoted value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.read_csv import CsvState, csv_dialect, read_csv_pieces, read_csv_table
from sonda_analyzer.engine.source import detect_source


def _pieces(path: Path, pieces: int = 2) -> tuple[pa.Table | None, pa.Table, list[int]]:
    """The file read in about ``pieces`` pieces (a multiple of the threads), and in one stream."""
    source = detect_source(path, None)
    dialect = csv_dialect(source, ProfileOptions())
    positions: list[int] = []
    halves = read_csv_pieces(
        CsvState(dialect=dialect),
        source.path,
        source.file_size,
        lambda position: positions.append(position()),
        min_bytes=0,
        piece_bytes=source.file_size // pieces + 1,
    )
    whole = read_csv_table(CsvState(dialect=dialect), lambda: pa.OSFile(str(path)))
    return halves, whole, positions


def _late_misfit(tmp_path: Path, late: str) -> Path:
    """Integer codes past the first block the types are taken from (4 MB), then one row whose
    code is ``late``."""
    path = tmp_path / "late.csv"
    rows = 600_000
    with path.open("w") as f:
        f.write("id,code\n")
        f.writelines(f"{i},{i % 977}\n" for i in range(rows))
        f.write(f"{rows},{late}\n")
    assert path.stat().st_size > 5 << 20
    return path


def _frame(rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "preço": np.round(rng.gamma(2.0, 30.0, rows), 2),
            "cidade": rng.choice(["São Paulo", "Belém", "Maceió", 'Rio "RJ", Brasil'], rows),
            "quando": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), "s"),
            "nota": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(0, 10, rows)),
        }
    )


@pytest.mark.parametrize("pieces", [2, 8, 30])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_the_pieces_make_the_table_one_stream_makes(tmp_path: Path, line_end: str, pieces: int) -> None:
    frame = _frame(60_000)
    path = tmp_path / "vendas.csv"
    frame.to_csv(path, index=False, lineterminator=line_end)
    source = detect_source(path, None)
    progress: list[Callable[[], int]] = []
    table = read_csv_pieces(
        CsvState(dialect=csv_dialect(source, ProfileOptions())),
        source.path,
        source.file_size,
        progress.append,
        min_bytes=0,
        piece_bytes=source.file_size // pieces + 1,
    )
    whole = read_csv_table(
        CsvState(dialect=csv_dialect(source, ProfileOptions())), lambda: pa.OSFile(str(path))
    )
    assert table is not None
    assert table.column("id").num_chunks >= pieces  # it was read in as many pieces at least
    assert table.equals(whole)
    assert table.num_rows == len(frame)
    assert table.column("cidade").to_pylist() == frame["cidade"].tolist()
    assert table.column("id").to_pylist() == list(range(len(frame)))
    assert progress[0]() == source.file_size  # progress counts every piece's bytes


def test_a_semicolon_file_with_decimal_commas_reads_the_same_in_halves(tmp_path: Path) -> None:
    frame = _frame(40_000, seed=8)
    path = tmp_path / "br.csv"
    frame.to_csv(path, index=False, sep=";", decimal=",")
    halves, whole, positions = _pieces(path, pieces=6)
    assert positions == [0]  # progress starts from nothing
    assert halves is not None and halves.equals(whole)
    assert halves.column("preço").to_pylist() == pytest.approx(frame["preço"].tolist())


@pytest.mark.parametrize("late", ["A1", "1.5", "1,2,3"], ids=["letters", "decimals", "too-many-fields"])
def test_a_second_half_that_does_not_fit_the_first_is_left_to_the_one_stream_reader(
    tmp_path: Path, late: str
) -> None:
    path = _late_misfit(tmp_path, late)
    halves, _, _ = _pieces(path)
    assert halves is None


@pytest.mark.parametrize("late", ["A1", "1.5"], ids=["letters", "decimals"])
def test_after_a_misfit_the_file_is_read_whole_once(tmp_path: Path, late: str) -> None:
    """A value the first block's types do not admit fails one stream as it failed the halves: the
    state says so, and the next read widens the type over the whole file."""
    path = _late_misfit(tmp_path, late)
    source = detect_source(path, None)
    state = CsvState(dialect=csv_dialect(source, ProfileOptions()))
    assert read_csv_pieces(state, source.path, source.file_size, lambda _: None, min_bytes=0) is None
    assert not state.first_block_types_fit
    opened: list[int] = []

    def opener() -> pa.NativeFile:
        opened.append(1)
        return pa.OSFile(str(path))

    table = read_csv_table(state, opener)
    assert len(opened) == 1
    expected = pd.read_csv(path, dtype={"code": str})["code"]
    assert table.column("code").cast(pa.string()).to_pylist() == expected.tolist()


def test_a_file_with_quoted_line_breaks_is_not_split(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    with path.open("w") as f:
        f.write("id,note\n")
        for i in range(20_000):
            f.write(f'{i},"line one\nline {i}"\n')
    halves, whole, _ = _pieces(path)
    assert halves is None
    assert whole.num_rows == 20_000


def test_a_middle_inside_a_quoted_value_is_not_taken_for_a_row_end(tmp_path: Path) -> None:
    """The head shows no quoted line break, but the value that spans the middle holds one."""
    path = tmp_path / "late_note.csv"
    with path.open("w", newline="") as f:
        f.write("id,note\n")
        for i in range(60_000):
            f.write(f'{i},"plain {i}"\n')
        start = f.tell() + len('60000,"')
        f.write('60000,"' + "a" * 2_000_000 + '\nb"\n')
        for i in range(60_001, 120_000):
            f.write(f'{i},"plain {i}"\n')
    size = path.stat().st_size
    assert start < size // 2 < start + 2_000_000  # the middle falls in the long value
    halves, whole, _ = _pieces(path)
    assert halves is None
    assert whole.num_rows == 120_000
    assert whole.column("note")[60_000].as_py() == "a" * 2_000_000 + "\nb"


def test_a_first_half_that_ends_inside_quotes_is_thrown_away(tmp_path: Path) -> None:
    """The middle line end is the one inside a short quoted value: the first half parses (Arrow
    takes the open quote at its end as the end of the value), so only the count of quote
    characters shows that it stopped inside a value."""
    head = "id,note\n" + "".join(f'{i},"plain {i}"\n' for i in range(60_000))
    special = '60000,"xx\n1,yy"\n'  # after the line break, what reads as a row of its own
    suffix = "".join(f'{i},"plain {i}"\n' for i in range(60_001, 100_000))
    middle = len(head) + len('60000,"x')
    pad = 2 * middle - (len(head) + len(special) + len(suffix))
    last = '100000,"' + "z" * (pad - len('100000,"') - 2) + '"\n'
    path = tmp_path / "parity.csv"
    path.write_bytes((head + special + suffix + last).encode())
    assert path.stat().st_size // 2 == middle
    halves, whole, _ = _pieces(path)
    assert halves is None
    assert whole.num_rows == 100_001
    assert whole.column("note")[60_000].as_py() == "xx\n1,yy"


def test_a_file_that_starts_with_a_byte_order_mark_reads_the_same_in_pieces(tmp_path: Path) -> None:
    frame = _frame(30_000, seed=5)
    path = tmp_path / "bom.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    pieces, whole, _ = _pieces(path, pieces=6)
    assert pieces is not None and pieces.equals(whole)
    assert pieces.column_names[0] == "id"  # the mark is not part of the first name
    assert pieces.column("id").to_pylist() == list(range(30_000))
