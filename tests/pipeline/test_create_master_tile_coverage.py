"""The mission end to end on one synthetic Alt-Az group: coverage -> alpha, colour error, no side effect."""
import logging

import numpy as np
import pytest

import lecropper
import zemosaic_align_stack
import zemosaic_worker as worker
from measure import catalogue_pixels, distance_inside, fit_gain_plane, refine_centroids
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.report import RunReport
from zemosaic.synthetic import generator as synthetic

N_FRAMES = 10
SPEC = synthetic.SynthSpec(panels=(1, 1), frames_per_panel=N_FRAMES, width=240, height=360, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=50.0, seed=5, nebula=True)


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    root = tmp_path_factory.mktemp("altaz_group")
    dataset = synthetic.generate_dataset(root / "in", SPEC)
    frames = worker.scan_input_folder(root / "in", RunReport("", "", "test", {}))
    assert len(frames) == N_FRAMES
    return dataset, frames, root


def _build(group, name, *overrides):
    dataset, frames, root = group
    result = worker.create_master_tile(frames, 0, resolve_config(overrides=list(overrides)), root / name)
    return fits_io.read_fits_image(result.path), result


@pytest.fixture(scope="module")
def with_coverage(group):
    return _build(group, "cov")


@pytest.fixture(scope="module")
def without_coverage(group):
    return _build(group, "nocov", "altaz_use_coverage=false")


def _border_and_interior_chroma(tile, scene):
    data, alpha = tile.data, tile.extensions["ALPHA"]
    truth = scene.render(tile.wcs, data.shape[:2])
    kept = (alpha > 0.5) & np.isfinite(data).all(axis=-1)
    lum = truth.sum(axis=-1)
    starfree = lum < np.percentile(lum, 60)
    resid = np.stack([data[..., c] - fit_gain_plane(data[..., c], truth[..., c], kept & starfree) for c in range(3)],
                     axis=-1)
    chroma = np.stack([resid[..., 0] - resid[..., 1], resid[..., 2] - resid[..., 1]], axis=-1)
    depth = distance_inside(kept)
    border, interior = kept & starfree & (depth <= 20), kept & starfree & (depth > 60)
    rms = lambda m: float(np.sqrt(np.mean(chroma[m] ** 2)))  # noqa: E731
    # the share of the well-covered pixels (coverage >= thr) kept at alpha > 0.5 (the feather takes the rest): the
    # tile's canvas covers the group, so the share of the tile's area says nothing about the field kept
    coverage = tile.extensions["COVERAGE"]
    well = coverage >= max(3.0, 0.4 * coverage.max())
    return rms(border), rms(interior), float(np.count_nonzero(kept & well) / np.count_nonzero(well))


def test_alpha_follows_coverage(with_coverage):
    tile, result = with_coverage
    alpha, coverage = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
    assert coverage.shape == alpha.shape == tile.data.shape[:2]
    assert coverage.max() == result.report.frames_used == N_FRAMES
    thr = max(3.0, 0.4 * coverage.max())
    assert coverage.min() < thr, "the rotation drift must leave under-covered corners"
    assert np.all(alpha[coverage < thr] == 0.0)
    feather = 0.05 * min(alpha.shape) + 2 * 3 + 2
    deep = distance_inside(coverage >= thr) > feather
    assert deep.sum() > 0.3 * alpha.size
    assert np.all(alpha[deep & (coverage == coverage.max())] == 1.0)
    assert result.report.coverage_used and result.report.coverage_decision == "coverage used"
    assert int(tile.header["NFRAMES"]) == N_FRAMES and tile.header["COVUSED"]
    assert result.failed_inputs == [] and result.report.frames_failed == [] and int(tile.header["NFAILED"]) == 0
    # the canvas corners no frame covers are not bad bands: the synthetic tile has nothing to crop
    assert result.report.quality_crop_rect is None and not np.isfinite(tile.data).all()
    # the report's summary of the mission's coverage (before any crop: the canvas the frames were warped onto)
    stats = result.report.coverage_stats
    assert stats["max"] == N_FRAMES and stats["n_frames"] == N_FRAMES and 0 <= stats["min"] < thr
    assert 0.5 < stats["nonzero_frac"] <= 1.0 and len(stats["shape"]) == 2
    assert stats["shape"][0] >= coverage.shape[0] and stats["shape"][1] >= coverage.shape[1]


def test_coverage_lowers_the_border_colour_error(group, with_coverage, without_coverage):
    scene = group[0].scene
    border_cov, interior_cov, kept_cov = _border_and_interior_chroma(with_coverage[0], scene)
    border_nocov, interior_nocov, kept_nocov = _border_and_interior_chroma(without_coverage[0], scene)
    print(f"border chroma RMS: coverage {border_cov:.2f} (kept {kept_cov:.3f}), fallback {border_nocov:.2f} "
          f"(kept {kept_nocov:.3f}); interior {interior_cov:.2f} / {interior_nocov:.2f}")
    assert border_cov < 0.7 * border_nocov
    assert border_cov < 1.5 * interior_cov
    assert kept_cov > 0.85


