"""The report of one analysis as a single HTML file a person can keep, mail and open offline.

The result is read tolerantly (any field may be missing, as in the LLM summary), every text from the
file is escaped, and personal-data columns (``pii``) are shown masked unless the owner asked for
their values. No script: sections fold with ``<details>``, charts are inline SVG, so the file opens
with the network off and under a ``default-src 'none'`` policy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape
from typing import Any

import msgspec
from sonda_events.privacy import mask

from sonda_query.report import charts
from sonda_query.report.style import CSS

SEVERITIES = ("critical", "warning", "info")
#: Correlations weaker than this say nothing a person would act on; the tables leave them out.
MIN_ASSOCIATION = 0.1
MAX_PAIRS = 20
MAX_SAMPLE_ROWS = 20


class ReportMeta(msgspec.Struct, kw_only=True, frozen=True):
    analysis_id: str
    filename: str | None
    completed_at: str | None
    include_pii: bool = False


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def num(value: Any) -> str:
    """A number as a person reads it: thousands separated, no scientific notation below 1e15."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
        return escape(str(value))
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    size = abs(value)
    if size >= 1e15:
        return f"{value:.3e}"
    if size >= 100:
        return f"{value:,.2f}"
    if size >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:.4g}" if size >= 1e-4 else f"{value:.2e}"


