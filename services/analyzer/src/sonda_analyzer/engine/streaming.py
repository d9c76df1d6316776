"""Streaming mode: one pass over the file in chunks, with memory bounded by the budget.

Only summaries stay in memory: exact counts and moments, sketches for quantiles, distinct values
and frequent values, co-moment matrices, a row sample for Spearman, and row hashes for duplicate
rows (with the values of the most frequent so far). The result lists each approximate figure with
its method and error bound.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sonda_analyzer.engine.alerts import column_alerts, dataset_alerts, personal_data_alerts
from sonda_analyzer.engine.approximations import approximations
from sonda_analyzer.engine.arrays import single
from sonda_analyzer.engine.coerce import coerce
from sonda_analyzer.engine.dataset import dataset_profile, sample_rows
from sonda_analyzer.engine.duplicates import FrequentRows
from sonda_analyzer.engine.errors import ParseError
from sonda_analyzer.engine.missingness import MissingnessAcc, missing_mask, missing_matrix
from sonda_analyzer.engine.normalize import normalize_table
from sonda_analyzer.engine.options import AlertThresholds, ProfileOptions
from sonda_analyzer.engine.progress import ProgressReporter
from sonda_analyzer.engine.result import (
    SCHEMA_VERSION,
    ColumnProfile,
    Missingness,
    ProfileResult,
    empty_correlations,
)
from sonda_analyzer.engine.rowhash import DuplicateCounter, row_hashes
from sonda_analyzer.engine.samples import RowSampler
from sonda_analyzer.engine.source import Source
from sonda_analyzer.engine.stream_assoc import MAX_CODES, StreamAssociations
from sonda_analyzer.engine.stream_columns import DatetimeAcc, NumericAcc, Settings
from sonda_analyzer.engine.stream_memory import READ_AHEAD
from sonda_analyzer.engine.stream_read import (
    FormatFound,
    LongLine,
    StreamPlan,
    TypeConflict,
    check_width,
    decide_late,
    plan_stream,
)
from sonda_analyzer.engine.stream_text import BooleanAcc, StringAcc
from sonda_analyzer.engine.strings import MAX_CATEGORIES_FOR_ASSOCIATION
from sonda_analyzer.engine.text_formats import month_first, parse, parsing_of
from sonda_analyzer.engine.threads import profile_threads

_MAX_RESTARTS = 50


class Accumulator(Protocol):
    name: str

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]: ...


@dataclass(slots=True)
class EmptyAcc:
    name: str
    dtype: pa.DataType
    rows: int = 0

    def update(self, arr: pa.Array) -> None:
        self.rows += len(arr)

    def finish(self, s: Settings) -> tuple[ColumnProfile, set[str]]:
        profile = ColumnProfile(
            name=self.name, type="empty", dtype=str(self.dtype), semantic=[], count=0,
            missing=self.rows, missing_pct=1.0 if self.rows else 0.0, distinct=0,
            distinct_pct=0.0, unique=False, memory_bytes=0, approximate=False,
        )  # fmt: skip
        return profile, set()


@dataclass(slots=True)
class _Pass:
    """Everything one pass over the file accumulates."""

    accs: list[object] = field(default_factory=list)
    memory: list[int] = field(default_factory=list)
    rows: int = 0
    bytes_in_memory: int = 0
    assoc: StreamAssociations | None = None
    first: pa.Table | None = None
    #: Replaced on the first chunk by one that shows ``options.sample_rows`` rows.
    sampler: RowSampler = field(default_factory=lambda: RowSampler(0))
    missing: MissingnessAcc | None = None
    #: The values of the most frequent duplicated rows so far.
    frequent: FrequentRows = field(default_factory=FrequentRows)
    #: Columns forced to a type (``column_types``) where some values did not fit.
    coerced: set[str] = field(default_factory=set)


def _prepare(
    batch: pa.RecordBatch,
    plan: StreamPlan,
    options: ProfileOptions,
    overrides: dict[str, pa.DataType],
    coerced: set[str],
) -> pa.Table:
    table = normalize_table(batch)
    decimal = plan.info.decimal or "."
    decide_late(table, plan, options, set(overrides))
    for name, fmt in plan.text_formats.items():
        if name in overrides or name not in table.column_names:
            continue
        column = single(table.column(name))
        parsed = parse(fmt, column)
        if parsed.null_count != column.null_count:
            raise TypeConflict(name, pa.string())  # a value that does not fit: text after all
        table = table.set_column(table.column_names.index(name), name, parsed)
    for name, target in options.column_types.items():
        if name in table.column_names:
            i = table.column_names.index(name)
            converted, _, failed = coerce(table.column(i), target, decimal)
            table = table.set_column(i, name, converted)
            if failed:
                coerced.add(name)  # values that did not fit became missing
    return table


def _new_acc(name: str, t: pa.DataType, plan: StreamPlan) -> object:
    extra = ["mixed_types"] if name in plan.info.mixed else []
    fmt = plan.text_formats.get(name)
    if fmt is not None and fmt.kind == "number":
        extra.append("locale_number")
    if pa.types.is_null(t):
        return EmptyAcc(name, t)
    if pa.types.is_boolean(t):
        return BooleanAcc(name)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return NumericAcc(name, t, semantic=extra)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return DatetimeAcc(name, t)
    return StringAcc(name, extra_hints=extra, candidate=plan.candidates.get(name))


def _association_columns(table: pa.Table, max_columns: int) -> tuple[list[str], list[str]]:
    numeric: list[tuple[int, int, str]] = []
    categorical: list[tuple[int, int, str]] = []
    for name in table.column_names:
        column = table.column(name)
        t = column.type
        count = len(column) - column.null_count
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            numeric.append((-count, 0, name))
        elif pa.types.is_boolean(t) or pa.types.is_string(t):
            distinct = len(pc.unique(column.drop_null()))
            if 2 <= distinct <= min(MAX_CODES, MAX_CATEGORIES_FOR_ASSOCIATION):
                categorical.append((-count, distinct, name))
    numeric.sort()
    categorical.sort()
    return (
        [n for *_, n in numeric[:max_columns]],
        [n for *_, n in categorical[: max(2, max_columns // 2)]],
    )


def _encoded_categories(table: pa.Table, assoc: StreamAssociations | None) -> dict[str, pa.DictionaryArray]:
    """The chunk's text category columns dictionary-encoded once, for their own summaries and the
    associations alike (each encoded them: a fifth of the associations' time). On the thread
    that submits the chunk, which otherwise waits for the chunk before."""
    if assoc is None:
        return {}
    return {
        name: pc.dictionary_encode(single(table.column(name)))
        for name in assoc.categorical
        if name in table.column_names and pa.types.is_string(table.column(name).type)
    }


def _update(
    acc: object, column: pa.ChunkedArray, thresholds: AlertThresholds, encoded: pa.DictionaryArray | None
) -> None:
    """One column's chunk into its summaries (``encoded``: a text column's dictionary encoding,
    when made already)."""
    if isinstance(acc, StringAcc):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise TypeConflict(acc.name, pa.string())
        acc.update(column.combine_chunks(), thresholds, encoded)
    else:
        acc.update(column.combine_chunks())  # type: ignore[attr-defined]


def _all_done(futures: list[Future[Any]]) -> list[Any]:
    """Every result, once all have ended; the first error in submission order is raised (as the
    one-at-a-time loop raised it), never while other tasks still touch the pass's state."""
    wait(futures)
    return [f.result() for f in futures]


