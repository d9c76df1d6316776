"""Streaming summaries fed chunk by chunk, each against numpy's or pandas' figure of the whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sonda_analyzer.engine.extremes import ExtremesAcc, K
from sonda_analyzer.engine.numeric import FEW_DISTINCT, numeric_stats
from sonda_analyzer.engine.options import AlertThresholds
from sonda_analyzer.engine.rowhash import text_hashes
from sonda_analyzer.engine.sketches import (
    EXACT_DISTINCT,
    THIN_RUN,
    DistinctNumbers,
    ThinnedKll,
    ValueCounts,
    kll_pmf_error,
    kll_rank_error,
    repeated,
    thinning_error,
)
from sonda_analyzer.engine.stream_assoc import SPEARMAN_SAMPLE, StreamAssociations
from sonda_analyzer.engine.stream_columns import DatetimeAcc, NumericAcc, Settings
from sonda_analyzer.engine.stream_text import StringAcc
from sonda_analyzer.engine.temporal import profile_datetime


def _chunks(values: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    cuts = np.sort(rng.choice(np.arange(1, len(values)), size=min(len(values) - 1, 9), replace=False))
    return np.split(values, cuts)


@pytest.mark.parametrize("seed", range(60))
def test_distinct_numbers_over_chunks_are_numpys_unique_of_the_whole_column(seed: int) -> None:
    """Each chunk's values are put among the sorted ones counted so far: integers, whole numbers
    in floats, both zeros, NaNs (two payloads), infinities, a chunk with none and a late chunk
    that takes the counts past the cap; the values and counts are ``np.unique``'s of the whole."""
    rng = np.random.default_rng(seed)
    kind = seed % 3
    n = int(rng.integers(2, 5_000))
    if kind == 0:
        values = rng.integers(-(2**40), 2**40, size=n) // int(rng.choice([1, 2**20, 2**38]))
    else:
        pool = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.5, -2.25, 1e300, 5e-324])
        values = np.where(
            rng.random(n) < 0.3, rng.choice(pool, n), rng.normal(size=n).round(int(rng.integers(0, 4)))
        )
    chunks = [*_chunks(values, rng), values[:0]]
    if seed % 5 == 0:  # past the cap, in the last chunk
        chunks.append(rng.normal(size=EXACT_DISTINCT) if kind else np.arange(EXACT_DISTINCT) + 2**41)
    counter = DistinctNumbers()
    for chunk in chunks:
        counter.update(chunk)
    whole = np.concatenate(chunks)
    truth, truth_counts = np.unique(whole, return_counts=True)
    if counter.exact:
        assert counter.values is not None
        assert np.array_equal(counter.values, truth, equal_nan=True)
        assert counter.counts.tolist() == truth_counts.tolist()
        assert counter.estimate() == len(truth)
    else:
        assert counter.dropped is not None
        dropped, dropped_counts = counter.dropped
        assert np.array_equal(dropped, truth, equal_nan=True)
        assert dropped_counts.tolist() == truth_counts.tolist()


@pytest.mark.parametrize("seed", range(40))
def test_extremes_over_chunks_are_the_whole_columns(seed: int) -> None:
    """Ties at the ends, ends that first show up in a late chunk, chunks with fewer than k values:
    the merged ends and their counts are those of the whole column."""
    rng = np.random.default_rng(seed)
    kind = seed % 4
    n = int(rng.integers(2, 4_000))
    if kind == 0:
        values = rng.integers(-6, 7, size=n).astype(np.float64)  # few values, many ties
    elif kind == 1:
        values = rng.normal(size=n)
    elif kind == 2:  # the smallest and largest values only in the last rows
        values = np.concatenate([rng.integers(0, 50, size=n).astype(np.float64), [-9.0, -9.0, 99.0]])
    else:
        values = np.round(rng.exponential(size=n), 1) * rng.choice([-1.0, 1.0], size=n)
    acc = ExtremesAcc()
    for chunk in _chunks(values, rng):
        acc.update(chunk)
    found = acc.finish()
    assert found is not None
    counts = pd.Series(values).value_counts().sort_index()
    assert [(x.value, x.count) for x in found.smallest] == [
        (float(v), int(c)) for v, c in counts.head(K).items()
    ]
    assert [(x.value, x.count) for x in found.largest] == [
        (float(v), int(c)) for v, c in counts.tail(K)[::-1].items()
    ]


