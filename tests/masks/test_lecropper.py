"""Tests of lecropper: coverage-driven alpha, Alt-Az fallback, layouts and quality crop (synthetic truth)."""
import logging

import numpy as np
import pytest
from scipy import ndimage as ndi

import lecropper as lc
from zemosaic.synthetic.generator import rotated_footprint_coverage

H, W = 240, 320
FEATHER_PX = 0.05 * H  # margin_percent=5 of the short side


def rect_coverage(h=H, w=W, n=20, max_angle=12.0, max_shift=0.03, size=0.9, seed=0):
    """Coverage of ``n`` rotated / shifted rectangles, like the frames of an Alt-Az group."""
    return rotated_footprint_coverage((h, w), n, max_angle_deg=max_angle, max_shift=max_shift, size=size,
                                      seed=seed)


def star_sky(h=H, w=W, seed=1, level=100.0, noise=5.0, n_stars=60):
    rng = np.random.default_rng(seed)
    img = rng.normal(level, noise, (h, w))
    ys, xs = rng.integers(0, h, n_stars), rng.integers(0, w, n_stars)
    img[ys, xs] += rng.uniform(50, 2000, n_stars)
    return img.astype(np.float32)


def rgb_sky(seed=1, **kw):
    return np.stack([star_sky(seed=seed + c, **kw) for c in range(3)], axis=-1)


# ---------------------------------------------------------------------------------------------------- layout


def test_layout_rule():
    assert lc.image_layout(np.zeros((5, 7))) == "mono"
    assert lc.image_layout(np.zeros((3, 5, 7))) == "chw"
    assert lc.image_layout(np.zeros((5, 7, 3))) == "hwc"
    assert lc.image_layout(np.zeros((3, 4, 3))) == "hwc"  # last axis wins
    for bad in [(5,), (4, 5, 6), (3, 5, 7, 1)]:
        with pytest.raises(ValueError):
            lc.image_layout(np.zeros(bad))


def test_small_layouts_give_documented_plane_shapes():
    cov_chw = np.full((5, 7), 10.0, np.float32)
    _, a_chw = lc.mask_altaz_artifacts(np.ones((3, 5, 7)), return_mask=True, coverage=cov_chw)
    _, a_hwc = lc.mask_altaz_artifacts(np.ones((5, 7, 3)), return_mask=True, coverage=cov_chw)
    assert a_chw.shape == a_hwc.shape == (5, 7)
    assert np.all(a_chw == 1.0) and np.all(a_hwc == 1.0)
    # 3 x 4 x 3 is HWC: its plane is 3 x 4, so a 4 x 3 coverage is refused, a 3 x 4 one is used
    img = np.ones((3, 4, 3), np.float32)
    assert lc.compute_alpha_mask(img, coverage=np.full((3, 4), 5.0)).source == "coverage"
    res = lc.compute_alpha_mask(img, coverage=np.full((4, 3), 5.0))
    assert res.source == "fallback" and "shape" in res.coverage_ignored_reason


@pytest.mark.parametrize("with_coverage", [True, False])
def test_mono_hwc_chw_same_mask(with_coverage):
    mono = star_sky()
    mono[:30, :40] = 0.0  # a filled corner so the fallback has something to find
    cov = rect_coverage() if with_coverage else None
    hwc = np.repeat(mono[:, :, None], 3, axis=2)
    chw = np.ascontiguousarray(np.moveaxis(hwc, 2, 0))
    m2, a2 = lc.mask_altaz_artifacts(mono, return_mask=True, coverage=cov)
    m3, a3 = lc.mask_altaz_artifacts(hwc, return_mask=True, coverage=cov)
    mc, ac = lc.mask_altaz_artifacts(chw, return_mask=True, coverage=cov)
    np.testing.assert_array_equal(a2, a3)
    np.testing.assert_array_equal(a2, ac)
    assert m3.shape == hwc.shape and mc.shape == chw.shape
    for c in range(3):
        np.testing.assert_array_equal(m3[..., c], m2)
        np.testing.assert_array_equal(mc[c], m2)
    assert a2[0, 0] == 0.0  # the filled corner (or the low coverage) is masked


# ---------------------------------------------------------------------------------------------------- coverage