class InOrder:
    """Runs each summary's chunk updates one after another, and different summaries side by side.

    A summary's update for a chunk starts when its update for the chunk before has ended, not
    when every summary has: the next chunk's columns start while the last one's slowest column
    (a column of unique text) still runs, so both cores stay busy across chunk boundaries.
    """

    def __init__(self, pool: Executor) -> None:
        self._pool = pool
        self._last: dict[int, Future[Any]] = {}

    def submit(self, key: int, fn: Any, *args: Any) -> Future[Any]:
        done: Future[Any] = Future()

        def run() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the chunk
                done.set_exception(exc)

        before = self._last.get(key)
        if before is None:
            self._pool.submit(run)
        else:
            # called at once if the update before has ended, else by the thread that ends it
            before.add_done_callback(lambda _: self._pool.submit(run))
        self._last[key] = done
        return done

    def settle(self) -> None:
        """Waits until every update submitted has ended (each summary's last one ends last)."""
        wait(list(self._last.values()))


def _fold_in(state: _Pass, table: pa.Table, start: int, dups: DuplicateCounter) -> None:
    """A chunk's row-wide summaries, in chunk order: one chain of the pool beside the columns.
    On the main thread they kept the pool waiting while they ran (a 5 GB pass spent 6 s of
    CPU here, and the main thread parses the next chunk meanwhile)."""
    row_hash = row_hashes(table)
    if table.num_columns:
        kept = dups.sorted_kept(row_hash)  # one sort for the frequent rows and the counter
        state.frequent.update(table, row_hash, dups, start, kept)
        dups.update(row_hash, kept)
        state.frequent.retain(dups)
    assert state.missing is not None
    gaps = [(i, m) for i in range(table.num_columns) if (m := missing_mask(table.column(i))) is not None]
    state.missing.update(gaps, table.num_rows)
    state.sampler.update(table)
    state.rows += table.num_rows
    state.bytes_in_memory += int(table.nbytes)


