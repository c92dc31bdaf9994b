"""The whole run on a small synthetic 2x2 Alt-Az dataset with bad inputs mixed in, measured against truth."""
import hashlib
import json
import logging

import numpy as np
import pytest
from scipy import ndimage as ndi

import zemosaic_worker as worker
from measure import aperture_flux, catalogue_pixels, refine_centroids
from zemosaic import cli as zemosaic_cli
from zemosaic import mosaic as mosaic_assembly
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=30.0, seed=11,
                           defects=("truncated_file", "not_fits", "no_wcs", "all_nan", "wrong_size"))


def _folder_digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    dataset = synthetic.generate_dataset(root / "in", SPEC)
    before = _folder_digest(root / "in")
    result = worker.run_mosaic(root / "in", root / "out", resolve_config())
    mosaic = fits_io.read_fits_image(result.mosaic_path)
    return dataset, result, mosaic, before, root


def _grid_and_tiles(run):
    _, result, mosaic, _, root = run
    tiles, _ = mosaic_assembly.discover_master_tiles(root / "out" / "master_tiles")
    return tiles, mosaic_assembly.GlobalGrid(mosaic.wcs, mosaic.data.shape[:2])


def test_outputs_exist_with_the_documented_layout(run):
    _, result, mosaic, _, root = run
    out = root / "out"
    for name in ("mosaic.fits", "mosaic_preview.png", "run_report.json", "zemosaic.log"):
        assert (out / name).is_file(), name
    assert len(list((out / "master_tiles").glob("master_tile_*.fits"))) == 4
    assert mosaic.data.ndim == 3 and mosaic.data.shape[2] == 3
    assert mosaic.extensions["WEIGHT"].shape == mosaic.data.shape[:2]
    assert result.n_tiles == 4 and result.n_frames_used == 24


def test_mosaic_wcs_puts_catalogue_stars_where_they_are(run):
    dataset, _, mosaic, _, _ = run
    x, y, _ = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000, n_brightest=40)
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x, y)
    ok = np.isfinite(mx)
    rms = float(np.sqrt(np.mean((mx[ok] - x[ok]) ** 2 + (my[ok] - y[ok]) ** 2)))
    print(f"mosaic astrometry: {ok.sum()} stars, RMS {rms:.3f} px")
    assert ok.sum() >= 25 and rms < 0.5


def test_star_photometry_is_consistent_across_the_mosaic(run):
    dataset, _, mosaic, _, _ = run
    x, y, flux = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000,
                                  n_brightest=40)
    ratio = aperture_flux(mosaic.data[..., 1], x, y) / flux
    ok = np.isfinite(ratio)
    scatter = float(np.std(ratio[ok]) / np.median(ratio[ok]))
    print(f"photometry: {ok.sum()} stars, flux ratio median {np.median(ratio[ok]):.3f}, scatter {scatter:.4f}")
    assert ok.sum() >= 25 and scatter < 0.03


def test_harmony_removes_the_seams(run, tmp_path):
    """Seams by the reference estimator (the continuing tile as the sky's reference): the median estimator's own
    floor is 0.6-0.9 sigma on tiles this small, and its sigma is the mosaic's per-pixel noise, which Lanczos-3 (the
    default since issue 26) keeps 1.4x higher than bilinear did (median estimator: 0.54 with, 1.49 without)."""
    _, _, mosaic, _, root = run
    tiles, grid = _grid_and_tiles(run)
    with_harmony = mosaic_assembly.seam_step_sigma(mosaic.data, tiles, grid, estimator="reference")
    plain = worker.run_mosaic(root / "out" / "master_tiles", tmp_path / "plain",
                              resolve_config(overrides=["use_existing_master_tiles_mode=true",
                                                        "harmonize_enabled=false"]))
    without = mosaic_assembly.seam_step_sigma(fits_io.read_fits_image(plain.mosaic_path).data, tiles, grid,
                                              estimator="reference")
    print(f"worst seam step: {with_harmony:.2f} sigma with Phase 4.5, {without:.2f} sigma without")
    assert with_harmony <= 1.0
    assert without > 2.0 * with_harmony and without > 1.5


