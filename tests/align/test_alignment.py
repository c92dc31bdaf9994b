"""Tests of alignment.py: known transforms on synthetic star fields, footprints, FFT fallback."""
from __future__ import annotations

import types

import numpy as np
import pytest

from zemosaic.align import group as alignment
from zemosaic.align.group import (
    AlignedFrame,
    SimilarityTransform,
    align_images_in_group,
    fft_overlap_rect,
    footprint_to_valid_mask,
    phase_correlate,
)
from zemosaic.synthetic.generator import render_star_field

SHAPE = (240, 320)
SKY = 200.0
NOISE = 4.0


# ----------------------------------------------------------------------------------------------
# helpers: one catalogue rendered through known transforms (the truth has no interpolation in it)
# ----------------------------------------------------------------------------------------------


def _catalogue(seed=3, n=220, shape=SHAPE, margin=60):
    rng = np.random.default_rng(seed)
    h, w = shape
    x = rng.uniform(-margin, w + margin, n)
    y = rng.uniform(-margin, h + margin, n)
    flux = 10 ** rng.uniform(2.6, 4.2, n)
    colours = rng.uniform(0.6, 1.3, (n, 3))
    return x, y, flux, colours


def _render(cat, transform=None, rgb=False, shape=SHAPE):
    """Render the catalogue as seen by a frame whose frame -> reference mapping is ``transform``."""
    x, y, flux, colours = cat
    if transform is not None:
        inv = np.linalg.inv(transform.matrix)
        x, y = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2], inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
    img = render_star_field(shape, x, y, flux, colors=colours if rgb else None)
    return img + np.float32(SKY)


def _noisy(img, seed):
    rng = np.random.default_rng(seed)
    return (img + rng.normal(0.0, NOISE, img.shape)).astype(np.float32)