def _one_pass(
    plan: StreamPlan,
    options: ProfileOptions,
    overrides: dict[str, pa.DataType],
    reporter: ProgressReporter,
    *,
    file_size: int,
    dups: DuplicateCounter,
    pool: Executor,
) -> _Pass:
    state = _Pass()
    settings_thresholds = options.thresholds
    batches, reader = plan.open_batches({**plan.types, **overrides})
    block = plan.block_bytes
    if reader is not None:
        reader.limit_ahead(READ_AHEAD * block)
    in_order = InOrder(pool)
    # At most two chunks are profiled at once: the one whose updates were just submitted and the
    # one before, whose slowest updates may still run (the next chunk waits for them).
    waiting: list[Future[Any]] | None = None
    submitted = 0
    try:
        for chunks, chunk in enumerate(batches, start=1):
            batch = chunk
            if options.max_rows is not None and submitted >= options.max_rows:
                plan.info.truncated = True
                break
            if options.max_rows is not None and submitted + batch.num_rows > options.max_rows:
                batch = batch.slice(0, options.max_rows - submitted)
                plan.info.truncated = True
            table = _prepare(batch, plan, options, overrides, state.coerced)
            if state.first is None:
                state.first = table.slice(0, options.sample_rows)
                state.sampler = RowSampler(options.sample_rows)
                state.accs = [_new_acc(n, table.column(n).type, plan) for n in table.column_names]
                state.memory = [0] * table.num_columns
                state.missing = MissingnessAcc(list(table.column_names))
                if options.correlations:
                    num, cat = _association_columns(table, options.max_correlation_columns)
                    state.assoc = StreamAssociations(num, cat)
            if table.column_names != [a.name for a in state.accs]:  # type: ignore[attr-defined]
                raise ParseError("the columns change in the middle of the file")
            for i in range(table.num_columns):
                state.memory[i] += int(table.column(i).nbytes)
            # Each column's summaries are its own: the columns update side by side (numpy, Arrow
            # and the sketches do their work outside the GIL), the associations and the row
            # hashes beside them.
            encoded = _encoded_categories(table, state.assoc)
            futures = [
                in_order.submit(i, _update, acc, table.column(i), settings_thresholds, encoded.get(name))
                for i, (acc, name) in enumerate(zip(state.accs, table.column_names, strict=True))
            ]
            if state.assoc is not None:
                futures.append(in_order.submit(-2, state.assoc.update, table, encoded))
            futures.append(in_order.submit(-1, _fold_in, state, table, submitted, dups))
            submitted += table.num_rows
            if waiting is not None:
                _all_done(waiting)
                _report(reporter, plan, state, reader, file_size)
            waiting = futures
            if reader is not None:
                # One chunk of the CSV/JSON readers is one block of content; the one still
                # profiled counts as not consumed yet.
                reader.consumed((chunks - 1) * block)
        if waiting is not None:
            _all_done(waiting)
            _report(reporter, plan, state, reader, file_size)
            waiting = None
    finally:
        in_order.settle()  # after an error too: no update may still touch this pass's summaries
        if reader is not None:
            reader.close()
    return state


def _report(
    reporter: ProgressReporter,
    plan: StreamPlan,
    state: _Pass,
    reader: Any,
    file_size: int,
) -> None:
    if plan.total_rows:
        done = state.rows / plan.total_rows
        position = int(file_size * done)
    else:
        position = reader.position() if reader is not None else 0
        done = position / file_size if file_size else 0.0
    reporter.update(
        2.0 + 93.0 * min(1.0, done), "profiling", f"{state.rows:,} rows read",
        rows_done=state.rows, bytes_done=position,
    )  # fmt: skip