@pytest.mark.parametrize("distinct", [1, 2, FEW_DISTINCT, FEW_DISTINCT + 1, 500])
def test_few_values_are_listed_with_their_counts_while_few(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    values = rng.choice(np.arange(distinct, dtype=np.float64) * 1.5 - 3.0, size=20_000)
    values[rng.random(len(values)) < 0.1] = np.nan
    acc = NumericAcc("x", pa.float64())
    for chunk in _chunks(values, rng):
        acc.update(pa.array(chunk, from_pandas=True))
    profile, _ = acc.finish(Settings(bins=10, top_k=20, thresholds=AlertThresholds()))
    truth = pd.Series(values).value_counts()
    assert profile.distinct == len(truth)
    if len(truth) > FEW_DISTINCT:
        assert profile.top_values is None
    else:
        assert profile.top_values is not None
        assert {t.value: t.count for t in profile.top_values} == {float(v): int(c) for v, c in truth.items()}


def test_counts_past_the_cap_keep_the_frequent_values_within_the_stated_error() -> None:
    """The switch to the sketch leaves out the values seen once so far; the heavy values' counts
    stay within max_error of the truth, and none of them is missed."""
    rng = np.random.default_rng(3)
    singles = [f"id-{i}" for i in range(EXACT_DISTINCT + 20_000)]
    heavy = [f"heavy-{i}" for i in range(8)]
    column = np.array(singles + list(rng.choice(heavy, size=30_000)), dtype=object)
    rng.shuffle(column)
    counts = ValueCounts()
    for chunk in np.array_split(column, 6):
        encoded = pa.array(chunk).dictionary_encode()
        per_value = np.bincount(encoded.indices.to_numpy(), minlength=len(encoded.dictionary))
        if counts.exact:
            counts.add_exact(encoded.dictionary, per_value)
        else:
            repeated = per_value >= 2
            counts.add_sketch(
                encoded.dictionary.filter(pa.array(repeated)).to_pylist(),
                per_value[repeated].tolist(),
                text_hashes(encoded.dictionary),
            )
    assert not counts.exact
    truth = pd.Series(column).value_counts()
    top = dict(counts.top(len(heavy)))
    assert set(top) == set(heavy)
    for value, count in top.items():
        assert abs(count - int(truth[value])) <= counts.max_error()


@pytest.mark.parametrize("repeats", [0, 40, 30_000])
def test_text_chunks_encoded_from_hashes_profile_as_arrows_dictionary_does(repeats: int) -> None:
    """Chunks of nearly unique strings are encoded from their hashes once a chunk was distinct
    enough; the profile is the one Arrow's dictionary gives, and its figures are pandas'."""
    rng = np.random.default_rng(repeats)
    values = [f"user.{i}@example.com" for i in range(60_000)]
    column = np.array(values + list(rng.choice(values, size=repeats)) + [None] * 500, dtype=object)
    rng.shuffle(column)
    settings = Settings(bins=10, top_k=10, thresholds=AlertThresholds())
    hashed, plain = StringAcc("email"), StringAcc("email")
    for chunk in np.array_split(column, 7):
        arr = pa.array(chunk, pa.string())
        hashed.update(arr, settings.thresholds)
        plain.distinct_share = 0.0  # always Arrow's dictionary
        plain.update(arr, settings.thresholds)
    by_hash, _ = hashed.finish(settings)
    by_dictionary, _ = plain.finish(settings)
    assert by_hash == by_dictionary
    truth = pd.Series(column).dropna()
    assert by_hash.count == len(truth)
    assert by_hash.text is not None and by_hash.text.length_mean == pytest.approx(truth.str.len().mean())
    assert by_hash.semantic_validity == {"email": 1.0}


@pytest.mark.parametrize("distinct", [3_000, 2 * EXACT_DISTINCT])
def test_text_figures_over_chunks_are_the_whole_columns(distinct: int) -> None:
    """Lengths, words and semantic validity of a text column fed in chunks: summed once at the end
    while its values are counted exactly, and from the switch on chunk by chunk (the values
    counted before the switch among them) -- pandas' figures of the whole column either way."""
    rng = np.random.default_rng(distinct)
    ids = rng.permutation(np.concatenate([np.arange(distinct), rng.integers(0, distinct, size=30_000)]))
    n = len(ids)
    mail = np.array([f"user.{i}@example.com" for i in range(distinct)], dtype=object)
    text = np.array([f"note {i} " + "word " * (i % 5) for i in range(distinct)], dtype=object)
    settings = Settings(bins=10, top_k=10, thresholds=AlertThresholds())
    for values, is_mail in ((mail[ids], True), (text[ids], False)):
        values[rng.random(n) < 0.3] = "not an address"  # 30 % invalid, one value
        values[rng.random(n) < 0.02] = None
        acc = StringAcc("contact")
        for chunk in _chunks(values, rng):
            acc.update(pa.array(chunk, pa.string()), settings.thresholds)
        assert acc.counts.exact == (distinct < EXACT_DISTINCT)
        profile, _ = acc.finish(settings)
        truth = pd.Series(values).dropna()
        lengths = truth.str.len()
        assert profile.text is not None
        assert (profile.text.length_min, profile.text.length_max) == (lengths.min(), lengths.max())
        assert profile.text.length_mean == pytest.approx(lengths.mean())
        if profile.text.words_mean is not None:
            assert profile.text.words_mean == pytest.approx(truth.str.split().str.len().mean())
        if is_mail:
            share = float(truth.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+").mean())
            assert profile.semantic_validity == {"email": pytest.approx(share, abs=1e-6)}


def test_spearman_sample_is_the_rows_with_the_smallest_keys_of_the_whole_file() -> None:
    """The sample is trimmed only now and then; it is still exactly the rows whose random keys
    are the smallest of all rows (keys drawn as the class draws them), missing values kept."""
    rng = np.random.default_rng(8)
    n = 2 * SPEARMAN_SAMPLE + 50_001
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    table = pa.table({"x": x, "y": pa.array(y, from_pandas=True)})
    assoc = StreamAssociations(["x", "y"], [], seed=11)
    keys = np.random.default_rng(11)
    drawn = []
    start = 0
    for size in [SPEARMAN_SAMPLE // 3, SPEARMAN_SAMPLE, 7, 60_000, n]:
        chunk = table.slice(start, size)
        if chunk.num_rows == 0:
            break
        assoc.update(chunk)
        drawn.append(keys.random(chunk.num_rows))
        start += chunk.num_rows
    smallest = np.sort(np.argpartition(np.concatenate(drawn), SPEARMAN_SAMPLE)[:SPEARMAN_SAMPLE])
    got = assoc.sample
    expected = np.column_stack([x[smallest], y[smallest]])
    order = np.lexsort((np.nan_to_num(got[:, 1], nan=np.inf), got[:, 0]))
    want = np.lexsort((np.nan_to_num(expected[:, 1], nan=np.inf), expected[:, 0]))
    np.testing.assert_allclose(got[order], expected[want], rtol=0, atol=1e-12)


SETTINGS = Settings(bins=12, top_k=10, thresholds=AlertThresholds())


@pytest.mark.parametrize("seed", range(6))
def test_numbers_with_few_distinct_values_get_the_exact_figures(seed: int) -> None:
    """While every value is counted (up to EXACT_DISTINCT distinct ones), the streamed quantiles,
    median, MAD, IQR outliers, histogram and ends are exact mode's, and none is approximate."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1_000, 60_000))
    values = np.round(rng.gamma(2.0, 30.0, size=n), seed % 3) - 20.0
    values[rng.random(n) < 0.05] = np.nan
    if seed % 2:
        values[:3] = [np.inf, -np.inf, -0.0]
    acc = NumericAcc("x", pa.float64())
    for chunk in _chunks(values, rng):
        acc.update(pa.array(chunk, from_pandas=True))
    streamed, approximate = acc.finish(SETTINGS)
    stats, histogram, count, distinct = numeric_stats(values, SETTINGS.bins)
    assert approximate == set()
    assert (streamed.count, streamed.distinct) == (count, distinct)
    assert streamed.stats is not None and stats is not None
    for key in ("median", "iqr", "mad", "outliers_iqr", "quantiles", "extremes", "min", "max"):
        assert getattr(streamed.stats, key) == getattr(stats, key), key
    assert streamed.histogram == histogram
    finite = values[np.isfinite(values)]
    assert streamed.stats.median == np.median(finite)
    assert streamed.stats.mad == np.median(np.abs(finite - np.median(finite)))
    assert streamed.stats.quantiles.p95 == np.quantile(finite, 0.95)


def test_numbers_past_the_cap_keep_every_value_in_the_sketch() -> None:
    """A column whose distinct values pass the cap only after some chunks: the sketch that takes
    over holds the rows counted before too (its quantiles stay within the stated rank error)."""
    rng = np.random.default_rng(12)
    narrow = rng.integers(0, 50, size=200_000).astype(np.float64)
    wide = rng.normal(1_000.0, 10.0, size=100_000)
    values = np.concatenate([narrow, wide])
    acc = NumericAcc("x", pa.float64())
    for chunk in np.array_split(values, 12):
        acc.update(pa.array(chunk))
    streamed, approximate = acc.finish(SETTINGS)
    assert "quantiles" in approximate and streamed.stats is not None
    assert acc.sketch.n == len(values)
    bound = kll_rank_error() + thinning_error()
    x = np.sort(values)
    q = streamed.stats.quantiles
    for p, value in [(0.05, q.p5), (0.5, q.p50), (0.75, q.p75), (0.95, q.p95)]:
        assert value is not None
        lo = np.searchsorted(x, value, side="left") / len(x)
        hi = np.searchsorted(x, value, side="right") / len(x)
        assert lo - bound <= p <= hi + bound, p
    counts = pd.Series(values).value_counts().sort_index()
    assert streamed.stats.extremes is not None
    assert [(e.value, e.count) for e in streamed.stats.extremes.smallest] == [
        (float(v), int(c)) for v, c in counts.head(K).items()
    ]


@pytest.mark.parametrize("block", [1, 3, 1 << 16])
def test_repeated_in_blocks_is_numpys_repeat(block: int) -> None:
    rng = np.random.default_rng(block)
    values = rng.normal(size=40)
    counts = rng.integers(0, 9, size=40)
    counts[5] = 100
    pieces = list(repeated(values, counts, block))
    assert all(len(p) <= block for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), np.repeat(values, counts))


def test_instants_with_few_distinct_values_get_the_exact_histogram() -> None:
    rng = np.random.default_rng(2)
    days = np.datetime64("2020-01-01") + rng.integers(0, 3_000, size=50_000).astype("timedelta64[D]")
    arr = pa.array(days)
    acc = DatetimeAcc("d", arr.type)
    for chunk in _chunks(np.arange(len(days)), rng):
        acc.update(arr.take(pa.array(chunk)))
    streamed, approximate = acc.finish(SETTINGS)
    exact = profile_datetime("d", pa.chunked_array([arr]), len(days), SETTINGS.bins).profile
    assert approximate == set()
    assert streamed.datetime == exact.datetime


@pytest.mark.parametrize("kind", ["normal", "ascending", "descending", "few values", "one value"])
def test_the_thinned_sketch_keeps_every_rank_within_its_stated_bound(kind: str) -> None:
    """Ranks and bin shares from the thinned sketch against numpy's, for values in orders and
    shapes that would hurt a thinning that was not bounded whatever the values."""
    rng = np.random.default_rng(21)
    n = 5 * THIN_RUN + 12_345  # a short last run
    values = {
        "normal": rng.normal(size=n),
        "ascending": np.arange(n, dtype=np.float64),
        "descending": np.arange(n, 0, -1, dtype=np.float64),
        "few values": rng.integers(0, 7, size=n).astype(np.float64),
        "one value": np.full(n, 3.5),
    }[kind]
    sketch = ThinnedKll()
    for piece in np.array_split(values, 23):  # chunks that do not line up with the runs
        sketch.update(piece)
    assert sketch.n == n and sketch.is_estimation_mode()
    kll = sketch.finished()
    assert kll.n * 8 == pytest.approx(n, abs=8 * 8)  # an eighth of each run, give or take one
    ordered = np.sort(values)
    probes = np.quantile(values, np.linspace(0, 1, 41))
    rank_bound = kll_rank_error() + thinning_error()
    for x in probes:
        true = np.searchsorted(ordered, x, side="right") / n
        assert abs(kll.get_rank(float(x), True) - true) <= rank_bound, x
    edges = sorted(set(np.quantile(values, [0.1, 0.3, 0.6, 0.9]).tolist()))
    counts = np.histogram(values, bins=[-np.inf, *edges, np.inf])[0]
    for share, true in zip(kll.get_pmf(edges), counts / n, strict=True):
        assert abs(share - true) <= kll_pmf_error() + thinning_error()
    for p in (0.01, 0.25, 0.5, 0.75, 0.99):
        q = kll.get_quantiles([p])[0]
        lo = np.searchsorted(ordered, q, side="left") / n
        hi = np.searchsorted(ordered, q, side="right") / n
        assert lo - rank_bound <= p <= hi + rank_bound, p
