"""zemosaic._selection: numpy's median, exactly, from a bracketed selection (and the plain one it falls back on)."""
from __future__ import annotations

import numpy as np
import pytest

from zemosaic._selection import median_inplace, median_of, select_inplace


def _arrays(rng, n: int):
    """Arrays of ``n`` values in the shapes that trouble a median: random, many ties, sorted, reversed, two values,
    heavy-tailed, and with the strided sample placed on the largest values (the bracket misses)."""
    yield rng.normal(0.0, 1.0, n)
    yield np.round(rng.normal(0.0, 3.0, n))
    yield np.sort(rng.normal(0.0, 1.0, n))
    yield np.sort(rng.normal(0.0, 1.0, n))[::-1].copy()
    yield np.repeat([0.0, 1.0], [n // 2, n - n // 2])
    yield rng.pareto(1.5, n)
    trap = rng.normal(0.0, 1.0, n)
    if n >= 2048:
        stride = n // 512
        trap[np.arange(512) * stride + stride // 2] = 1e6 + np.arange(512)  # every sampled value far above
    yield trap


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 2, 3, 2047, 2048, 2049, 4096, 10_001, 46_080])
def test_median_of_is_numpys_median_and_leaves_the_values(dtype, n):
    rng = np.random.default_rng(n)
    for values in _arrays(rng, n):
        a = values.astype(dtype)
        before = a.copy()
        got = median_of(a, np.empty(n, dtype))
        assert got == np.median(a)
        assert np.array_equal(a, before)
        b = a.copy()
        assert median_inplace(b) == np.median(a)
        assert np.array_equal(np.sort(b), np.sort(a))  # reordered, the same values


def test_median_of_float32_halves_in_float32():
    """An even count's two middle values are averaged in float32, as numpy does (not in float64)."""
    a = np.full(4096, 1.0, np.float32)
    a[:2048] = np.float32(1.0) - np.float32(2.0**-24)                 # the two middle values differ by one ulp
    want = np.median(a)
    assert median_of(a, np.empty_like(a)) == want
    assert np.float32(want) == want


def test_select_inplace_partitions_around_the_kth():
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 1000):
        for k in {0, n // 2, n - 1}:
            a = rng.normal(0.0, 1.0, n)
            want = np.sort(a)[k]
            assert select_inplace(a, k) == want
            assert (a[:k] <= want).all() and (a[k + 1:] >= want).all()