def test_no_nan_hole_inside_the_covered_area(run):
    _, _, mosaic, _, _ = run
    weight = mosaic.extensions["WEIGHT"]
    covered = weight > 0
    assert np.array_equal(np.isfinite(mosaic.data).all(axis=-1), covered)
    assert np.array_equal(ndi.binary_fill_holes(covered), covered)
    assert np.isnan(mosaic.data[~covered]).all() and np.all(weight[~covered] == 0)


def test_bad_inputs_are_reported_and_the_input_is_untouched(run):
    dataset, result, _, before, root = run
    report = json.loads(result.report_path.read_text())
    reasons = {r["path"].rsplit("/", 1)[-1]: r["reason"] for r in report["rejected_inputs"]}
    bad_names = {kind: path.name for kind, path in dataset.bad_files.items()}
    assert set(bad_names.values()) <= set(reasons)
    assert "truncated" in reasons[bad_names["truncated_file"]]
    assert "not a FITS" in reasons[bad_names["not_fits"]]
    assert "WCS" in reasons[bad_names["no_wcs"]]
    assert "finite" in reasons[bad_names["all_nan"]]
    assert "shape" in reasons[bad_names["wrong_size"]]
    assert _folder_digest(root / "in") == before
    log_text = (root / "out" / "zemosaic.log").read_text()
    assert " ERROR " not in log_text
    for tag in ("PHASE_UPDATE:1", "PHASE_UPDATE:3", "Phase 3: Master Tiles", "MT_PIPELINE_FLAGS",
                "ALPHA_STATS: level=master_tile", "PHASE_UPDATE:5"):
        assert tag in log_text, tag
    assert all(t["coverage_decision"] == "coverage used" for t in report["tiles"])
    for tile in report["tiles"]:  # per tile: the background method and the spread of its fitted terms
        assert tile["background"]["method"] == "background_match"
        assert tile["background"]["gain"]["min"] <= tile["background"]["gain"]["max"]
        assert tile["alpha_stats"] and 0.5 < tile["field_fraction_kept"] <= 1.0
    assert report["harmony"]["applied"] and len(report["harmony"]["tiles"]) == 4


def test_existing_master_tiles_mode_gives_the_same_mosaic(run, tmp_path, caplog):
    _, _, mosaic, _, root = run
    with caplog.at_level(logging.INFO):
        again = worker.run_mosaic(root / "out" / "master_tiles", tmp_path / "again",
                                  resolve_config(overrides=["use_existing_master_tiles_mode=true"]))
    assert "existing_master_tiles_mode:" in caplog.text
    other = fits_io.read_fits_image(again.mosaic_path)
    assert other.data.shape == mosaic.data.shape
    np.testing.assert_allclose(other.data, mosaic.data, rtol=1e-5, atol=1e-3, equal_nan=True)
    assert "MT_COVERAGE_STATS" not in caplog.text
    report = json.loads((tmp_path / "again" / "run_report.json").read_text())
    assert [t["coverage_used"] for t in report["tiles"]] == [False] * 4
    assert all(t["coverage_decision"].startswith("existing_tiles_mode: ") for t in report["tiles"])
    assert "MT_PIPELINE tile_id=0 coverage_used=False reason=existing_tiles_mode: " in caplog.text


def test_cli_run_summary_and_exit_codes(run, tmp_path, capsys):
    _, _, _, _, root = run
    code = zemosaic_cli.main(["run", str(root / "out" / "master_tiles"), "-o", str(tmp_path / "cli"),
                              "--mode", "existing-master-tiles"])
    out = capsys.readouterr().out
    assert code == 0 and "mosaic:" in out and "tiles: 4" in out
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.fits").write_text("not fits at all")
    code = zemosaic_cli.main(["run", str(junk), "-o", str(tmp_path / "junk_out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("zemosaic: nothing usable")
