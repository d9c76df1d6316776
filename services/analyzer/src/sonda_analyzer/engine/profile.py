"""The entry point: profile a file, exactly in memory or in streaming chunks within a budget."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sonda_analyzer.engine.alerts import column_alerts, dataset_alerts, personal_data_alerts
from sonda_analyzer.engine.allocator import ReturningAllocator
from sonda_analyzer.engine.blas import single_threaded_blas
from sonda_analyzer.engine.columns import ColumnContext, may_correlate, profile_column
from sonda_analyzer.engine.correlations import correlates, side_by_side, with_spearman, without_spearman
from sonda_analyzer.engine.dataset import dataset_profile
from sonda_analyzer.engine.dataset import sample_rows as sample_rows_of
from sonda_analyzer.engine.duplicates import find_duplicates, listed_duplicates, rules_out_duplicates
from sonda_analyzer.engine.errors import FileTooLargeError, OutOfMemoryError, ParseError
from sonda_analyzer.engine.load import ReadInfo, load_table
from sonda_analyzer.engine.missingness import SLICE_ROWS, MissingnessAcc, missing_mask, missing_matrix
from sonda_analyzer.engine.normalize import normalize_table
from sonda_analyzer.engine.options import ProfileOptions, parse_options
from sonda_analyzer.engine.planning import exact_content_limit, needs_streaming
from sonda_analyzer.engine.progress import ProgressCallback, ProgressReporter
from sonda_analyzer.engine.ranks import RankBasis
from sonda_analyzer.engine.result import (
    SCHEMA_VERSION,
    Correlations,
    Missingness,
    ProfileResult,
    Sample,
    empty_correlations,
)
from sonda_analyzer.engine.samples import RowSampler
from sonda_analyzer.engine.source import ContentLimitExceeded, detect_source
from sonda_analyzer.engine.stream_memory import stream_memory
from sonda_analyzer.engine.threads import profile_threads
from sonda_analyzer.engine.work import ColumnWork

#: Share of the progress bar that reading takes in exact mode (the parse is about a third).
_READ_SHARE = 35.0
_COLUMNS_END = 85.0


def profile_file(
    path: Path | str,
    options: ProfileOptions | dict[str, Any] | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    budget_mb: int = 1024,
    allocator: ReturningAllocator | None = None,
) -> ProfileResult:
    """Profile a tabular file.

    Args:
        path: the file (CSV/TSV, JSON, JSON Lines, Parquet, .xlsx; gzip or zip compressed).
        options: a :class:`ProfileOptions` or its dict form (validated).
        on_progress: called with a :class:`ProgressUpdate` at least every second or 5 %, from
            this thread or a helper thread (never concurrently); it may raise to abort.
        budget_mb: memory budget; larger files are profiled in streaming mode with sketches.
        allocator: the process's allocators, when its owner set them up
            (:func:`~sonda_analyzer.engine.allocator.use_returning_allocator`): streaming mode
            then keeps some freed memory between chunks.

    Raises:
        ProfileError: a subclass with a stable ``code`` when the file cannot be profiled.
    """
    opts = parse_options(options)
    started = time.perf_counter()
    profiled_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    budget = max(64, budget_mb) << 20
    with ProgressReporter(on_progress) as reporter, single_threaded_blas():
        reporter.update(0.0, "reading", "detecting the file format", force=True)
        source = detect_source(Path(path), opts.format)
        streaming = opts.streaming if opts.streaming is not None else needs_streaming(source, budget)
        try:
            table = None
            if not streaming:
                reporter.update(1.0, "reading", f"reading the {source.format} file", force=True)
                limit = exact_content_limit(budget) if source.compression else None
                # The bytes read of a plain file say how far the read is; of an archive they don't.
                if source.compression is None:
                    reporter.read_span = (1.0, _READ_SHARE, source.file_size)
                try:
                    table, info = load_table(source, opts, budget, reporter, content_limit=limit)
                except ContentLimitExceeded:
                    # More inside the archive than it said: stream it, if its format streams.
                    if source.format in ("json", "xlsx"):
                        raise FileTooLargeError(
                            "the compressed file holds more than fits in the memory budget"
                        ) from None
            reporter.read_span = None
            if table is None:
                from sonda_analyzer.engine.streaming import profile_streaming

                keep = stream_memory(budget).keep_freed
                with allocator.streaming(budget, keep) if allocator is not None else nullcontext():
                    result = profile_streaming(source, opts, budget, reporter)
            else:
                reporter.update(
                    _READ_SHARE, "profiling", f"read {table.num_rows:,} rows",
                    rows_done=table.num_rows, bytes_done=source.file_size, force=True,
                )  # fmt: skip
                loaded = _Loaded.take(table, opts.sample_rows)
                del table  # columns are freed one by one as they are profiled
                result = _profile_loaded(loaded, info, opts, reporter, source.file_size, allocator=allocator)
        except MemoryError:
            raise OutOfMemoryError(
                "the analysis ran out of memory; it can be retried on a less busy worker"
            ) from None
        except (zlib.error, EOFError, zipfile.BadZipFile) as exc:
            # A compressed file whose first part was sound but whose rest is cut or damaged.
            raise ParseError(f"the compressed file is damaged or cut short: {exc}") from None
        result.profiled_at = profiled_at
        result.duration_seconds = round(time.perf_counter() - started, 3)
        reporter.update(100.0, "done", "profile complete", force=True)
    return result


@dataclass(slots=True)
class _Loaded:
    """A read table taken apart, so each column's memory can go once it is profiled."""

    names: list[str]
    columns: list[pa.ChunkedArray | None]
    rows: int
    #: Each column's buffers' bytes, which order the columns. Not ``nbytes`` (what a column reports,
    #: the bytes its rows use, which a slice of the table makes fewer): that takes about a
    #: millisecond per column of the 1M-row file (its 250 parsed blocks), this 0.1 ms.
    sizes: list[int]
    sample: Sample
    sampler: RowSampler
    #: Per column with a gap: its missing mask, bit-packed (numpy ``packbits``), for the patterns.
    gaps: list[np.ndarray | None]
    #: The table until ``sampler`` has drawn its rows (see :meth:`draw`).
    unsampled: pa.Table | None = None
    #: Columns whose ``gaps`` were taken before they were profiled (see :func:`_gaps_ahead`).
    gaps_known: set[int] = field(default_factory=set)
    _drawing: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def take(cls, table: pa.Table, sample_rows: int) -> _Loaded:
        return cls(
            names=list(table.column_names),
            columns=list(table.columns),
            rows=table.num_rows,
            sizes=[int(column.get_total_buffer_size()) for column in table.columns],
            sample=sample_rows_of(table, sample_rows),
            sampler=RowSampler(sample_rows),
            gaps=[None] * table.num_columns,
            unsampled=table,
        )

    def draw(self) -> None:
        """The sampled rows, drawn once: by a pool thread while the first columns are profiled
        (on this thread before them, the other core waited 30 ms on the 1M-row file); a
        second call waits for the first."""
        with self._drawing:
            if self.unsampled is not None:
                self.sampler.update(self.unsampled)
                self.unsampled = None


