"""The original ZeMosaic's documented contracts, as its scripts and regression suite call them.

Written against the original's calls (tinystork/zemosaic): tuple returns, positional options, its defaults,
its cfg dict and config JSON, its master-tile files (uint8 ALPHA, ZMT_EMPT, ZMT_NANZ, ZMT_NALGN).
"""
import inspect
import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import lecropper
import zemosaic_align_stack as zas
import zemosaic_worker as worker
from sky_scenes import tile_with_coverage_ring
from zemosaic import compat
from zemosaic import mosaic as ma
from zemosaic.align import align_images_in_group as package_align
from zemosaic.config import resolve_config
from zemosaic.pipeline import master_tile
from zemosaic.stack.cpu import stack_aligned_images as package_stack
from zemosaic.synthetic import generator as synthetic

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------------- align


@pytest.fixture(scope="module")
def rotated_group():
    return synthetic.make_frame_group(3, shape=(200, 300), rotation_drift_deg=20.0, seed=3)


def test_align_returns_the_tuple_with_nan_outside_the_footprint(rotated_group):
    frames = list(rotated_group.frames)
    aligned, failed = zas.align_images_in_group(frames[:2], 0, propagate_mask=True)
    assert isinstance(aligned, list) and len(aligned) == 2 and failed == []
    img = aligned[1]
    assert isinstance(img, np.ndarray) and img.dtype == np.float32 and img.shape == frames[1].shape
    h, w = img.shape[:2]
    assert np.all(np.isfinite(img[h // 2 - 20:h // 2 + 20, w // 2 - 20:w // 2 + 20]))  # the centre
    assert np.isnan(img[0, 0]).all() or np.isnan(img[0, -1]).all() or np.isnan(img[-1, 0]).all()  # a rotated corner
    coverage = np.all(np.isfinite(img), axis=-1)  # the mission's coverage recipe
    ours = package_align(frames[:2], 0, propagate_mask=True)[1]
    np.testing.assert_array_equal(coverage, ours.valid)
    assert 0.7 < coverage.mean() < 1.0
    assert np.all(np.isfinite(aligned[0]))  # the reference is whole
    np.testing.assert_array_equal(img[coverage], ours.image[coverage])


def test_align_three_frames_and_no_mask_by_default(rotated_group):
    frames = list(rotated_group.frames)
    aligned, failed = zas.align_images_in_group(frames, 0)
    assert len(aligned) == 3 and failed == []
    assert all(a.dtype == np.float32 and np.all(np.isfinite(a)) for a in aligned)  # no NaN without propagate_mask


def test_align_failures_are_none_and_listed(rotated_group):
    frames = list(rotated_group.frames)
    aligned, failed = zas.align_images_in_group([frames[0], None, frames[2]], 0, 3.0, 5, True)
    assert aligned[1] is None and failed == [1] and aligned[2] is not None
    aligned, failed = zas.align_images_in_group([None, frames[1]], 0)
    assert aligned == [None, None] and failed == [0, 1]


@pytest.mark.parametrize("ref", [-1, 3, 7])
def test_a_reference_index_outside_the_group_fails_every_frame(rotated_group, ref):
    frames = list(rotated_group.frames)
    aligned, failed = zas.align_images_in_group(frames, ref)
    assert aligned == [None, None, None] and failed == [0, 1, 2]
    assert zas.align_images_in_group([], 0) == ([], [])


def test_the_original_progress_callback_hears_every_frame(rotated_group):
    calls = []
    zas.align_images_in_group(list(rotated_group.frames), 0,
                              progress_callback=lambda msg, pct, level: calls.append((msg, pct, level)))
    assert len(calls) >= 2 and calls[-1][1] == pytest.approx(100.0)
    percents = [pct for _, pct, _ in calls]
    assert all(0.0 <= p <= 100.0 for p in percents) and percents == sorted(percents)
    assert all(isinstance(m, str) and level == "INFO_DETAIL" for m, _, level in calls)


def test_a_frame_that_cannot_be_aligned_is_none_and_listed(rotated_group):
    frames = list(rotated_group.frames)
    rng = np.random.default_rng(9)
    noise = rng.normal(50.0, 5.0, frames[1].shape).astype(np.float32)  # starless: nothing to match
    aligned, failed = zas.align_images_in_group([frames[0], noise, frames[2]], 0, propagate_mask=True)
    assert failed == [1] and aligned[1] is None
    assert aligned[0] is not None and aligned[2] is not None
    # the frame that did align is the package's result, not a copy of its input
    ours = package_align([frames[0], frames[2]], 0, propagate_mask=True)[1]
    valid = np.all(np.isfinite(aligned[2]), axis=-1)
    np.testing.assert_array_equal(valid, ours.valid)
    np.testing.assert_array_equal(aligned[2][valid], ours.image[valid])


# ---------------------------------------------------------------------------------------------------- stack


def _noisy_frames(n=9, shape=(40, 50), level=100.0, seed=0):
    rng = np.random.default_rng(seed)
    return [(level + rng.normal(0, 2.0, shape)).astype(np.float32) for _ in range(n)]


def test_stack_defaults_and_positional_options_are_the_originals():
    params = inspect.signature(zas.stack_aligned_images).parameters
    assert [params[k].default for k in ("normalize_method", "weighting_method", "rejection_algorithm",
                                        "final_combine_method", "winsor_limits")] == \
        ["none", "none", "kappa_sigma", "mean", (0.05, 0.05)]
    frames = _noisy_frames()
    by_default = zas.stack_aligned_images(frames)
    positional = zas.stack_aligned_images(frames, "none", "none", "kappa_sigma")
    ours = package_stack(frames, normalize_method="none", weighting_method="none", rejection_algorithm="kappa_sigma")
    assert isinstance(by_default, np.ndarray) and by_default.dtype == np.float32
    np.testing.assert_array_equal(by_default, ours.image)
    np.testing.assert_array_equal(positional, ours.image)
    assert zas.stack_aligned_images([None, None]) is None


def test_the_original_combine_option_and_refused_options_reach_the_stacker():
    frames = _noisy_frames(n=7, seed=6)
    frames[0][3:6, 3:6] += 40.0
    median = zas.stack_aligned_images(frames, "none", "none", "none", "median")
    mean = zas.stack_aligned_images(frames, "none", "none", "none", "mean")
    np.testing.assert_array_equal(median, package_stack(frames, normalize_method="none", weighting_method="none",
                                                        rejection_algorithm="none",
                                                        final_combine_method="median").image)
    assert not np.array_equal(median, mean)
    for target in (0.5, 1.0, 2.0):
        with pytest.raises(NotImplementedError, match="minimum_signal_adu_target"):
            zas.stack_aligned_images(frames, minimum_signal_adu_target=target)
    with pytest.raises(NotImplementedError, match="apply_radial_weight"):
        zas.stack_aligned_images(frames, apply_radial_weight=True)


@pytest.mark.parametrize("zconfig, gpu", [
    (None, False), (SimpleNamespace(use_gpu=True), True), (SimpleNamespace(use_gpu_stack=True), True),
    (SimpleNamespace(stack_use_gpu=False, use_gpu=True), False), (SimpleNamespace(use_gpu=False), False)])
def test_the_original_zconfig_gpu_switch_picks_the_stacker(monkeypatch, zconfig, gpu):
    import zemosaic.stack.gpu as gpu_module

    used = []

    def twin(frames, **kw):
        used.append("gpu")
        return package_stack(frames, **kw)

    monkeypatch.setattr(gpu_module, "stack_aligned_images_gpu", twin)
    frames = _noisy_frames(n=5, seed=8)
    image = zas.stack_aligned_images(frames, zconfig=zconfig)
    image2, _ = zas.stack_kappa_sigma_clip(frames, zconfig=zconfig)
    assert used == (["gpu", "gpu"] if gpu else [])
    np.testing.assert_array_equal(image, package_stack(frames, normalize_method="none", weighting_method="none",
                                                       rejection_algorithm="kappa_sigma").image)


def test_winsorized_stack_of_a_memmap_with_winsor_limits_none(tmp_path):
    frames = np.stack(_noisy_frames(n=12, seed=1))
    frames[4, 10:15, 10:15] += 5000.0  # a satellite trail in one frame
    mm = np.memmap(tmp_path / "frames.f32", dtype=np.float32, mode="w+", shape=frames.shape)
    mm[:] = frames
    mm.flush()
    image, rejected_pct = zas.stack_winsorized_sigma_clip(mm, winsor_limits=None)
    ours = package_stack(list(frames), normalize_method="none", weighting_method="none",
                         rejection_algorithm="winsorized_sigma_clip", winsor_limits=(0.05, 0.05))
    np.testing.assert_array_equal(image, ours.image)
    assert 0.0 < rejected_pct < 5.0 and rejected_pct == pytest.approx(100 * ours.rejected_fraction)
    assert np.all(np.abs(image[10:15, 10:15] - 100.0) < 3.0)  # the trail is rejected
    positional = zas.stack_aligned_images(mm, "none", "none", "winsorized_sigma_clip", "mean", 3.0, 3.0, None)
    np.testing.assert_array_equal(positional, image)
    kappa, kappa_pct = zas.stack_kappa_sigma_clip(mm, kappa=3.0)
    assert kappa.shape == image.shape and kappa_pct > 0
    with pytest.raises(NotImplementedError):
        zas.stack_winsorized_sigma_clip(mm, weights=np.ones(12))


_RESOURCE_OPTION_VALUES = {  # one value of each of the original's resource options, as its callers pass them
    "winsor_max_workers": 4, "rows_per_chunk": 64, "apply_rewinsor": False, "winsor_max_iters": 7,
    "winsor_max_frames_per_pass": 3, "winsor_min_frames_per_pass": 2, "winsor_auto_fallback_on_memory_error": False,
    "winsor_memmap_fallback": "always", "winsor_split_strategy": "interleaved"}


@pytest.mark.parametrize("stacker", ["stack_winsorized_sigma_clip", "stack_kappa_sigma_clip"])
def test_every_resource_option_is_accepted_without_effect(stacker):
    frames = _noisy_frames(n=8, seed=3)
    frames[2][5:9, 5:9] += 4000.0
    stack = getattr(zas, stacker)
    plain, plain_pct = stack(frames, sigma_low=2.5, sigma_high=2.5)
    assert set(_RESOURCE_OPTION_VALUES) == set(zas.NO_EFFECT_STACK_OPTIONS)
    for name, value in _RESOURCE_OPTION_VALUES.items():
        image, pct = stack(frames, sigma_low=2.5, sigma_high=2.5, **{name: value})
        np.testing.assert_array_equal(image, plain, err_msg=name)
        assert pct == plain_pct, name
    image, _ = stack(frames, sigma_low=2.5, sigma_high=2.5, zconfig=SimpleNamespace(use_gpu=False),
                     stack_metadata={"k": 1}, parallel_plan=SimpleNamespace(cpu_workers=2), **_RESOURCE_OPTION_VALUES)
    np.testing.assert_array_equal(image, plain)
    with pytest.raises(TypeError, match="winsor_typo"):  # an option the original does not have either
        stack(frames, winsor_typo=1)


def test_clip_stackers_honour_their_sigmas():
    frames = _noisy_frames(n=10, seed=4)
    frames[3][20:24, 20:24] += 60.0  # one frame 30 noise sigmas high: 3 sigmas of the spread it makes
    for stack in (zas.stack_kappa_sigma_clip, zas.stack_winsorized_sigma_clip):
        tight, tight_pct = stack(frames, sigma_low=2.0, sigma_high=2.0)
        loose, loose_pct = stack(frames, sigma_low=50.0, sigma_high=50.0)
        assert tight_pct > loose_pct >= 0.0
        assert abs(float(np.mean(tight[20:24, 20:24])) - 100.0) < 2.0  # rejected at 2 sigma
        assert float(np.mean(loose[20:24, 20:24])) > 104.0  # kept at 50 sigma: the mean carries 60/10
        assert tight_pct == pytest.approx(stack(frames, kappa=2.0)[1])  # kappa is both sigmas


def test_nan_borders_are_missing_not_zero():
    frames = _noisy_frames(n=6, seed=2)
    for i, f in enumerate(frames):
        f[:, : 3 * (i + 1)] = np.nan  # growing NaN borders (what propagate_mask=True gives)
    out = zas.stack_aligned_images(frames, "none", "none", "kappa_sigma")
    covered = out[:, 3:]
    assert np.all(np.abs(covered - 100.0) < 6.0)  # never pulled towards 0 by a missing frame
    assert np.all(np.isnan(out[:, :3]))  # no frame there
    np.testing.assert_allclose(out[:, 15:18].mean(), 100.0, atol=1.0)  # one frame only: its value


def test_original_method_names_are_translated():
    frames = _noisy_frames(seed=4)
    frames[1] += 30.0
    sky_mean = zas.stack_aligned_images(frames, "sky_mean", "noise_variance", "winsorized_sigma_clip")
    ours = package_stack(frames, normalize_method="additive", weighting_method="noise_variance")
    np.testing.assert_array_equal(sky_mean, ours.image)
    with pytest.raises(NotImplementedError):
        zas.stack_aligned_images(frames, apply_radial_weight=True)


# ---------------------------------------------------------------------------------------------------- lecropper



ORIGINAL_CFG = {  # keys and values as the original worker's cfg dict holds them
    "quality_crop_enabled": False, "quality_crop_band_px": 32, "quality_crop_k_sigma": 2.0,
    "quality_crop_margin_px": 8, "quality_crop_min_run": 2, "altaz_cleanup_enabled": True,
    "altaz_margin_percent": 5.0, "altaz_decay": 0.3, "altaz_nanize": True, "altaz_alpha_soft_threshold": 0.001,
    "altaz_nanize_threshold": 0.001, "language": "fr", "qt_theme_mode": "dark",
}


def test_original_cfg_dict_through_apply_lecropper_pipeline(caplog):
    img, cov = tile_with_coverage_ring()
    with caplog.at_level(logging.WARNING):
        out, alpha = worker._apply_lecropper_pipeline(img, ORIGINAL_CFG, coverage=cov, altaz_min_coverage_abs=3.0)
        worker._apply_lecropper_pipeline(img, dict(ORIGINAL_CFG), coverage=cov, altaz_min_coverage_abs=3.0)
    ours_cfg = resolve_config(overrides=["altaz_cleanup_enabled=true", "altaz_decay_ratio=0.3"])
    ref_out, ref_alpha = master_tile._apply_lecropper_pipeline(img, ours_cfg, coverage=cov, altaz_min_coverage_abs=3.0)
    np.testing.assert_array_equal(alpha, ref_alpha)  # altaz_decay -> altaz_decay_ratio, the rest alike
    np.testing.assert_array_equal(out, ref_out)
    assert np.isnan(out[0, 0]).all() and np.all(alpha[cov < 3] == 0)
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len([m for m in ignored if "quality_crop_band_px" in m]) == 1  # logged once, not per call
    assert all(k in ignored[0] for k in ("language", "qt_theme_mode", "quality_crop_k_sigma"))
    no_nan, _ = worker._apply_lecropper_pipeline(img, {**ORIGINAL_CFG, "altaz_nanize": False}, coverage=cov)
    assert np.all(np.isfinite(no_nan))


def test_apply_lecropper_pipeline_edge_cases_return_the_input():
    img, cov = tile_with_coverage_ring()
    for cfg in (None, {}, {"altaz_cleanup_enabled": False}, {"language": "en"}):
        out, alpha = worker._apply_lecropper_pipeline(img, cfg)
        assert out is img and alpha is None
    assert worker._apply_lecropper_pipeline(None, ORIGINAL_CFG) == (None, None)
    empty = np.zeros((0, 5), np.float32)
    assert worker._apply_lecropper_pipeline(empty, ORIGINAL_CFG)[0] is empty
    mono1 = img[..., :1].copy()
    out, alpha = worker._apply_lecropper_pipeline(mono1, None)
    assert out is mono1 and alpha is None
    out, alpha = worker._apply_lecropper_pipeline(mono1, ORIGINAL_CFG, coverage=cov, altaz_min_coverage_abs=3.0)
    assert out.shape == mono1.shape and alpha.shape == mono1.shape[:2] and np.all(alpha[cov < 3] == 0)
    line = np.ones(50, np.float32)  # the masker refuses 1-D: the original gives it back
    out, alpha = worker._apply_lecropper_pipeline(line, ORIGINAL_CFG)
    assert out is line and alpha is None


def test_nearly_empty_alpha_keeps_the_tile_unmasked():
    img, cov = tile_with_coverage_ring()
    cov[:] = 1.0
    cov[50:54, 70:74] = 10.0  # 0.1 % of the tile well covered
    out, alpha = worker._apply_lecropper_pipeline(img, ORIGINAL_CFG, coverage=cov, altaz_min_coverage_abs=3.0)
    assert out is img and alpha is None  # the original's altaz_min_nonzero_frac_guard (0.10)


def test_original_quality_crop_in_the_pipeline_crops_tile_and_coverage():
    img, cov = tile_with_coverage_ring(h=200, w=240)
    img[:, :40] = 0.0  # a dark flat band
    out, alpha = worker._apply_lecropper_pipeline(img, {"quality_crop_enabled": True, "altaz_cleanup_enabled": True},
                                                  coverage=cov, altaz_min_coverage_abs=3.0)
    assert out.shape[1] < 240 and alpha.shape == out.shape[:2]


def test_mask_altaz_artifacts_fill_value_none_and_layouts():
    img, cov = tile_with_coverage_ring()
    soft, alpha = lecropper.mask_altaz_artifacts(img, fill_value=None, return_mask=True, coverage=cov)
    np.testing.assert_allclose(soft, img * alpha[..., None], rtol=1e-6)  # no hard fill, no NaN
    assert np.all(np.isfinite(soft)) and (alpha == 0).any()
    hard = lecropper.mask_altaz_artifacts(img, fill_value=np.nan, coverage=cov)
    assert np.all(np.isnan(hard[alpha <= 1e-3]))
    mono = img.mean(axis=2)
    _, alpha_mono = lecropper.mask_altaz_artifacts(mono, return_mask=True)
    for cube in (mono[..., None], np.repeat(mono[..., None], 4, axis=2), np.repeat(mono[None], 4, axis=0),
                 mono[None]):
        masked, a = lecropper.mask_altaz_artifacts(cube, return_mask=True)
        assert masked.shape == cube.shape
        np.testing.assert_allclose(a, alpha_mono, atol=1e-6)


# ---------------------------------------------------------------------------------------------------- tiles

SCALE = 2.4 / 3600.0
TH, TW = 80, 100


def _wcs(dx_px):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0 - dx_px * SCALE, 30.0]  # RA grows to the east (left): shift the tile by dx_px
    w.wcs.crpix = [TW / 2 + 0.5, TH / 2 + 0.5]
    w.wcs.cd = [[-SCALE, 0.0], [0.0, SCALE]]
    return w


def _write_original_tile(path, value, dx_px, alpha_u8=None, tile_id=0, n_aligned=10, empty=False, nanz=False):
    """A master tile as the original writes it: float32 3 x H x W, its ZMT_* cards, a uint8 ALPHA."""
    data = np.full((3, TH, TW), value, np.float32)
    header = _wcs(dx_px).to_header()
    header["ZMT_TYPE"] = ("Master Tile", "ZeMosaic Processed Tile")
    header["ZMT_ID"] = tile_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # ZMT_NALGN: a HIERARCH card, as in the original
        header["ZMT_NRAW"] = n_aligned + 2
        header["ZMT_NALGN"] = n_aligned
    if empty:
        data[:] = 0.0
        header["ZMT_EMPT"] = (1, "Empty master tile forced transparent")
    header["ZMT_NANZ"] = int(nanz)
    hdus = [fits.PrimaryHDU(data, header)]
    if alpha_u8 is not None:
        alpha_hdu = fits.ImageHDU(alpha_u8.astype(np.uint8), name="ALPHA")
        alpha_hdu.header["ALPHADSC"] = ("1=opaque(in), 0=transparent(out)", "")
        hdus.append(alpha_hdu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # ZMT_NALGN: a HIERARCH card, as in the original
        fits.HDUList(hdus).writeto(path)


@pytest.fixture(scope="module")
def original_tiles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("original_tiles")
    alpha_a = np.full((TH, TW), 255, np.uint8)
    alpha_b = np.full((TH, TW), 51, np.uint8)  # a feathered 0.2 everywhere
    _write_original_tile(folder / "master_tile_000.fits", 100.0, 0, alpha_a, 0, n_aligned=10)
    _write_original_tile(folder / "master_tile_001.fits", 200.0, 50, alpha_b, 1, n_aligned=20)
    _write_original_tile(folder / "master_tile_002.fits", 0.0, 25, np.full((TH, TW), 255, np.uint8), 2,
                         n_aligned=0, empty=True, nanz=True)
    return folder


def test_original_tiles_give_the_right_mosaic(original_tiles, caplog):
    with caplog.at_level(logging.WARNING):
        tiles, rejected = ma.discover_master_tiles(original_tiles)
        result = ma.assemble_mosaic(tiles, ma.compute_global_grid(tiles))
    assert not rejected and [t.n_frames for t in tiles] == [10, 20, 1]
    assert [t.alpha_scale for t in tiles] == [255.0, 255.0, 255.0]
    assert "gets weight 0: ZMT_EMPT=1" in caplog.text
    data = result.data
    grid_wcs = result.grid.wcs
    def at(dx_px, y=TH // 2):
        x, yy = grid_wcs.world_to_pixel_values(*_wcs(dx_px).pixel_to_world_values(TW / 2, y))
        return data[int(round(float(yy))), int(round(float(x)))]
    np.testing.assert_allclose(at(-30), 100.0, rtol=1e-5)  # tile A alone
    np.testing.assert_allclose(at(80), 200.0, rtol=1e-5)  # tile B alone, its 0.2 alpha is still data
    w_a, w_b = 1.0 * 10, 0.2 * 20
    np.testing.assert_allclose(at(25), (w_a * 100 + w_b * 200) / (w_a + w_b), rtol=1e-5)  # the empty tile adds 0


def test_no_signal_tile_and_nanz_zeros_are_missing(tmp_path, caplog):
    _write_original_tile(tmp_path / "a.fits", 100.0, 0, None, 0)
    _write_original_tile(tmp_path / "b.fits", 0.0, 30, None, 1)  # all zero, not flagged: no signal
    with fits.open(tmp_path / "a.fits", mode="update") as hdul:  # zeroed NaN holes, ZMT_NANZ=1
        hdul[0].data[:, 30:40, 30:40] = 0.0
        hdul[0].header["ZMT_NANZ"] = 1
    with caplog.at_level(logging.WARNING):
        tiles, _ = ma.discover_master_tiles(tmp_path)
        pixels = [ma.read_tile(t) for t in tiles]
    assert np.all(pixels[1].alpha == 0) and "no signal" in caplog.text
    assert np.all(pixels[0].alpha[30:40, 30:40] == 0) and pixels[0].alpha[0, 0] == 1.0


# ---------------------------------------------------------------------------------------------------- config / CLI


def test_original_key_translation_table():
    t = compat.translate_original_config({
        "use_existing_master_tiles": True, "stacking_normalize_method": "sky_mean",
        "stacking_weighting_method": "noise_fwhm", "stacking_winsor_limits": "0.1,0.2", "stacking_kappa_low": 2.5,
        "altaz_decay": 0.2, "altaz_nanize": False, "altaz_cleanup_enabled": True, "enable_tile_weighting": False,
        "intertile_photometric_match": False, "max_raw_per_master_tile": 0, "input_dir": "/x", "gpu_id_phase5": 0,
        "altaz_nanize_threshold": 0.01})
    assert t.values == {"use_existing_master_tiles_mode": True, "stack_normalize_method": "additive",
                        "stack_weighting_method": "noise_variance", "stack_winsor_limits": [0.1, 0.2],
                        "stack_sigma_low": 2.5, "altaz_decay_ratio": 0.2, "altaz_nanize_enabled": False,
                        "altaz_cleanup_enabled": "true", "assembly_tile_weight": "none", "harmonize_enabled": False,
                        "altaz_nanize_threshold": 0.001}
    assert t.ignored == ("gpu_id_phase5",)
    assert any("noise_fwhm" in n for n in t.notes) and any("altaz_nanize_threshold" in n for n in t.notes)
    resolve_config(base=t.values)  # valid as ours


def test_worker_cli_with_an_original_config(original_tiles, tmp_path):
    cfg = {"use_existing_master_tiles": True, "intertile_photometric_match": False, "language": "fr",
           "qt_main_window_geometry": None, "stacking_winsor_limits": "0.05,0.05", "coadd_use_memmap": True}
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "zemosaic_worker", str(original_tiles), str(out),
                           "--config", str(cfg_path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (out / "mosaic.fits").is_file()
    log_text = (out / "zemosaic.log").read_text()
    lines = [ln for ln in log_text.splitlines() if "key(s) ignored" in ln]
    assert len(lines) == 1 and all(k in lines[0] for k in ("language", "qt_main_window_geometry", "coadd_use_memmap"))
    report = json.loads((out / "run_report.json").read_text())
    assert report["mode"] == "existing_master_tiles"
    # the file run directly, in-process main(): same result, bad config -> exit 2
    assert worker.main([str(original_tiles), str(tmp_path / "again"), "--config", str(cfg_path)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"stacking_normalize_method": "nope"}))
    assert worker.main([str(original_tiles), str(tmp_path / "bad"), "--config", str(bad)]) == 2
    direct = subprocess.run([sys.executable, str(REPO / "zemosaic_worker.py"), "--help"], capture_output=True,
                            text=True, timeout=120)
    assert direct.returncode == 0 and "--config" in direct.stdout


def test_worker_command_refused_mosaic_is_one_line_exit_4(tmp_path, capsys):
    import zemosaic_worker
    from zemosaic.synthetic import generator as synthetic

    synthetic.generate_dataset(tmp_path / "in", synthetic.SynthSpec(panels=(1, 1), frames_per_panel=2, width=120,
                                                                    height=180, pixel_scale_arcsec=4.8, seed=2))
    config = tmp_path / "cfg.json"
    config.write_text('{"mosaic_max_memory_mb": 0.001}')
    code = zemosaic_worker.main([str(tmp_path / "in"), str(tmp_path / "out"), "--config", str(config)])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic_worker:")]
    assert code == 4 and len(lines) == 1 and "mosaic refused" in lines[0]


def test_lecropper_pipeline_on_a_channels_first_tile():
    import zemosaic_worker

    rng = np.random.default_rng(5)
    tile = (100.0 + rng.normal(0.0, 2.0, (3, 200, 200))).astype(np.float32)
    tile[:, :, :30] = 0.0  # a constant-filled border, as alignment leaves it
    out, alpha = zemosaic_worker._apply_lecropper_pipeline(tile, {"altaz_cleanup_enabled": True})
    assert out.shape == tile.shape and alpha is not None and alpha.shape == (200, 200)
    low = alpha <= 1e-3
    assert low.any() and np.isnan(out[:, low]).all() and np.isfinite(out[:, ~low]).all()
