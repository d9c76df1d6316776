"""HyperLogLog of streaming mode: its estimate against an exact count, within its stated bound."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sonda_analyzer.engine.hyperloglog import HyperLogLog, ranks
from sonda_analyzer.engine.rowhash import text_hashes
from sonda_analyzer.engine.sketches import HLL_LG_K, HLL_STDEVS, DistinctNumbers

BOUND = HyperLogLog.relative_error(HLL_LG_K, HLL_STDEVS)


@pytest.mark.parametrize("distinct", [1, 7, 300, 5_000, 40_000, 250_000, 2_000_000])
def test_estimate_within_the_bound_from_one_value_to_millions(distinct: int) -> None:
    """Small counts (where HyperLogLog's classic estimate needs linear counting) and large ones
    alike; the values come in chunks with repeats, as a streaming pass feeds them."""
    rng = np.random.default_rng(distinct)
    values = rng.choice(np.iinfo(np.int64).max, size=distinct, replace=False).astype(np.int64)
    stream = np.concatenate([values, rng.choice(values, size=distinct // 2 + 1)])
    rng.shuffle(stream)
    sketch = HyperLogLog(HLL_LG_K)
    for chunk in np.array_split(stream, 7):
        sketch.update(chunk.view(np.uint64))
    truth = len(np.unique(stream))
    assert truth == distinct
    assert abs(sketch.estimate() - truth) <= BOUND * truth


def test_strings_by_their_hashes() -> None:
    words = [f"user{i}@example.com" for i in range(120_000)]
    sketch = HyperLogLog(HLL_LG_K)
    sketch.update(text_hashes(pa.array(words + words[:5_000])))
    assert abs(sketch.estimate() - len(words)) <= BOUND * len(words)


def test_repeats_order_and_merging_change_nothing() -> None:
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, np.iinfo(np.int64).max, size=100_000).view(np.uint64)
    once = HyperLogLog(12)
    once.update(hashes)
    again = HyperLogLog(12)
    again.update(hashes[::-1])
    again.update(hashes[:50_000])
    assert np.array_equal(once.registers, again.registers)
    left, right = HyperLogLog(12), HyperLogLog(12)
    left.update(hashes[:60_000])
    right.update(hashes[40_000:])
    left.merge(right)
    assert np.array_equal(left.registers, once.registers)
    assert HyperLogLog(12).estimate() == 0.0
    with pytest.raises(ValueError):
        left.merge(HyperLogLog(13))


def test_the_estimate_is_never_above_the_values_given() -> None:
    """Sets of unique values, as a column of ids gives them: the raw estimate falls above the true
    count about half the time, but there are never more distinct values than values (merging
    adds what each side was given)."""
    rng = np.random.default_rng(12)
    for n in [100_000 + 7 * i for i in range(40)]:
        hashes = rng.choice(np.iinfo(np.int64).max, size=n, replace=False).view(np.uint64)
        sketch = HyperLogLog(HLL_LG_K)
        for chunk in np.array_split(hashes, 3):
            sketch.update(chunk)
        assert sketch.estimate() <= n
        assert abs(sketch.estimate() - n) <= BOUND * n
    left, right = HyperLogLog(HLL_LG_K), HyperLogLog(HLL_LG_K)
    left.update(np.arange(10, dtype=np.uint64))
    right.update(np.arange(10, 30, dtype=np.uint64))
    left.merge(right)
    assert left.estimate() == pytest.approx(30, abs=1)
    assert left.given == 30


def test_distinct_numbers_switch_to_the_sketch_past_the_exact_cap() -> None:
    """Exact while small; past the cap the estimate keeps the bound, and -0.0 is 0.0."""
    rng = np.random.default_rng(9)
    values = rng.normal(size=150_000)
    counter = DistinctNumbers()
    counter.update(np.array([0.0, -0.0, 1.5]))
    assert (counter.exact, counter.estimate()) == (True, 2)
    for chunk in np.array_split(values, 5):
        counter.update(chunk)
    counter.update(np.array([-0.0]))
    truth = len(np.unique(np.concatenate([values, [0.0, 1.5]])))
    assert not counter.exact
    assert abs(counter.estimate() - truth) <= BOUND * truth


@pytest.mark.parametrize("p", [4, 14, 20])
def test_ranks_are_leading_zeros_plus_one_up_to_the_cap(p: int) -> None:
    """Including values whose upper half is zero (one in 2**32 of real hashes) and zero itself."""
    rng = np.random.default_rng(p)
    shifts = rng.integers(0, 64, size=4_000).astype(np.uint64)
    values = (rng.integers(0, np.iinfo(np.int64).max, size=4_000).astype(np.uint64) >> shifts) << np.uint64(p)
    values = np.concatenate(
        [values, np.array([0, 1 << p, 1 << 32, (1 << 32) - (1 << p), 1 << 63], dtype=np.uint64)]
    )
    found = ranks(values, p)
    expected = [min(64 - int(v).bit_length(), 64 - p) + 1 for v in values.tolist()]
    assert found.tolist() == expected