def _in_one_piece(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A float64 column without gaps, joined into one chunk: its values are then read in place,
    where the parsed blocks were copied into one array while they were still held, and that copy
    was kept until the correlations were taken (8 MB per 1M rows and such column)."""
    if column.num_chunks > 1 and pa.types.is_float64(column.type) and column.null_count == 0:
        return pa.chunked_array([column.combine_chunks()])
    return column


def profile_table(
    table: pa.Table,
    options: ProfileOptions | None = None,
    *,
    info: ReadInfo | None = None,
) -> ProfileResult:
    """Profile a table already in memory (exact figures), e.g. one built from a DataFrame."""
    opts = options or ProfileOptions()
    loaded = _Loaded.take(normalize_table(table), opts.sample_rows)
    with single_threaded_blas():
        return _profile_loaded(loaded, info or ReadInfo(format="arrow"), opts, ProgressReporter(None), 0)


def profile_dataframe(frame: Any, options: ProfileOptions | None = None) -> ProfileResult:
    """Profile a pandas DataFrame (exact figures); its index is not a column."""
    return profile_table(pa.Table.from_pandas(frame, preserve_index=False), options)


def _profile_column_at(loaded: _Loaded, i: int, ctx: ColumnContext) -> ColumnWork:
    column = loaded.columns[i]
    assert column is not None
    loaded.columns[i] = None
    column = _in_one_piece(column)  # here, in the pool, rather than before any column starts
    work = profile_column(loaded.names[i], column, ctx)
    missing = work.profile.missing
    if missing and i not in loaded.gaps_known:
        mask = missing_mask(column) if loaded.names[i] not in ctx.options.column_types else None
        if mask is None or int(mask.sum()) != missing:  # a forced type made values missing
            assert work.codes is not None
            codes, cardinality = work.codes()
            mask = codes == cardinality - 1  # missing rows take the last code
        loaded.gaps[i] = np.packbits(mask)
    return work


def _gaps_ahead(loaded: _Loaded, text: list[int], opts: ProfileOptions) -> bool:
    """Takes the gaps of these text columns before they are profiled, and says whether it could
    for every one of them: a text column's missing values are its nulls, unless the options
    force it to a type some of its values may not fit."""
    for i in text:
        column = loaded.columns[i]
        if column is None or loaded.names[i] in opts.column_types:
            return False
        mask = missing_mask(column)
        loaded.gaps[i] = None if mask is None else np.packbits(mask)
        loaded.gaps_known.add(i)
    return True


def _missingness(loaded: _Loaded) -> Missingness:
    """The missing-value patterns from the packed masks, fed in slices of rows, and the sampled
    rows' gaps."""
    acc = MissingnessAcc(loaded.names)
    rows = loaded.rows
    for start in range(0, max(rows, 1), SLICE_ROWS):
        stop = min(rows, start + SLICE_ROWS)
        masks = []
        for i, packed in enumerate(loaded.gaps):
            if packed is not None:
                part = np.unpackbits(packed[start // 8 : (stop + 7) // 8], count=stop - start).astype(bool)
                if part.any():
                    masks.append((i, part))
        acc.update(masks, stop - start)
    result = acc.result()
    # The sampled rows' bits, read straight from the packed masks (bit 7 - i % 8 of byte i // 8).
    loaded.draw()  # drawn already, or being drawn
    at = loaded.sampler.row_numbers()
    shift = (7 - (at & 7)).astype(np.uint8)
    sampled = [
        None if packed is None else ((packed[at >> 3] >> shift) & 1).astype(bool) for packed in loaded.gaps
    ]
    result.matrix = missing_matrix(loaded.names, at, sampled, rows)
    return result


#: A text column at least this large is encoded in the one thread for big columns.
_BIG_TEXT_BYTES = 16 << 20


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _big_text(loaded: _Loaded, i: int) -> bool:
    column = loaded.columns[i]
    return (
        column is not None
        and loaded.sizes[i] >= _BIG_TEXT_BYTES
        and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type))
    )


def _smallest_first(loaded: _Loaded) -> list[int]:
    """Column positions, the smallest in memory first.

    Each column is freed once profiled, and the big ones (a column of unique strings) need the
    most working memory while they are encoded: taken last, they are encoded beside what is left
    of the table rather than beside all of it (on the 1M-row benchmark file, about 100 MB less
    at the peak).
    """
    sizes = [0 if c is None else size for c, size in zip(loaded.columns, loaded.sizes, strict=True)]
    return sorted(range(len(sizes)), key=lambda i: (sizes[i], i))


def _numbers_apart(loaded: _Loaded, positions: list[int]) -> list[int]:
    """``positions`` with the numeric columns between the others (each group in its order): a
    numeric column's sort holds about three times its size, and two of them at once made the
    peak of the whole profile (on the 1M-row file the last two, both with gaps, 20-25 MB over
    the plateau), where beside a text or date column it holds far less."""
    columns = loaded.columns
    numeric = {i for i in positions if (c := columns[i]) is not None and _numeric(c.type)}
    numbers = [i for i in positions if i in numeric]
    others = [i for i in positions if i not in numeric]
    mixed: list[int] = []
    for pair in itertools.zip_longest(others, numbers):
        mixed += [i for i in pair if i is not None]
    return mixed


def _only_for_correlations(work: ColumnWork, measured: bool = False) -> None:
    """Once a column of unique values rules out duplicate rows, a column's codes, values and
    row lookup are held only if the correlations take them (until then every column keeps them
    for the duplicates: on the 1M-row file about 40 MB held through the big text columns), and
    not at all once the measures are ``measured``."""
    if measured or (not work.categorical and not correlates(work)):
        work.codes = work.take = None
        work.values = None


def _measured(work: ColumnWork, unique_column: bool) -> None:
    """What a column holds once the correlations are taken: its codes and row lookup, for the
    duplicate rows, unless a column of unique values already rules them out."""
    work.ranks = None
    work.values = None
    if unique_column:
        _only_for_correlations(work, measured=True)


class _BigColumns:
    """The big text columns, each taken in order by whichever thread is free for one.

    Leaving the ``with`` block (an error, an abort from the progress callback) takes the columns
    not yet started off the list, so that the threads stop after the ones under way.
    """

    def __init__(self, loaded: _Loaded, big: list[int], ctx: ColumnContext) -> None:
        self._loaded, self._ctx = loaded, ctx
        self._left = list(reversed(big))
        self._lock = threading.Lock()
        self.futures: dict[int, Future[ColumnWork]] = {b: Future() for b in big}

    def work(self) -> None:
        """Profile the next column left until none is."""
        while True:
            with self._lock:
                if not self._left:
                    return
                i = self._left.pop()
            future = self.futures[i]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(_profile_column_at(self._loaded, i, self._ctx))
            except BaseException as exc:  # handed to whoever waits for the column
                future.set_exception(exc)

    def largest_first(self) -> None:
        """Take the columns largest first (they were listed smallest first); before any starts."""
        with self._lock:
            self._left.reverse()

    def __enter__(self) -> _BigColumns:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            left, self._left = self._left, []
        for i in left:
            self.futures[i].cancel()


def _correlations_then_big(
    works: list[ColumnWork], max_columns: int | None, queue: _BigColumns
) -> Correlations | None:
    """The correlations of these columns (None: not asked for), then big columns while any is left."""
    correlations = None if max_columns is None else _correlations_of(works, max_columns)
    queue.work()
    return correlations


def _correlations_of(works: list[ColumnWork], max_columns: int) -> Correlations:
    """Every measure of these columns, on the calling thread alone. The sorted columns go once
    the pairs are done (should the measures be taken again, they are sorted again)."""
    correlations = with_spearman(without_spearman(works, max_columns))
    for work in works:
        work.ranks = None
    return correlations


def _progress_of(columns_done: int, columns: int) -> float:
    return _READ_SHARE + (_COLUMNS_END - _READ_SHARE) * columns_done / max(1, columns)


def _profile_loaded(
    loaded: _Loaded,
    info: ReadInfo,
    opts: ProfileOptions,
    report: ProgressReporter,
    file_size: int,
    *,
    allocator: ReturningAllocator | None = None,
) -> ProfileResult:
    rows = loaded.rows
    n_cols = len(loaded.names)
    with_correlations = opts.correlations and rows > 1
    numbers = sum(c is not None and _numeric(c.type) for c in loaded.columns)
    ctx = ColumnContext(
        rows=rows,
        options=opts,
        decimal=info.decimal or ".",
        text_kinds=info.text_kinds,
        mixed=frozenset(info.mixed),
        # When every numeric column is ranked, each sorts once for its statistics and its ranks
        # (a second sort was a sixth of the 1M-row file's CPU time); a table with more numeric
        # columns than are ranked sorts the chosen ones again once chosen.
        rank_numbers=with_correlations and numbers <= opts.max_correlation_columns,
    )
    order = _smallest_first(loaded)
    big = [i for i in order if _big_text(loaded, i)]
    # The big text columns' gaps are their nulls (of no forced type): taken now, the missing-value
    # patterns are known once the other columns are done, and a pool thread left without a big
    # column finds them while the last one is profiled, instead of this thread alone after it
    # (56 ms on the 1M-row file).
    big_gaps_known = _gaps_ahead(loaded, big, opts)
    early_missing: Future[Missingness] | None = None
    small = _numbers_apart(loaded, [i for i in order if not _big_text(loaded, i)])
    # numpy sorts and pyarrow kernels release the GIL, so columns profile in parallel threads.
    # The big text columns come last: encoding one holds about twice its size, and two at once
    # while the table was still whole made the peak of the whole profile (about 75 MB more on
    # the 1M-row benchmark file). Either the correlations of the other columns are taken first
    # and the big columns then encoded two at a time (see ``measures_first``), or the big ones
    # start in a thread of their own while the pool computes those correlations, then takes
    # big columns too.
    to_rank = opts.max_correlation_columns if with_correlations else 0
    threads = profile_threads()
    queue = _BigColumns(loaded, big, ctx)
    with (
        ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sonda-profile") as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sonda-profile-big") as one_big,
        queue,
        ExitStack() as later,
    ):
        # Once the small columns are done (or, when the big ones start beside them, under way),
        # a column's working arrays come from the heap and are reused (``ReturningAllocator.
        # columns``); not before, while the whole table and the read's freed memory are held.
        def reuse_blocks() -> None:
            if allocator is not None:
                later.enter_context(allocator.columns(rows))

        pool.submit(loaded.draw)
        futures: dict[int, Future[ColumnWork]] = {
            i: pool.submit(_profile_column_at, loaded, i, ctx) for i in small
        }
        # When no big text column can enter the correlations (told from a sample of each), they
        # are taken before the big columns are encoded: on the 1M-row file, the values and sorted
        # columns they hold were otherwise held through the encoding of the big columns (the
        # peak). Told while the pool profiles the other columns: before them, the samples' format
        # checks kept both cores waiting (about 60 ms on the 1M-row file).
        measures_first = (
            with_correlations
            and bool(big)
            and not any(
                may_correlate(loaded.names[i], column, ctx)
                for i in big
                if (column := loaded.columns[i]) is not None
            )
        )
        if measures_first:
            # After the measures, two big columns are encoded at a time, the largest first: the
            # last one left then runs alone for less time (on the 1M-row file the UUIDs had been
            # last).
            queue.largest_first()
        done = 0
        finished: list[ColumnWork] = []
        unique_column = False
        measured = False  # the measures are taken: no column is held for them any more

        def column_done(i: int) -> None:
            nonlocal done, to_rank, unique_column
            work = futures[i].result()  # raises the column's error, if any, in the order started
            if to_rank and correlates(work):
                assert work.values is not None
                if work.ranks is None:
                    work.ranks = pool.submit(RankBasis.of, work.values).result
                to_rank -= 1
            else:
                work.ranks = None  # not among the ranked columns
            finished.append(work)
            if not unique_column and rules_out_duplicates(work, rows):
                unique_column = True
                for earlier in finished:
                    _only_for_correlations(earlier, measured=measured)
            elif unique_column:
                _only_for_correlations(work)
            done += 1
            report.update(_progress_of(done, n_cols), "profiling", f"profiled column {done} of {n_cols}")

        correlations = empty_correlations()
        if measures_first:
            # Every other column first, then their measures (Spearman on a pool thread beside
            # the others on this one), whose values and sorted columns are then freed: the big
            # text columns are encoded after, two at a time, beside the big columns alone.
            for i in small:
                column_done(i)
            small_works = [futures[i].result() for i in sorted(small)]
            report.update(_progress_of(done, n_cols), "correlations", "computing correlations")
            reuse_blocks()
            correlations = side_by_side(small_works, opts.max_correlation_columns, pool)
            for work in small_works:
                _measured(work, unique_column)
            measured = True
            futures.update(queue.futures)
            for _ in range(threads):
                pool.submit(queue.work)
            if big_gaps_known:
                # queued after the big columns: the thread left without one takes it
                early_missing = pool.submit(_missingness, loaded)
            for i in big:
                column_done(i)
            works = [futures[i].result() for i in range(n_cols)]
        else:
            # The big columns start once the last small ones are under way (none left waiting).
            start_big = max(0, len(small) - threads)
            for position, at in enumerate([*small, None]):
                if position == start_big:
                    reuse_blocks()
                    futures.update(queue.futures)
                    one_big.submit(queue.work)
                if at is not None:
                    column_done(at)
            # The correlations of the other columns run beside the big text columns (one task of
            # the pool, which therefore does not wait on the pool): they are the table's unless a
            # big column turns out to be a number or a category. The task then takes big columns
            # too: by then most of the table is gone, and the big-column thread was the last at
            # work.
            small_works = [futures[i].result() for i in sorted(small)]
            max_columns = opts.max_correlation_columns if with_correlations else None
            early = pool.submit(_correlations_then_big, small_works, max_columns, queue) if big else None
            if big_gaps_known:
                early_missing = pool.submit(_missingness, loaded)  # after the correlations
            for i in big:
                column_done(i)
            works = [futures[i].result() for i in range(n_cols)]
            report.update(_COLUMNS_END, "correlations", "computing correlations")
            if with_correlations:
                late = [works[i] for i in big]
                known = early.result() if early is not None else None
                if known is not None and not any(correlates(w) or w.categorical for w in late):
                    correlations = known
                else:
                    partial = without_spearman(works, opts.max_correlation_columns, pool)
                    correlations = with_spearman(partial, pool)
        for work in works:
            work.ranks = None  # the sorted columns are held only until the pairs are done
        pa.default_memory_pool().release_unused()
        report.update(88.0, "duplicates", "looking for duplicate rows")
        found = find_duplicates(works, rows)
        duplicates = listed_duplicates(works, found)
    report.update(97.0, "alerts", "checking alerts")
    missingness = early_missing.result() if early_missing is not None else _missingness(loaded)
    columns = [w.profile for w in works]
    missing_cells = sum(c.missing for c in columns)
    dataset = dataset_profile(
        info,
        rows=rows,
        columns=n_cols,
        missing_cells=missing_cells,
        duplicate_rows=found.count,
        memory_bytes=sum(c.memory_bytes for c in columns),
        file_size=file_size,
        streaming=False,
    )
    alerts = [a for c in columns for a in column_alerts(c, rows, opts.thresholds)]
    alerts = (
        dataset_alerts(dataset, correlations, opts.thresholds, info.malformed_rows)
        + personal_data_alerts(columns)
        + alerts
    )
    loaded.draw()
    sampler, sample = loaded.sampler, loaded.sample
    return ProfileResult(
        schema_version=SCHEMA_VERSION,
        profiled_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_seconds=0.0,
        dataset=dataset,
        columns=columns,
        correlations=correlations,
        alerts=alerts,
        sample=sample,
        approximations=[],
        sample_tail=sampler.tail(),
        sample_random=sampler.random(),
        scatter=sampler.scatter(columns, correlations.pearson),
        missing=missingness,
        duplicates=duplicates,
    )
