"""The GPU stacker's array-module code, run with ``xp=numpy`` against the CPU stacker, piece by piece.

Every function the device runs (zemosaic/stack/gpu_xp.py, gpu_reject.py, gpu_normalize.py) is checked here on
NumPy against the CPU code it replaces. Tolerances: rejection decisions, kept-sample counts, coverage and block
selections must be identical; images within 1e-6 relative (float64 sums in another order, stored as float32 --
in practice they come out bitwise equal); noise sigmas within 1e-12 relative; background-match gains within
1e-9 and surface coefficients within 1e-7 (normal equations instead of an SVD least squares).
"""
import functools
import itertools

import numpy as np
import pytest

from zemosaic import _sample_blocks as sample_blocks
from zemosaic.stack import cpu as stacking
from zemosaic.stack import gpu_normalize as gn
from zemosaic.stack import gpu_reject as gr
from zemosaic.stack import gpu_xp, normalization

# --------------------------------------------------------------------------------------------------
# gpu_xp: sorting network, bisection, medians, batched solve
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", list(range(1, 20)) + [31, 32, 33, 50, 64, 100, 200])
def test_sorting_network_sorts_and_layers_are_disjoint(n):
    for i, j in gpu_xp.network_layers(n):
        assert (i < j).all() and (j < n).all()
        assert len(set(i.tolist()) | set(j.tolist())) == 2 * len(i)  # one comparator per position per layer
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 300)).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = np.inf  # missing samples
    x[:, :50] = np.round(x[:, :50])  # ties
    np.testing.assert_array_equal(gpu_xp.sort_axis0(np, x, "network"), np.sort(x, axis=0))


@pytest.mark.parametrize("n", range(2, 11))
def test_sorting_network_zero_one_principle(n):
    """A comparator network sorts every input iff it sorts every 0/1 input."""
    cols = np.array(list(itertools.product([0.0, 1.0], repeat=n)), dtype=np.float32).T
    np.testing.assert_array_equal(gpu_xp.sort_axis0(np, cols, "network"), np.sort(cols, axis=0))


def test_bisections_match_searchsorted():
    rng = np.random.default_rng(0)
    n, q = 23, 400
    s = np.sort(rng.integers(0, 12, (n, q)).astype(np.float32), axis=0)
    base = np.arange(q)
    lo = rng.integers(0, n, q)
    hi = np.minimum(lo + rng.integers(0, n, q), n)
    value = rng.integers(-1, 13, q).astype(np.float64) + rng.choice([0.0, 0.5], q)
    steps = gpu_xp.bisect_steps(n)
    left = gpu_xp.lower_bound(np, s.ravel(), base, q, lo, hi, value, steps)
    right = gpu_xp.upper_bound(np, s.ravel(), base, q, lo, hi, value, steps)
    for c in range(q):
        col = s[lo[c]:hi[c], c]
        assert left[c] == lo[c] + np.searchsorted(col, value[c], "left")
        assert right[c] == lo[c] + np.searchsorted(col, value[c], "right")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["sort", "bisect"])
def test_masked_median_equals_numpy_median(dtype, method):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 100, (6, 4, 257)).astype(dtype)
    x[0] = np.round(x[0] / 40)  # many ties
    x[1] = -np.abs(x[1])
    x[2, 0, :5] = [0.0, -0.0, 0.0, -0.0, 1.0]
    ok = rng.random(x.shape) > 0.3
    ok[3, 0] = False  # nothing: NaN
    ok[3, 1] = False
    ok[3, 1, 9] = True  # one value
    got = gpu_xp.masked_median_lastaxis(np, x, ok, method)
    want = np.array([[np.median(x[i, j][ok[i, j]]) if ok[i, j].any() else np.nan for j in range(4)]
                     for i in range(6)], dtype=dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_masked_kth_matches_sorted_order_statistics():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1e3, (5, 200))
    ok = rng.random(x.shape) > 0.5
    k = np.array([0, 3, 17, 50, 80])
    got = gpu_xp.masked_kth_lastaxis(np, x, ok, k)
    for row in range(5):
        assert got[row] == np.sort(x[row][ok[row]])[k[row]]


