"""The master-tile hand-offs of the mission: _apply_lecropper_pipeline, coverage re-check, edge trim, WCS crop."""
import logging

import numpy as np
import pytest
from astropy.wcs import WCS

import lecropper
import zemosaic_worker as worker
from sky_scenes import tile_with_coverage_ring
from zemosaic.config import resolve_config
from zemosaic.pipeline import master_tile


def test_two_argument_call_still_works():
    img, _ = tile_with_coverage_ring()
    out, alpha = worker._apply_lecropper_pipeline(img, resolve_config())
    assert alpha.shape == img.shape[:2] and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0
    # a 2-argument call also accepts a plain mapping as configuration
    out2, alpha2 = worker._apply_lecropper_pipeline(img, {"altaz_cleanup_enabled": "true"})
    np.testing.assert_array_equal(alpha, alpha2)


def test_coverage_drives_alpha_and_no_double_mask():
    img, cov = tile_with_coverage_ring()
    out, alpha = worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov, altaz_min_coverage_abs=3.0,
                                                  tile_id=7)
    assert np.all(alpha[cov < 3] == 0.0)
    assert alpha[60, 80] == pytest.approx(1.0)
    kept = alpha > 1e-3
    # data are NOT multiplied by alpha: every kept pixel is the input value exactly
    np.testing.assert_array_equal(out[kept], img[kept])
    # nanisation only where alpha ~ 0, and only on a copy
    assert np.isnan(out[~kept]).all()
    assert np.isfinite(img).all()


def test_masker_without_coverage_kwargs_triggers_the_typeerror_fallback(monkeypatch, caplog):
    img, cov = tile_with_coverage_ring()
    calls = []
    real = lecropper.mask_altaz_artifacts

    def old_masker(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0, return_mask=False,
                   hard_threshold=1e-3):
        calls.append("old")
        return real(full_img, margin_percent, decay_ratio, fill_value, return_mask, hard_threshold)

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", old_masker)
    with caplog.at_level(logging.INFO):
        out, alpha = worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov, tile_id=1)
    assert calls == ["old"]  # the first call raised TypeError before reaching the body
    assert "MT_COVERAGE_IGNORED" in caplog.text and "masker_rejects_coverage_kwargs" in caplog.text
    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", real)
    ref_out, ref_alpha = worker._apply_lecropper_pipeline(img, resolve_config())
    np.testing.assert_array_equal(alpha, ref_alpha)


def test_masker_without_coverage_nor_hard_threshold_works(monkeypatch, caplog):
    img, cov = tile_with_coverage_ring()
    real = lecropper.mask_altaz_artifacts
    seen = []

    def oldest_masker(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0, return_mask=False):
        seen.append((margin_percent, return_mask))
        return real(full_img, margin_percent, decay_ratio, fill_value, return_mask)

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", oldest_masker)
    with caplog.at_level(logging.INFO):
        out, alpha = worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov, tile_id=2)
        worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov, tile_id=3)
    assert seen == [(resolve_config().altaz_margin_percent, True)] * 2  # one call per tile: no blind retry
    # logged once for the masker (not per tile), naming exactly the keywords dropped
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not accept hard_threshold, coverage, min_coverage_abs, min_coverage_frac, morph_open_px" \
        in warnings[0]
    assert "tile_id=2 reason=masker_rejects_coverage_kwargs" in caplog.text
    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", real)
    np.testing.assert_array_equal(alpha, worker._apply_lecropper_pipeline(img, resolve_config())[1])


def test_masker_accepting_coverage_but_not_hard_threshold_uses_coverage(monkeypatch):
    img, cov = tile_with_coverage_ring()
    real = lecropper.mask_altaz_artifacts

    def masker(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0, return_mask=False, coverage=None,
               min_coverage_abs=None, min_coverage_frac=None, morph_open_px=None):
        return real(full_img, margin_percent, decay_ratio, fill_value, return_mask, coverage=coverage,
                    min_coverage_abs=min_coverage_abs, min_coverage_frac=min_coverage_frac,
                    morph_open_px=morph_open_px)

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", masker)
    masked = master_tile._mask_tile(img, resolve_config(), coverage=cov, altaz_min_coverage_abs=3.0,
                                    altaz_min_coverage_frac=None, altaz_morph_open_px=None, tile_id=1)
    assert masked.decision.used and masked.decision.reason == "coverage used"
    assert np.all(masked.alpha[cov < 3] == 0.0)


def test_typeerror_inside_a_masker_that_accepts_the_keywords_is_not_swallowed(monkeypatch):
    img, cov = tile_with_coverage_ring()
    calls = []

    def buggy_masker(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0, return_mask=False,
                     hard_threshold=1e-3, coverage=None, min_coverage_abs=None, min_coverage_frac=None,
                     morph_open_px=None):
        calls.append(coverage is not None)
        return full_img + "a bug"  # TypeError raised by the masker's own body

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", buggy_masker)
    with pytest.raises(TypeError):
        worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov)
    assert calls == [True]  # never called again without the coverage