def pct(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    shown = value * 100 if value <= 1 else value  # results carry 0–1 shares (older ones 0–100)
    return f"{shown:.1f}%"


def _table(rows: Iterable[tuple[str, str]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


def _overview(result: dict[str, Any]) -> str:
    ds = _d(result.get("dataset"))
    rows = [
        ("Rows", num(ds.get("rows"))),
        ("Columns", num(ds.get("columns"))),
        ("Missing cells", f"{num(ds.get('missing_cells'))} ({pct(ds.get('missing_cells_pct'))})"),
        ("Duplicate rows", f"{num(ds.get('duplicate_rows'))} ({pct(ds.get('duplicate_rows_pct'))})"),
        ("File size", f"{num(ds.get('file_size'))} bytes"),
        ("Memory", f"{num(ds.get('memory_bytes'))} bytes"),
        ("Format", escape(str(ds.get("format") or "—"))),
        ("Encoding", escape(str(ds.get("encoding") or "—"))),
        ("Delimiter", escape(repr(ds["delimiter"])) if ds.get("delimiter") else "—"),
        ("Decimal mark", escape(repr(ds["decimal"])) if ds.get("decimal") else "—"),
        ("Mode", escape(str(ds.get("mode") or "exact"))),
    ]
    approximations = [
        f"{escape(str(a.get('figure')))}: {escape(str(a.get('description') or a.get('method')))}"
        for a in map(_d, _l(result.get("approximations")))
    ]
    extra = (
        "<p><strong>Approximate figures</strong> (streaming mode):</p><ul>"
        + "".join(f"<li>{a}</li>" for a in approximations)
        + "</ul>"
        if approximations
        else ""
    )
    return f'<section id="overview"><h2>Overview</h2>{_table(rows)}{extra}</section>'


def _alerts(result: dict[str, Any]) -> str:
    alerts = [_d(a) for a in _l(result.get("alerts"))]
    if not alerts:
        return '<section id="alerts"><h2>Alerts</h2><p>No alert.</p></section>'
    parts = [f'<section id="alerts"><h2>Alerts ({len(alerts)})</h2>']
    for severity in SEVERITIES:
        group = [a for a in alerts if a.get("severity") == severity]
        if not group:
            continue
        items = "".join(
            f"<li><code>{escape(str(a.get('type')))}</code> {escape(str(a.get('message') or ''))}</li>"
            for a in group
        )
        opened = " open" if severity != "info" else ""
        parts.append(
            f'<details class="alerts {severity}"{opened}><summary>{severity} ({len(group)})</summary>'
            f"<ul>{items}</ul></details>"
        )
    return "".join(parts) + "</section>"


def _missing(result: dict[str, Any]) -> str:
    columns = [_d(c) for c in _l(result.get("columns"))]
    rows = [
        (
            str(c.get("name")),
            float(c.get("missing_pct") or 0.0),
            f"{num(c.get('missing'))} ({pct(c.get('missing_pct'))})",
        )
        for c in columns
        if isinstance(c.get("missing"), int) and c["missing"] > 0
    ]
    if not rows:
        return '<section id="missing"><h2>Missing values</h2><p>No value is missing.</p></section>'
    scale = 1.0 if all(r[1] <= 1 for r in rows) else 100.0
    chart = charts.bars(rows, "Missing values per column", scale=scale)
    patterns = ""
    missing = _d(result.get("missing"))
    matrix = _matrix(_d(missing.get("matrix")))
    found = [_d(p) for p in _l(missing.get("patterns"))]
    if found:
        body = "".join(
            f"<tr><td>{escape(', '.join(map(str, _l(p.get('columns')))) or '(none)')}</td>"
            f"<td>{num(p.get('rows', p.get('count')))}</td></tr>"
            for p in found
        )
        patterns = (
            "<h3>Most common patterns</h3><table class='grid'><tr><th>Missing together</th>"
            f"<th>Rows</th></tr>{body}</table>"
        )
    return f'<section id="missing"><h2>Missing values</h2>{chart}{matrix}{patterns}</section>'


def _matrix(matrix: dict[str, Any]) -> str:
    """The gaps of the sampled rows, drawn like missingno's matrix."""
    columns = [str(c) for c in _l(matrix.get("columns"))]
    missing = [[c for c in _l(r) if isinstance(c, int)] for r in _l(matrix.get("missing"))]
    rows = [r for r in _l(matrix.get("row_numbers")) if isinstance(r, int)]
    drawn = charts.nullity_matrix(columns, missing, rows)
    if not drawn:
        return ""
    return (
        f"<h3>Missing values row by row</h3><figure id='missing-matrix'>{drawn}<figcaption>"
        f"{num(len(missing))} rows drawn at random from {num(matrix.get('rows_total'))}, in file order, "
        "one line each; a light mark is a missing value.</figcaption></figure>"
    )


def _duplicates(result: dict[str, Any], include_pii: bool) -> str:
    """The most frequent duplicated rows with their counts, personal cells masked."""
    found = _d(result.get("duplicates"))
    if not found:
        return ""  # a result written before the list existed
    names = [str(n) for n in _l(found.get("columns"))]
    listed = [_d(r) for r in _l(found.get("rows"))]
    if not names or not listed:
        return '<section id="duplicates"><h2>Duplicate rows</h2><p>No row repeats.</p></section>'
    personal = {str(_d(c).get("name")) for c in _l(result.get("columns")) if _d(c).get("pii")}
    head = "<th>Rows</th>" + "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join(
        f"<tr><td>{num(r.get('count'))}</td>"
        + "".join(
            f"<td>{_shown(v, n in personal, include_pii)}</td>"
            for n, v in zip(names, _l(r.get("values")), strict=False)
        )
        + "</tr>"
        for r in listed
    )
    total = num(_d(result.get("dataset")).get("duplicate_rows"))
    return (
        f'<section id="duplicates"><h2>Duplicate rows</h2><p>{total} rows repeat an earlier row. The most '
        "frequent, with the number of rows holding each:</p>"
        f"<div class='scroll'><table class='grid'><tr>{head}</tr>{body}</table></div></section>"
    )


def _shown(value: Any, personal: bool, include_pii: bool) -> str:
    if value is None:
        return "<em>missing</em>"
    if personal and not include_pii:
        return f'<span class="masked">{escape(mask(value))}</span>'
    return escape(str(value)) if not isinstance(value, int | float) else num(value)


def _numeric(stats: dict[str, Any]) -> str:
    q = _d(stats.get("quantiles"))
    return _table(
        [
            ("Minimum", num(stats.get("min"))),
            ("5th percentile", num(q.get("p5"))),
            ("Q1", num(q.get("p25"))),
            ("Median", num(stats.get("median", q.get("p50")))),
            ("Q3", num(q.get("p75"))),
            ("95th percentile", num(q.get("p95"))),
            ("Maximum", num(stats.get("max"))),
            ("Mean", num(stats.get("mean"))),
            ("Standard deviation", num(stats.get("std"))),
            ("Skewness", num(stats.get("skewness"))),
            ("Kurtosis", num(stats.get("kurtosis"))),
            ("Zeros", num(stats.get("zeros"))),
            ("Negatives", num(stats.get("negatives"))),
            ("Outliers (IQR)", num(stats.get("outliers_iqr"))),
        ]
    )


def _extremes(extremes: dict[str, Any]) -> str:
    """The smallest and largest values side by side, each with its count."""
    low = [_d(v) for v in _l(extremes.get("smallest"))]
    high = [_d(v) for v in _l(extremes.get("largest"))]
    if not low and not high:
        return ""
    rows = "".join(
        "<tr>"
        + (f"<td>{num(a.get('value'))}</td><td>{num(a.get('count'))}</td>" if a else "<td></td><td></td>")
        + (f"<td>{num(b.get('value'))}</td><td>{num(b.get('count'))}</td>" if b else "<td></td><td></td>")
        + "</tr>"
        for a, b in zip(
            low + [{}] * (len(high) - len(low)), high + [{}] * (len(low) - len(high)), strict=True
        )
    )
    return (
        "<table class='grid extremes'><tr><th>Smallest</th><th>Rows</th><th>Largest</th><th>Rows</th></tr>"
        f"{rows}</table>"
    )


def _column(profile: dict[str, Any], include_pii: bool) -> str:
    name = str(profile.get("name"))
    personal = bool(profile.get("pii"))
    badges = [escape(str(profile.get("type")))]
    badges += [escape(str(s)) for s in _l(profile.get("semantic"))]
    if personal:
        badges.append("personal data")
    head = (
        f'<article class="column" data-column="{escape(name)}"><h3>{escape(name)} '
        + "".join(f'<span class="badge">{b}</span>' for b in badges)
        + "</h3>"
    )
    facts = _table(
        [
            ("Present", num(profile.get("count"))),
            ("Missing", f"{num(profile.get('missing'))} ({pct(profile.get('missing_pct'))})"),
            ("Distinct", f"{num(profile.get('distinct'))} ({pct(profile.get('distinct_pct'))})"),
            ("Unique", "yes" if profile.get("unique") else "no"),
        ]
    )
    body = [facts]
    # A personal column stored as numbers (a CPF read as an integer) would show values in its
    # statistics: they are left out unless the owner asked.
    stats = _d(profile.get("stats")) if include_pii or not personal else {}
    if stats:
        body.append(_numeric(stats))
        body.append(_extremes(_d(stats.get("extremes"))))
    hist = _d(profile.get("histogram")) if include_pii or not personal else {}
    counts = [c for c in _l(hist.get("counts")) if isinstance(c, int)]
    edges = _l(hist.get("edges"))
    if counts and len(edges) >= 2:
        body.append(charts.histogram(counts, (num(edges[0]), num(edges[-1])), f"Histogram of {name}"))
    when = _d(profile.get("datetime"))
    if when:
        body.append(_table([("From", escape(str(when.get("min")))), ("To", escape(str(when.get("max"))))]))
        th = _d(when.get("histogram"))
        tcounts = [c for c in _l(th.get("counts")) if isinstance(c, int)]
        tedges = [str(e) for e in _l(th.get("edges"))]
        if tcounts and len(tedges) >= 2:
            body.append(charts.histogram(tcounts, (tedges[0][:10], tedges[-1][:10]), f"Dates of {name}"))
    boolean = _d(profile.get("boolean"))
    if boolean:
        body.append(_table([("True", num(boolean.get("true"))), ("False", num(boolean.get("false")))]))
    top = [_d(t) for t in _l(profile.get("top_values"))][:10]
    if top and not stats:
        rows = [
            (
                mask(t.get("value")) if personal and not include_pii else str(t.get("value")),
                float(t.get("count") or 0),
                f"{num(t.get('count'))} ({pct(t.get('pct'))})",
            )
            for t in top
        ]
        body.append(
            charts.bars([(label[:24], v, s) for label, v, s in rows], f"Most frequent values of {name}")
        )
    return head + "".join(body) + "</article>"


def _columns(result: dict[str, Any], include_pii: bool) -> str:
    cards = "".join(_column(_d(c), include_pii) for c in _l(result.get("columns")))
    return f'<section id="columns"><h2>Columns</h2><div class="cards">{cards}</div></section>'


def _pairs(matrix: dict[str, Any]) -> list[tuple[str, str, float]]:
    names = [str(n) for n in _l(matrix.get("columns"))]
    values = _l(matrix.get("matrix"))
    pairs = []
    for i, row in enumerate(values):
        for j, value in enumerate(_l(row)):
            if j > i and isinstance(value, int | float) and abs(value) >= MIN_ASSOCIATION:
                pairs.append((names[i], names[j], float(value)))
    return sorted(pairs, key=lambda p: -abs(p[2]))[:MAX_PAIRS]


def _correlations(result: dict[str, Any]) -> str:
    corr = _d(result.get("correlations"))
    kinds = [
        ("Pearson", _pairs(_d(corr.get("pearson")))),
        ("Spearman", _pairs(_d(corr.get("spearman")))),
        ("Cramér's V", _pairs(_d(corr.get("cramers_v")))),
    ]
    ratios = [
        (str(r.get("categorical")), str(r.get("numeric")), float(r["value"]))
        for r in map(_d, _l(corr.get("correlation_ratio")))
        if isinstance(r.get("value"), int | float) and abs(r["value"]) >= MIN_ASSOCIATION
    ]
    kinds.append(("Correlation ratio (η)", sorted(ratios, key=lambda p: -abs(p[2]))[:MAX_PAIRS]))
    parts = ['<section id="correlations"><h2>Associations</h2>']
    parts.append(
        f"<p>Pairs with strength of at least {MIN_ASSOCIATION} in absolute value, strongest first.</p>"
    )
    for title, pairs in kinds:
        if not pairs:
            continue
        body = "".join(
            f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{v:+.3f}</td></tr>" for a, b, v in pairs
        )
        parts.append(
            f"<h3>{escape(title)}</h3><div class='scroll'><table class='grid'>"
            f"<tr><th>Column</th><th>Column</th><th>Value</th></tr>{body}</table></div>"
        )
    if len(parts) == 2:
        parts.append("<p>No pair is associated this strongly.</p>")
    return "".join(parts) + "</section>"


def _rows(sample: dict[str, Any], personal: set[str], include_pii: bool) -> str:
    names = [str(n) for n in _l(sample.get("columns"))]
    rows = _l(sample.get("rows"))[:MAX_SAMPLE_ROWS]
    if not names or not rows:
        return ""
    numbers = _l(sample.get("row_numbers"))
    head = ("<th>Row</th>" if numbers else "") + "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join(
        "<tr>"
        + (f"<td>{num(numbers[i] + 1)}</td>" if i < len(numbers) and isinstance(numbers[i], int) else "")
        + "".join(
            f"<td>{_shown(v, n in personal, include_pii)}</td>" for n, v in zip(names, _l(row), strict=False)
        )
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f'<div class="scroll"><table class="grid"><tr>{head}</tr>{body}</table></div>'


def _sample(result: dict[str, Any], include_pii: bool) -> str:
    personal = {str(_d(c).get("name")) for c in _l(result.get("columns")) if _d(c).get("pii")}
    parts = [
        (title, _rows(_d(result.get(key)), personal, include_pii))
        for key, title in (
            ("sample", "First rows"),
            ("sample_tail", "Last rows"),
            ("sample_random", "Random rows"),
        )
    ]
    shown = "".join(f"<h3>{title}</h3>{table}" for title, table in parts if table)
    if not shown:
        return ""
    return f'<section id="sample"><h2>Rows</h2>{shown}</section>'


def _scatter(result: dict[str, Any], include_pii: bool) -> str:
    personal = {str(_d(c).get("name")) for c in _l(result.get("columns")) if _d(c).get("pii")}
    plots = [
        _d(p)
        for p in _l(result.get("scatter"))
        if include_pii or not {str(_d(p).get("x")), str(_d(p).get("y"))} & personal
    ]
    drawn = [
        f"<figure>{charts.scatter(_l(p.get('points')), str(p.get('x')), str(p.get('y')))}"
        f"<figcaption>{escape(str(p.get('y')))} against {escape(str(p.get('x')))} · r = "
        f"{num(p.get('pearson'))} · {num(p.get('rows_sampled'))} rows</figcaption></figure>"
        for p in plots
        if _l(p.get("points"))
    ]
    if not drawn:
        return ""
    return (
        '<section id="scatter"><h2>Related pairs</h2><p>Each dot is a row of a random sample of the table.</p>'
        f'<div class="cards">{"".join(drawn)}</div></section>'
    )


def render_report(result: dict[str, Any], meta: ReportMeta) -> bytes:
    """The whole report as UTF-8 HTML bytes."""
    title = f"Sonda report: {meta.filename or meta.analysis_id}"
    privacy = (
        "Values of personal-data columns are shown as requested by the data's owner."
        if meta.include_pii
        else "Values of personal-data columns are masked (their shape only)."
    )
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p class='meta'>Analysis <code>{escape(meta.analysis_id)}</code>"
        f", completed {escape(meta.completed_at or '—')}. {escape(privacy)}</p>"
        "<nav><a href='#overview'>Overview</a> <a href='#alerts'>Alerts</a> <a href='#missing'>Missing</a>"
        " <a href='#duplicates'>Duplicates</a> <a href='#columns'>Columns</a>"
        " <a href='#correlations'>Associations</a> <a href='#sample'>Rows</a></nav>"
        "</header><main>"
    )
    body = (
        _overview(result)
        + _alerts(result)
        + _missing(result)
        + _duplicates(result, meta.include_pii)
        + _columns(result, meta.include_pii)
        + _correlations(result)
        + _scatter(result, meta.include_pii)
        + _sample(result, meta.include_pii)
    )
    return (
        head + body + "</main><footer>Made by Sonda from the stored profile.</footer></body></html>"
    ).encode()
