"""Delimited text (CSV/TSV) through pyarrow's multi-threaded parser.

The dialect comes from :mod:`sniff` unless the options name it; pyarrow then parses the whole file
(type inference over every block) for exact profiles, or a piece at a time for streaming ones
(pieces parsed side by side, or block by block where a file cannot be cut into pieces).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sonda_events.spellings import FALSE_VALUES, NULL_VALUES, TRUE_VALUES

from sonda_analyzer.engine.errors import EncodingError, ParseError, TooManyColumnsError
from sonda_analyzer.engine.options import ProfileOptions
from sonda_analyzer.engine.sniff import (
    Dialect,
    decode_head,
    detect_decimal,
    detect_delimiter,
    detect_encoding,
    detect_header,
    detect_quotechar,
    sample_records,
    unique_names,
    western_encoding,
)
from sonda_analyzer.engine.source import HEAD_BYTES, CountingReader, Readable, Source
from sonda_analyzer.engine.threads import profile_threads

#: pyarrow's default block: measured cheapest in CPU on our mixed files (4 MB cost 40 % more).
_MIN_BLOCK = 1 << 20
_MAX_BLOCK = 1 << 30
#: Block of the streaming read: its first block decides the column types (see ``read_csv_table``).
_STREAM_BLOCK = 4 << 20
#: Most distinct values in a block for a text column to be read as a dictionary (with
#: ``CsvState.text_dictionaries``): an int32 index per row and each value once per block, where
#: plain text holds every value's bytes and an offset per row. On the 1M-row benchmark file its
#: five category columns (3 to 998 values) take 20 MB instead of 42 MB, read in the same time, and
#: their profiles 20 ms less each; a column of mostly distinct values stays text.
DICTIONARY_MAX_DISTINCT = 1024


@dataclass(slots=True)
class CsvState:
    """What reading found out on the way, reported in the result."""

    dialect: Dialect
    malformed_rows: int = 0
    block_size: int = _MIN_BLOCK
    #: Skip and count rows with the wrong number of fields. A row handler slows the parser by
    #: about a third, so exact mode turns it on only after a parse met such a row.
    skip_malformed: bool = False
    #: False once a block-by-block read met a value that does not fit the types Arrow took from
    #: the first block: the file is then parsed whole, which widens a type over every block.
    first_block_types_fit: bool = True
    notes: list[str] = field(default_factory=list)
    #: A streamed plain file is read as pieces parsed side by side (:class:`CsvPieces`) unless a
    #: stretch of it turned out to hold no line end, or it could not be mapped.
    pieces: bool = True
    #: Text columns of few distinct values read as dictionaries (an exact read: the profile takes
    #: their indices as its codes). Streaming reads keep plain text, as their summaries want it.
    text_dictionaries: bool = False


def csv_dialect(source: Source, options: ProfileOptions) -> Dialect:
    """Sniff the dialect from the first megabyte, letting every option override its guess."""
    head = source.head(HEAD_BYTES)
    truncated = len(head) >= HEAD_BYTES
    encoding = options.encoding or detect_encoding(head, truncated=truncated)
    text = decode_head(head, encoding, truncated=truncated)
    quotechar = options.quotechar or detect_quotechar(text)
    if options.delimiter is not None:
        delimiter = options.delimiter
    elif source.format == "tsv":
        delimiter = "\t"
    else:
        delimiter = detect_delimiter(text, quotechar)
    lines = text.splitlines(keepends=True)
    skip = options.header_row if isinstance(options.header_row, int) else 0
    records = sample_records("".join(lines[skip:]), delimiter, quotechar, 200)
    if options.header_row == "none":
        header = False
    elif isinstance(options.header_row, int):
        header = True
    else:
        header = detect_header(records)
    width = _width(records)
    if width > options.max_columns:
        raise TooManyColumnsError(
            f"the file has {width} columns; at most {options.max_columns} can be profiled"
        )
    raw_names = list(records[0]) if header and records else []
    raw_names = (raw_names + [""] * width)[:width] if header else [""] * width
    decimal = options.decimal or detect_decimal(records[1 if header else 0 :], delimiter == ";")
    longest = max((len(line) for line in lines), default=0)
    # A sampled value holding a line break, or fewer records than lines (a parse cut short).
    quoted_newline = any("\n" in v or "\r" in v for r in records for v in r) or (
        len(records) < min(len(lines), 200) - 1 and quotechar in text
    )
    return Dialect(
        encoding=encoding,
        delimiter=delimiter,
        quotechar=quotechar,
        header=header,
        decimal=decimal,
        names=unique_names(raw_names),
        skip_rows=skip,
        newlines_in_values=quoted_newline or longest * 4 > _MIN_BLOCK,
    )


def _width(records: list[list[str]]) -> int:
    if not records:
        return 1
    counts: dict[int, int] = {}
    for r in records:
        counts[len(r)] = counts.get(len(r), 0) + 1
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _options(
    state: CsvState, column_types: dict[str, pa.DataType] | None
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    d = state.dialect

    def on_invalid(row: object) -> str:
        state.malformed_rows += 1
        return "skip"

    encoding = "utf8" if d.encoding in ("utf-8", "utf-8-sig", "utf8", "ascii") else d.encoding
    read = pacsv.ReadOptions(
        use_threads=True,
        block_size=state.block_size,
        skip_rows=d.skip_rows + (1 if d.header else 0),
        column_names=d.names,
        encoding=encoding,
    )
    parse = pacsv.ParseOptions(
        delimiter=d.delimiter,
        quote_char=d.quotechar,
        newlines_in_values=d.newlines_in_values,
        ignore_empty_lines=True,
        invalid_row_handler=on_invalid if state.skip_malformed else None,
    )
    convert = pacsv.ConvertOptions(
        decimal_point=d.decimal,
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        column_types=column_types or {},
        auto_dict_encode=state.text_dictionaries,
        auto_dict_max_cardinality=DICTIONARY_MAX_DISTINCT,
    )
    return read, parse, convert


def _stream_options(
    state: CsvState, column_types: dict[str, pa.DataType] | None
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    """The options of a block-by-block read: blocks of at least ``_STREAM_BLOCK``."""
    read, parse, convert = _options(state, column_types)
    read.block_size = max(read.block_size, _STREAM_BLOCK)
    return read, parse, convert


def read_csv_table(state: CsvState, opener: Callable[[], Readable]) -> pa.Table:
    """Parse the whole file; retries with a larger block, quoted-newline support or skipping of
    malformed rows when a parse shows the need (``opener`` gives a fresh stream each time).

    The file is read block by block (Arrow's streaming reader), which holds the parsed table and
    a few blocks in flight: about half the peak memory of the whole-file reader, which keeps the
    raw text of every block until the end. The streaming reader takes each column's type from the
    first block, though, and fails when a later value does not fit it (a code column that turns
    alphanumeric after 100,000 rows); such a file is read again by the whole-file reader, which
    widens a column's type over every block.
    """
    while True:
        reader = opener()
        streamed = state.first_block_types_fit
        read, parse, convert = _stream_options(state, None) if streamed else _options(state, None)
        try:
            if streamed:
                return pacsv.open_csv(reader, read, parse, convert).read_all()
            return pacsv.read_csv(reader, read, parse, convert)
        except pa.ArrowIndexError:
            # A column read as a dictionary from the first block has more distinct values in a
            # later one: the whole-file reader takes each column's type from every block (and
            # should that fail too, the text is read as plain text).
            if streamed:
                state.first_block_types_fit = False
            else:
                state.text_dictionaries = False
            state.malformed_rows = 0
        except pa.ArrowInvalid as exc:
            if streamed and _conversion_error(exc):
                state.first_block_types_fit = False
            elif not _retry(state, exc):
                raise ParseError(f"the file is not valid delimited text: {_clean(exc)}") from None
            state.malformed_rows = 0
        except UnicodeDecodeError as exc:
            raise EncodingError(f"the file is not valid {state.dialect.encoding}: {exc.reason}") from None
        finally:
            reader.close()


#: Below this size a file is read in one stream: pieces would not pay for their start.
_SPLIT_MIN_BYTES = 32 << 20
#: The size of a piece of a file read in pieces: each worker holds one piece's text and its
#: parse at a time, so the peak grows with it; smaller pieces add a little work per piece.
_PIECE_BYTES = 16 << 20
_UTF8 = ("utf-8", "utf-8-sig", "utf8", "ascii")
#: The pages of a piece's mapping are read in at once rather than faulted in one by one.
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


#: How far past a piece's nominal end its last line may run: a stretch this long without a line
#: end means the file is not cut into pieces there.
_LINE_WINDOW = 1 << 20


def line_end_after(fd: int, at: int, size: int) -> int | None:
    """Just after the first line end from ``at`` on in a file of ``size`` bytes: where a piece
    cut there ends (``size`` when the file ends first; None when ``_LINE_WINDOW`` bytes hold
    no line end)."""
    if at >= size:
        return size
    window = os.pread(fd, _LINE_WINDOW, at)
    end = window.find(b"\n")
    if end >= 0:
        return at + end + 1
    return size if at + len(window) >= size else None


def split_points(fd: int, size: int, pieces: int) -> list[int] | None:
    """Where each piece of the file starts: 0, then just after the first line end past each
    ``size * i / pieces`` (None when a stretch there holds no line end)."""
    starts = [0]
    for i in range(1, pieces):
        at = line_end_after(fd, size * i // pieces, size)
        if at is None:
            return None
        if starts[-1] < at < size:  # a long line may hold two of the marks
            starts.append(at)
    return starts


@contextmanager
def mapped_piece(fd: int, start: int, end: int) -> Iterator[pa.Buffer]:
    """The bytes ``start:end`` of an open file, mapped read-only where they lie in the page cache.

    A piece parsed in place: read into a buffer of our own, every byte was copied by the kernel
    and, in a fresh buffer, faulted in page by page (streaming the 5 GB benchmark file, 1.8
    million page faults against 0.6 million, 7 s in the kernel against 4). The parse copies
    every value out; the caller drops its references to the buffer before the block ends, else
    the mapping goes only once they do.
    """
    aligned = start - start % mmap.ALLOCATIONGRANULARITY
    mapped = mmap.mmap(
        fd, end - aligned, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ, offset=aligned
    )
    whole = pa.py_buffer(mapped)
    try:
        yield whole.slice(start - aligned)
    finally:
        del whole
        with contextlib.suppress(BufferError):  # a reference held on: unmapped when it goes
            mapped.close()


def read_csv_pieces(
    state: CsvState,
    path: Path,
    size: int,
    on_reader: Callable[[Callable[[], int]], None],
    *,
    min_bytes: int = _SPLIT_MIN_BYTES,
    piece_bytes: int = _PIECE_BYTES,
) -> pa.Table | None:
    """Parse a plain UTF-8 file in pieces of about ``piece_bytes``, one piece per worker thread
    at a time; None when the file does not allow it (the caller reads it in one stream then).

    Arrow's whole-file reader is its fastest (the 1M-row benchmark file: 0.54 s on two cores)
    but holds the text of every block until the end (a peak of 685 MB for a table of 244 MB);
    its streaming reader holds a block at a time but parses on one thread (1.2 s; two halves at
    once: 0.73 s, 440 MB). The whole-file reader on one thread per piece holds one piece per
    thread (0.60-0.67 s, 411-414 MB).

    Every piece takes the column types Arrow infers from the file's first block, as one stream
    types every later block; a value that does not fit fails the read (and the caller's one-stream
    reader, or the whole-file one, widens the type). That block is the pieces' own (a megabyte):
    inferring from the one stream's first block (4 MB) took 23-39 ms before any piece started,
    against 9-14 ms. The pieces meet at line ends: without quoted line breaks
    (which the dialect rules out here) every line end ends a row, as Arrow's own block splitting
    assumes; and every piece but the last is checked to end outside quotes (an even count of
    quote characters, as doubled quotes inside quoted values keep it), else the pieces are
    thrown away.
    """
    d = state.dialect
    threads = profile_threads()
    if (
        size < max(min_bytes, 1)
        or d.newlines_in_values
        or state.skip_malformed
        or d.encoding not in _UTF8
        or threads < 2
    ):
        return None
    # A multiple of the threads, so that they finish together.
    pieces = max(2, -(-size // max(1, piece_bytes * threads)) * threads)
    fd = os.open(path, os.O_RDONLY)
    try:
        starts = split_points(fd, size, pieces)
        if starts is None or len(starts) < 2:
            return None
        ends = [*starts[1:], size]
        quote = d.quotechar.encode() if d.quotechar else b""
        parsed = [0] * len(starts)  # bytes of each piece once parsed, for progress
        on_reader(lambda: sum(parsed))
        read, parse, convert = _options(state, None)
        read.use_threads = False  # no block read ahead: only the first one is wanted
        with open(path, "rb") as head:
            types = {f.name: f.type for f in pacsv.open_csv(head, read, parse, convert).schema}
        read, parse, convert = _options(state, types)
        later = _options(state, types)[0]  # a piece after the first: no header, no skipped lines
        later.skip_rows = 0
        read.use_threads = later.use_threads = False  # the pieces are the threads

        def parse_piece(i: int) -> tuple[pa.Table, int]:
            with mapped_piece(fd, starts[i], ends[i]) as data:
                options = read if i == 0 else later
                # One chunk per column and piece: Arrow's megabyte blocks made 256 chunks of the
                # 1M-row file, which every later kernel walks one by one.
                table = pacsv.read_csv(pa.BufferReader(data), options, parse, convert).combine_chunks()
                parsed[i] = len(data)
                quotes = _count(data, quote[0]) if quote and i < len(starts) - 1 else 0
                del data
            return table, quotes

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sonda-csv") as pool:
            parts = list(pool.map(parse_piece, range(len(starts))))
        if any(quotes % 2 for _, quotes in parts):
            return None  # a line end taken for a row end was inside a quoted value after all
        return pa.concat_tables([table for table, _ in parts])
    except pa.ArrowInvalid as exc:
        # A later value that does not fit the first block's types fails one stream alike: the
        # caller goes straight to the whole-file reader instead of meeting it again.
        if _conversion_error(exc):
            state.first_block_types_fit = False
        return None  # the one-stream reader knows what to do (retries, clear errors)
    except pa.ArrowIndexError:  # (not expected: the pieces' dictionaries have no bound)
        state.first_block_types_fit = False
        return None
    except (UnicodeDecodeError, OSError):  # OSError: a file that cannot be mapped
        return None
    finally:
        os.close(fd)


#: Bytes compared at a time by :func:`_count`: under the size from which a block is mapped
#: afresh (see ``allocator.py``), so the comparison's buffer is reused from the heap.
_COUNT_STEP = 1 << 18


def _count(data: bytes, byte: int) -> int:
    """How many times ``byte`` occurs in ``data``, with numpy a stretch at a time (``bytes.count``
    took 0.12-0.13 s of CPU over the 1M-row file, this 0.03 s)."""
    array = np.frombuffer(data, dtype=np.uint8)
    step = _COUNT_STEP
    return sum(int(np.count_nonzero(array[at : at + step] == byte)) for at in range(0, len(array), step))


#: Chunks from this size on are streamed as pieces. Smaller ones (budgets under about 480 MB give
#: them) went slower as pieces: the 0.5 GB benchmark file in 1 MB chunks took 9.5 s
#: against 8.5 s with Arrow's streaming reader, a mapping and a hand-over per megabyte.
PIECES_FROM = 8 << 20


def pieces_stream(source: Source, state: CsvState, block: int) -> bool:
    """Whether a streamed file can be read as pieces of ``block`` bytes parsed side by side
    (see :class:`CsvPieces`)."""
    d = state.dialect
    return (
        state.pieces
        and block >= PIECES_FROM
        and os.name == "posix"  # mapped with POSIX flags
        and source.compression is None
        and not d.newlines_in_values
        and d.encoding in _UTF8
    )


class NoPieces(Exception):
    """The file cannot be read as pieces after all: a stretch of it holds no line end, or it
    cannot be mapped (the caller reads it in one stream instead)."""


class CsvPieces:
    """A plain UTF-8 file streamed as pieces of about ``block`` bytes that end at line ends,
    parsed ahead on threads of their own, one Arrow table per piece, in file order.

    Arrow's streaming reader parses its blocks one after another on the thread that asks for
    them: on the 5 GB benchmark file the profile's threads were left waiting for it about a
    tenth of the time. Here up to ``ahead`` pieces parse at once while the chunk before is
    profiled. Without quoted line breaks (the dialect rules them out) every line end ends a row,
    as Arrow's own block splitting assumes, so the rows and the order are the same. Each piece is
    parsed with the column types the pass was planned with; a value that does not fit fails as
    the streaming reader fails (the caller widens the type and starts the pass again).

    Also the pass's progress: :meth:`position` is the bytes taken so far.
    """

    def __init__(
        self, source: Source, state: CsvState, types: dict[str, pa.DataType], block: int, ahead: int
    ) -> None:
        self._size = source.file_size
        self._state = state
        self._types = types
        self._block = max(1, block)
        self._ahead = max(1, ahead)
        self._taken = 0
        self._fd = os.open(source.path, os.O_RDONLY)
        self._pool = ThreadPoolExecutor(max_workers=max(1, profile_threads()), thread_name_prefix="sonda-csv")

    def limit_ahead(self, window: int) -> None:
        """The window is the pieces parsed ahead (``ahead``), fixed when made."""

    def consumed(self, total: int) -> None:
        """Pieces are parsed ahead by count, not by the bytes consumed."""

    def position(self) -> int:
        return self._taken

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._fd >= 0:
            fd, self._fd = self._fd, -1  # closed once: the number may be another file's next
            os.close(fd)

    def _end_of(self, start: int) -> int:
        """Where the piece starting at ``start`` ends: just after the first line end from
        ``start + block`` on (a longer line: the one-stream reader, which handles it, takes the
        pass)."""
        end = line_end_after(self._fd, start + self._block, self._size)
        if end is None:
            raise NoPieces()
        return end

    def _parse(self, first: bool, start: int, end: int) -> tuple[pa.Table, int]:
        read, parse, convert = _options(self._state, self._types)
        malformed = [0]

        def on_invalid(row: object) -> str:
            malformed[0] += 1  # this thread's piece only: added up in file order by the caller
            return "skip"

        parse.invalid_row_handler = on_invalid if self._state.skip_malformed else None
        read.use_threads = False  # the pieces are the threads
        if not first:
            read.skip_rows = 0  # no header, no skipped lines: those are at the file's start
        try:
            with mapped_piece(self._fd, start, end) as data:
                table = pacsv.read_csv(pa.BufferReader(data), read, parse, convert)
                del data
        except OSError:
            raise NoPieces() from None  # a file that cannot be mapped
        return table.combine_chunks(), malformed[0]

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The pieces' rows, one batch per piece; closes itself when done or abandoned."""
        try:
            ahead: deque[Future[tuple[pa.Table, int]]] = deque()
            ends: deque[int] = deque()
            start = 0
            while True:
                while start < self._size and len(ahead) < self._ahead:
                    end = self._end_of(start)
                    ahead.append(self._pool.submit(self._parse, start == 0, start, end))
                    ends.append(end)
                    start = end
                if not ahead:
                    return
                table, malformed = ahead.popleft().result()
                self._state.malformed_rows += malformed
                self._taken = ends.popleft()
                yield from table.to_batches()
        finally:
            self.close()


def iter_csv_batches(
    source: Source,
    state: CsvState,
    reader: CountingReader,
    column_types: dict[str, pa.DataType],
) -> Iterator[pa.RecordBatch]:
    """Stream record batches with the given column types (decided from a sample)."""
    read, parse, convert = _options(state, column_types)
    try:
        stream = pacsv.open_csv(reader, read, parse, convert)
        yield from stream
    except UnicodeDecodeError as exc:
        raise EncodingError(f"the file is not valid {state.dialect.encoding}: {exc.reason}") from None
    finally:
        reader.close()


def _conversion_error(exc: pa.ArrowInvalid) -> bool:
    return "conversion error" in str(exc)


def _retry(state: CsvState, exc: pa.ArrowInvalid) -> bool:
    message = str(exc)
    if "straddl" in message and state.block_size < _MAX_BLOCK:
        state.block_size *= 8
        return True
    if not state.dialect.newlines_in_values and ("Expected" in message or "straddl" in message):
        # A quoted line break at a block boundary looks like a short row: parse quotes across
        # blocks first, and only then take short rows as malformed.
        state.dialect = _replace(state.dialect, newlines_in_values=True)
        return True
    if not state.skip_malformed and "Expected" in message:
        state.skip_malformed = True
        return True
    return False


def _replace(dialect: Dialect, **changes: object) -> Dialect:
    from dataclasses import replace

    return replace(dialect, **changes)  # type: ignore[arg-type]


def reread_encoding(dialect: Dialect, sample: bytes) -> Dialect:
    """The dialect with a Western encoding, after UTF-8 was guessed but the file disagreed."""
    return _replace(dialect, encoding=western_encoding(sample))


def _clean(exc: Exception) -> str:
    """The reader's message without the row it quotes: an error reaches the WebSocket, the logs
    and the CLI, and the row may hold personal data (a CPF, an e-mail)."""
    message = re.sub(r"(got \d+)\s*:.*", r"\1", str(exc), flags=re.DOTALL)
    return re.sub(r"\s+", " ", message).strip()[:300]