@pytest.mark.parametrize("injection", ["none", "wrong_shape", "error"])
def test_unavailable_coverage_gives_the_coverage_less_tile(group, without_coverage, monkeypatch, caplog, injection):
    if injection == "none":
        monkeypatch.setattr(zemosaic_align_stack.CoverageAccumulator, "result", lambda self: None)
    elif injection == "wrong_shape":
        monkeypatch.setattr(zemosaic_align_stack.CoverageAccumulator, "result",
                            lambda self: np.ones((self.shape[0] - 3, self.shape[1]), np.float32) * 5)
    else:
        def boom(self, valid):
            raise RuntimeError("injected failure")
        monkeypatch.setattr(zemosaic_align_stack.CoverageAccumulator, "add", boom)
    with caplog.at_level(logging.INFO):
        tile, result = _build(group, f"unavailable_{injection}")
    reference = without_coverage[0]
    np.testing.assert_array_equal(tile.data, reference.data)
    np.testing.assert_array_equal(tile.extensions["ALPHA"], reference.extensions["ALPHA"])
    assert "MT_COVERAGE_IGNORED" in caplog.text
    assert not result.report.coverage_used
    # header, report and log tell the same reason, from one vocabulary
    code = {"none": "empty", "wrong_shape": "shape_mismatch", "error": "coverage_error"}[injection]
    assert result.report.coverage_decision.startswith(code + ": ")
    assert tile.header["COVUSED"] is False and tile.header["COVWHY"] == result.report.coverage_decision
    assert f"MT_PIPELINE tile_id=0 coverage_used=False reason={result.report.coverage_decision}" in caplog.text


def test_tile_after_the_masker_fallback_says_coverage_was_not_used(group, without_coverage, monkeypatch, caplog):
    real = lecropper.mask_altaz_artifacts

    def old_masker(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0, return_mask=False):
        return real(full_img, margin_percent, decay_ratio, fill_value, return_mask)

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", old_masker)
    with caplog.at_level(logging.INFO):
        tile, result = _build(group, "old_masker")
    why = result.report.coverage_decision
    assert not result.report.coverage_used and why.startswith("masker_rejects_coverage_kwargs: ")
    assert "coverage" in why and "hard_threshold" not in why  # hard_threshold is not a coverage keyword
    assert tile.header["COVUSED"] is False and tile.header["COVWHY"] == why
    assert f"MT_PIPELINE tile_id=0 coverage_used=False reason={why}" in caplog.text
    assert "does not accept hard_threshold, coverage, min_coverage_abs, min_coverage_frac, morph_open_px" \
        in caplog.text
    # the tile is the coverage-less tile, pixel for pixel
    np.testing.assert_array_equal(tile.extensions["ALPHA"], without_coverage[0].extensions["ALPHA"])
    np.testing.assert_array_equal(tile.data, without_coverage[0].data)


def test_tile_with_cleanup_or_coverage_off_says_so(group, without_coverage):
    tile, result = _build(group, "cleanup_off", "altaz_cleanup_enabled=false")
    assert not result.report.coverage_used and result.report.coverage_decision.startswith("cleanup_off: ")
    assert tile.header["COVUSED"] is False and tile.header["COVWHY"] == result.report.coverage_decision
    tile, result = without_coverage
    assert not result.report.coverage_used and result.report.coverage_decision.startswith("coverage_off: ")
    assert tile.header["COVUSED"] is False and tile.header["COVWHY"] == result.report.coverage_decision


def test_field_fraction_kept_is_the_share_of_stacked_pixels_with_weight(group):
    tile, result = _build(group, "uncropped", "quality_crop_enabled=false", "mt_edge_trim_enabled=false")
    assert result.report.quality_crop_rect is None and result.report.edge_trim_rect is None
    coverage, alpha = tile.extensions["COVERAGE"], tile.extensions["ALPHA"]
    assert (coverage == 1).any()  # pixels seen by one frame only: counted as stacked
    soft = resolve_config().altaz_alpha_soft_threshold
    expected = np.count_nonzero(alpha > soft) / np.count_nonzero(coverage > 0)
    assert result.report.field_fraction_kept == pytest.approx(expected, rel=1e-12)
    assert result.report.shape == list(tile.data.shape)


