"""Comparing two profiles: shifted and unshifted copies of one table, profiled by the real engine,
and every metric checked against scipy/numpy computed on what the profiles store.

The metrics work on stored figures, not on the data: a histogram is "uniform inside each bin" and
top values leave an "other" mass. So each metric is checked twice: exactly against an independent
computation on the same stored figures, and against the raw data within the bound the comparison
states (for Wasserstein: one bin width per side).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sonda_analyzer.engine import profile_dataframe, profile_file
from sonda_analyzer.engine.sketches import EXACT_DISTINCT
from sonda_query.compare import CompareOptions, Comparison, compare_results
from sonda_query.compare.model import ColumnDrift
from sonda_query.compare.stored import decode_for_comparison

ROWS = 8000
CITIES = ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Salvador", "Fortaleza", "Curitiba"]
CITIES += ["Recife", "Manaus", "Belém", "Goiânia", "Campinas", "Natal", "Maceió", "Teresina"]


def sales(rows: int = ROWS, seed: int = 11) -> pd.DataFrame:
    """A table like a monthly sales export: skewed prices with gaps, counts, a long-tailed city,
    a state code, a flag, a timestamp, a row number and free text."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(CITIES) + 1)
    price = rng.gamma(2.0, 40.0, rows).round(2)
    return pd.DataFrame(
        {
            "pedido": np.arange(1, rows + 1),
            "preço": np.where(rng.random(rows) < 0.08, np.nan, price),
            "peso": rng.normal(70.0, 12.0, rows),
            "quantidade": rng.poisson(3.0, rows),
            "cidade": rng.choice(CITIES, rows, p=weights / weights.sum()),
            "uf": rng.choice(["SP", "RJ", "MG", "BA"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "ativo": rng.random(rows) < 0.7,
            "data": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 90, rows), unit="s"),
            "comentário": [
                f"entrega {w} no dia {d}"
                for w, d in zip(
                    rng.choice(["rápida", "lenta", "ok"], rows), rng.integers(1, 29, rows), strict=True
                )
            ],
        }
    )


def profile(frame: pd.DataFrame) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(profile_dataframe(frame.reset_index(drop=True)))
    return result


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in result["columns"] if c["name"] == name)
    return found


def verdict(comparison: Comparison, name: str) -> ColumnDrift:
    return next(c for c in comparison.columns if c.name == name)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return sales()


