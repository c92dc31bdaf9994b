"""The frame-quality gate (issue 25) in GRID and SDS: a generated night with known bad frames (a cloud, a partial
cloud, a trail, focus drift, dew, an obstacle) run in both modes with the gate and without it (the gate off and
noise-variance weights: every frame at full weight). The bad frames are
rejected with their reason or have their defect left out, as in master tiles; ``frames.csv`` and the report's
decisions are written; ``psf_snr`` weights follow the sharpness; the gated mosaic's stars are sharper and its
photometry closer to the truth than the ungated run's."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest

import measure
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline import run as run_module
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(2, 1), overlap=0.35, frames_per_panel=8, width=360, height=540,
                           pixel_scale_arcsec=4.8, mount="altaz", rotation_drift_deg=10.0, seed=5, dither_px=6.0,
                           star_density_per_deg2=8000.0, bad_frame_fraction=0.4,
                           quality_defects=("cloud", "partial_cloud", "trail", "focus_drift", "dew", "obstacle"))
WHOLE_FRAME = {"cloud", "trail", "focus_drift", "dew"}
UNGATED = ["frame_reject_enabled=false", "frame_partial_enabled=false", "stack_weighting_method=noise_variance"]
GATED = {"grid": ["grid_tile_size_px=300"], "sds": ["stack_weighting_method=psf_snr"]}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    ds = synthetic.generate_dataset(tmp_path_factory.mktemp("modes_quality") / "in", SPEC)
    truth = {f.path.name: dict(f.details.get("quality") or {}) for f in ds.frames}
    return ds, truth


def _run(night, tmp_path_factory, mode, extra):
    ds, _ = night
    out = tmp_path_factory.mktemp(f"{mode}_q") / "out"
    result = run_module.run_mosaic(ds.out_dir, out, resolve_config(overrides=[f"mode={mode}", *extra]),
                                   overwrite=True)
    return result, json.loads(result.report_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["grid", "sds"])
def runs(request, night, tmp_path_factory):
    mode = request.param
    gated = _run(night, tmp_path_factory, mode, GATED[mode])
    ungated = _run(night, tmp_path_factory, mode, GATED[mode] + UNGATED)
    return mode, gated, ungated


def _photometry(ds, mosaic_path) -> tuple[float, float]:
    """Robust sigma of ln(aperture flux / catalogue flux) of the bright catalogue stars (green, aperture 7 px,
    as bench/bench_frame_quality.py), and the median Gaussian FWHM of the same stars."""
    image = fits_io.read_fits_image(mosaic_path)
    data = np.asarray(image.data, np.float64)
    x, y, flux = measure.catalogue_pixels(ds.catalogue, image.wcs, data.shape[:2], n_brightest=300,
                                          max_peak=20000.0)
    x, y = measure.refine_centroids(data[..., 1], x, y)
    found = np.isfinite(x) & np.isfinite(y)
    x, y, flux = x[found], y[found], flux[found]
    got = measure.aperture_flux(data[..., 1], x, y, r=7.0)
    ok = np.isfinite(got) & (got > 0)
    log_ratio = np.log(got[ok] / flux[ok])
    fwhm = measure.gaussian_fwhm(np.nan_to_num(data[..., 1]), x[ok], y[ok])
    assert ok.sum() >= 80
    return 1.4826 * float(np.median(np.abs(log_ratio - np.median(log_ratio)))), float(np.nanmedian(fwhm))


def test_the_night_has_its_defects(night):
    _, truth = night
    assert sorted(q["kind"] for q in truth.values() if q) == ["cloud", "dew", "focus_drift", "obstacle",
                                                              "partial_cloud", "trail"]


def test_bad_frames_are_rejected_or_masked_as_in_master_tiles(runs, night):
    mode, (result, report), _ = runs
    _, truth = night
    entries = {Path(e["path"]).name: e for e in report["input_files"] if e.get("quality")}
    assert len(entries) == 16
    for name, q in truth.items():
        entry = entries[name]
        if q.get("kind") in WHOLE_FRAME:
            assert entry["status"] == "rejected" and "rejected for quality" in entry["reason"], (mode, name)
            assert entry["quality"]["decision"] == "rejected"
        else:
            assert entry["status"] == "used" and entry["quality"]["decision"] == "kept", (mode, name, entry)
    partial = [n for n, q in truth.items() if q.get("kind") in ("partial_cloud", "obstacle")]
    for name in partial:
        record = entries[name]["quality"]
        assert record["masked_fraction"] == pytest.approx(truth[name]["region_fraction"], abs=0.12), name
        assert record["masked_valid_fraction"] == pytest.approx(truth[name]["region_fraction"], abs=0.12), name
    assert all(e["quality"]["masked_fraction"] == 0 for n, e in entries.items() if n not in partial)
    assert result.n_frames_used == 12
    counts = report["mode_info"]["frame_quality"]
    assert {k: counts[k] for k in ("groups", "judged", "rejected", "partial")} == {"groups": 2, "judged": 16,
                                                                                  "rejected": 4, "partial": 2}
    text = result.log_path.read_text(encoding="utf-8")
    assert text.count(f"[{mode.upper()}] FRAME_QUALITY group=") == 6 and " ERROR " not in text


def test_frames_csv_is_written(runs):
    mode, (result, report), (_, ungated) = runs
    rows = list(csv.DictReader((result.output_dir / "frames.csv").open(encoding="utf-8")))
    assert len(rows) == 16 and {r["tile_id"] for r in rows} == {"0", "1"}  # Phase 2's two groups (panels)
    assert sum(r["decision"] == "rejected" for r in rows) == 4
    assert report["frame_quality"]["rejected"] == 4 and report["frame_quality"]["partial"] == 2
    assert ungated["frame_quality"]["rejected"] == 0 and ungated["frame_quality"]["kept"] == 16


def test_psf_snr_weights_follow_the_sharpness(runs):
    mode, (result, report), _ = runs
    if mode != "sds":
        pytest.skip("psf_snr is set on the SDS run")
    rows = {r["file"]: r for r in csv.DictReader((result.output_dir / "frames.csv").open(encoding="utf-8"))}
    factors = report["mode_info"]["frame_quality"]["psf_snr_factors"]
    assert set(factors) == {n for n, r in rows.items() if r["decision"] == "kept"}
    for tile in ("0", "1"):
        kept = {n: float(r["fwhm_px"]) for n, r in rows.items() if r["decision"] == "kept" and r["tile_id"] == tile}
        med = np.median(list(kept.values()))
        for name, fwhm in kept.items():
            assert factors[name] == pytest.approx((med / fwhm) ** 2, rel=1e-3)


def test_the_gate_improves_the_mosaic(runs, night):
    mode, (gated, _), (ungated, _) = runs
    ds, _ = night
    scatter_g, fwhm_g = _photometry(ds, gated.mosaic_path)
    scatter_u, fwhm_u = _photometry(ds, ungated.mosaic_path)
    print(f"{mode}: photometric scatter gated {scatter_g:.4f} vs ungated {scatter_u:.4f}; "
          f"FWHM {fwhm_g:.3f} vs {fwhm_u:.3f} px")
    assert scatter_g < 0.95 * scatter_u and fwhm_g < fwhm_u