def test_coverage_alpha_zero_below_thr_one_inside_monotone():
    cov = rect_coverage()
    res = lc.compute_alpha_mask(np.zeros((H, W), np.float32), coverage=cov)
    alpha = res.alpha
    assert res.source == "coverage" and res.coverage_ignored_reason is None
    assert res.threshold == 8.0  # max(3, 0.4 * 20)
    assert alpha.dtype == np.float32 and alpha.shape == (H, W)
    low = cov < 8.0
    assert 0.05 < low.mean() < 0.5  # the ring and rotated corners are a real part of the tile
    assert np.all(alpha[low] == 0.0)
    depth = ndi.distance_transform_edt(~low)
    deep = depth > FEATHER_PX + 2 * lc.MORPH_OPEN_PX_DEFAULT
    assert deep.mean() > 0.4
    assert np.all(alpha[deep] == 1.0)
    ramp = (alpha > 0) & (alpha < 1)
    assert ramp.any() and np.all(depth[ramp] <= FEATHER_PX + 2 * lc.MORPH_OPEN_PX_DEFAULT)
    for row in range(H // 3, 2 * H // 3, 7):  # from the left border inwards, then from the right
        assert np.all(np.diff(alpha[row, : W // 2]) >= 0)
        assert np.all(np.diff(alpha[row, W // 2:]) <= 0)
    assert res.kept_fraction == pytest.approx(np.mean(alpha > 0))


def test_threshold_arithmetic_and_caller_clamp(caplog):
    cov = rect_coverage(n=20)
    assert lc.compute_alpha_mask(cov, coverage=cov, min_coverage_frac=0.6).threshold == 12.0
    assert lc.compute_alpha_mask(cov, coverage=cov, min_coverage_abs=10.0).threshold == 10.0
    two = rect_coverage(n=2, max_angle=3.0)  # a group of 2 frames
    assert two.max() == 2.0
    with caplog.at_level(logging.WARNING, logger="zemosaic.masks"):
        blank = lc.compute_alpha_mask(two, coverage=two)  # default abs = 3 > 2 frames, not clamped here
    assert blank.threshold == 3.0 and np.all(blank.alpha == 0.0) and blank.kept_fraction == 0.0
    assert "clamp" in caplog.text
    n_stacked = 2  # what the worker does: clamp min_coverage_abs to the frames stacked
    clamp_abs = min(lc.MIN_COVERAGE_ABS_DEFAULT, n_stacked)
    clamped = lc.compute_alpha_mask(two, coverage=two, min_coverage_abs=clamp_abs)
    assert clamped.threshold == 2.0
    assert np.all(clamped.alpha[two < 2] == 0.0)
    assert clamped.kept_fraction == pytest.approx(np.mean(two >= 2), abs=0.01)


def test_coverage_that_cannot_discriminate_gives_ones():
    cov = np.full((H, W), 7.0, np.float32)
    cov[:, :5] = 4.0  # above thr = max(3, 2.8) everywhere
    res = lc.compute_alpha_mask(np.zeros((H, W)), coverage=cov)
    assert res.source == "coverage" and np.all(res.alpha == 1.0) and res.kept_fraction == 1.0


def _filament_coverage():
    cov = np.ones((H, W), np.float32)
    cov[60:180, 80:240] = 10.0
    cov[100, 20:80] = 10.0  # 1 px filament into the low zone
    cov[140:142, 20:80] = 10.0  # 2 px filament
    cov[20:22, 20:22] = 10.0  # 2 x 2 island
    cov[180:230, 150:162] = 10.0  # 12 px wide peninsula: survives an opening of radius 3
    return cov


def test_opening_removes_thin_filaments():
    cov = _filament_coverage()
    thin = np.zeros((H, W), bool)
    thin[100, 20:76] = thin[140:142, 20:76] = thin[20:22, 20:22] = True  # the last 3 px join the body
    opened = lc.compute_alpha_mask(cov, coverage=cov, morph_open_px=3).alpha
    assert np.all(opened[thin] == 0.0)
    assert np.all(opened[200:230, 155:157] > 0.0)  # the wide peninsula stays (feathered)
    assert opened[120, 160] == 1.0
    raw = lc.compute_alpha_mask(cov, coverage=cov, morph_open_px=0).alpha
    assert np.all(raw[100, 20:80] > 0.0) and np.all(raw[140:142, 20:80] > 0.0)  # attached: kept unopened
    assert np.all(raw[20:22, 20:22] == 0.0)  # a detached speck goes with the small components anyway


def test_distances_and_opening_are_scipys_bit_for_bit():
    """The exact squared distances give scipy's Euclidean distance transform bit for bit, and the opening by a disk
    scipy's erosion (the border counting as inside) then dilation by that disk, at every radius: on smooth and
    speckled masks, a lone excluded pixel, masks without any, and one-row or one-column masks."""
    rng = np.random.default_rng(3)
    masks = []
    for shape in [(1, 17), (23, 1), (90, 110), (64, 300)]:
        lone = np.ones(shape, bool)
        lone.flat[rng.integers(lone.size)] = False
        smooth = ndi.gaussian_filter(rng.normal(size=shape), 4) > 0 if min(shape) > 1 else rng.random(shape) > 0.3
        masks += [rng.random(shape) > 0.5, smooth, lone, np.zeros(shape, bool), rng.random(shape) > 0.97]
    for mask in masks:
        np.testing.assert_array_equal(lc._distance_to_false(mask), ndi.distance_transform_edt(mask).astype(np.float32))
        for radius in (1, 2, 3, 4, 5, 7):
            yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
            disk = yy * yy + xx * xx <= radius * radius
            eroded = ndi.binary_erosion(mask, structure=disk, border_value=1)
            np.testing.assert_array_equal(lc._open_disk(mask, radius), ndi.binary_dilation(eroded, structure=disk))
    assert np.isinf(lc._distance_to_false(np.ones((5, 6), bool))).all()


def test_small_detached_component_dropped_and_holes_by_coverage():
    cov = np.ones((H, W), np.float32)
    cov[40:200, 40:280] = 10.0
    cov[5:20, 290:305] = 10.0  # detached 15 x 15 island (< 5 % of the main support)
    yy, xx = np.mgrid[:H, :W]
    real_hole = (yy - 120) ** 2 + (xx - 100) ** 2 <= 36
    low_hole = (yy - 120) ** 2 + (xx - 220) ** 2 <= 36
    cov[real_hole] = 6.0  # >= thr / 2: real data cut out by the threshold -> filled
    cov[low_hole] = 1.0  # truly low coverage -> stays masked
    res = lc.compute_alpha_mask(cov, coverage=cov, min_coverage_frac=0.8)
    assert res.threshold == 8.0
    assert np.all(res.alpha[5:20, 290:305] == 0.0)
    assert np.all(res.alpha[real_hole] == 1.0)
    assert np.all(res.alpha[low_hole] == 0.0)
    assert 0.0 < res.alpha[120, 220 + 8] < 1.0  # feathered around the low hole


def test_unusable_coverage_falls_back_identically(caplog):
    img = star_sky()
    img[:, :25] = 0.0
    ref_m, ref_a = lc.mask_altaz_artifacts(img, return_mask=True)
    bad_nan = rect_coverage()
    bad_nan[3, 3] = np.nan
    cases = {
        "shape": rect_coverage(h=H + 1),
        "non-finite": bad_nan,
        "<= 0": np.zeros((H, W), np.float32),
        "not numeric": np.full((H, W), "x", dtype=object),
    }
    for word, cov in cases.items():
        res = lc.compute_alpha_mask(img, coverage=cov)
        assert res.source == "fallback" and res.threshold is None
        assert word in res.coverage_ignored_reason or word.split()[0] in res.coverage_ignored_reason
        with caplog.at_level(logging.DEBUG, logger="zemosaic.masks"):
            m, a = lc.mask_altaz_artifacts(img, return_mask=True, coverage=cov)
        np.testing.assert_array_equal(a, ref_a)
        np.testing.assert_array_equal(m, ref_m)
    assert caplog.text.count("coverage ignored:") == 4
    assert lc.compute_alpha_mask(img).coverage_ignored_reason is None


# ---------------------------------------------------------------------------------------------------- fallback


@pytest.mark.parametrize("fill", ["zero", "median", "nan"])
def test_fallback_rotated_frame_with_filled_corners(fill):
    sky = star_sky(seed=5)
    cval = {"zero": 0.0, "median": float(np.median(sky)), "nan": np.nan}[fill]
    rotated = ndi.rotate(sky, 9.0, reshape=False, order=1, mode="constant", cval=0.0)
    weight = ndi.rotate(np.ones_like(sky), 9.0, reshape=False, order=1, mode="constant", cval=0.0)
    outside = weight == 0.0
    rotated[outside] = cval
    assert 0.03 < outside.mean() < 0.2
    res = lc.compute_alpha_mask(rotated)
    assert res.source == "fallback"
    assert np.all(res.alpha[outside] == 0.0)
    inside = ndi.distance_transform_edt(weight > 0.999) > FEATHER_PX + 2
    assert inside.mean() > 0.6
    assert np.all(res.alpha[inside] > 0.9)
    assert np.mean(res.alpha[inside] == 1.0) > 0.95


def test_flat_runs_match_window_definition():
    rng = np.random.default_rng(4)
    arr = rng.integers(0, 2, (40, 50)).astype(np.float32)  # many short equal runs, some of length >= 5
    arr[5:8, 10:30] = 7.0
    got = lc._flat_mask(arr, 1.0)
    want = np.zeros(arr.shape, bool)
    for axis in (0, 1):
        spread = ndi.maximum_filter1d(arr, 5, axis=axis) - ndi.minimum_filter1d(arr, 5, axis=axis)
        want |= ndi.minimum_filter1d(spread, 5, axis=axis) <= 1e-3
    # the filter version pads edges by reflection: compare away from the borders
    np.testing.assert_array_equal(got[4:-4, 4:-4], want[4:-4, 4:-4])
    assert np.all(got[5:8, 10:30]) and 0.05 < got.mean() < 0.5


def test_fallback_clean_frame_loses_almost_nothing():
    yy, xx = np.mgrid[:H, :W]
    sky = star_sky(seed=7) + (15.0 * xx / W).astype(np.float32)  # a mild gradient is not an artefact
    sky[0:3, 150:153] = 65535.0  # a saturated star on the border is not a fill
    alpha = lc.compute_alpha_mask(sky).alpha
    lost_mean = float(np.mean(1.0 - alpha))
    lost_pixels = float(np.mean(alpha < 0.5))
    # measured: 0.7 % of the weight, 0.6 % of the pixels below alpha 0.5 (the extreme corners only)
    assert lost_mean < 0.03 and lost_pixels < 0.03
    ry = (yy - (H - 1) / 2) / ((H - 1) / 2)
    rx = (xx - (W - 1) / 2) / ((W - 1) / 2)
    interior = np.sqrt((ry ** 2 + rx ** 2) / 2) < 0.9
    assert np.all(alpha[interior] == 1.0)
    assert np.all(alpha[0:3, 150:153] == 1.0)


def test_fallback_sky_subtracted_frame_with_zero_corner():
    sky = star_sky(seed=8, level=0.0, noise=2.0)
    sky[:40, :60] = 0.0  # flat fill at the sky level itself: only flatness can tell
    alpha = lc.compute_alpha_mask(sky).alpha
    assert np.all(alpha[:40, :60] == 0.0)
    assert np.all(alpha[100:140, 120:200] == 1.0)


# ---------------------------------------------------------------------------------------------------- masked image


def test_masked_image_values_dtype_and_nan_safety():
    img = (star_sky(seed=9) * 10).astype(np.uint16)
    cov = rect_coverage()
    before = img.copy()
    masked, alpha = lc.mask_altaz_artifacts(img, return_mask=True, coverage=cov, fill_value=-1.0)
    np.testing.assert_array_equal(img, before)
    assert masked.dtype == np.float32 and alpha.dtype == np.float32
    hard = alpha <= 1e-3
    assert np.all(masked[hard] == -1.0)
    np.testing.assert_allclose(masked[~hard], img[~hard].astype(np.float32) * alpha[~hard], rtol=1e-6)
    f = img.astype(np.float32)
    f[cov < 8] = np.nan  # nanised where coverage is low: those pixels are masked, no NaN survives there
    out = lc.mask_altaz_artifacts(f, coverage=cov)
    assert np.all(np.isfinite(out[cov < 8])) and np.all(out[cov < 8] == 0.0)
    assert not np.shares_memory(out, f)


def test_parameter_validation():
    img = np.zeros((20, 20), np.float32)
    for kw in [dict(margin_percent=-1.0), dict(decay_ratio=-0.1), dict(min_coverage_frac=1.5),
               dict(min_coverage_abs=-2.0), dict(morph_open_px=1.5)]:
        with pytest.raises(ValueError):
            lc.compute_alpha_mask(img, **kw)


def test_ramp_is_monotone_and_pinned():
    t = np.linspace(-0.2, 1.2, 301, dtype=np.float32)
    for decay in (0.0, 0.05, 0.15, 1.0):
        r = lc._ramp(t, decay)
        assert r[0] == 0.0 and r[-1] == 1.0 and np.all(np.diff(r) >= 0)
    assert lc._ramp(np.float32([0.5]), 0.15)[0] == pytest.approx(0.5, abs=1e-6)


# ---------------------------------------------------------------------------------------------------- crop


@pytest.mark.parametrize("layout", ["mono", "hwc", "chw"])
def test_quality_crop_excludes_dark_bands(layout):
    rng = np.random.default_rng(11)
    h, w = 200, 300
    img = rgb_sky(seed=11)[:h, :w] if layout != "mono" else star_sky(seed=11)[:h, :w]
    img = np.array(img)
    img[:12] = 0.0  # constant dark band on top
    img[:, -20:] = rng.normal(10.0, 2.0, img[:, -20:].shape)  # noisy dark band on the right
    if layout == "chw":
        img = np.moveaxis(img, 2, 0)
    assert lc.detect_quality_crop_rect(img) == (12, 0, 200, 280)


def test_quality_crop_nan_band_colour_cast_and_clean():
    img = rgb_sky(seed=12)
    assert lc.detect_quality_crop_rect(img) is None
    img[-9:] = np.nan  # NaN rows count as bad
    img[:, :15, 0] += 50.0  # red cast on the left (sky 100)
    assert lc.detect_quality_crop_rect(img) == (0, 15, H - 9, W)
    tiny = rgb_sky(seed=13)
    tiny[:1] = 0.0  # one row: not worth a crop
    assert lc.detect_quality_crop_rect(tiny) is None
    mostly_bad = rgb_sky(seed=14)
    mostly_bad[:200] = 0.0
    assert lc.detect_quality_crop_rect(mostly_bad) is None


@pytest.mark.parametrize("rule, expected", [
    ("intersection", {1: 1.0, 2: 2.0, 3: 3.0, 4: 3.0, 6: 3.0, 10: 3.0}),
    ("all_but_one", {1: 1.0, 2: 2.0, 3: 2.0, 4: 3.0, 6: 3.0, 10: 3.0}),
    ("fraction", {1: 0.4, 2: 0.8, 3: 1.2, 4: 1.6, 6: 2.4, 10: 3.0}),
])
def test_small_group_rules_give_the_documented_threshold(rule, expected):
    got = {n: lc.group_min_coverage_abs(3.0, n, rule, 0.4) for n in expected}
    assert got == pytest.approx(expected)
    assert lc.group_min_coverage_abs(2.0, 5, rule, 0.4) == 2.0  # a lower absolute minimum is never raised
    with pytest.raises(ValueError, match="unknown small-group rule"):
        lc.group_min_coverage_abs(3.0, 3, rule + "x")


def test_coverage_decision_reasons_come_from_one_vocabulary():
    assert lc.CoverageDecision(True, "used").reason == "coverage used"
    d = lc.CoverageDecision.not_used("shape_mismatch", "99x160 vs 100x160")
    assert not d.used and d.reason == "shape_mismatch: coverage shape does not match the tile (99x160 vs 100x160)"
    assert lc.CoverageDecision.not_used("cleanup_off").reason == "cleanup_off: cleanup off"
    with pytest.raises(ValueError, match="unknown coverage decision code"):
        lc.CoverageDecision.not_used("typo")
    with pytest.raises(ValueError, match="contradicts"):
        lc.CoverageDecision(True, "empty")
    with pytest.raises(ValueError, match="contradicts"):
        lc.CoverageDecision(False, "used")
    refused = lc.coverage_unusable(np.ones((4, 5)), (4, 6))
    assert refused.code == "shape_mismatch" and refused.detail == "4x5 vs 4x6"
    assert lc.coverage_unusable(np.zeros((4, 6)), (4, 6)).code == "empty"
    assert lc.coverage_unusable(np.full((4, 6), np.inf), (4, 6)).detail == "24 non-finite values"
    assert lc.coverage_unusable(np.ones((4, 6), np.uint8), (4, 6)) is None


def test_fallback_ignores_border_specks_smaller_than_a_region():
    rng = np.random.default_rng(12)
    img = (500.0 + rng.normal(0.0, 5.0, (200, 300))).astype(np.float32)
    clean = lc.compute_alpha_mask(img).alpha
    specked = img.copy()
    specked[100:102, 0] = np.nan  # 2 px on the border: far below _MIN_REGION_FRAC of the image
    alpha = lc.compute_alpha_mask(specked).alpha
    assert np.all(alpha[100:102, 0] == 0.0)  # the non-finite pixels themselves carry no weight
    untouched = np.ones_like(alpha, bool)
    untouched[100:102, 0] = False
    np.testing.assert_array_equal(alpha[untouched], clean[untouched])  # no feather around a speck
    region = img.copy()
    region[60:140, :6] = np.nan  # a real border region: feathered
    assert lc.compute_alpha_mask(region).alpha[100, 10] < 0.9 * clean[100, 10]