def test_cholesky_solve_matches_linalg_and_flags_singular():
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(7, 60, 6))
    a = basis.transpose(0, 2, 1) @ basis
    b = rng.normal(size=(7, 6, 3))
    np.testing.assert_allclose(gpu_xp.cholesky_solve(np, a, b), np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    a[2] = 0.0  # singular: NaN, never an exception
    with np.errstate(all="ignore"):
        out = gpu_xp.cholesky_solve(np, a, b)
    assert np.isnan(out[2]).all() and np.isfinite(np.delete(out, 2, axis=0)).all()


# --------------------------------------------------------------------------------------------------
# gpu_reject: one chunk against the CPU kernels
# --------------------------------------------------------------------------------------------------


def _chunk(n=24, n_pix=6000, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(100, 1000, (n_pix, 3)).astype(np.float32)
    data = (truth[None] + rng.normal(0, 5, (n, n_pix, 3))).astype(np.float32)
    data[rng.random(data.shape) < 0.01] += 500.0  # cosmic rays
    data[3 % n, :600] += 40.0  # a faint trail
    data[5 % n, 700:800] -= 300.0  # a dark defect
    if integer:
        data = np.round(data)  # integer ADU: many ties
    valid = rng.random((n, n_pix)) > 0.1
    valid[:, :300] &= np.arange(n)[:, None] < (np.arange(300)[None] % 8)  # columns with 0 to 7 samples
    garbage = np.where(rng.random(int((~valid).sum())) < 0.5, np.nan, 123.0).astype(np.float32)
    data[~valid] = garbage[:, None]  # garbage where missing: never used
    weights = rng.uniform(0.3, 1.0, (n, 3))
    return data, valid, weights


@pytest.mark.parametrize("algorithm", stacking.REJECTION_ALGORITHMS)
@pytest.mark.parametrize("combine", stacking.COMBINE_METHODS)
@pytest.mark.parametrize("integer", [False, True])
def test_reject_and_combine_match_cpu_kernels(algorithm, combine, integer):
    data, valid, weights = _chunk(integer=integer, seed=4 + integer)
    options = stacking.StackOptions(rejection_algorithm=algorithm, final_combine_method=combine)
    cpu_image, cpu_rejected = stacking.CpuBackend().process(data, valid, weights, options)
    image, rejected = gr.reject_and_combine(np, data, valid, weights, options)
    np.testing.assert_array_equal(rejected, cpu_rejected)  # the same samples are rejected
    np.testing.assert_array_equal(np.isnan(image), np.isnan(cpu_image))
    np.testing.assert_allclose(image, cpu_image, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("algorithm", ["kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip"])
def test_rejection_independent_of_sort_and_sync_cadence(algorithm):
    data, valid, weights = _chunk(n=13, n_pix=2000, seed=7)
    options = stacking.StackOptions(rejection_algorithm=algorithm, sigma_clip_low=2.5, sigma_clip_high=2.0,
                                    winsor_limits=(0.1, 0.0))
    ref = gr.reject_and_combine(np, data, valid, weights, options, sort="library", check_every=4)
    for sort, every in (("network", 1), ("network", 3), ("library", 20)):
        got = gr.reject_and_combine(np, data, valid, weights, options, sort=sort, check_every=every)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    cpu_image, cpu_rejected = stacking.CpuBackend().process(data, valid, weights, options)
    np.testing.assert_array_equal(ref[1], cpu_rejected)


def test_reject_range_few_frames_and_one_iteration():
    data, valid, weights = _chunk(n=3, n_pix=500, seed=8)
    for algorithm in ("kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip"):
        options = stacking.StackOptions(rejection_algorithm=algorithm, rejection_max_iterations=1,
                                        sigma_clip_low=0.5, sigma_clip_high=0.5)
        cpu_image, cpu_rejected = stacking.CpuBackend().process(data, valid, weights, options)
        image, rejected = gr.reject_and_combine(np, data, valid, weights, options)
        np.testing.assert_array_equal(rejected, cpu_rejected)
        np.testing.assert_allclose(image, cpu_image, rtol=1e-6, atol=1e-4)


# --------------------------------------------------------------------------------------------------
# gpu_normalize: noise, block medians, background fits, chunk normalisation
# --------------------------------------------------------------------------------------------------


def _sky_frames(n=6, h=96, w=128, seed=30, channels=3):
    """Stars, a nebula the polynomial cannot follow, per-frame gain/offset/gradient, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    sky = 200.0 + 150.0 * np.exp(-(((yy - 40) / 18) ** 2 + ((xx - 70) / 25) ** 2))
    for _ in range(h * w // 250):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        sky += rng.uniform(100, 3000) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.3**2))
    tints = (0.9, 1.0, 1.15)[:channels]
    frames = []
    for i in range(n):
        gain = 1.0 if i == 0 else rng.uniform(0.8, 1.25)
        plane = 0.0 if i == 0 else 20.0 * i + rng.uniform(-0.3, 0.3) * (xx - w / 2) + rng.uniform(-0.3, 0.3) * yy
        img = np.stack([(gain * sky + plane) * t for t in tints], axis=-1) + rng.normal(0, 2.0, (h, w, channels))
        frames.append(img.astype(np.float32) if channels > 1 else img[..., 0].astype(np.float32))
    return frames


def _masks(frames, seed=0):
    rng = np.random.default_rng(seed)
    shape = frames[0].shape[:2]
    masks = [None] + [rng.random(shape) > 0.05 for _ in frames[1:]]
    masks[2][:, :30] = False  # a frame that covers part of the field
    return masks


@pytest.mark.parametrize("channels", [1, 3])
def test_noise_sigma_matches_cpu(channels):
    frames = _sky_frames(channels=channels)
    frames[2][:6, :40] = np.nan
    masks = _masks(frames)
    masks.append(np.zeros(frames[0].shape[:2], bool))  # no valid pixel: NaN, as on the CPU
    frames.append(frames[1].copy())
    options = stacking.StackOptions(noise_rows=12)
    with np.errstate(all="ignore"):
        want = np.array([normalization.noise_sigma(f, m, options) for f, m in zip(frames, masks, strict=True)])
        got = gn.device_noise(np, frames, masks, options.noise_rows)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_noise_sigma_bisect_medians_match_sorted_ones(monkeypatch):
    frames = _sky_frames()
    masks = _masks(frames)
    want = gn.device_noise(np, frames, masks, 16)
    monkeypatch.setattr(gn, "masked_median_lastaxis",
                        functools.partial(gpu_xp.masked_median_lastaxis, method="bisect"))
    np.testing.assert_array_equal(gn.device_noise(np, frames, masks, 16), want)


@pytest.mark.parametrize("block", [1, 3, 4])
def test_block_medians_match_background_module(block):
    frames = _sky_frames(n=4)
    masks = _masks(frames)
    frames[1][10:14, 20:60] = np.nan
    step = 2
    ref = frames[0][::step, ::step]
    dec = np.stack([f[::step, ::step] for f in frames[1:]])
    mdec = np.stack([(np.ones(ref.shape[:2], bool) if m is None else m[::step, ::step]) for m in masks[1:]])
    rows = np.arange(ref.shape[0], dtype=np.float64) * step
    cols = np.arange(ref.shape[1], dtype=np.float64) * step
    with np.errstate(all="ignore"):
        got = gn.xp_block_medians(np, dec, ref, mdec, rows, cols, block)
    for k in range(dec.shape[0]):
        want = sample_blocks.block_medians([dec[k], ref], mdec[k], rows, cols, block)
        keep = got["keep"][k]
        np.testing.assert_array_equal(got["values"][k][:, keep], want.values)
        np.testing.assert_array_equal(got["rows"][k][keep], want.rows)
        np.testing.assert_array_equal(got["cols"][k][keep], want.cols)
        assert tuple(got["bounds"][k]) == want.bounds and got["grid_shape"] == want.grid_shape
        np.testing.assert_array_equal(np.stack(np.divmod(np.flatnonzero(keep), want.grid_shape[1]), 1), want.grid)


def _compare_models(cpu_norms, dev_norms):
    for a, b in zip(cpu_norms, dev_norms, strict=True):
        assert (a.match is None) == (b.match is None)
        assert (a.flatten is None) == (b.flatten is None)
        if a.match is None:
            continue
        ma, mb = a.match, b.match
        assert (ma.order, ma.bounds, ma.n_samples, ma.reason, ma.shape) == (mb.order, mb.bounds, mb.n_samples,
                                                                              mb.reason, mb.shape)
        np.testing.assert_allclose(mb.gain, ma.gain, rtol=0, atol=1e-9)
        np.testing.assert_allclose(mb.coeffs, ma.coeffs, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("flatten", [False, True])
def test_background_match_fits_match_cpu(order, flatten):
    frames = _sky_frames(n=6)
    masks = _masks(frames)
    options = stacking.StackOptions(background_order=order, flatten_reference=flatten)
    want = normalization.fit_background(frames, masks, 0, options)
    with np.errstate(all="ignore"):
        got = gn.fit_background_device(np, frames, masks, 0, options)
    _compare_models(want, got)
    assert any(abs(float(g) - 1.0) > 1e-3 for nz in got[1:] for g in nz.match.gain)  # gains were fitted


def test_background_match_special_cases_match_cpu():
    """A frame with no common pixel (identity), the reference itself passed twice (identity), one with few
    blocks (order lowered / offset only), a mono stack and a reference other than frame 0."""
    frames = _sky_frames(n=6, channels=1)
    masks = _masks(frames)
    masks[3] = np.zeros(frames[0].shape[:2], bool)
    frames[4] = frames[1]  # the same object as frame 1, not the reference: fitted normally
    masks[5] = np.zeros(frames[0].shape[:2], bool)
    masks[5][:20, :24] = True  # a few blocks only
    for ref in (0, 1):
        options = stacking.StackOptions(background_order=3, reference_index=ref)
        want = normalization.fit_background(frames, masks, ref, options)
        with np.errstate(all="ignore"):
            got = gn.fit_background_device(np, frames, masks, ref, options)
        _compare_models(want, got)
    frames[2] = frames[0]  # the reference object itself
    options = stacking.StackOptions()
    with np.errstate(all="ignore"):
        _compare_models(normalization.fit_background(frames, masks, 0, options),
                        gn.fit_background_device(np, frames, masks, 0, options))


def test_chunk_normalizer_matches_background_apply_and_linear_maps():
    frames = _sky_frames(n=4)
    masks = _masks(frames)
    frames[1][20, 5, 1] = np.nan
    masks[1][20, 5] = True
    shape = frames[0].shape
    options = stacking.StackOptions(flatten_reference=True, background_order=2)
    norms = normalization.fit_background(frames, masks, 0, options)
    cn = gn.ChunkNormalizer(np, norms, shape)
    r0, r1 = 17, 53
    raw = np.stack([f[r0:r1] for f in frames])
    mask = np.stack([np.ones(shape[:2], bool) if m is None else m for m in masks])[:, r0:r1]
    out, valid, bad = cn.apply(raw, mask, r0)
    for i, nz in enumerate(norms):
        want = nz.apply(frames[i][r0:r1], r0)
        np.testing.assert_array_equal(out[i], want)
        np.testing.assert_array_equal(valid[i], mask[i] & np.isfinite(want).all(axis=-1))
    assert bad.tolist() == [0, 1, 0, 0]
    lin = [normalization.LinearNorm("linear_fit", (1.0, 1.1, 0.9), (0.0, 3.5, -2.0))] * 4
    out, valid, bad = gn.ChunkNormalizer(np, lin, shape).apply(raw, None, r0)
    want = ((raw.astype(np.float64) - np.array([0.0, 3.5, -2.0])) / np.array([1.0, 1.1, 0.9])).astype(np.float32)
    np.testing.assert_array_equal(out, want)
    assert bad.tolist() == [0, 1, 0, 0] and not valid[1, 20 - r0, 5] and valid[0].all()
