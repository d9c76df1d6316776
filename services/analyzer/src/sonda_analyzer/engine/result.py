"""The profile result: a versioned, documented JSON document (see docs/result-schema.md).

Every float is finite or ``None`` (JSON null), every count an ``int``, every timestamp an ISO 8601
string, so the encoded result is valid JSON for any client. Bump :data:`SCHEMA_VERSION` when a field
changes meaning or type; adding a field with a default does not need a bump.
"""

from __future__ import annotations

from typing import Literal

import msgspec

SCHEMA_VERSION = 1

ColumnType = Literal["numeric", "boolean", "datetime", "categorical", "text", "identifier", "empty"]
Severity = Literal["info", "warning", "critical"]
Scalar = str | int | float | bool | None


class Quantiles(msgspec.Struct, kw_only=True):
    p1: float | None
    p5: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p95: float | None
    p99: float | None


class ValueCount(msgspec.Struct, kw_only=True):
    value: float
    count: int


class Extremes(msgspec.Struct, kw_only=True):
    #: The smallest distinct finite values, ascending, each with its number of rows.
    smallest: list[ValueCount]
    #: The largest distinct finite values, descending.
    largest: list[ValueCount]


class NumericStats(msgspec.Struct, kw_only=True):
    min: float | None
    max: float | None
    range: float | None
    mean: float | None
    std: float | None
    variance: float | None
    sum: float | None
    median: float | None
    quantiles: Quantiles
    iqr: float | None
    mad: float | None
    cv: float | None
    skewness: float | None
    kurtosis: float | None
    zeros: int
    negatives: int
    infinite: int
    outliers_iqr: int
    #: The five smallest and largest distinct values with their counts (exact in both modes).
    extremes: Extremes | None = None


class Histogram(msgspec.Struct, kw_only=True):
    edges: list[float]
    counts: list[int]


class TimeHistogram(msgspec.Struct, kw_only=True):
    edges: list[str]
    counts: list[int]


class TopValue(msgspec.Struct, kw_only=True):
    value: Scalar
    count: int
    pct: float


class TextStats(msgspec.Struct, kw_only=True):
    entropy: float | None
    imbalance: float | None
    length_min: int | None
    length_mean: float | None
    length_max: int | None
    words_mean: float | None


class DatetimeStats(msgspec.Struct, kw_only=True):
    min: str | None
    max: str | None
    range_seconds: float | None
    frequency: str | None
    histogram: TimeHistogram | None


class BooleanStats(msgspec.Struct, kw_only=True):
    true: int
    false: int
    missing: int


class Parsing(msgspec.Struct, kw_only=True):
    """How a text column's values were (or would be) read: dates, amounts, percentages, yes/no."""

    kind: Literal["number", "datetime", "boolean"]
    #: strptime pattern for dates ("%d/%m/%Y"), "#.##0,##" / "#,##0.##" for numbers (group and
    #: decimal marks), "Sim/Não" for yes/no (the spellings seen most).
    format: str
    #: Share of the present values that fit ``format``: 1 when the column was converted.
    parsed_share: float
    #: Symbols removed around numbers: "R$", "US$", "$", "€", "£", "%", "()" (accounting negative).
    stripped: list[str] = msgspec.field(default_factory=list)


class ColumnProfile(msgspec.Struct, kw_only=True):
    name: str
    type: ColumnType
    #: Storage type after reading (Arrow type name), e.g. "int64", "double", "string".
    dtype: str
    semantic: list[str]
    count: int
    missing: int
    missing_pct: float
    distinct: int
    distinct_pct: float
    unique: bool
    memory_bytes: int
    approximate: bool
    stats: NumericStats | None = None
    histogram: Histogram | None = None
    top_values: list[TopValue] | None = None
    text: TextStats | None = None
    datetime: DatetimeStats | None = None
    boolean: BooleanStats | None = None
    #: True when the column holds personal data (its semantic type is in
    #: ``sonda_events.privacy.PERSONAL_SEMANTICS``): views for an LLM, a log or a screen mask it.
    pii: bool = False
    #: Delimited text: the format a text column was parsed with, or the share that would parse.
    parsing: Parsing | None = None
    #: Share of the present values that are valid for each semantic type found (check digits,
    #: area codes, states): ``{"cpf": 0.97}``. Keys are a subset of ``semantic``.
    semantic_validity: dict[str, float] = msgspec.field(default_factory=dict)


class DatasetProfile(msgspec.Struct, kw_only=True):
    rows: int
    columns: int
    missing_cells: int
    missing_cells_pct: float
    duplicate_rows: int
    duplicate_rows_pct: float
    memory_bytes: int
    file_size: int
    format: str
    encoding: str | None
    delimiter: str | None
    decimal: str | None
    sheet: str | None
    approximate: bool
    compression: str | None = None
    quotechar: str | None = None
    header: bool | None = None
    #: "exact" (whole table in memory) or "streaming" (chunks + sketches).
    mode: Literal["exact", "streaming"] = "exact"
    #: True when ``max_rows`` stopped reading before the end of the file.
    truncated: bool = False


class Matrix(msgspec.Struct, kw_only=True):
    columns: list[str]
    matrix: list[list[float | None]]