@pytest.fixture(scope="module")
def halves(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(3).permutation(len(table))
    first, second = np.sort(order[: len(table) // 2]), np.sort(order[len(table) // 2 :])
    return table.iloc[first].reset_index(drop=True), table.iloc[second].reset_index(drop=True)


@pytest.fixture(scope="module")
def shifted(halves: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """The second half with some columns changed the way a broken export changes them."""
    rng = np.random.default_rng(5)
    frame = halves[1].copy()
    frame["preço"] = frame["preço"] * 1.5  # prices up by half
    frame["peso"] = frame["peso"] + 6.0  # half a standard deviation
    frame["cidade"] = rng.choice(CITIES, len(frame))  # the long tail flattened
    frame.loc[rng.random(len(frame)) < 0.3, "quantidade"] = np.nan  # 30% gone missing
    return frame


@pytest.fixture(scope="module")
def profiles(
    halves: tuple[pd.DataFrame, pd.DataFrame], shifted: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    return profile(halves[0]), profile(halves[1]), profile(shifted)


CHANGED = {"preço", "peso", "cidade", "quantidade"}


def test_an_analysis_compared_with_itself_shows_no_drift(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    base = profiles[0]
    comparison = compare_results(base, base)
    schema = comparison.schema
    assert (schema.added, schema.removed, schema.retyped, schema.renamed) == ([], [], [], [])
    assert [c.name for c in comparison.columns] == [c["name"] for c in base["columns"]]
    for drift in comparison.columns:
        assert not drift.drifted, drift
        assert drift.value in (None, 0.0), drift
        assert drift.detail.missing.change == 0.0
    assert not comparison.dataset_drift
    assert comparison.changes == []


def test_two_random_halves_of_one_table_show_no_drift(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    comparison = compare_results(profiles[0], profiles[1])
    assert comparison.schema.retyped == [] and comparison.schema.added == []
    drifted = [c.name for c in comparison.columns if c.drifted]
    assert drifted == []
    measured = {c.name for c in comparison.columns if c.value is not None}
    assert measured == {"preço", "peso", "quantidade", "cidade", "uf", "ativo", "data"}
    assert not comparison.dataset_drift
    assert comparison.drift.share == 0.0


def test_shifted_columns_drift_and_the_others_do_not(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    comparison = compare_results(profiles[0], profiles[2])
    drifted = {c.name for c in comparison.columns if c.drifted}
    assert drifted == CHANGED
    assert verdict(comparison, "quantidade").detail.missing.drifted
    assert verdict(comparison, "cidade").metric == "jensen_shannon"
    assert verdict(comparison, "peso").metric == "wasserstein"
    shared = len(comparison.columns)
    assert comparison.drift.drifted_columns == len(CHANGED)
    assert comparison.dataset_drift == (len(CHANGED) / shared >= 0.5)
    assert str(len(CHANGED)) in comparison.drift.rule
    # The person's list names every drifted column, the worst (prices up by half) first.
    assert comparison.changes[0].startswith("preço drifted")
    assert {line.split(" ")[0] for line in comparison.changes} == CHANGED
    # A stricter share turns the same figures into a dataset verdict.
    strict = compare_results(profiles[0], profiles[2], CompareOptions(drift_share=0.2))
    assert strict.dataset_drift and strict.drift.drifted_columns == len(CHANGED)


def _stored_cdf_samples(histogram: dict[str, Any], per_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Points spread evenly inside each stored bin, weighted by its count: the stored histogram
    read as "uniform inside each bin", for scipy."""
    edges = np.asarray(histogram["edges"], dtype=float)
    counts = np.asarray(histogram["counts"], dtype=float)
    offsets = (np.arange(per_bin) + 0.5) / per_bin
    points = (edges[:-1, None] + np.diff(edges)[:, None] * offsets[None, :]).ravel()
    weights = np.repeat(counts / per_bin, per_bin)
    return points, weights


@pytest.mark.parametrize("name", ["preço", "peso", "quantidade"])
def test_wasserstein_matches_scipy_on_the_stored_histograms_and_bounds_the_raw_distance(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    halves: tuple[pd.DataFrame, pd.DataFrame],
    shifted: pd.DataFrame,
    name: str,
) -> None:
    base, target = profiles[0], profiles[2]
    drift = verdict(compare_results(base, target), name)
    a, b = column(base, name)["histogram"], column(target, name)["histogram"]
    per_bin = 400
    u, uw = _stored_cdf_samples(a, per_bin)
    v, vw = _stored_cdf_samples(b, per_bin)
    expected = wasserstein_distance(u, v, uw, vw)
    widths = max(np.diff(a["edges"])) + max(np.diff(b["edges"]))
    # Discretising each bin into per_bin points moves each value at most half a step.
    assert drift.detail.wasserstein == pytest.approx(expected, abs=widths / per_bin)
    assert drift.detail.wasserstein_bound == pytest.approx(widths)
    assert drift.detail.wasserstein_normed == pytest.approx(
        drift.detail.wasserstein / column(base, name)["stats"]["std"]
    )
    raw = wasserstein_distance(halves[0][name].dropna(), shifted[name].dropna())
    assert abs(drift.detail.wasserstein - raw) <= drift.detail.wasserstein_bound


def test_wasserstein_of_datetimes_is_in_seconds(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]], halves: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    drift = verdict(compare_results(profiles[0], profiles[1]), "data")
    assert drift.metric == "wasserstein" and not drift.drifted
    seconds = [frame["data"].astype("int64") / 1e9 for frame in halves]
    raw = wasserstein_distance(*seconds)
    assert drift.detail.wasserstein is not None and drift.detail.wasserstein_bound is not None
    assert abs(drift.detail.wasserstein - raw) <= drift.detail.wasserstein_bound
    assert 0 < drift.detail.wasserstein_bound < 86400 * 90 / 5


def test_psi_matches_numpy_on_the_base_deciles(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    base, target = profiles[0], profiles[2]
    comparison = compare_results(base, target, CompareOptions(numeric_method="psi"))
    drift = verdict(comparison, "peso")
    assert (drift.metric, drift.threshold) == ("psi", 0.1)
    a, b = column(base, "peso")["histogram"], column(target, "peso")["histogram"]
    assert min(a["counts"]) > 0  # the premise of inverting the CDF with np.interp
    cum_a = np.concatenate(([0.0], np.cumsum(a["counts"]) / sum(a["counts"])))
    cum_b = np.concatenate(([0.0], np.cumsum(b["counts"]) / sum(b["counts"])))
    deciles = np.interp(np.arange(1, 10) / 10, cum_a, a["edges"])
    mass_a = np.diff(np.concatenate(([0.0], np.interp(deciles, a["edges"], cum_a), [1.0])))
    mass_b = np.diff(np.concatenate(([0.0], np.interp(deciles, b["edges"], cum_b), [1.0])))
    mass_a, mass_b = np.clip(mass_a, 1e-4, None), np.clip(mass_b, 1e-4, None)
    expected = float(np.sum((mass_b - mass_a) * np.log(mass_b / mass_a)))
    assert drift.value == pytest.approx(expected, rel=1e-9)
    assert drift.drifted
    unchanged = verdict(compare_results(base, profiles[1], CompareOptions(numeric_method="psi")), "peso")
    assert unchanged.value is not None and unchanged.value < 0.1 and not unchanged.drifted


def _stored_shares(base: dict[str, Any], target: dict[str, Any]) -> tuple[list[float], list[float], float]:
    """Shares of the union of listed values plus "other", as docs/compare.md states the rule: a
    value one side does not list is taken as unchanged there, capped by that side's smallest
    listed share and by its remaining "other" mass (largest values first)."""
    sides = [
        pd.Series({t["value"]: t["count"] / side["count"] for t in side["top_values"]})
        for side in (base, target)
    ]
    union = pd.concat(sides, axis=1).fillna(-1.0)
    union["key"] = union.max(axis=1)
    union = union.sort_values("key", ascending=False, kind="stable")
    left = [1.0 - side.sum() for side in sides]
    floors = [side.min() for side in sides]
    imputed = 0.0
    vectors: list[list[float]] = [[], []]
    for _, row in union.iterrows():
        for i in (0, 1):
            share = row[i]
            if share < 0:
                share = min(row[1 - i], floors[i], left[i])
                left[i] -= share
                imputed += share
            vectors[i].append(float(share))
    return vectors[0] + [left[0]], vectors[1] + [left[1]], imputed


@pytest.mark.parametrize("which", [1, 2])
def test_jensen_shannon_matches_scipy_on_the_stored_top_values(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    halves: tuple[pd.DataFrame, pd.DataFrame],
    shifted: pd.DataFrame,
    which: int,
) -> None:
    base, target = profiles[0], profiles[which]
    drift = verdict(compare_results(base, target), "cidade")
    a, b = column(base, "cidade"), column(target, "cidade")
    assert len(a["top_values"]) < a["distinct"]  # only the top is stored: an "other" mass exists
    p, q, imputed = _stored_shares(a, b)
    assert drift.value == pytest.approx(float(jensenshannon(p, q)), rel=1e-9)
    assert drift.detail.uncertain_mass == pytest.approx(imputed)
    assert drift.detail.other_base == pytest.approx(
        1.0 - sum(t["count"] for t in a["top_values"]) / a["count"]
    )
    # Every city counted in the raw data gives the same verdict.
    raw_a = halves[0]["cidade"].value_counts(normalize=True)
    raw_b = (halves[1] if which == 1 else shifted)["cidade"].value_counts(normalize=True)
    cities = sorted(set(raw_a.index) | set(raw_b.index))
    raw = float(jensenshannon(raw_a.reindex(cities, fill_value=0), raw_b.reindex(cities, fill_value=0)))
    assert drift.drifted == (raw > 0.1) == (which == 2)


def test_jensen_shannon_of_complete_lists_is_exact(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    halves: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Four states: every value is listed, so the stored figure is the raw data's."""
    drift = verdict(compare_results(profiles[0], profiles[1]), "uf")
    raw = [frame["uf"].value_counts(normalize=True).reindex(["SP", "RJ", "MG", "BA"]) for frame in halves]
    assert drift.value == pytest.approx(float(jensenshannon(raw[0], raw[1])), rel=1e-9)
    assert drift.detail.uncertain_mass == 0.0


def test_booleans_compare_their_true_share(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    base, target = profiles[0], profiles[1]
    drift = verdict(compare_results(base, target), "ativo")
    shares = [column(side, "ativo")["boolean"] for side in (base, target)]
    p, q = ([s["true"] / (s["true"] + s["false"]), s["false"] / (s["true"] + s["false"])] for s in shares)
    assert drift.value == pytest.approx(float(jensenshannon(p, q)), rel=1e-9)


def test_schema_changes_are_findings(table: pd.DataFrame) -> None:
    base = profile(table)
    changed = table.drop(columns=["uf"]).rename(columns={"peso": "peso_kg"})
    changed["desconto"] = np.linspace(0, 1, len(changed))
    changed["data"] = changed["data"].dt.strftime("%d/%m/%Y %H:%M")  # dates now written as text
    changed["quantidade"] = changed["quantidade"].map(lambda n: f"{n} un")
    comparison = compare_results(base, profile(changed))
    schema = comparison.schema
    assert {c.name for c in schema.removed} == {"uf", "peso"}
    assert {c.name for c in schema.added} == {"desconto", "peso_kg"}
    assert [(r.from_, r.to) for r in schema.renamed] == [("peso", "peso_kg")]
    retyped = {r.column: (r.from_, r.to) for r in schema.retyped}
    assert retyped.keys() == {"data", "quantidade"}
    assert retyped["data"][0] == "datetime" and retyped["quantidade"][0] == "numeric"
    for name in retyped:
        drift = verdict(comparison, name)
        assert (drift.metric, drift.drifted, drift.value) == ("type_change", True, None)
    assert comparison.changes[0] == "peso renamed to peso_kg (same statistics)"
    assert any(line.startswith("data changed type: datetime -> ") for line in comparison.changes)
    encoded = msgspec.json.decode(msgspec.json.encode(comparison))
    assert encoded["schema"]["retyped"][0].keys() == {"column", "from", "to"}


def test_a_csv_and_a_parquet_of_one_table_compare_equal(tmp_path: Path, table: pd.DataFrame) -> None:
    frame = table.drop(columns=["data"])  # CSV text vs Parquet timestamps are the formats' own business
    frame.to_csv(tmp_path / "vendas.csv", index=False)
    frame.to_parquet(tmp_path / "vendas.parquet", index=False)
    csv, parquet = (
        msgspec.to_builtins(profile_file(tmp_path / f"vendas.{ext}")) for ext in ("csv", "parquet")
    )
    assert (csv["dataset"]["format"], parquet["dataset"]["format"]) == ("csv", "parquet")
    comparison = compare_results(csv, parquet)
    assert comparison.schema.retyped == [] and comparison.schema.added == []
    assert [c.name for c in comparison.columns if c.drifted] == []


def test_streamed_profiles_say_their_bound(tmp_path: Path) -> None:
    """A streamed column with more distinct values than are counted exactly has sketched
    figures, and the comparison says their bound; a streamed column counted value by value has
    exact figures, and no bound is said."""
    rng = np.random.default_rng(8)
    n = EXACT_DISTINCT + 5_000
    frame = pd.DataFrame({"peso": rng.normal(70.0, 12.0, n), "quantidade": rng.integers(1, 20, n)})
    frame.to_csv(tmp_path / "a.csv", index=False)
    exact = msgspec.to_builtins(profile_file(tmp_path / "a.csv", {"streaming": False}))
    streamed = msgspec.to_builtins(profile_file(tmp_path / "a.csv", {"streaming": True}))
    assert streamed["dataset"]["approximate"]
    comparison = compare_results(exact, streamed)
    peso = verdict(comparison, "peso")
    assert peso.detail.approximate and not peso.drifted
    assert peso.detail.approximation is not None and "target:" in peso.detail.approximation
    assert "KLL" in peso.detail.approximation
    quantidade = verdict(comparison, "quantidade")
    assert not quantidade.detail.approximate and not quantidade.drifted
    exact_only = verdict(compare_results(exact, exact), "peso")
    assert not exact_only.detail.approximate and exact_only.detail.approximation is None


def test_values_of_personal_columns_are_masked(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    base, target = (msgspec.json.decode(msgspec.json.encode(p)) for p in (profiles[0], profiles[2]))
    column(base, "cidade")["pii"] = True
    comparison = compare_results(base, target)
    shown = verdict(comparison, "cidade").detail.top_changes
    assert shown
    for change in shown:
        assert isinstance(change.value, str) and not any(ch.isalnum() for ch in change.value)
    plain = verdict(compare_results(profiles[0], profiles[2]), "cidade").detail.top_changes
    assert plain and {c.value for c in plain} <= set(CITIES)


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"columns": "oops", "dataset": None},
        {"columns": [1, "x", None], "approximations": "no"},
        {"columns": [{"name": "peso", "type": "numeric", "histogram": {"edges": [1, "x"], "counts": [3]}}]},
        {"columns": [{"name": "cidade", "type": "categorical", "top_values": [{"value": "a"}], "count": 0}]},
        {"columns": [{"name": "peso", "type": "numeric", "histogram": {"edges": [2, 1], "counts": [5]}}]},
    ],
)
def test_a_malformed_result_never_crashes(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]], broken: dict[str, Any]
) -> None:
    # As the service reads a stored object: only the parts a comparison needs, or all of it.
    stored = decode_for_comparison(msgspec.json.encode(broken))
    for base, target in ((profiles[0], broken), (broken, profiles[0]), (stored, profiles[0])):
        comparison = compare_results(base, target)
        msgspec.json.encode(comparison)  # valid JSON, no NaN or infinity


def test_the_stored_parts_compare_like_the_whole_result(
    profiles: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    base, target = (decode_for_comparison(msgspec.json.encode(p)) for p in (profiles[0], profiles[2]))
    assert "sample" not in base and base["columns"] == profiles[0]["columns"]
    assert compare_results(base, target) == compare_results(profiles[0], profiles[2])
