"""Alerts: what a person should look at first, each with a type, column(s), value and severity.

Types (stable names, documented in docs/result-schema.md): empty_dataset, empty_column, constant,
unique, high_cardinality, high_correlation, imbalance, missing, skewed, uniform, zeros, infinite,
duplicates, mixed_types, numbers_as_text, dates_as_text, malformed_rows, pii.
"""

from __future__ import annotations

import math

import numpy as np
from sonda_events.privacy import is_personal

from sonda_analyzer.engine.floats import fnum, pct
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.result import (
    Alert,
    ColumnProfile,
    Correlations,
    DatasetProfile,
    Severity,
)
from sonda_analyzer.engine.strings import entropy_bits


def _alert(
    kind: str, column: str | None, value: float | None, severity: Severity, message: str,
    *, columns: list[str] | None = None,
) -> Alert:  # fmt: skip
    return Alert(
        type=kind,
        column=column,
        columns=columns if columns is not None else ([column] if column else []),
        value=fnum(value),
        severity=severity,
        message=message,
    )


def looks_uniform(counts: list[int]) -> bool:
    """Counts spread evenly over their bins: the chi-square statistic against a flat spread stays
    within mean + 3 standard deviations of its distribution (df = bins - 1), whatever the row count."""
    k = len(counts)
    n = sum(counts)
    if k < 3 or n < 10 * k:
        return False
    expected = n / k
    chi2 = sum((c - expected) ** 2 for c in counts) / expected
    df = k - 1
    return chi2 <= df + 3 * math.sqrt(2 * df)


def column_alerts(col: ColumnProfile, rows: int, t: AlertThresholds) -> list[Alert]:
    name = col.name
    out: list[Alert] = []
    if rows == 0:
        return out
    if col.count == 0:
        return [_alert("empty_column", name, 1.0, "warning", f"{name} has no values at all")]
    if col.missing and col.missing_pct >= t.missing_pct:
        severity: Severity = (
            "critical" if col.missing_pct >= t.missing_critical_pct
            else "warning" if col.missing_pct >= t.missing_warning_pct
            else "info"
        )  # fmt: skip
        out.append(_alert("missing", name, col.missing_pct, severity,
                          f"{name} is missing in {col.missing_pct:.1%} of the rows"))  # fmt: skip
    if col.distinct == 1:
        out.append(_alert("constant", name, 1.0, "warning", f"{name} has a single value"))
        return out
    if col.unique and col.count > 1:
        where = "every row" if not col.missing else f"every row that has one ({col.missing:,} missing)"
        out.append(_alert("unique", name, col.distinct_pct, "info",
                          f"{name} has a different value in {where}"))  # fmt: skip
    if col.type == "categorical" and col.distinct > t.high_cardinality:
        out.append(_alert("high_cardinality", name, col.distinct, "warning",
                          f"{name} has {col.distinct:,} distinct values"))  # fmt: skip
    imbalance = col.text.imbalance if col.text is not None else None
    if col.boolean is not None:
        major = max(col.boolean.true, col.boolean.false)
        imbalance = 2 * pct(major, col.count) - 1  # 0 for 50/50, 1 for one side only
    few = col.top_values if col.type == "numeric" and col.top_values else None
    if few is not None and len(few) == col.distinct:
        # A number with a handful of values is a category in disguise (ydata types it so).
        imbalance = entropy_bits(np.array([v.count for v in few]))[1]
    if (col.type in ("categorical", "boolean") or few) and imbalance is not None and imbalance >= t.imbalance:
        out.append(_alert("imbalance", name, imbalance, "info",
                          f"{name} is dominated by a few values (imbalance {imbalance:.2f})"))  # fmt: skip
    for hint, kind, what in (
        ("mixed_types", "mixed_types", "mixes numbers or dates with other text"),
        ("numeric_as_text", "numbers_as_text", "holds numbers stored as text"),
        ("date_as_text", "dates_as_text", "holds dates stored as text"),
    ):
        if hint in col.semantic:
            out.append(_alert(kind, name, None, "warning", f"{name} {what}"))
    stats = col.stats
    if stats is None or col.type != "numeric":
        if (
            col.type == "categorical"
            and col.top_values
            and looks_uniform([v.count for v in col.top_values])
            and len(col.top_values) == col.distinct
        ):
            out.append(_alert("uniform", name, None, "info",
                              f"{name}'s values occur about equally often"))  # fmt: skip
        return out
    if stats.skewness is not None and abs(stats.skewness) >= t.skewness:
        out.append(_alert("skewed", name, stats.skewness, "info",
                          f"{name} is skewed (skewness {stats.skewness:.2f})"))  # fmt: skip
    if col.histogram is not None and looks_uniform(col.histogram.counts):
        out.append(_alert("uniform", name, None, "info", f"{name} is spread evenly over its range"))
    zeros_pct = pct(stats.zeros, col.count)
    # In a 0/1 column the zeros are one of its two values: the imbalance alert speaks for them.
    if stats.zeros and zeros_pct >= t.zeros_pct and "binary" not in col.semantic:
        out.append(_alert("zeros", name, zeros_pct, "info",
                          f"{name} is zero in {zeros_pct:.1%} of its values"))  # fmt: skip
    if stats.infinite:
        out.append(_alert("infinite", name, stats.infinite, "warning",
                          f"{name} has {stats.infinite:,} infinite values"))  # fmt: skip
    return out


def dataset_alerts(
    dataset: DatasetProfile, correlations: Correlations, t: AlertThresholds, malformed_rows: int
) -> list[Alert]:
    out: list[Alert] = []
    if dataset.rows == 0:
        out.append(_alert("empty_dataset", None, 0, "critical", "the file has no data rows"))
    if dataset.duplicate_rows and dataset.duplicate_rows_pct >= t.duplicates_pct:
        out.append(_alert("duplicates", None, dataset.duplicate_rows, "warning",
                          f"{dataset.duplicate_rows:,} rows ({dataset.duplicate_rows_pct:.1%}) "
                          "repeat an earlier row"))  # fmt: skip
    if malformed_rows:
        out.append(_alert("malformed_rows", None, malformed_rows, "warning",
                          f"{malformed_rows:,} lines had the wrong number of fields and were skipped"))  # fmt: skip
    for measure, matrix in (("pearson", correlations.pearson), ("cramers_v", correlations.cramers_v)):
        names = matrix.columns
        for i, row in enumerate(matrix.matrix):
            for j in range(i + 1, len(row)):
                value = row[j]
                if value is not None and abs(value) >= t.high_correlation:
                    pair = [names[i], names[j]]
                    out.append(_alert("high_correlation", names[i], value, "info",
                                      f"{names[i]} and {names[j]} are highly correlated "
                                      f"({measure} {value:.2f})", columns=pair))  # fmt: skip
    return out


def personal_data_alerts(columns: list[ColumnProfile]) -> list[Alert]:
    """One ``pii`` warning naming the columns that hold personal data (``columns[].pii``): the data's
    owner should know before sharing the file, and why other views show those values masked."""
    names = [c.name for c in columns if c.pii]
    if not names:
        return []
    kinds = sorted({s for c in columns if c.pii for s in c.semantic if is_personal(s)})
    listed = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return [_alert("pii", None, len(names), "warning",
                   f"{len(names)} column(s) hold personal data ({', '.join(kinds)}): {listed}; "
                   "summaries and reports show their values masked", columns=names)]  # fmt: skip