class CorrelationRatio(msgspec.Struct, kw_only=True):
    numeric: str
    categorical: str
    value: float | None


class Correlations(msgspec.Struct, kw_only=True):
    pearson: Matrix
    spearman: Matrix
    cramers_v: Matrix
    correlation_ratio: list[CorrelationRatio]
    #: Columns left out because the table is wider than ``max_correlation_columns``.
    omitted_columns: list[str] = msgspec.field(default_factory=list)


class Alert(msgspec.Struct, kw_only=True):
    type: str
    column: str | None
    columns: list[str]
    value: float | None
    severity: Severity
    message: str


class Sample(msgspec.Struct, kw_only=True):
    columns: list[str]
    rows: list[list[Scalar]]
    #: 0-based position in the file of each row (for the last and the random rows).
    row_numbers: list[int] | None = None


class ScatterPlot(msgspec.Struct, kw_only=True):
    x: str
    y: str
    pearson: float
    rows_sampled: int
    #: ``[x, y]`` of up to 400 rows drawn uniformly from the whole table, in file order.
    points: list[list[float]]


class DuplicateRow(msgspec.Struct, kw_only=True):
    #: The row's values in column order, as ``sample`` writes values (the values rows were compared on).
    values: list[Scalar]
    #: Rows holding exactly these values: this one and its copies (at least 2).
    count: int


class Duplicates(msgspec.Struct, kw_only=True):
    """The most frequent duplicated rows (see docs/result-schema.md, ``duplicates``)."""

    columns: list[str]
    #: Most copies first; of rows with as many copies, the one whose last copy comes first in the file.
    rows: list[DuplicateRow]


class Approximation(msgspec.Struct, kw_only=True):
    #: Which figure is approximate, as a path: "columns[].distinct", "columns[].stats.quantiles".
    figure: str
    method: str
    #: The bound as a number; ``description`` says its kind (relative, rank or count error).
    error_bound: float
    description: str
    #: The columns whose figure is approximate (empty for table-wide figures).
    columns: list[str] = msgspec.field(default_factory=list)


class MissingPattern(msgspec.Struct, kw_only=True):
    #: The columns missing together in these rows (and no other column), in file order.
    columns: list[str]
    count: int
    pct: float


class MissingMatrix(msgspec.Struct, kw_only=True):
    """Which values are missing in a random sample of rows, row by row, like missingno's matrix."""

    #: The columns drawn, in file order (the first ``MAX_MATRIX_COLUMNS``).
    columns: list[str]
    #: 0-based file positions of the sampled rows, ascending: the random sample the scatter plots
    #: are drawn from (``sample_random`` shows some of its rows).
    row_numbers: list[int]
    #: Per sampled row, the indices into ``columns`` of its missing values (empty: a full row).
    missing: list[list[int]]
    #: Rows in the table the sample was drawn from.
    rows_total: int


class Missingness(msgspec.Struct, kw_only=True):
    """Which values go missing together (see docs/result-schema.md, ``missing``)."""

    rows_with_missing: int
    rows_with_missing_pct: float
    #: The most common patterns of rows with a gap, most frequent first.
    patterns: list[MissingPattern]
    #: Different patterns counted (at most ``MAX_PATTERNS``).
    patterns_distinct: int
    #: Rows whose pattern was met only after ``MAX_PATTERNS`` others (not told apart).
    patterns_other_rows: int
    #: Pearson correlation of the columns' is-missing indicators (columns with some but not all
    #: values missing), like missingno's heatmap.
    nullity_correlation: Matrix
    #: The missing values of a random sample of rows (null in results written before it existed).
    matrix: MissingMatrix | None = None


class ProfileResult(msgspec.Struct, kw_only=True):
    schema_version: int
    profiled_at: str
    duration_seconds: float
    dataset: DatasetProfile
    columns: list[ColumnProfile]
    correlations: Correlations
    alerts: list[Alert]
    sample: Sample
    approximations: list[Approximation]
    #: The last rows of the table.
    sample_tail: Sample | None = None
    #: Rows drawn uniformly at random (a fixed seed: the same file, the same rows), in file order.
    sample_random: Sample | None = None
    #: The most related numeric pairs (|Pearson r| ≥ 0.3, strongest first) drawn from a random sample.
    scatter: list[ScatterPlot] = msgspec.field(default_factory=list)
    #: Missing-value patterns (null in results written before it existed).
    missing: Missingness | None = None
    #: The most frequent duplicated rows with their counts (null in results written before it existed).
    duplicates: Duplicates | None = None


def empty_correlations() -> Correlations:
    return Correlations(
        pearson=Matrix(columns=[], matrix=[]),
        spearman=Matrix(columns=[], matrix=[]),
        cramers_v=Matrix(columns=[], matrix=[]),
        correlation_ratio=[],
    )


def encode_result(result: ProfileResult) -> bytes:
    """JSON bytes of a result (msgspec; floats were made finite when the result was built)."""
    return msgspec.json.encode(result)


def decode_result(data: bytes | str) -> ProfileResult:
    return msgspec.json.decode(data, type=ProfileResult)
