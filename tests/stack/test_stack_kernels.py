"""The CPU stack kernels (zemosaic/stack/kernels.py) against a straightforward per-pixel reference.

The reference below is the module docstring of ``zemosaic.stack.cpu`` written as plainly as possible: for each
pixel and channel, gather the valid samples, sort them, trim the kept range with Python loops and numpy
statistics, then average the kept samples in frame order. The kernels reach the same result by another road
(a sorting network over blocks of lanes, one-pass shifted standard deviations vectorised by LLVM). Where the
arithmetic is the same the outputs must be equal bit for bit: the weighted mean (the same float64 sums in
frame order), the median, the coverage and the rejected-sample counts. The standard deviations are not summed
in the same order (numpy's two-pass ``std`` here, a vectorised one-pass sum there), so a sigma may differ in its
last bits and a sample lying within ~1e-12 (relative) of a threshold could be decided differently; none of
the samples of these data is that close, so the kept sets, hence the images, are required to be identical.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from zemosaic import _numba_pool
from zemosaic._sorting_network import sort_lanes
from zemosaic.stack import cpu as stacking
from zemosaic.stack import kernels
from zemosaic.stack.options import StackOptions

METHODS = ("none", "kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip")


# --------------------------------------------------------------------------------------------------
# the reference
# --------------------------------------------------------------------------------------------------

def _clipped_std(x: np.ndarray, lo: float, hi: float) -> float:
    return float(np.std(np.clip(x, lo, hi), ddof=1)) if x.size >= 2 else 0.0


def _kept_range(s: np.ndarray, options: StackOptions) -> tuple:
    """The kept range ``[a, b)`` of the sorted valid samples ``s`` (module docstring of zemosaic.stack.cpu)."""
    a, b = 0, s.size
    method = options.rejection_algorithm
    if method == "none" or s.size < stacking.MIN_FRAMES_FOR_REJECTION:
        return a, b
    k_lo, k_hi = options.sigma_clip_low, options.sigma_clip_high
    z_lo, z_hi = options.winsor_z
    factor = options.winsor_factor
    sigma = None
    for it in range(options.rejection_max_iterations):
        k = b - a
        if k < stacking.MIN_FRAMES_FOR_REJECTION:
            break
        x = s[a:b]
        if method == "linear_fit_clip":
            na, nb = _linear_trim(x, k_lo, k_hi)
            na, nb = a + na, a + nb
        else:
            centre = float(np.median(x))
            if method == "kappa_sigma":
                sigma = _clipped_std(x, -np.inf, np.inf)
            else:
                if it == 0:
                    half = (k - 1) // 2
                    w_lo = x[min(math.floor(options.winsor_limits[0] * k + 0.5), half)]
                    w_hi = x[k - 1 - min(math.floor(options.winsor_limits[1] * k + 0.5), half)]
                    sigma = factor * _clipped_std(x, w_lo, w_hi)
                for _ in range(20):
                    new = factor * _clipped_std(x, centre - z_lo * sigma, centre + z_hi * sigma)
                    done = abs(new - sigma) <= 1e-3 * sigma
                    sigma = new
                    if done:
                        break
            if not sigma > 0:
                break
            inside = np.flatnonzero((x >= centre - k_lo * sigma) & (x <= centre + k_hi * sigma))
            if inside.size == 0:
                break
            na, nb = a + inside[0], a + inside[-1] + 1
        if (na == a and nb == b) or nb <= na:
            break
        a, b = na, nb
    return a, b


def _linear_trim(x: np.ndarray, k_lo: float, k_hi: float) -> tuple:
    k = x.size
    scores = stacking.normal_scores(k)[k, :k]
    t = max(1, int(0.1 * k))
    t = t if k - 2 * t >= 3 else 0
    cx, cv = scores[t:k - t], x[t:k - t]
    mx, mv = cx.mean(), cv.mean()
    sxx = float(np.sum((cx - mx) ** 2))
    slope = float(np.sum((cx - mx) * (cv - mv))) / sxx if sxx > 0 else 0.0
    if not slope > 0:
        return 0, k
    resid = x - (mv + slope * (scores - mx))
    na = 0
    while na < k and resid[na] < -k_lo * slope:
        na += 1
    nb = k
    while nb > na and resid[nb - 1] > k_hi * slope:
        nb -= 1
    return na, nb


def reference_stack(frames, masks, weights, options: StackOptions):
    """image (H, W, C) float32, coverage (H, W), rejected samples per frame (n,)."""
    data = np.stack([f if f.ndim == 3 else f[..., None] for f in frames]).astype(np.float32)
    n, h, w, c = data.shape
    valid = np.isfinite(data).all(axis=-1)
    for i, m in enumerate(masks):
        if m is not None:
            valid[i] &= m
    image = np.full((h, w, c), np.nan, np.float32)
    rejected = np.zeros(n, np.int64)
    for y, x, ch in itertools.product(range(h), range(w), range(c)):
        idx = np.flatnonzero(valid[:, y, x])
        values = data[idx, y, x, ch].astype(np.float64)
        s = np.sort(values)
        a, b = _kept_range(s, options)
        trimmed = options.rejection_algorithm != "none" and s.size >= stacking.MIN_FRAMES_FOR_REJECTION
        lo, hi = (s[a], s[b - 1]) if trimmed else (-np.inf, np.inf)
        keep = (values >= lo) & (values <= hi)
        rejected[idx[~keep]] += 1
        if not keep.any():
            continue
        if options.final_combine_method == "median":
            kept = np.sort(values[keep])
            m = kept.size
            image[y, x, ch] = 0.5 * (kept[(m - 1) // 2] + kept[m // 2])
        else:
            sw = swv = 0.0
            for i, v in zip(idx[keep], values[keep], strict=True):  # frame order, float64: the kernel's sums
                sw += float(weights[i, ch])
                swv += float(weights[i, ch]) * v
            image[y, x, ch] = swv / sw
    return image, valid.sum(axis=0).astype(np.float32), rejected


# --------------------------------------------------------------------------------------------------
# data: noise, outliers, masks, NaN and inf
# --------------------------------------------------------------------------------------------------

def _frames(n: int, h: int = 9, w: int = 11, channels: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(100, 400, (h, w, channels)).astype(np.float32)
    frames = [(truth + rng.normal(0, 3, truth.shape)).astype(np.float32) for _ in range(n)]
    for f in frames:  # cosmic rays and dark pixels
        ys, xs = rng.integers(0, h, 3), rng.integers(0, w, 3)
        f[ys, xs] += rng.choice([-60.0, 900.0], size=(3, 1)).astype(np.float32)
    frames[min(2, n - 1)][h // 2] += 300.0  # a trail
    masks = []
    for i, f in enumerate(frames):
        m = rng.random((h, w)) > 0.15
        m[:, : i % w] = False  # the left columns are covered by fewer and fewer frames (down to 0)
        f[~m] = rng.choice([0.0, 1e6, -1e6])  # junk where masked: must never be seen
        masks.append(m)
    frames[0][1, 1, 0] = np.nan  # one non-finite channel invalidates the whole pixel
    frames[min(1, n - 1)][2, 3, channels - 1] = np.inf
    if channels == 1:
        frames = [f[..., 0] for f in frames]
    return frames, masks


def _check(frames, masks, **kw):
    result = stacking.stack_aligned_images(frames, valid_masks=masks, normalize_method="none", **kw)
    options = StackOptions(normalize_method="none", **kw)
    image, coverage, rejected = reference_stack(frames, masks, result.weights, options)
    got = result.image if result.image.ndim == 3 else result.image[..., None]
    np.testing.assert_array_equal(got, image)  # NaN where the reference has NaN, equal bits elsewhere
    np.testing.assert_array_equal(result.coverage, coverage)
    valid_samples = coverage.sum() * image.shape[-1]
    assert result.rejected_fraction == (rejected.sum() / valid_samples if valid_samples else 0.0)
    return result, rejected


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("combine", ("mean", "median"))
@pytest.mark.parametrize("n", (12, 37))
def test_kernels_equal_reference(method, combine, n):
    frames, masks = _frames(n, seed=n)
    result, rejected = _check(frames, masks, rejection_algorithm=method, final_combine_method=combine)
    if method != "none":
        assert rejected.sum() > 0  # the outliers were there to be rejected
    assert (result.coverage < stacking.MIN_FRAMES_FOR_REJECTION).any()  # pixels combined without rejection too


@pytest.mark.parametrize("method", METHODS[1:])
def test_kernels_equal_reference_mono_weighted_small(method):
    for n in (1, 2, 3, 5):
        frames, masks = _frames(n, h=6, w=7, channels=1, seed=100 + n)
        _check(frames, masks, rejection_algorithm=method, weighting_method="noise_variance", noise_rows=6)


def test_kernels_equal_reference_other_thresholds():
    frames, masks = _frames(20, seed=7)
    _check(frames, masks, rejection_algorithm="winsorized_sigma_clip", sigma_clip_low=2.0, sigma_clip_high=2.5,
           winsor_limits=(0.1, 0.0), rejection_max_iterations=3)
    _check(frames, masks, rejection_algorithm="kappa_sigma", sigma_clip_low=1.5, sigma_clip_high=4.0)


@pytest.mark.parametrize("n", (6, 16, kernels._LOCKSTEP_MAX_FRAMES + 1))
def test_winsorized_lanes_in_lockstep_then_one_by_one_equal_reference(n):
    """The winsorisation's first round runs over all the lanes of a block at once up to _LOCKSTEP_MAX_FRAMES
    frames; lanes whose Huber loop has not converged when fewer than half still iterate, and lanes trimmed in that
    round, go on one by one from where they were. Heavy-tailed noise spreads the convergence over many iterations
    (and some lanes to the loop's cap), with every mix of the paths in each block."""
    rng = np.random.default_rng(40 + n)
    truth = rng.uniform(100, 400, (24, 40, 3)).astype(np.float32)
    frames = [(truth + 4 * rng.standard_t(1.5, truth.shape)).astype(np.float32) for _ in range(n)]
    masks = [rng.random(truth.shape[:2]) > 0.1 for _ in range(n)]
    for combine in ("mean", "median"):
        _, rejected = _check(frames, masks, rejection_algorithm="winsorized_sigma_clip", final_combine_method=combine)
        assert rejected.sum() > 0
    _check(frames, masks, rejection_algorithm="winsorized_sigma_clip", rejection_max_iterations=1)


def test_result_does_not_depend_on_threads_or_chunks(monkeypatch):
    frames, masks = _frames(23, h=13, w=17, seed=3)
    base = stacking.stack_aligned_images(frames, valid_masks=masks)
    for threads, rows in ((1, None), (3, 1), (5, 4)):
        monkeypatch.setattr(_numba_pool, "n_threads", lambda threads=threads: threads)
        other = stacking.stack_aligned_images(frames, valid_masks=masks, chunk_rows=rows)
        np.testing.assert_array_equal(other.image, base.image)
        np.testing.assert_array_equal(other.rejected_fraction_per_frame, base.rejected_fraction_per_frame)
        assert other.normalization == base.normalization


def test_backend_contract_masks_junk_where_not_valid():
    """``CpuBackend.process`` (the frame-major contract, the GPU fallback's entry) ignores whatever the data
    hold where ``valid`` is False."""
    rng = np.random.default_rng(5)
    n, p, c = 9, 50, 3
    data = rng.normal(10, 1, (n, p, c)).astype(np.float32)
    valid = rng.random((n, p)) > 0.3
    junk = np.where(valid[..., None], data, np.float32(1e9))
    weights = rng.uniform(0.5, 1, (n, c))
    options = StackOptions(rejection_algorithm="kappa_sigma")
    image, rejected = stacking.CpuBackend().process(junk, valid, weights, options)
    clean = np.where(valid[..., None], data, np.float32(np.nan)).reshape(n, p * c)
    image2, rejected2 = stacking.CpuBackend().process_lanes(clean, weights, options)
    np.testing.assert_array_equal(image, image2.reshape(p, c))
    np.testing.assert_array_equal(rejected, rejected2)


@pytest.mark.parametrize("n", [*range(0, 20), 31, 32, 33, 50, 64, 65, 127, 200])
def test_sorting_network_sorts(n):
    net = kernels.sorting_network(n)
    assert (net[:, 0] < net[:, 1]).all() and (net < max(n, 1)).all()
    rng = np.random.default_rng(n)
    block = rng.integers(0, 5, (n, 40)).astype(np.float32)  # many ties
    block[rng.random(block.shape) < 0.1] = np.inf
    expected = np.sort(block, axis=0)
    sort_lanes(block, net, np.empty(40, np.float32))
    np.testing.assert_array_equal(block, expected)


def test_sorting_network_all_01_inputs():
    """0-1 principle: a comparator network that sorts every 0/1 sequence sorts everything."""
    for n in (5, 7, 11, 12):
        net = kernels.sorting_network(n)
        bits = ((np.arange(2**n)[None, :] >> np.arange(n)[:, None]) & 1).astype(np.float32)
        block = np.ascontiguousarray(bits)
        sort_lanes(block, net, np.empty(block.shape[1], np.float32))
        assert (np.diff(block, axis=0) >= 0).all()


def test_lane_width():
    for n in (1, 3, 50, 200, 5000):
        for c in (1, 2, 3, 4, 5):
            width = kernels.lane_width(n, c)
            assert width % c == 0 and width % 16 == 0 and 16 <= width <= 480 + 16 * c


@pytest.mark.parametrize("channels", (1, 3))
def test_noise_kernel_equals_numpy(channels):
    """The numba noise estimate gives numpy's numbers bit for bit: stars, NaN, masks, an all-missing sampled
    row, odd and even counts, and too few pairs (NaN)."""
    from zemosaic.stack.normalization import noise_sigma, noise_sigma_numpy

    rng = np.random.default_rng(11)
    shape = (40, 57) if channels == 1 else (40, 57, channels)
    for case in range(6):
        frame = (200.0 + rng.normal(0.0, 3.0 + case, shape)).astype(np.float32)
        frame[rng.random(shape[:2]) < 0.03] += 500.0  # stars
        frame[rng.random(shape[:2]) < 0.02] = np.nan
        mask = rng.random(shape[:2]) > 0.1 if case % 2 else None
        if case == 2:
            frame[0] = np.nan  # a sampled row with no valid pixel
        options = StackOptions(noise_rows=[24, 7, 40, 3, 1, 2][case])
        got, expected = noise_sigma(frame, mask, options), noise_sigma_numpy(frame, mask, options)
        np.testing.assert_array_equal(got, expected)
        assert np.isfinite(got).all() and (got > 2.0).all()
    narrow = (200.0 + rng.normal(0.0, 3.0, (5, 10) + shape[2:])).astype(np.float32)
    few = noise_sigma(narrow, None, StackOptions(noise_rows=1))  # one row of 10: 9 pairs, fewer than 16
    assert np.isnan(few).all() and np.isnan(noise_sigma_numpy(narrow, None, StackOptions(noise_rows=1))).all()