def test_masker_without_signature_is_retried_only_for_an_unexpected_keyword(monkeypatch):
    img, cov = tile_with_coverage_ring()
    real = lecropper.mask_altaz_artifacts
    calls = []

    class CompiledMasker:  # like a C extension: no signature to read
        __signature__ = "none"

        def __init__(self, bug=False):
            self.bug = bug

        def __call__(self, full_img, **kw):
            calls.append(sorted(kw))
            if "coverage" in kw:
                raise TypeError("mask_altaz_artifacts() got an unexpected keyword argument 'coverage'")
            if self.bug:
                raise TypeError("unsupported operand type(s) for +: 'float' and 'str'")
            return real(full_img, **kw)

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", CompiledMasker())
    masked = master_tile._mask_tile(img, resolve_config(), coverage=cov, altaz_min_coverage_abs=3.0,
                                    altaz_min_coverage_frac=None, altaz_morph_open_px=None, tile_id=4)
    assert len(calls) == 2 and "coverage" not in calls[1] and "min_coverage_abs" in calls[1]
    assert not masked.decision.used and masked.decision.code == "masker_rejects_coverage_kwargs"
    calls.clear()
    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", CompiledMasker(bug=True))
    with pytest.raises(TypeError, match="unsupported operand"):
        worker._apply_lecropper_pipeline(img, resolve_config(), coverage=cov)
    assert len(calls) == 2  # the unexpected keyword dropped once, the masker's own TypeError raised


def test_masker_without_return_mask_is_refused_with_its_reason(monkeypatch):
    img, _ = tile_with_coverage_ring()
    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", lambda full_img, margin_percent=5.0: full_img)
    with pytest.raises(TypeError, match="does not accept return_mask"):
        worker._apply_lecropper_pipeline(img, resolve_config())


def test_integer_input_is_never_nanised_nor_silently_cast():
    img, cov = tile_with_coverage_ring()
    ints = np.clip(img, 0, 65535).astype(np.uint16)
    out, alpha = worker._apply_lecropper_pipeline(ints, resolve_config(), coverage=cov, altaz_min_coverage_abs=3.0)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, ints)
    assert (alpha == 0).any()


def test_cleanup_disabled_returns_input_unchanged():
    img, cov = tile_with_coverage_ring()
    out, alpha = worker._apply_lecropper_pipeline(img, resolve_config(overrides=["altaz_cleanup_enabled=false"]),
                                                  coverage=cov)
    assert out is img and alpha is None


def test_coverage_recheck_refuses_wrong_shape_without_resizing(caplog):
    img, cov = tile_with_coverage_ring()
    with caplog.at_level(logging.INFO):
        got = master_tile._coverage_ready_for_lecropper(cov[:-1], img, 3)
    assert got is None
    assert "MT_COVERAGE_IGNORED tile_id=3 reason=shape_mismatch" in caplog.text
    assert master_tile._coverage_ready_for_lecropper(np.zeros_like(cov), img, 3) is None
    bad = cov.copy()
    bad[0, 0] = np.nan
    assert master_tile._coverage_ready_for_lecropper(bad, img, 3) is None
    assert master_tile._coverage_ready_for_lecropper(cov, img, 3) is cov


def test_edge_trim_peels_invalid_bands_and_never_collapses():
    alpha = np.ones((100, 80), np.float32)
    alpha[:10] = 0.0
    alpha[:, -7:] = 0.0
    alpha[50, :3] = 0.0  # one row partly empty at the left edge: not enough to peel a column
    assert worker.edge_trim_rect(alpha, 0.05) == (10, 0, 100, 73)
    assert worker.edge_trim_rect(np.ones((50, 50)), 0.05) is None
    # an almost empty alpha never collapses the tile: at most 45 % per axis is removed
    sparse = np.zeros((100, 100), np.float32)
    sparse[45:55, 45:55] = 1.0
    y0, x0, y1, x1 = worker.edge_trim_rect(sparse, 0.05)
    assert y1 - y0 >= 55 and x1 - x0 >= 55
    assert worker.edge_trim_rect(np.zeros((100, 100), np.float32), 0.05) is None  # nothing valid: keep all


