"""Alert parity with ydata-profiling: the same public tables through both, alerts compared.

The tables ship with installed packages (statsmodels' datasets and test data, matplotlib's sample
data), so nothing is downloaded. ydata-profiling runs in a child process with its default settings
except the parts that raise none of the compared alerts (correlations, missing-value diagrams,
interactions, samples, duplicates), so its imports and warnings stay out of the test process.

Run as ``python -m tests.analyzer.engine.alert_parity FOLDER`` it is that child: it writes the
tables into FOLDER and prints ydata's alerts as JSON.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: ydata-profiling's alert types and the Sonda alert that says the same thing.
COMPARED = {
    "MISSING": ("missing", "empty_column"),  # a column with no value is ydata's 100 % missing
    "ZEROS": ("zeros",),
    "IMBALANCE": ("imbalance",),
    "CONSTANT": ("constant",),
    "UNIQUE": ("unique",),
    "SKEWED": ("skewed",),
    "HIGH_CARDINALITY": ("high_cardinality",),
}

STATSMODELS_DATASETS = (
    "anes96", "ccard", "china_smoking", "co2", "committee", "copper", "cpunish", "danish_data",
    "elnino", "fair", "fertility", "interest_inflation", "longley", "macrodata", "modechoice", "nile",
    "randhie", "scotland", "star98", "statecrime", "sunspots",
)  # fmt: skip
#: Test data of statsmodels and matplotlib's sample data: tables with text columns and gaps.
PACKAGE_FILES = (
    ("statsmodels", "gam/tests/results/autos.csv"),
    ("statsmodels", "stats/tests/results/framing.csv"),
    ("statsmodels", "treatment/tests/results/cataneo2.csv"),
    ("statsmodels", "othermod/tests/results/methylation-test.csv"),
    ("statsmodels", "multivariate/tests/results/mvreg.csv"),
    ("statsmodels", "genmod/tests/results/epil.csv"),
    ("statsmodels", "genmod/tests/results/stata_lbw_glm.csv"),
    ("statsmodels", "stats/tests/results/anova-rm-test-data.csv"),
    ("statsmodels", "regression/tests/results/pastes.csv"),
    ("statsmodels", "tsa/statespace/tests/results/results_var_stata.csv"),
    ("statsmodels", "tsa/statespace/tests/results/frbny_nowcast/Nowcasting/data/US/2016-06-29.csv"),
    ("matplotlib", "mpl-data/sample_data/msft.csv"),
)


def export_datasets(folder: Path) -> list[Path]:
    """Every table as a plain CSV written by pandas, the one file both profilers read (run in the
    child: statsmodels and matplotlib warn on import, which the test process treats as errors)."""
    import importlib
    import importlib.util

    smd = importlib.import_module("statsmodels.datasets")  # untyped: no stubs

    def root(package: str) -> Path:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None, package
        return Path(spec.origin).parent

    paths = []
    for name in STATSMODELS_DATASETS:
        frame = getattr(smd, name).load_pandas().data
        paths.append(folder / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    for package, relative in PACKAGE_FILES:
        frame = pd.read_csv(root(package) / relative)
        paths.append(folder / Path(relative).name)
        frame.to_csv(paths[-1], index=False)
    return paths


def ydata_alerts(folder: Path) -> tuple[list[Path], dict[str, list[tuple[str, str]]]]:
    """The tables, written into ``folder``, and ydata-profiling's compared alerts for each, both
    from a child process."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.analyzer.engine.alert_parity", str(folder)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    raw: dict[str, list[list[str]]] = json.loads(done.stdout.strip().splitlines()[-1])
    alerts = {name: [(a[0], a[1]) for a in found] for name, found in raw.items()}
    return [folder / name for name in raw], alerts


@dataclass(frozen=True, slots=True)
class Row:
    dataset: str
    ydata: int
    raised: int
    missed: list[tuple[str, str]]
    by_type: dict[str, tuple[int, int]]


def compare(paths: list[Path], theirs: dict[str, list[tuple[str, str]]]) -> list[Row]:
    from sonda_analyzer.engine import profile_file

    rows = []
    for path in paths:
        ours = {(a.type, a.column) for a in profile_file(path).alerts}
        missed = []
        by_type: dict[str, tuple[int, int]] = {}
        for kind, column in theirs[path.name]:
            hit = any((same, column) in ours for same in COMPARED[kind])
            if not hit:
                missed.append((kind, column))
            seen, raised = by_type.get(kind, (0, 0))
            by_type[kind] = (seen + 1, raised + hit)
        n = len(theirs[path.name])
        rows.append(Row(path.stem, n, n - len(missed), missed, by_type))
    return rows


def table(rows: list[Row]) -> str:
    """A Markdown table: per data set, then per alert type, then the total."""
    lines = ["| data set | ydata alerts | Sonda raises too | share |", "|---|---:|---:|---:|"]
    for r in rows:
        share = f"{r.raised / r.ydata:.0%}" if r.ydata else "-"
        lines.append(f"| {r.dataset} | {r.ydata} | {r.raised} | {share} |")
    lines += ["", "| alert | ydata | Sonda raises too | share |", "|---|---:|---:|---:|"]
    for kind in COMPARED:
        seen = sum(r.by_type.get(kind, (0, 0))[0] for r in rows)
        raised = sum(r.by_type.get(kind, (0, 0))[1] for r in rows)
        if seen:
            lines.append(f"| {kind.lower()} | {seen} | {raised} | {raised / seen:.1%} |")
    total, hit = sum(r.ydata for r in rows), sum(r.raised for r in rows)
    lines.append(f"| **all** | **{total}** | **{hit}** | **{hit / total:.1%}** |")
    return "\n".join(lines)


def _child(folder: Path) -> None:
    # ydata-profiling 4.x imports pkg_resources only for package versions; without setuptools,
    # importlib.metadata stands in (as in bench/analyzer.py).
    shim = types.ModuleType("pkg_resources")
    shim.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
        version=importlib.metadata.version(name)
    )
    sys.modules.setdefault("pkg_resources", shim)
    warnings.simplefilter("ignore")
    from ydata_profiling import ProfileReport

    out: dict[str, list[tuple[str, str]]] = {}
    for path in export_datasets(folder):
        report = ProfileReport(
            pd.read_csv(path),
            progress_bar=False,
            pool_size=1,
            correlations=None,
            missing_diagrams=None,
            interactions=None,
            samples=None,
            duplicates=None,
        )
        out[path.name] = [
            (a.alert_type.name, str(a.column_name))
            for a in report.description_set.alerts
            if a.alert_type.name in COMPARED
        ]
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
