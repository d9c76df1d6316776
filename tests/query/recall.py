"""Facts recall of the LLM summary: which share of a table's basic facts an agent can read from it.

Basic facts: the row count, every column's name and missing share, and each numeric column's min,
mean and max. Tables are generated with known content, their truth computed with pandas, profiled by
the real engine and summarised; a fact counts when the summary states it to its own precision (a
figure shown as ``95,154`` is right for any true value in [95,153.5, 95,154.5]).

Run ``uv run --frozen python -m tests.query.recall`` to print the table published in
docs/llm-summary.md.
"""

from __future__ import annotations

import importlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
from sonda_analyzer.engine.profile import profile_file
from sonda_query.llm.render import Meta, summarize
from sonda_query.llm.tokens import Tokenizer

WIDTHS = (5, 20, 50, 200)
BUDGETS = (1500, 800)
ROWS = 400
META = Meta(
    analysis_id="recall", filename="table.csv", file_key="uploads/recall/table.csv", completed_at=None
)
_STEMS = {
    "numeric": ("renda_familiar", "idade", "valor_total", "taxa_juros", "peso_kg", "quantidade", "saldo"),
    "categorical": ("regiao", "estado_civil", "categoria", "canal_venda", "plano"),
    "datetime": ("data_cadastro", "data_pedido"),
    "boolean": ("ativo", "inadimplente"),
    "identifier": ("codigo_cliente",),
}
_NUMBER = r"-?\d{1,3}(?:,\d{3})*(?:\.\d+)?|-?\d+(?:\.\d+)?"


def _kinds(width: int) -> list[str]:
    cycle = ["numeric", "categorical", "numeric", "datetime", "numeric", "boolean", "numeric", "categorical"]
    kinds = [cycle[i % len(cycle)] for i in range(width)]
    kinds[min(1, width - 1)] = "identifier"
    return kinds


def table(width: int, *, rows: int = ROWS, seed: int = 14) -> pd.DataFrame:
    """A table of ``width`` columns: numbers of many scales, categories, dates, flags, one code."""
    rng = np.random.default_rng(seed + width)
    data: dict[str, Any] = {}
    for i, kind in enumerate(_kinds(width)):
        stems = _STEMS[kind]
        name = f"{stems[i % len(stems)]}_{i + 1}"
        if kind == "numeric":
            scale = 10.0 ** rng.integers(-3, 7)
            values: Any = rng.gamma(2.0, scale, rows) * rng.choice([1, -1], p=[0.8, 0.2])
            if rng.random() < 0.4:
                values = np.round(values).astype(float)
        elif kind == "categorical":
            labels = [f"grupo {chr(65 + k)}" for k in range(int(rng.integers(2, 8)))]
            values = rng.choice(labels, rows).astype(object)
        elif kind == "datetime":
            start = np.datetime64("2020-01-01") + int(rng.integers(0, 900))
            values = (start + rng.integers(0, 1500, rows)).astype("datetime64[D]").astype(str).astype(object)
        elif kind == "boolean":
            values = rng.choice(["true", "false"], rows).astype(object)
        else:
            values = np.array([f"CL-{k:06d}" for k in rng.permutation(rows)], dtype=object)
        missing = rng.random(rows) < (rng.choice([0.0, 0.02, 0.15, 0.4]) if kind != "identifier" else 0.0)
        series = pd.Series(values)
        series[missing] = None if series.dtype == object else np.nan
        data[name] = series
    return pd.DataFrame(data)


@dataclass
class Recall:
    facts: int
    found: int
    #: The facts that were missing or wrong, for a failing test's message.
    misses: list[str]

    @property
    def share(self) -> float:
        return self.found / self.facts


def _close(shown: str | None, truth: float) -> bool:
    """``shown`` states ``truth`` to its own precision (half a unit of its last digit)."""
    if shown is None:
        return False
    digits = shown.replace(",", "").rstrip("%")
    try:
        value = float(digits)
    except ValueError:
        return False
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return abs(value - truth) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-12 * abs(truth)


def _markdown_facts(text: str, name: str) -> dict[str, str | None] | None:
    """The column's line or table row in a Markdown summary, read as a reader would."""
    quoted = json.dumps(name, ensure_ascii=False)
    for line in text.splitlines():
        if line.startswith(f"- {quoted} "):
            found = {}
            for label in ("missing", "min", "mean", "max"):
                match = re.search(rf"(?:^|, ){label} ({_NUMBER})%?(?:,|$)", line[len(quoted) + 3 :])
                found[label] = match.group(1) if match else None
            return found
        if line.startswith(f"{quoted}|"):
            cells = line[len(quoted) + 1 :].split("|")
            return {k: cells[i] or None for i, k in ((1, "missing"), (2, "min"), (3, "mean"), (4, "max"))}
    return None