def test_crop_wcs_keeps_the_sky_of_every_pixel():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [83.8, -5.4]
    wcs.wcs.crpix = [80.5, 60.5]
    wcs.wcs.cd = np.array([[-6.6e-4, 1e-5], [1e-5, 6.6e-4]])
    rect = (7, 11, 100, 150)
    cropped = worker.crop_wcs(wcs, rect)
    x, y = np.array([0.0, 25.0, 130.0]), np.array([0.0, 40.0, 90.0])
    ra1, dec1 = wcs.wcs_pix2world(x + rect[1], y + rect[0], 0)
    ra2, dec2 = cropped.wcs_pix2world(x, y, 0)
    np.testing.assert_allclose(ra1, ra2, atol=1e-9)
    np.testing.assert_allclose(dec1, dec2, atol=1e-9)


def test_cleanup_auto_follows_the_mount():
    cfg = resolve_config()
    assert worker.resolve_cleanup(cfg, ["equatorial", "equatorial"])[0] is False
    assert worker.resolve_cleanup(cfg, ["altaz", "equatorial"])[0] is True
    assert worker.resolve_cleanup(cfg, [None])[0] is True
    assert worker.resolve_cleanup(resolve_config(overrides=["altaz_cleanup_enabled=true"]), ["equatorial"])[0]


# ----------------------------------------------------------------------------------------------
# min_frames_per_tile: a group with too few usable frames is skipped, its frames rejected with the reason
# ----------------------------------------------------------------------------------------------

def _small_group(root, frames_per_panel=4, panels=(1, 1)):
    from zemosaic.pipeline.report import RunReport
    from zemosaic.synthetic import generator as synthetic

    spec = synthetic.SynthSpec(panels=panels, frames_per_panel=frames_per_panel, width=160, height=240,
                               pixel_scale_arcsec=4.8, mount="equatorial", dither_px=6.0, seed=11)
    synthetic.generate_dataset(root / "in", spec)
    return worker.scan_input_folder(root / "in", RunReport("", "", "test", {}))


def test_min_frames_per_tile_counts_usable_frames(tmp_path, caplog):
    from zemosaic.io import fits as fits_io

    frames = _small_group(tmp_path)
    assert len(frames) == 4
    broken = tmp_path / "broken.fit"  # the 4th frame becomes unreadable: 3 usable frames are left
    broken.write_bytes(frames[3].path.read_bytes()[:2880])
    frames[3] = master_tile.ScannedFrame(broken, frames[3].info)

    with caplog.at_level(logging.WARNING):
        skipped = worker.create_master_tile(frames, 0, resolve_config(overrides=["min_frames_per_tile=4"]),
                                            tmp_path / "t4")
    reason = "group skipped: 3 usable frame(s) < min_frames_per_tile=4"
    assert skipped.path is None and not list((tmp_path / "t4").glob("master_tile_*.fits"))
    assert sorted(str(p) for p, r in skipped.failed_inputs if r == reason) == sorted(str(f.path) for f in frames[:3])
    assert [str(p) for p, r in skipped.failed_inputs if r != reason] == [str(broken)]  # its own reason kept
    assert len(skipped.report.frames_failed) == 4
    assert f"master tile 0 skipped: {reason}" in caplog.text

    built = worker.create_master_tile(frames, 0, resolve_config(overrides=["min_frames_per_tile=3"]), tmp_path / "t3")
    assert built.path is not None and fits_io.read_fits_image(built.path).header["NFRAMES"] == 3
    assert [str(p) for p, _ in built.failed_inputs] == [str(broken)]


def test_min_frames_per_tile_skips_a_group_before_loading_it(tmp_path, monkeypatch):
    frames = _small_group(tmp_path)
    monkeypatch.setattr(master_tile, "_load_group", lambda *a: pytest.fail("a too-small group was loaded"))
    result = worker.create_master_tile(frames, 2, resolve_config(overrides=["min_frames_per_tile=5"]), tmp_path / "t")
    assert result.path is None
    assert {r for _, r in result.failed_inputs} == {"group skipped: 4 usable frame(s) < min_frames_per_tile=5"}
    assert len(result.failed_inputs) == 4


def test_min_frames_per_tile_in_the_run_report(tmp_path):
    import json

    frames = _small_group(tmp_path, frames_per_panel=3, panels=(1, 2))
    assert len(frames) == 6
    frames[-1].path.unlink()  # groups of 3 and 2 frames
    result = worker.run_mosaic(tmp_path / "in", tmp_path / "out",
                               resolve_config(overrides=["min_frames_per_tile=3", "harmonize_enabled=false"]))
    report = json.loads((tmp_path / "out" / "run_report.json").read_text())
    skipped = [r for r in report["rejected_inputs"] if "min_frames_per_tile=3" in r["reason"]]
    assert result.n_tiles == 1 and result.n_frames_used == 3
    assert len(skipped) == 2 and {r["phase"] for r in skipped} == {"master_tile"}
    assert all(r["reason"] == "group skipped: 2 usable frame(s) < min_frames_per_tile=3" for r in skipped)