def test_quality_crop_moves_coverage_and_wcs_with_the_tile(group, monkeypatch):
    dataset = group[0]
    rect = (17, 11, 340, 229)
    monkeypatch.setattr(lecropper, "detect_quality_crop_rect", lambda image, **kw: rect)
    tile, result = _build(group, "cropped", "mt_edge_trim_enabled=false")
    assert result.report.quality_crop_rect == list(rect)
    assert tile.data.shape[:2] == (rect[2] - rect[0], rect[3] - rect[1])
    assert tile.extensions["COVERAGE"].shape == tile.data.shape[:2]
    # the coverage handed to the masker was cropped with the tile: it drove the alpha, which is the alpha of the
    # cropped coverage (the stacker's count, written as COVERAGE, equals the mission's count here: no frame lost)
    assert result.report.coverage_used and tile.header["COVUSED"] is True
    cfg = resolve_config()
    _, expected = lecropper.mask_altaz_artifacts(
        tile.data, cfg.altaz_margin_percent, cfg.altaz_decay_ratio, return_mask=True,
        coverage=tile.extensions["COVERAGE"], min_coverage_abs=3.0, min_coverage_frac=cfg.altaz_min_coverage_frac,
        morph_open_px=cfg.altaz_morph_open_px)
    np.testing.assert_array_equal(tile.extensions["ALPHA"], expected)
    # the 20 brightest isolated unsaturated stars: fainter ones are centroided worse than 0.3 px by noise alone
    x, y, _ = catalogue_pixels(dataset.catalogue, tile.wcs, tile.data.shape[:2], max_peak=30000, n_brightest=20)
    assert len(x) >= 15
    mx, my = refine_centroids(np.nan_to_num(tile.data[..., 1]), x, y)
    ok = np.isfinite(mx)
    rms = float(np.sqrt(np.mean((mx[ok] - x[ok]) ** 2 + (my[ok] - y[ok]) ** 2)))
    print(f"cropped tile: {ok.sum()} stars, position RMS {rms:.3f} px")
    assert rms < 0.3


def test_normal_run_logs_no_error_and_the_mission_tags(group, caplog):
    with caplog.at_level(logging.DEBUG):
        _build(group, "logged", "debug_tile_ids=[0]")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    for tag in ("MT_PIPELINE_FLAGS", "MT_COVERAGE_STATS", "MT_PIPELINE", "ALPHA_STATS: level=master_tile",
                "MT_EDGE_TRIM"):
        assert tag in caplog.text, tag


def test_use_gpu_without_a_gpu_falls_back_to_the_same_tile(group, with_coverage, caplog):
    import zemosaic_align_stack_gpu

    if zemosaic_align_stack_gpu.gpu_available():
        pytest.skip("a GPU is present: the parity test lives in tests/stack/test_stacking_gpu.py")
    with caplog.at_level(logging.INFO):
        tile, _ = _build(group, "gpu", "use_gpu=true")
    np.testing.assert_allclose(tile.data, with_coverage[0].data, rtol=1e-5, atol=1e-3, equal_nan=True)
    assert any("CPU" in r.getMessage() for r in caplog.records if r.name == "zemosaic.stack.gpu")


def test_equatorial_group_excludes_missing_pixels_without_cleanup(tmp_path):
    spec = synthetic.SynthSpec(panels=(1, 1), frames_per_panel=5, width=160, height=240, pixel_scale_arcsec=4.8,
                               mount="equatorial", dither_px=15.0, seed=8)
    dataset = synthetic.generate_dataset(tmp_path / "in", spec)
    frames = worker.scan_input_folder(tmp_path / "in", RunReport("", "", "test", {}))
    result = worker.create_master_tile(frames, 0, resolve_config(overrides=["quality_crop_enabled=false",
                                                                            "mt_edge_trim_enabled=false"]),
                                       tmp_path / "tiles")
    tile = fits_io.read_fits_image(result.path)
    assert not result.report.cleanup_enabled and "equatorial=5" in result.report.cleanup_reason
    coverage, alpha = tile.extensions["COVERAGE"], tile.extensions["ALPHA"]
    # the dither leaves border pixels that fewer frames cover: the stack counted them, did not fill them
    assert coverage.max() == 5 and coverage.min() < 5
    assert np.array_equal(alpha, (coverage > 0).astype(np.float32))
    truth = dataset.scene.render(tile.wcs, tile.data.shape[:2])
    edge, inner = (coverage < 5) & (coverage > 0), coverage == 5
    # the tile is truth + the reference frame's sky plane + noise, up to the very border: a missing pixel
    # averaged in (as the frames' constant sky fill) would bias the border band against that model
    for c in range(3):
        resid = tile.data[..., c] - fit_gain_plane(tile.data[..., c], truth[..., c], inner)
        assert abs(np.median(resid[edge])) < 0.3 * np.std(resid[inner])  # without masks: 2-4 sigma
    assert len(result.report.frames) == 5
    # the frames' WCS predict their transforms (Phase 1b's registration, reused), refined on their stars
    assert {f["method"] for f in result.report.frames} <= {"reference", "wcs", "astroalign"}
    assert all("rotation_deg" in f for f in result.report.frames if f["method"] in ("wcs", "astroalign"))