def _json_facts(document: dict[str, Any], name: str) -> dict[str, str | None] | None:
    table = document.get("column_table") or {}
    rows = [dict(zip(table["fields"], row, strict=True)) for row in table.get("rows", [])]
    for column in document.get("columns", rows):
        if column.get("name") == name:
            return {
                k: column.get(key) if isinstance(column.get(key), str) else None
                for k, key in (("missing", "missing_pct"), ("min", "min"), ("mean", "mean"), ("max", "max"))
            }
    return None


def recall(frame: pd.DataFrame, text: str, *, fmt: str = "markdown") -> Recall:
    # Figures as written (strings), so each is judged to the precision it was given with.
    document = json.loads(text, parse_float=str, parse_int=str) if fmt == "json" else None
    found, facts, misses = 0, 1, []
    if document is not None:
        rows_ok = document.get("dataset", {}).get("rows") == str(len(frame))
    else:
        rows_ok = f"{len(frame):,} rows" in text
    found += rows_ok
    misses += [] if rows_ok else ["rows"]
    for name in frame.columns:
        column = frame[name]
        shown = _json_facts(document, name) if document is not None else _markdown_facts(text, name)
        numeric = column.dtype.kind in "fiu" and bool(column.notna().any())  # an empty column has no min
        truths = {"missing": 100.0 * column.isna().mean()}
        if numeric:
            truths |= {"min": column.min(), "mean": column.mean(), "max": column.max()}
        facts += 1 + len(truths)
        if shown is None:
            misses.append(f"{name}: not shown")
            continue
        found += 1
        for label, truth in truths.items():
            if _close(shown.get(label), float(truth)):
                found += 1
            else:
                misses.append(f"{name}.{label}: shown {shown.get(label)!r}, true {truth!r}")
    return Recall(facts=facts, found=found, misses=misses)


#: Real tables shipped with statsmodels (its data sets, as CSV files): 10 to 58 columns.
#: statsmodels comes with the dev group's ydata-profiling (the alert-parity reference).
REAL = ("randhie", "macrodata", "star98", "fertility")
#: Profile options per table: fertility's header is all years (numbers), which the analyzer's
#: header detection takes for data; the row is named the header, as a user would.
OPTIONS: dict[str, dict[str, Any]] = {"fertility": {"header_row": 0}}


def real_table(name: str) -> Path:
    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return Path(module.__file__).parent / f"{name}.csv"  # type: ignore[arg-type]


def measure_file(
    path: Path, budget: int, fmt: str, tokenizer: Tokenizer, options: dict[str, Any] | None = None
) -> tuple[Recall, int, str]:
    """Recall for a CSV file as it is: the truth is pandas' reading of the same file."""
    frame = pd.read_csv(path)
    result: dict[str, Any] = msgspec.to_builtins(profile_file(path, options))
    summary = summarize(result, META, fmt=fmt, max_tokens=budget, tokenizer=tokenizer)  # type: ignore[arg-type]
    return (
        recall(frame, summary.text, fmt="json" if fmt == "json" else "markdown"),
        summary.tokens,
        summary.layout,
    )


def profiled(frame: pd.DataFrame) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        frame.to_csv(path, index=False)
        result: dict[str, Any] = msgspec.to_builtins(profile_file(path))
        return result


def measure(width: int, budget: int, fmt: str, tokenizer: Tokenizer) -> tuple[Recall, int, str]:
    frame = table(width)
    summary = summarize(profiled(frame), META, fmt=fmt, max_tokens=budget, tokenizer=tokenizer)  # type: ignore[arg-type]
    return (
        recall(frame, summary.text, fmt="json" if fmt == "json" else "markdown"),
        summary.tokens,
        summary.layout,
    )


def main() -> None:
    tokenizer = Tokenizer()
    print("| table | columns | facts | format | max_tokens | tokens | layout | facts found | recall |")
    print("|---|---:|---:|---|---:|---:|---|---:|---:|")
    runs: list[tuple[str, int, Any]] = [(f"generated {w}", w, w) for w in WIDTHS]
    runs += [(f"statsmodels {n}", len(pd.read_csv(real_table(n)).columns), n) for n in REAL]
    for label, width, source in runs:
        for fmt in ("markdown", "json"):
            for budget in BUDGETS:
                if isinstance(source, int):
                    found, tokens, layout = measure(source, budget, fmt, tokenizer)
                else:
                    found, tokens, layout = measure_file(
                        real_table(source), budget, fmt, tokenizer, OPTIONS.get(source)
                    )
                print(
                    f"| {label} | {width} | {found.facts} | {fmt} | {budget:,} | {tokens:,} | {layout} | "
                    f"{found.found} | {100 * found.share:.1f} % |"
                )


if __name__ == "__main__":
    main()