def profile_streaming(
    source: Source, options: ProfileOptions, budget_bytes: int, reporter: ProgressReporter
) -> ProfileResult:
    reporter.update(1.0, "reading", f"reading the {source.format} file in chunks", force=True)
    plan = plan_stream(source, options, budget_bytes)
    check_width(plan, options)
    overrides: dict[str, pa.DataType] = {}
    with ThreadPoolExecutor(max_workers=profile_threads(), thread_name_prefix="sonda-stream") as pool:
        for _ in range(_MAX_RESTARTS):
            dups = DuplicateCounter(budget_bytes // 10)
            try:
                state = _one_pass(
                    plan, options, overrides, reporter, file_size=source.file_size, dups=dups, pool=pool
                )
                break
            except FormatFound:
                continue  # the plan reads a column that was empty at first in its format now
            except LongLine:
                continue  # the plan parses larger blocks now
            except TypeConflict as conflict:
                failed = plan.text_formats.pop(conflict.column, None)
                retry = month_first(failed) if failed is not None else None
                if retry is not None:
                    plan.text_formats[conflict.column] = retry
                    continue
                overrides[conflict.column] = conflict.new_type
                if failed is not None and failed.kind != "boolean":
                    plan.candidates[conflict.column] = failed
        else:
            raise ParseError("the column types keep changing through the file")
    reporter.update(96.0, "finishing", "combining the summaries", force=True)
    return _result(plan, options, state, dups, source.file_size)


def _result(
    plan: StreamPlan,
    options: ProfileOptions,
    state: _Pass,
    dups: DuplicateCounter,
    file_size: int,
) -> ProfileResult:
    settings = Settings(options.histogram_bins, options.top_values, options.thresholds)
    rows = state.rows
    columns: list[ColumnProfile] = []
    approx: dict[str, list[str]] = {}
    top_error = 0
    for acc, memory in zip(state.accs, state.memory, strict=True):
        profile, figures = acc.finish(settings)  # type: ignore[attr-defined]
        profile.memory_bytes = memory
        if profile.name in state.coerced and "coerced" not in profile.semantic:
            profile.semantic.append("coerced")
        fmt = plan.text_formats.get(profile.name)
        if fmt is not None:
            profile.parsing = parsing_of(fmt, 1.0)
        columns.append(profile)
        for figure in figures:
            approx.setdefault(figure, []).append(profile.name)
        if isinstance(acc, StringAcc):
            top_error = max(top_error, acc.counts.max_error())
    duplicates, dup_error = dups.result()
    missing_cells = sum(c.missing for c in columns)
    if state.assoc is not None and rows > 1:
        kinds = {c.name: c for c in columns}
        numeric_ok = {n for n, c in kinds.items() if c.type == "numeric" and c.distinct > 1}
        categorical_ok = {
            n for n, c in kinds.items() if c.type in ("categorical", "boolean") and c.distinct >= 2
        }
        correlations = state.assoc.result(numeric_ok, categorical_ok)
    else:
        correlations = empty_correlations()
    info = plan.info
    if plan.csv_state is not None:
        info.malformed_rows = plan.csv_state.malformed_rows
    dataset = dataset_profile(
        info,
        rows=rows,
        columns=len(columns),
        missing_cells=missing_cells,
        duplicate_rows=duplicates,
        memory_bytes=state.bytes_in_memory,
        file_size=file_size,
        streaming=True,
    )
    alerts = [a for c in columns for a in column_alerts(c, rows, options.thresholds)]
    alerts = (
        dataset_alerts(dataset, correlations, options.thresholds, info.malformed_rows)
        + personal_data_alerts(columns)
        + alerts
    )
    sample = sample_rows(state.first if state.first is not None else plan.sample, options.sample_rows)
    return ProfileResult(
        schema_version=SCHEMA_VERSION,
        profiled_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_seconds=0.0,
        dataset=dataset,
        columns=columns,
        correlations=correlations,
        alerts=alerts,
        sample=sample,
        approximations=approximations(approx, dups, dup_error, top_error, correlations),
        sample_tail=state.sampler.tail(),
        sample_random=state.sampler.random(),
        scatter=state.sampler.scatter(columns, correlations.pearson),
        missing=_missingness(state),
        duplicates=state.frequent.result([c.name for c in columns]),
    )


def _missingness(state: _Pass) -> Missingness:
    names = [a.name for a in state.accs]  # type: ignore[attr-defined]
    result = (state.missing or MissingnessAcc(names)).result()
    pool, at = state.sampler.drawn()
    masks: list[np.ndarray | None] = (
        [None] * len(names) if pool is None else [missing_mask(pool.column(i)) for i in range(len(names))]
    )
    result.matrix = missing_matrix(names, at, masks, state.rows)
    return result