def _analytic_valid(transform, shape=SHAPE):
    """Reference pixel centres mapped through the inverse transform, inside the source frame."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    inv = np.linalg.inv(transform.matrix)
    xs = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2]
    ys = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2]
    return (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def _assert_matches_truth(res, clean):
    """Residual against the noise-free truth: noise-like everywhere, and on the stars themselves.

    On star pixels (> 10 sigma above the sky) a 0.1 px misregistration or a blurring interpolation
    raises the residual RMS to 2-3 x the noise; a correct alignment stays at the noise.
    """
    resid = res.image - clean
    assert abs(float(resid[res.valid].mean())) < 0.1 * NOISE
    assert float(resid[res.valid].std()) < 1.05 * NOISE
    peak = (clean - SKY) if clean.ndim == 2 else (clean - SKY).max(axis=2)
    on_stars = res.valid & (peak > 10 * NOISE)
    assert on_stars.sum() > 500
    assert float(resid[on_stars].std()) < 1.5 * NOISE


def _group(transform, rgb=False, seed=3, **kwargs):
    cat = _catalogue(seed)
    ref = _noisy(_render(cat, rgb=rgb), seed + 100)
    frame = _noisy(_render(cat, transform, rgb=rgb), seed + 200)
    res = align_images_in_group([ref, frame], propagate_mask=True, **kwargs)
    return res, _render(cat, rgb=rgb)


# ----------------------------------------------------------------------------------------------
# astroalign path: translation, rotation, mono and RGB
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rot, dx, dy, rgb", [
    (0.0, 5.37, -3.81, False),
    (0.0, -11.62, 7.24, True),
    (12.5, 4.3, 6.1, True),
    (30.0, -6.8, 2.45, False),
    (-30.0, 3.3, -8.9, True),
])
def test_known_transform_is_recovered(rot, dx, dy, rgb):
    truth = SimilarityTransform(rot, 1.0, dx, dy)
    (ref_res, res), clean = _group(truth, rgb=rgb)
    assert res.method == "astroalign" and res.reason is None
    assert res.n_matched_stars >= 20
    t = res.transform
    assert abs(t.dx - dx) < 0.1 and abs(t.dy - dy) < 0.1
    assert abs(t.rotation_deg - rot) < 0.05
    assert abs(t.scale - 1.0) < 1e-3
    # valid mask = analytic overlap region
    expected = _analytic_valid(truth)
    assert res.valid.shape == SHAPE and res.valid.dtype == bool
    assert _iou(res.valid, expected) >= 0.99
    # aligned image: float32, reference shape, finite, matches the noise-free truth to the noise level
    assert res.image.dtype == np.float32 and res.image.shape == clean.shape
    assert np.isfinite(res.image).all()
    _assert_matches_truth(res, clean)
    # outside the footprint: the frame's sky level, not 0 or NaN
    outside = res.image[~res.valid]                      # (n,) or (n, 3): one fill value per channel
    assert np.allclose(outside, np.median(outside, axis=0), atol=1e-3)
    assert np.all(np.abs(np.median(outside, axis=0) - SKY) < 3 * NOISE)


def test_other_channel_counts_are_resampled_plane_by_plane():
    cat = _catalogue(3)
    truth = SimilarityTransform(4.0, 1.0, 3.5, -2.25)
    ref, frame = _noisy(_render(cat), 1), _noisy(_render(cat, truth), 2)
    mono = align_images_in_group([ref, frame], propagate_mask=True)[1]
    four = align_images_in_group([np.dstack([ref] * 4), np.dstack([frame, frame * 2, frame, frame])],
                                 propagate_mask=True)[1]
    assert four.image.shape == (*SHAPE, 4) and np.array_equal(four.valid, mono.valid)
    assert four.transform.matrix == pytest.approx(mono.transform.matrix, abs=1e-5)
    # the two fits differ by ~1e-8 px: a pixel may fall in the next 1/1024 px weight-table phase
    assert np.abs(four.image[:, :, 0] - mono.image).max() < 0.01 * NOISE
    assert np.abs(four.image[:, :, 1] - 2 * mono.image).max() < 0.02 * NOISE


def test_seestar_like_group_matches_the_wcs_truth():
    """Alt-Az drift of 20 deg, dither, nebula brighter than the sky mesh, gradients, noise (synthetic)."""
    from zemosaic.synthetic.generator import make_frame_group

    group = make_frame_group(5, shape=(256, 384), rotation_drift_deg=20.0, seed=2)
    res = align_images_in_group(list(group.frames), group.ref_index, propagate_mask=True)
    ref_wcs = group.wcs_list[group.ref_index]
    yy, xx = np.mgrid[10:256:35, 10:384:35]
    x, y = xx.ravel().astype(float), yy.ravel().astype(float)
    for r, wcs in zip(res, group.wcs_list, strict=True):
        assert r.method in ("reference", "astroalign"), r.reason
        ex, ey = ref_wcs.world_to_pixel(wcs.pixel_to_world(x, y))
        m = r.transform.matrix
        err = np.hypot(m[0, 0] * x + m[0, 1] * y + m[0, 2] - ex, m[1, 0] * x + m[1, 1] * y + m[1, 2] - ey)
        assert err.max() < 0.1
        assert _iou(r.valid, _analytic_valid(r.transform, (256, 384))) == 1.0


def test_noiseless_frames_still_align():
    cat = _catalogue(3)
    truth = SimilarityTransform(4.0, 1.0, 3.5, -2.25)
    res = align_images_in_group([_render(cat), _render(cat, truth)])[1]
    assert res.method == "astroalign"
    assert res.transform.matrix == pytest.approx(truth.matrix, abs=2e-3)


def test_reference_is_returned_unchanged_with_full_mask():
    (ref_res, _), _ = _group(SimilarityTransform(0.0, 1.0, 2.2, 1.1))
    cat = _catalogue(3)
    ref = _noisy(_render(cat), 103)
    assert ref_res.method == "reference"
    assert np.array_equal(ref_res.image, ref)
    assert ref_res.image.dtype == np.float32
    assert ref_res.valid.all() and ref_res.valid.shape == SHAPE
    assert ref_res.transform.matrix == pytest.approx(np.eye(3))


def test_reference_index_and_input_order():
    cat = _catalogue(5)
    shifts = [(3.2, -1.7), (0.0, 0.0), (-4.4, 2.9)]
    frames = [_noisy(_render(cat, SimilarityTransform(0.0, 1.0, dx, dy)), k) for k, (dx, dy) in enumerate(shifts)]
    # reference = frame 1 (no shift): every other frame's transform is its own shift
    res = align_images_in_group(frames, reference_image_index=1)
    assert [r.method for r in res] == ["astroalign", "reference", "astroalign"]
    for r, (dx, dy) in zip(res, shifts, strict=True):
        assert r.transform.dx == pytest.approx(dx, abs=0.1) and r.transform.dy == pytest.approx(dy, abs=0.1)


def test_similarity_transform_direction_and_matrix_round_trip():
    t = SimilarityTransform(20.0, 1.01, 3.0, -2.0)
    back = SimilarityTransform.from_matrix(t.matrix)
    assert back.rotation_deg == pytest.approx(20.0) and back.scale == pytest.approx(1.01)
    assert (back.dx, back.dy) == pytest.approx((3.0, -2.0))
    # +x axis turns toward +y for a positive angle: frame (1, 0) lands at (cos, sin) * scale + shift
    x, y, _ = t.matrix @ np.array([1.0, 0.0, 1.0])
    assert (x, y) == pytest.approx((1.01 * np.cos(np.radians(20)) + 3.0, 1.01 * np.sin(np.radians(20)) - 2.0))


def test_propagate_mask_false_gives_no_valid_mask():
    cat = _catalogue(3)
    frames = [_noisy(_render(cat), 1), _noisy(_render(cat, SimilarityTransform(5.0, 1.0, 2.0, 1.0)), 2)]
    res = align_images_in_group(frames)
    assert [r.valid for r in res] == [None, None]
    assert res[1].method == "astroalign"


def test_nan_in_frame_never_reaches_astroalign_and_output_is_finite(monkeypatch):
    cat = _catalogue(3)
    ref = _noisy(_render(cat), 1)
    frame = _noisy(_render(cat, SimilarityTransform(3.0, 1.0, 4.0, -2.0)), 2)
    frame[100:110, 50:200] = np.nan
    real = alignment._load_astroalign()
    seen = []

    def spy(source, target, **kw):
        seen.append(np.isfinite(np.asarray(source)).all() and np.isfinite(np.asarray(target)).all())
        return real.find_transform(source, target, **kw)

    monkeypatch.setattr(alignment, "_load_astroalign", lambda: types.SimpleNamespace(
        find_transform=spy, MaxIterError=real.MaxIterError))
    res = align_images_in_group([ref, frame], propagate_mask=True)[1]
    assert seen == [True]
    assert res.method == "astroalign" and np.isfinite(res.image).all()
    assert res.transform.dx == pytest.approx(4.0, abs=0.1)


# ----------------------------------------------------------------------------------------------
# FFT fallback
# ----------------------------------------------------------------------------------------------


def _sparse_scene(seed, dx=0.0, dy=0.0):
    """Two stars and a small galaxy-like blob: too few stars for astroalign, plenty for FFT."""
    h, w = SHAPE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    blob = 400.0 * np.exp(-(((xx - 150 - dx) / 9.0) ** 2 + ((yy - 130 - dy) / 5.0) ** 2) / 2)
    stars = render_star_field(SHAPE, np.array([60.0, 250.0]) + dx, np.array([70.0, 180.0]) + dy, 4e4)
    return _noisy((blob + stars + SKY).astype(np.float32), seed)


def test_sparse_frame_falls_back_to_fft_with_overlap_rectangle():
    dx, dy = 6.4, -3.7                                    # shift to apply to the frame
    ref, frame = _sparse_scene(1), _sparse_scene(2, -dx, -dy)
    res = align_images_in_group([ref, frame], propagate_mask=True, debug=True)[1]
    assert res.method == "fft"
    assert "too few" in res.reason and "stars" in res.reason
    assert res.transform.dx == pytest.approx(dx, abs=0.1) and res.transform.dy == pytest.approx(dy, abs=0.1)
    assert res.fft_confidence >= alignment.DEFAULT_FFT_MIN_CONFIDENCE
    y0, x0, y1, x1 = fft_overlap_rect(SHAPE, res.transform.dy, res.transform.dx)
    expected = np.zeros(SHAPE, dtype=bool)
    expected[y0:y1, x0:x1] = True
    assert np.array_equal(res.valid, expected)
    assert _iou(res.valid, _analytic_valid(SimilarityTransform.translation(dx, dy))) >= 0.99


def test_starless_frame_fails_with_reason():
    ref = _sparse_scene(1)
    frame = _noisy(np.full(SHAPE, SKY, dtype=np.float32), 9)
    res = align_images_in_group([ref, frame], propagate_mask=True)[1]
    assert res.method == "failed" and not res.ok
    assert "too few stars" in res.reason and "confidence" in res.reason
    assert res.image is None and res.valid is None
    assert res.fft_confidence < alignment.DEFAULT_FFT_MIN_CONFIDENCE


@pytest.mark.parametrize("rgb", [False, True])
def test_astroalign_unavailable_uses_fft_for_translations(monkeypatch, rgb):
    monkeypatch.setattr(alignment, "_load_astroalign", lambda: None)
    dx, dy = -7.3, 4.55
    (_, res), clean = _group(SimilarityTransform.translation(dx, dy), rgb=rgb)
    assert res.method == "fft" and res.reason == "astroalign not available"
    assert res.transform.dx == pytest.approx(dx, abs=0.1) and res.transform.dy == pytest.approx(dy, abs=0.1)
    assert res.transform.rotation_deg == 0.0
    assert _iou(res.valid, _analytic_valid(SimilarityTransform.translation(dx, dy))) >= 0.99
    _assert_matches_truth(res, clean)


def test_a_failing_astroalign_import_really_takes_the_fft_path(monkeypatch, caplog):
    import sys

    monkeypatch.setitem(sys.modules, "astroalign", None)  # `import astroalign` now raises ImportError
    with caplog.at_level("WARNING", logger="zemosaic.align"):
        assert alignment._load_astroalign() is None
        (_, res), clean = _group(SimilarityTransform.translation(3.2, -1.7))
    assert "astroalign unavailable" in caplog.text
    assert res.method == "fft"
    assert res.transform.dx == pytest.approx(3.2, abs=0.1) and res.transform.dy == pytest.approx(-1.7, abs=0.1)
    _assert_matches_truth(res, clean)


def test_fft_fallback_refuses_a_rotated_frame(monkeypatch):
    monkeypatch.setattr(alignment, "_load_astroalign", lambda: None)
    (_, res), _ = _group(SimilarityTransform(3.0, 1.0, 4.0, -2.0))
    assert res.method == "failed" and "not a translation" in res.reason
    assert res.fft_confidence >= alignment.DEFAULT_FFT_MIN_CONFIDENCE   # a confident peak, yet wrong


def test_astroalign_failure_falls_back_to_fft(monkeypatch):
    class MaxIterError(RuntimeError):
        pass

    def refuse(*args, **kwargs):
        raise MaxIterError("no match")

    monkeypatch.setattr(alignment, "_load_astroalign",
                        lambda: types.SimpleNamespace(find_transform=refuse, MaxIterError=MaxIterError))
    (_, res), _ = _group(SimilarityTransform.translation(3.25, -2.5))
    assert res.method == "fft" and "MaxIterError" in res.reason
    assert res.transform.dx == pytest.approx(3.25, abs=0.1) and res.transform.dy == pytest.approx(-2.5, abs=0.1)


def test_phase_correlate_sign_and_subpixel():
    cat = _catalogue(8)
    ref = _noisy(_render(cat), 1)
    rolled = np.roll(ref, (3, -5), axis=(0, 1))          # content moved down 3 rows, left 5 columns
    shift = phase_correlate(ref, rolled)
    assert (shift.dy, shift.dx) == pytest.approx((-3.0, 5.0), abs=0.05)   # shift to apply to the frame
    sub = _noisy(_render(cat, SimilarityTransform.translation(2.3, -1.6)), 2)
    shift = phase_correlate(ref, sub)
    assert (shift.dy, shift.dx) == pytest.approx((-1.6, 2.3), abs=0.1)
    assert shift.confidence > 50
    noise = phase_correlate(ref, _noisy(np.full(SHAPE, SKY, np.float32), 3))
    assert noise.confidence < alignment.DEFAULT_FFT_MIN_CONFIDENCE
    with pytest.raises(ValueError):
        phase_correlate(ref, ref[:-1])


def test_fft_overlap_rect_numbers_and_kernel_agree():
    assert fft_overlap_rect((100, 200), 3.4, -5.6) == (4, 0, 100, 194)
    assert fft_overlap_rect((100, 200), 0.0, 0.0) == (0, 0, 100, 200)
    assert fft_overlap_rect((100, 200, 3), -2.0, 7.0) == (0, 7, 98, 200)
    y0, x0, y1, x1 = fft_overlap_rect((100, 200), 150.0, 0.0)
    assert y0 >= y1                                       # no overlap
    img = np.ones((100, 200), np.float32)
    _, valid = alignment.warp_lanczos3(img, SimilarityTransform.translation(-5.6, 3.4), True)
    expected = np.zeros((100, 200), bool)
    expected[4:100, 0:194] = True
    assert np.array_equal(valid, expected)


def test_fft_overlap_rect_of_an_unmeasured_shift_and_on_a_canvas():
    for bad in (float("nan"), float("inf")):
        assert fft_overlap_rect((100, 200), bad, 1.0) == (0, 0, 0, 0)
        assert fft_overlap_rect((100, 200), 1.0, bad) == (0, 0, 0, 0)
    # on a canvas larger than the frame, the rectangle is where the shifted frame lands, clipped to the canvas
    assert fft_overlap_rect((100, 200), 10.0, 20.0, (150, 260)) == (10, 20, 110, 220)
    assert fft_overlap_rect((100, 200), 60.0, -30.0, (150, 260)) == (60, 0, 150, 170)


# ----------------------------------------------------------------------------------------------
# footprint helper
# ----------------------------------------------------------------------------------------------


def test_footprint_2d_and_3d_layouts():
    h, w = 6, 8
    fp = np.zeros((h, w), bool)
    fp[:, :2] = True                                      # no data in the first two columns
    res = footprint_to_valid_mask(fp, (h, w, 3))
    assert res.reason is None and np.array_equal(res.valid, ~fp)
    hwc = np.zeros((h, w, 3), bool)
    hwc[:, :2, 0] = True
    hwc[-1, :, 2] = True                                  # one channel missing is enough to be invalid
    expected = ~(hwc.any(axis=2))
    assert np.array_equal(footprint_to_valid_mask(hwc, (h, w, 3)).valid, expected)
    chw = np.moveaxis(hwc, 2, 0)
    assert np.array_equal(footprint_to_valid_mask(chw, (h, w, 3)).valid, expected)
    assert expected.sum() == (h - 1) * (w - 2)


def test_footprint_float_is_binarised_and_nan_means_no_data():
    fp = np.array([[0.0, 0.3, 1.0], [0.0, np.nan, -0.2]], dtype=np.float32)
    res = footprint_to_valid_mask(fp, (2, 3))
    assert np.array_equal(res.valid, np.array([[True, False, False], [True, False, True]]))
    mono3d = footprint_to_valid_mask(fp[None], (2, 3))    # (1, H, W) for a mono image
    assert np.array_equal(mono3d.valid, res.valid)


@pytest.mark.parametrize("footprint, shape, words", [
    (None, (4, 5), "None"),
    (np.zeros((4, 6), bool), (4, 5), "does not match"),
    (np.zeros((3, 4, 5), bool), (4, 5), "does not match"),
    (np.zeros((4, 5, 2), bool), (4, 5, 3), "does not match"),
    (np.zeros((3, 3, 3), bool), (3, 3, 3), "ambiguous"),
    (np.zeros((2, 2, 2, 2), bool), (2, 2), "dimensions"),
    (np.array([["a", "b"]]), (1, 2), "dtype"),
])
def test_footprint_bad_inputs_give_reason(footprint, shape, words):
    res = footprint_to_valid_mask(footprint, shape)
    assert res.valid is None and words in res.reason


def test_astroalign_register_footprint_agrees_with_our_valid_mask():
    import astroalign

    cat = _catalogue(4)
    truth = SimilarityTransform(8.0, 1.0, 5.5, -4.25)
    ref = _noisy(_render(cat, rgb=True), 1)
    frame = _noisy(_render(cat, truth, rgb=True), 2)
    _, footprint = astroalign.register(frame, ref)
    theirs = footprint_to_valid_mask(footprint, frame.shape)
    ours = align_images_in_group([ref, frame], propagate_mask=True)[1].valid
    assert theirs.reason is None
    assert _iou(theirs.valid, ours) >= 0.98            # True in the footprint = no data, both ways


# ----------------------------------------------------------------------------------------------
# group contract: failures per frame, store, progress, tuning
# ----------------------------------------------------------------------------------------------


def test_bad_frames_fail_without_stopping_the_group():
    cat = _catalogue(3)
    ref = _noisy(_render(cat), 1)
    good = _noisy(_render(cat, SimilarityTransform.translation(2.0, 1.0)), 2)
    res = align_images_in_group([ref, ref[:-2], None, good, np.dstack([ref] * 3)], propagate_mask=True)
    assert [r.method for r in res] == ["reference", "failed", "failed", "astroalign", "failed"]
    assert "shape" in res[1].reason and "no image data" in res[2].reason and "shape" in res[4].reason
    assert all(r.image is None for r in res if r.method == "failed")


def test_output_store_receives_images(tmp_path):
    cat = _catalogue(3)
    frames = [_noisy(_render(cat, SimilarityTransform.translation(k * 1.5, -k)), k) for k in range(3)]

    class MemmapSlots:
        def __init__(self, path, n, shape):
            self.mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, *shape))

        def __setitem__(self, i, arr):
            self.mm[i] = arr

        def __getitem__(self, i):
            return self.mm[i]

    store = MemmapSlots(tmp_path / "slots.npy", 3, SHAPE)
    res = align_images_in_group(frames, output_store=store)
    for i, r in enumerate(res):
        assert isinstance(r.image, np.memmap)
        assert np.shares_memory(r.image, store.mm[i])
    assert np.array_equal(store.mm[0], frames[0])
    in_ram = align_images_in_group(frames)
    assert np.array_equal(store.mm[2], in_ram[2].image) and in_ram[2].method == "astroalign"
    listed = [None] * 3
    res = align_images_in_group(frames, output_store=listed)
    assert all(r.image is listed[i] for i, r in enumerate(res))


def test_progress_events_and_option_checks():
    cat = _catalogue(3)
    frames = [_noisy(_render(cat), k) for k in range(3)]
    events = []
    align_images_in_group(frames, progress_callback=events.append, max_control_points=30)
    assert [(e.phase, e.done, e.total) for e in events] == [("align", 1, 3), ("align", 2, 3), ("align", 3, 3)]
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        align_images_in_group(frames, bogus=1)
    with pytest.raises(ValueError):
        align_images_in_group(frames, max_control_points=2)
    with pytest.raises(IndexError):
        align_images_in_group(frames, reference_image_index=3)
    assert align_images_in_group([]) == []


def test_debug_logs_name_frame_method_and_mask(caplog):
    cat = _catalogue(3)
    frames = [_noisy(_render(cat), 1), _noisy(_render(cat, SimilarityTransform.translation(2.0, 1.0)), 2)]
    with caplog.at_level("DEBUG", logger="zemosaic.align"):
        align_images_in_group(frames, propagate_mask=True, debug=True)
    text = caplog.text
    assert "img_idx=1 method=astroalign" in text and "footprint_shape=(240, 320)" in text
    assert "valid_frac=" in text
    caplog.clear()
    with caplog.at_level("DEBUG", logger="zemosaic.align"):
        align_images_in_group(frames, propagate_mask=True)
    assert "img_idx=" not in caplog.text


def test_aligned_frame_is_frozen():
    frame = AlignedFrame(None, None, "failed", reason="x")
    with pytest.raises(AttributeError):
        frame.method = "fft"


def test_mask_store_receives_the_valid_masks():
    cat = _catalogue(3)
    frames = [_noisy(_render(cat, SimilarityTransform.translation(k * 1.5, -k)), k) for k in range(3)]
    masks = [None] * 3
    res = align_images_in_group(frames, propagate_mask=True, mask_store=masks)
    in_ram = align_images_in_group(frames, propagate_mask=True)
    for i, r in enumerate(res):
        assert r.valid is masks[i]
        assert np.array_equal(masks[i], in_ram[i].valid)
    assert not masks[2].all() and masks[0].all()
