"""Truth-based tests of background.py: frame matching and reference flattening."""
from __future__ import annotations

import logging
import threading
import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from sky_scenes import NEB_COLOUR, NOISE, SKY, gaussian_nebula, observe, pixel_grid, star_field
from zemosaic import _sample_blocks as sb
from zemosaic import background as bg

# ---------------------------------------------------------------------------------------------
# Synthetic scenes
# ---------------------------------------------------------------------------------------------

def _truth_scene(shape=(240, 320), seed=1, *, wide_nebula=True):
    """Truth sky (H, W, 3): level + nebula (+ stars), with the star-free mask and the nebula alone."""
    rng = np.random.default_rng(seed)
    if wide_nebula:  # a blob wider than the frame
        neb = gaussian_nebula(shape, centre=(0.6 * shape[0], 0.45 * shape[1]), sigma=(0.7 * shape[0], 0.8 * shape[1]),
                      amplitude=400.0)
    else:            # generator-like: a nebula inside the frame
        neb = gaussian_nebula(shape, centre=(0.55 * shape[0], 0.4 * shape[1]),
                      sigma=(0.12 * shape[0], 0.1 * shape[1]), amplitude=250.0)
    stars, _ = star_field(shape, rng, n_stars=shape[0] * shape[1] // 600, star_sigma=1.5)
    nebula = neb[:, :, None] * NEB_COLOUR
    truth = SKY + nebula + stars[:, :, None]
    star_free = gaussian_filter(stars, 2.0) < 0.05 * NOISE
    return truth, nebula, star_free


def _poly_background(shape, level, terms):
    """Background (H, W, 3): level (3,) + sum of coefficient (3,) x monomial in centred pixel units."""
    rr, cc = pixel_grid(shape)
    x, y = (cc - shape[1] / 2) / 100.0, (rr - shape[0] / 2) / 100.0
    out = np.broadcast_to(np.asarray(level, float), shape + (3,)).copy()
    for (i, j), coef in terms.items():
        out += (x ** i * y ** j)[:, :, None] * np.asarray(coef, float)
    return out


def _ref_and_frame(shape=(240, 320), *, frame_terms, gain=(0.9, 0.93, 0.87), ref_tilt=True):
    truth, nebula, star_free = _truth_scene(shape)
    bg_ref = _poly_background(shape, (30.0, 20.0, 10.0), {(1, 0): (4.0, 3.0, 2.0)} if ref_tilt else {})
    bg_frm = _poly_background(shape, (150.0, 90.0, 40.0), frame_terms)
    ref = observe(truth, 1.0, bg_ref, seed=11)
    frame = observe(truth, gain, bg_frm, seed=12)
    surface_true = bg_frm - np.asarray(gain) * bg_ref
    return dict(truth=truth, nebula=nebula, star_free=star_free, ref=ref, frame=frame, gain=np.asarray(gain),
                bg_ref=bg_ref, surface=surface_true)


LINEAR = {(1, 0): (25.0, 12.0, -8.0), (0, 1): (-15.0, 10.0, 20.0)}
QUADRATIC = {**LINEAR, (2, 0): (9.0, -6.0, 4.0), (1, 1): (6.0, 5.0, -5.0), (0, 2): (-8.0, 7.0, 6.0)}
CUBIC = {**QUADRATIC, (3, 0): (3.0, -2.0, 1.5), (1, 2): (-2.5, 2.0, 2.0)}


# ---------------------------------------------------------------------------------------------
# Frame-to-reference matching
# ---------------------------------------------------------------------------------------------

def _match_errors(scene, model):
    matched = model.apply(scene["frame"], 0)
    sf = scene["star_free"]
    resid = (matched - scene["ref"])[sf]
    expected = np.sqrt(NOISE ** 2 / scene["gain"] ** 2 + NOISE ** 2)
    return np.sqrt(np.mean(resid ** 2, axis=0)) / expected, _model_error(scene, model)


def _model_error(scene, model, mask=None):
    """RMS (per channel) of the fitted minus the true noise-free frame background ``g ref + S``.

    A gain error is partly compensated by the surface (the two are degenerate on the smooth part of
    the reference), so the surface is judged together with the gain, as the stacker uses them.
    """
    mask = scene["star_free"] if mask is None else mask & scene["star_free"]
    clean_ref = scene["truth"] + scene["bg_ref"]
    fitted = model.gain * clean_ref + model.surface(0, clean_ref.shape[0])
    true = scene["gain"] * clean_ref + scene["surface"]
    return np.sqrt(np.mean((fitted - true)[mask] ** 2, axis=0))


def test_match_recovers_gain_and_linear_gradient_rgb():
    scene = _ref_and_frame(frame_terms=LINEAR)
    model = bg.fit_background_match(scene["frame"], scene["ref"], order=1)
    assert model.order == 1 and model.reason is None
    np.testing.assert_allclose(model.gain, scene["gain"], rtol=0.02)
    rms_ratio, surf_rms = _match_errors(scene, model)
    assert np.all(rms_ratio < 1.05), rms_ratio          # matched frame is the reference within the noise
    assert np.all(surf_rms < 0.3 * NOISE), surf_rms      # the fitted surface is the true difference
    summary = model.as_dict()
    assert summary["order"] == 1 and len(summary["gain"]) == 3 and summary["n_samples"] > 100


@pytest.mark.parametrize("order, terms", [(0, {}), (1, LINEAR), (2, QUADRATIC), (3, CUBIC)])
def test_match_orders_0_to_3(order, terms):
    scene = _ref_and_frame(frame_terms=terms, ref_tilt=order > 0)
    model = bg.fit_background_match(scene["frame"], scene["ref"], order=order)
    assert model.order == order and model.coeffs.shape == (3, (order + 1) * (order + 2) // 2)
    rms_ratio, surf_rms = _match_errors(scene, model)
    assert np.all(rms_ratio < 1.1), rms_ratio
    assert np.all(surf_rms < 0.5 * NOISE), surf_rms


def test_match_preserves_a_nebula_wider_than_the_frame():
    scene = _ref_and_frame(frame_terms=QUADRATIC)
    model = bg.fit_background_match(scene["frame"], scene["ref"], order=2)
    matched = model.apply(scene["frame"], 0)
    inside = (scene["nebula"][:, :, 0] > 0.5 * scene["nebula"][:, :, 0].max()) & scene["star_free"]
    recovered = (matched - scene["bg_ref"] - SKY)[inside].sum(axis=0)
    true_flux = scene["nebula"][inside].sum(axis=0)
    assert np.all(np.abs(recovered / true_flux - 1.0) < 0.02), recovered / true_flux


def test_mono_frame_and_memmap_input(tmp_path):
    scene = _ref_and_frame(frame_terms=LINEAR)
    ref = np.lib.format.open_memmap(tmp_path / "ref.npy", mode="w+", dtype=np.float32,
                                    shape=scene["ref"].shape[:2])
    ref[:] = scene["ref"][:, :, 1]
    frame = scene["frame"][:, :, 1]
    model = bg.fit_background_match(frame, ref, order=1)
    assert model.gain.shape == (1,) and model.surface(0, 5).shape == (5, frame.shape[1])
    assert abs(model.gain[0] - scene["gain"][1]) < 0.02
    clean_ref = (scene["truth"] + scene["bg_ref"])[:, :, 1]
    fitted = model.gain[0] * clean_ref + model.surface(0, frame.shape[0])
    true = scene["gain"][1] * clean_ref + scene["surface"][:, :, 1]
    assert np.sqrt(np.mean((fitted - true)[scene["star_free"]] ** 2)) < 0.3 * NOISE
    # chunked application equals the whole-frame application
    whole = model.apply(frame, 0)
    chunks = np.concatenate([model.apply(frame[r:r + 50], r) for r in range(0, frame.shape[0], 50)])
    np.testing.assert_array_equal(whole, chunks)
    assert whole.dtype == np.float32


def test_partial_overlap_matched_within_noise_and_bounded_outside():
    shape = (240, 320)
    scene = _ref_and_frame(shape, frame_terms=LINEAR)
    valid = np.zeros(shape, dtype=bool)
    valid[90:, 130:] = True                                 # 62.5 % x 59 % = 37 % of the reference
    frame = scene["frame"].copy()
    frame[~valid] = np.nan                                  # nothing known outside
    model = bg.fit_background_match(frame, scene["ref"], valid, order=1)
    assert 0.3 < valid.mean() < 0.5
    matched = model.apply(frame, 0)
    sf = scene["star_free"] & valid
    expected = np.sqrt(NOISE ** 2 / scene["gain"] ** 2 + NOISE ** 2)
    rms = np.sqrt(np.mean((matched - scene["ref"])[sf] ** 2, axis=0))
    assert np.all(rms < 1.05 * expected), rms / expected
    assert np.all(_model_error(scene, model, valid) < 0.3 * NOISE)
    surf = model.surface(0, shape[0])
    assert np.all(np.isfinite(surf))                        # finite everywhere
    lo, hi = surf[valid].min(axis=0), surf[valid].max(axis=0)
    assert np.all(surf >= lo - 1e-3) and np.all(surf <= hi + 1e-3)   # no extrapolation beyond the fit
    assert np.all(np.isnan(matched[~valid]))                # nothing written where the frame had no data
    b = model.bounds
    assert b[0] >= 90 and b[2] >= 130


def test_partial_overlap_rotated_footprint_is_bounded():
    shape = (240, 320)
    scene = _ref_and_frame(shape, frame_terms=LINEAR)
    rr, cc = pixel_grid(shape)
    valid = (rr - 0.7 * (cc - 120)) > 60                    # a slanted edge: a triangle-ish 40 % region
    model = bg.fit_background_match(scene["frame"], scene["ref"], valid, order=1)
    surf = model.surface(0, shape[0])
    assert np.all(np.isfinite(surf))
    assert np.all(_model_error(scene, model, valid) < 0.3 * NOISE)
    # outside the fitted box the surface is clamped: never beyond the extremes it takes on the box
    b = model.bounds
    box = (rr >= b[0]) & (rr <= b[1]) & (cc >= b[2]) & (cc <= b[3])
    assert np.all(surf.max(axis=(0, 1)) <= surf[box].max(axis=0) + 1e-3)
    assert np.all(surf.min(axis=(0, 1)) >= surf[box].min(axis=0) - 1e-3)


def test_too_few_samples_lowers_the_order(caplog):
    scene = _ref_and_frame(frame_terms=LINEAR)
    valid = np.zeros(scene["ref"].shape[:2], dtype=bool)
    valid[100:140, 100:160] = True
    with caplog.at_level(logging.INFO, logger="zemosaic.background"):
        model = bg.fit_background_match(scene["frame"], scene["ref"], valid, order=3)
    assert model.order < 3 and "order lowered" in model.reason
    assert "order lowered" in caplog.text
    tiny = np.zeros_like(valid)
    tiny[100:103, 100:103] = True
    model = bg.fit_background_match(scene["frame"], scene["ref"], tiny, order=1, sample_step=2)
    assert model.order == 0 and np.all(model.gain == 1.0) and "median offset" in model.reason
    np.testing.assert_allclose(model.coeffs[:, 0], scene["surface"][101, 101] + (scene["gain"] - 1) *
                               (scene["truth"] + scene["bg_ref"])[101, 101], atol=3 * NOISE)


def test_identity_when_nothing_to_fit():
    scene = _ref_and_frame(frame_terms=LINEAR)
    none = np.zeros(scene["ref"].shape[:2], dtype=bool)
    model = bg.fit_background_match(scene["frame"], scene["ref"], none)
    assert model.is_identity and "no pixel valid" in model.reason
    np.testing.assert_array_equal(model.apply(scene["frame"], 0), scene["frame"])
    same = bg.fit_background_match(scene["ref"], scene["ref"])
    assert same.is_identity and same.reason == "frame is the reference"
    with pytest.raises(ValueError):
        bg.fit_background_match(scene["frame"], scene["ref"], order=4)
    with pytest.raises(ValueError):
        bg.fit_background_match(scene["frame"][:, :10], scene["ref"])


def test_featureless_sky_keeps_gain_near_one():
    shape = (240, 320)
    rng = np.random.default_rng(5)
    stars, _ = star_field(shape, rng, 150, 1.5)
    truth = SKY + stars[:, :, None]
    ref = observe(truth, 1.0, 0.0, seed=1)
    frame = observe(truth, 1.0, _poly_background(shape, (50.0, 40.0, 30.0), LINEAR), seed=2)
    model = bg.fit_background_match(frame, ref, order=1)
    assert np.all(np.abs(model.gain - 1.0) < 0.05), model.gain
    matched = model.apply(frame, 0)
    sf = gaussian_filter(stars, 2.0) < 0.05 * NOISE
    rms = np.sqrt(np.mean((matched - ref)[sf] ** 2, axis=0))
    assert np.all(rms < 1.05 * np.sqrt(2) * NOISE), rms


# ---------------------------------------------------------------------------------------------
# Reference flattening
# ---------------------------------------------------------------------------------------------

def _plane_slope(img2d, mask):
    rr, cc = pixel_grid(img2d.shape)
    design = np.stack([np.ones(mask.sum()), cc[mask], rr[mask]], axis=1)
    coef = np.linalg.lstsq(design, img2d[mask], rcond=None)[0]
    return np.hypot(coef[1], coef[2])


@pytest.mark.parametrize("terms, order", [(LINEAR, 1), (LINEAR, 2), (QUADRATIC, 2), (CUBIC, 3)])
def test_flattening_removes_gradient_keeps_nebula(terms, order):
    shape = (240, 320)
    truth, nebula, star_free = _truth_scene(shape, wide_nebula=False)
    gradient = 3.0 * _poly_background(shape, (0.0, 0.0, 0.0), terms)   # ~150 ADU across the frame
    ref = observe(truth, 1.0, gradient, seed=3)
    model = bg.fit_reference_flattening(ref, order=order)
    assert np.all(model.gain == 1.0) and model.order == order
    surf = model.surface(0, shape[0])
    left = gradient - surf                                  # what remains of the gradient (+ constant)
    everywhere = np.ones(shape, dtype=bool)
    for c in range(3):
        assert _plane_slope(left[:, :, c], everywhere) < 0.1 * _plane_slope(gradient[:, :, c], everywhere)
    # nebula flux eaten = dip of the remaining background under the nebula
    inside = nebula[:, :, 0] > 0.05 * nebula[:, :, 0].max()
    level = np.median(left[~inside], axis=0)
    eaten = (level - left[inside]).sum(axis=0) / nebula[inside].sum(axis=0)
    assert np.all(np.abs(eaten) < 0.05), eaten
    # the overall level is kept: the surface removed has zero median
    assert np.all(np.abs(np.median(surf, axis=(0, 1))) < 0.1 * np.ptp(gradient, axis=(0, 1)))


# ---------------------------------------------------------------------------------------------
# The project's synthetic Alt-Az group
# ---------------------------------------------------------------------------------------------

def _aligned_group(group):
    """Frames of a synthetic group reprojected onto the reference grid with their true WCS."""
    from reproject import reproject_interp

    ref_i = group.ref_index
    shape = group.frames[ref_i].shape[:2]
    aligned, valids = [], []
    for i, frame in enumerate(group.frames):
        if i == ref_i:
            aligned.append(frame)
            valids.append(np.ones(shape, dtype=bool))
            continue
        out, ok = np.empty_like(frame), np.ones(shape, dtype=bool)
        for c in range(3):
            out[..., c], foot = reproject_interp((frame[..., c], group.wcs_list[i]), group.wcs_list[ref_i],
                                                 shape_out=shape, order="bilinear")
            ok &= foot > 0.999
        aligned.append(out)
        valids.append(ok)
    return aligned, valids


def _smoothed_chroma(residual, mask, size=15):
    """(R-G, B-G) of a residual image, box-averaged over the masked (star-free) pixels."""
    from scipy.ndimage import uniform_filter

    chroma = np.stack([residual[..., 0] - residual[..., 1], residual[..., 2] - residual[..., 1]], axis=-1)
    weight = np.maximum(uniform_filter(mask.astype(float), size), 1e-3)
    smooth = [uniform_filter(np.where(mask, chroma[..., k], 0.0), size) / weight for k in range(2)]
    return np.stack(smooth, axis=-1)


def test_altaz_group_border_chroma_matches_interior():
    from scipy.ndimage import distance_transform_edt, uniform_filter

    from zemosaic.synthetic import generator as synthetic

    group = synthetic.make_frame_group(8, shape=(256, 384), seed=3)
    aligned, valids = _aligned_group(group)
    ref = aligned[group.ref_index]
    truth = group.truth_sky_ref + group.background(group.ref_index)
    stars = group.truth_sky_ref.sum(axis=2)
    star_free = uniform_filter((stars > np.percentile(stars, 70)).astype(float), 7) == 0
    coverage = np.sum(valids, axis=0)
    full = coverage == len(valids)
    border = ~full & (coverage >= 3) & star_free
    interior = full & (distance_transform_edt(full) > 40) & star_free
    rms = {}
    for name, order in (("global gain+offset", 0), ("background match", 1)):
        total = np.zeros(ref.shape)
        for frame, valid in zip(aligned, valids, strict=True):
            matched = bg.fit_background_match(frame, ref, valid, order=order).apply(frame, 0)
            total += np.where(valid[..., None], matched, 0.0)
        chroma = _smoothed_chroma(total / coverage[..., None] - truth, star_free)
        rms[name] = (np.sqrt(np.mean(chroma[border] ** 2)), np.sqrt(np.mean(chroma[interior] ** 2)))
    b_match, i_match = rms["background match"]
    b_lin, _ = rms["global gain+offset"]
    # measured: border 1.60 / interior 1.28 ADU with matching; border 3.81 / interior 4.03 with gain+offset
    assert b_match <= 1.5 * i_match, rms
    assert b_lin >= 2.0 * b_match, rms


# ---------------------------------------------------------------------------------------------
# Reference flattening on the generator's frame-filling nebula
# ---------------------------------------------------------------------------------------------

def _generator_nebula_eaten(seed, order):
    from zemosaic.synthetic import generator as synthetic
    group = synthetic.make_frame_group(1, shape=(480, 320), seed=seed, nebula=True, gradient_frac=0.3)
    frame, added = group.frames[0], group.background(0)
    nebula = group.scene.render(group.wcs_list[0], frame.shape[:2], stars=False)
    model = bg.fit_reference_flattening(frame, order=order)
    left = added - model.surface(0, frame.shape[0])  # what remains of the light pollution (+ a constant)
    inside = nebula.sum(axis=2) > 0.2 * nebula.sum(axis=2).max()
    assert inside.mean() > 0.3, "the generator's nebula fills a large part of the frame"
    level = np.median(left[~inside], axis=0)
    eaten = (level - left[inside]).sum(axis=0) / nebula[inside].sum(axis=0)
    everywhere = np.ones(frame.shape[:2], dtype=bool)
    tilt_left = max(_plane_slope(left[:, :, c], everywhere) / _plane_slope(added[:, :, c], everywhere)
                    for c in range(3))
    return eaten, tilt_left


@pytest.mark.parametrize("seed", [0, 4, 7])
def test_flattening_on_the_generators_frame_filling_nebula(seed):
    """Issue 9 asks <= 5 % of the generator's nebula removed. That nebula fills 40-70 % of the frame; a
    plane (order 1) loses 0-12 % of it while removing most of the gradient: this test guards that
    measured level. The 5 % target is recorded as a known miss below."""
    eaten, tilt_left = _generator_nebula_eaten(seed, order=1)
    print(f"seed {seed}: nebula flux removed by order-1 flattening {np.round(eaten, 3)}, tilt left {tilt_left:.3f}")
    assert np.all(np.abs(eaten) < 0.13), eaten
    assert tilt_left < 0.2


@pytest.mark.xfail(strict=True, reason="known miss: order-2 flattening removes 5-16 % of the generator's "
                                       "frame-filling nebula (issue 9 target: 5 %); the option stays off by default")


def test_flattening_order2_removes_at_most_5_percent_of_the_generators_nebula():
    worst = max(float(np.max(np.abs(_generator_nebula_eaten(seed, order=2)[0]))) for seed in (0, 4, 7))
    assert worst < 0.05


def test_ring_sum_is_scipy_convolve_bit_for_bit():
    """The neighbour sums of the gain's instrument equal scipy.ndimage.convolve with a 3 x 3 ring (zeros beyond the
    edges), bit for bit, on grids whose values span 16 decades (where the order of the additions shows)."""
    from scipy.ndimage import convolve

    rng = np.random.default_rng(7)
    ring = np.ones((3, 3))
    ring[1, 1] = 0.0
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        grid = rng.normal(0.0, 1.0, (h, w)) * 10.0 ** rng.uniform(-8, 8, (h, w))
        grid[rng.random((h, w)) < 0.3] = 0.0
        assert np.array_equal(bg._ring_sum(grid), convolve(grid, ring, mode="constant"))


def test_stacking_does_not_import_scipy_ndimage():
    """A process that stacks (zemosaic.stack.cpu, which imports this module) does not pay scipy.ndimage's import
    (0.35-0.45 s of CPU); the reference flattening imports it when it runs."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from zemosaic.stack import cpu; from zemosaic import background as bg; "
            "print('before', 'scipy.ndimage' in sys.modules); "
            "rng = np.random.default_rng(0); ref = rng.normal(100, 1, (128, 128)).astype(np.float32); "
            "bg.fit_background_match(ref + 3, ref); print('fit', 'scipy.ndimage' in sys.modules); "
            "bg.fit_reference_flattening(ref); print('flatten', 'scipy.ndimage' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["before", "False", "fit", "False", "flatten", "True"]


def test_numba_cell_statistics_equal_the_numpy_ones():
    """The star clip's numba kernels give numpy's numbers bit for bit: the NaN-ignoring cell medians (odd and even
    counts, empty cells, ties, infinities; from 1 to 4096 samples a cell, selected) and the neighbour-difference
    noise medians (a channel without any difference too)."""
    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 9, 16, 64, 65, 66, 1023, 1024, 4096):
        cells = np.round(rng.normal(100.0, 5.0, (2, 40 if m > 64 else 150, m, 3)), 1).astype(np.float32)
        cells[rng.random(cells.shape) < 0.3] = np.nan
        cells[0, 0] = np.nan  # an empty cell
        odd = cells.copy()
        odd[0, 1, : m // 3, 0], odd[0, 2, : m // 3, 1] = np.inf, -np.inf
        odd[1, 3, :, 2] = 7.0  # every sample equal
        for case in (cells, odd):
            assert np.array_equal(sb._nan_median(case), sb._nan_median_numpy(case), equal_nan=True)
        if m > 1:
            cells[1, :, :, 2] = np.nan  # no difference at all in one channel: sigma 0
            diff = np.abs(np.diff(cells, axis=2)).reshape(2, -1, 3)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                expected = np.nan_to_num(bg.MAD_TO_SIGMA / np.sqrt(2.0) * np.nanmedian(diff, axis=1))
            assert np.array_equal(sb._sample_sigma(cells), expected)
            assert sb._sample_sigma(cells)[1, 2] == 0.0


def test_star_clipped_cell_medians_in_one_numba_pass_equal_numpys():
    """The fused star clip (medians, stars flagged against them in float64, medians again without the stars) gives
    the numpy passes' medians and stars bit for bit: one or two images, 1 to 64 samples a cell, 64 cells at a
    time and a partial group, NaN, infinities, a channel whose sigma is 0 (no star flagged through it)."""
    rng = np.random.default_rng(12)
    for k in (1, 2):
        for m in (1, 4, 9, 16, 63, 64):
            cells = np.round(rng.normal(100.0, 5.0, (k, 150, m, 3)), 1).astype(np.float32)
            cells[rng.random(cells.shape) < 0.05] += 200.0                          # stars
            cells[rng.random(cells.shape) < 0.2] = np.nan
            cells[0, 0] = np.nan
            cells[0, 1, : m // 3, 0], cells[-1, 2, : m // 2, 1] = np.inf, -np.inf
            sigma = np.abs(rng.normal(3.0, 1.0, (k, 3)))
            sigma[-1, 2] = 0.0
            med, star = sb._clipped_cell_medians(cells.copy(), sigma, use_numba=True)
            want_med, want_star = sb._clipped_cell_medians(cells.copy(), sigma, use_numba=False)
            assert np.array_equal(star, want_star) and np.array_equal(med, want_med, equal_nan=True)
            assert m < 4 or 0.02 < star.mean() < 0.5                                # the clip did clip
    cells = np.ones((1, 3, 65, 1), np.float32)                                      # past the network: numpy's
    assert np.array_equal(sb._clipped_cell_medians(cells, np.ones((1, 1)), True)[0], np.ones((1, 3, 1)))


def _fit_blocks(rng, gain: float, order: int, masked: bool):
    """Sample blocks of a frame = gain x reference (a nebula over a tilted sky) + a tilted offset, noise, stars."""
    h, w = 60, 90
    yy, xx = np.mgrid[:h, :w]
    nebula = 50.0 * np.exp(-((xx - 40.0) ** 2 + (yy - 30.0) ** 2) / 300.0)
    ref = 800.0 + 0.1 * xx[..., None] + nebula[..., None] * np.array([1.0, 0.7, 0.4]) + rng.normal(0, 3, (h, w, 3))
    frame = gain * ref + 5.0 + 0.05 * yy[..., None] - 0.02 * xx[..., None] + rng.normal(0, 3, (h, w, 3))
    frame[rng.random((h, w)) < 0.01] += 500.0
    valid = np.ones((h, w), bool)
    if masked:
        valid[:, :35] = False
    blocks = bg._blocks_from_grid([frame.astype(np.float32), ref.astype(np.float32)], valid, 1, True)
    return blocks, bg._poly_basis(*bg._block_uv(blocks), order)


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_numba_surface_fit_equals_numpys_lstsq(order):
    """The clip-and-refit in numba (normal equations) keeps the same blocks, fits the same gain (1e-12) and surface
    (1e-9) as numpy's SVD least squares and refuses the same out-of-range gains with the same note: the gain fitted
    or fixed, whole or masked frames, a gain of 30 (refused with a constant surface)."""
    rng = np.random.default_rng(order)
    notes = []
    for gain, masked in [(1.04, False), (0.97, True), (30.0, False)]:
        blocks, basis = _fit_blocks(rng, gain, order, masked)
        for c in range(3):
            f, r = blocks.values[0, :, c], blocks.values[1, :, c]
            for given in (blocks, None):
                got = bg._fit_channel(f, r, basis, given)
                want = bg._fit_channel_lstsq(f, r, basis, given)
                assert got[2] == want[2] and got[3] == want[3]
                assert abs(got[0] - want[0]) < 1e-12
                np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-9)
                notes.append(got[3])
    assert order > 0 or any(note and "refused" in note for note in notes)  # a plane or more absorbs part of it


def test_a_fit_made_while_numba_loads_on_another_thread_has_the_same_numbers(monkeypatch):
    """While another thread holds the kernels' turn (numba loading), a fit takes numpy's block medians and still
    numba's surface fit: its model equals, bit for bit, the one fitted once numba is loaded (a run's numbers do not
    depend on its threads' timing)."""
    rng = np.random.default_rng(9)
    yy, xx = np.mgrid[:240, :320]
    ref = (900.0 + 0.2 * xx[..., None] + 30.0 * np.sin(yy / 40.0)[..., None] * np.array([1.0, 0.6, 0.3])
           + rng.normal(0, 4, (240, 320, 3))).astype(np.float32)
    frame = (1.03 * ref + 12.0 + 0.05 * yy[..., None] + rng.normal(0, 4, (240, 320, 3))).astype(np.float32)
    want = bg.fit_background_match(frame, ref, order=2)
    busy = threading.Lock()
    busy.acquire()                                                                  # another thread is loading
    monkeypatch.setattr(sb, "_KERNELS_LOADED", threading.Event())
    monkeypatch.setattr(sb, "_KERNELS_LOADING", busy)
    with sb.numba_turn() as use_numba:
        assert not use_numba
    got = bg.fit_background_match(frame, ref, order=2)
    assert np.array_equal(got.gain, want.gain) and np.array_equal(got.coeffs, want.coeffs)
    assert (got.n_samples, got.bounds) == (want.n_samples, want.bounds) and abs(want.gain[0] - 1.03) < 0.01


def test_surface_fit_of_a_degenerate_basis_falls_back_on_lstsq():
    """A basis whose columns are dependent on the kept blocks has no Cholesky factor: the channel is fitted by
    numpy's least squares instead (its minimum-norm answer), not left unfitted."""
    blocks, basis = _fit_blocks(np.random.default_rng(5), 1.02, 1, False)
    twin = np.concatenate([basis, basis[:, 1:2]], axis=1)                           # u twice
    f, r = blocks.values[0, :, 0], blocks.values[1, :, 0]
    got = bg._fit_channel(f, r, twin, blocks)
    want = bg._fit_channel_lstsq(f, r, twin, blocks)
    assert got[0] == want[0] and np.array_equal(got[1], want[1]) and got[2] == want[2]
    assert np.isfinite(got[1]).all()


def test_block_medians_same_from_float64_images_and_float32_ones():
    """Images that are not float32 take numpy's passes (finiteness tested before the float32 rounding), float32
    ones the numba kernels: the same blocks, bit for bit, for values within float32's range."""
    rng = np.random.default_rng(5)
    images = [rng.normal(100.0, 5.0, (50, 70, 3)) + rng.pareto(1.5, (50, 70, 3)) * 20 for _ in range(2)]
    images[1][rng.random((50, 70)) < 0.05] = np.nan
    valid = rng.random((50, 70)) > 0.1
    rows, cols = np.arange(50.0) * 8, np.arange(70.0) * 8
    a = sb.block_medians(images, valid, rows, cols, 4)
    b = sb.block_medians([i.astype(np.float32) for i in images], valid, rows, cols, 4)
    for field in ("values", "rows", "cols", "grid"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert a.bounds == b.bounds and a.values.shape[1] > 150


def test_block_median_grid_is_nanmedian_of_every_cell_in_both_row_bands():
    """The grid is measured in two row bands at once: each cell is still np.nanmedian of its pixels, bit for bit,
    partial last cells and all-NaN cells (NaN) included."""
    rng = np.random.default_rng(11)
    for h, w, block in [(301, 257, 32), (33, 70, 32), (1, 5, 4), (100, 3, 7)]:
        image = rng.normal(100.0, 5.0, (h, w)).astype(np.float32)
        image[rng.random(image.shape) < 0.3] = np.nan
        image[:block, :block] = np.nan                                               # one cell without a sample
        grid = sb.block_median_grid(image, block)
        assert grid.shape == (-(-h // block), -(-w // block))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)                          # the all-NaN cell
            want = np.array([[np.nanmedian(image[r:r + block, c:c + block]) for c in range(0, w, block)]
                             for r in range(0, h, block)], np.float32)
        assert np.array_equal(grid, want, equal_nan=True)
