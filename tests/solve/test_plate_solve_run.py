"""Whole runs on Seestar-like frames WITHOUT a WCS: plate solving, measured against the frames' true WCS.

The same synthetic 2x2 Alt-Az session is written twice from one spec and seed, once with header WCSs and once
with only Seestar hints (RA/DEC a few arcmin off, FOCALLEN, XPIXSZ), its bright stars the real Tycho-2 stars of
the astrometry.net index files. Both runs are measured the same way: where the mosaic's own WCS puts the
catalogue stars against where they are in the mosaic. Frames are 540 x 960 px at 4.8"/px (the Seestar field at
a quarter of the pixels) so the runs fit the default suite. CI installs astrometry.net and its index files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import zemosaic_worker as worker
from measure import catalogue_pixels, refine_centroids
from zemosaic import cli
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.solve.index_catalogue import find_index_files
from zemosaic.synthetic import generator as synthetic

pytestmark = pytest.mark.skipif(not find_index_files(), reason="no astrometry.net index files installed")

SPEC = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=3, width=540, height=960, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=20.0, seed=5, real_stars="auto", hint_error_arcmin=6.0,
                           nebula=False)


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _astrometry_rms(dataset, mosaic_path) -> tuple[int, float]:
    mosaic = fits_io.read_fits_image(mosaic_path)
    x, y, _ = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000,
                               n_brightest=60)
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x, y)
    ok = np.isfinite(mx)
    return int(ok.sum()), float(np.sqrt(np.mean((mx[ok] - x[ok]) ** 2 + (my[ok] - y[ok]) ** 2)))


def _report(result) -> dict:
    return json.loads(result.report_path.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("solve_run")
    with_wcs = synthetic.generate_dataset(root / "with_wcs", SPEC)
    without = synthetic.generate_dataset(root / "no_wcs", dataclasses.replace(SPEC, header_wcs=False))
    before = _digest(root / "no_wcs")
    header_run = worker.run_mosaic(root / "with_wcs", root / "out_header", resolve_config())
    solved_run = worker.run_mosaic(root / "no_wcs", root / "out_solved", resolve_config())
    field_run = worker.run_mosaic(root / "no_wcs", root / "out_field",
                                  resolve_config(overrides={"solve_strategy": "per_field"}))
    return dict(root=root, with_wcs=with_wcs, without=without, before=before, header_run=header_run,
                solved_run=solved_run, field_run=field_run)


def test_wcs_less_frames_give_a_mosaic_as_exact_as_header_wcs(runs):
    n_h, rms_h = _astrometry_rms(runs["with_wcs"], runs["header_run"].mosaic_path)
    for name in ("solved_run", "field_run"):
        n_s, rms_s = _astrometry_rms(runs["without"], runs[name].mosaic_path)
        print(f"mosaic astrometry: header WCS {rms_h:.3f} px ({n_h} stars), {name} {rms_s:.3f} px ({n_s} stars)")
        assert n_s >= 30 and rms_s < 0.3
        assert rms_s < rms_h + 0.05
        assert runs[name].n_tiles == 4 and runs[name].n_frames_used == 12


@pytest.mark.parametrize("name, n_solves, sources", [
    ("solved_run", 12, {"solved"}),            # auto, in-process solver: every frame from its binned stars
    ("field_run", 4, {"solved", "aligned"}),   # one solve per panel, the other frames carry its WCS
])
def test_solves_per_strategy_and_every_frame_accounted_for(runs, name, n_solves, sources):
    astrometry = _report(runs[name])["astrometry"]
    records = astrometry["frames"]
    assert len(records) == 12 and astrometry["rejected"] == 0
    assert astrometry["n_solves"] == n_solves and {r["source"] for r in records} == sources
    for r in records:
        assert r["n_matched"] >= 10 and r["residual_px"] < 0.5
    assert {r["source"] for r in _report(runs["header_run"])["astrometry"]["frames"]} == {"header"}


def test_inputs_are_byte_identical(runs):
    assert _digest(runs["root"] / "no_wcs") == runs["before"]


def test_a_rerun_reuses_the_cache_and_solves_nothing(runs, tmp_path):
    cache = runs["root"] / "out_solved" / "wcs_cache"
    code = cli.main(["run", str(runs["root"] / "no_wcs"), "-o", str(tmp_path / "again"), "--wcs-cache", str(cache),
                     "--set", "write_wcs_sidecars=true"])
    assert code == 0
    astrometry = json.loads((tmp_path / "again" / "run_report.json").read_text())["astrometry"]
    assert astrometry["n_solves"] == 0 and all(r["cached"] for r in astrometry["frames"])
    assert len(list((tmp_path / "again" / "wcs").glob("*.wcs"))) == 12
    first = fits_io.read_fits_image(runs["solved_run"].mosaic_path)
    second = fits_io.read_fits_image(tmp_path / "again" / "mosaic.fits")
    np.testing.assert_array_equal(first.data, second.data)


def test_same_target_written_into_every_panel_still_splits_into_panels(tmp_path):
    spec = dataclasses.replace(SPEC, header_wcs=False, hint_same_for_all=True, seed=6)
    dataset = synthetic.generate_dataset(tmp_path / "in", spec)
    result = worker.run_mosaic(tmp_path / "in", tmp_path / "out",
                               resolve_config(overrides={"solve_strategy": "per_field"}))
    astrometry = _report(result)["astrometry"]
    assert result.n_tiles == 4 and astrometry["rejected"] == 0
    n, rms = _astrometry_rms(dataset, result.mosaic_path)
    print(f"same-hint mosaic: {astrometry['n_solves']} solves, astrometry {rms:.3f} px ({n} stars)")
    assert rms < 0.3


def test_frames_without_any_hint_are_solved_blind(tmp_path):
    spec = dataclasses.replace(SPEC, panels=(1, 1), frames_per_panel=2, header_wcs=False, seed=7)
    dataset = synthetic.generate_dataset(tmp_path / "in", spec)
    for path in dataset.frame_paths:  # strip the pointing: only the scale hint is left
        with fits.open(path, mode="update") as hdul:
            for key in ("RA", "DEC", "OBJCTRA", "OBJCTDEC"):
                del hdul[0].header[key]
    result = worker.run_mosaic(tmp_path / "in", tmp_path / "out", resolve_config())
    records = _report(result)["astrometry"]["frames"]
    assert [r["source"] for r in records] == ["solved", "solved"] and all(r["blind"] for r in records)
    print("blind solve times (s):", [r["time_s"] for r in records])


def test_a_folder_mixing_wcs_and_wcs_less_frames_builds_what_it_can(runs, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for path in sorted((runs["root"] / "with_wcs").glob("*.fit")):
        shutil.copy(path, mixed / path.name)
    extra = sorted((runs["root"] / "no_wcs").glob("*.fit"))[:3]
    for path in extra:
        shutil.copy(path, mixed / f"seestar_{path.name}")
    no_solver = worker.run_mosaic(mixed, tmp_path / "out_none", resolve_config(overrides={"plate_solver": "none"}))
    rejected = {Path(r["path"]).name: r["reason"] for r in _report(no_solver)["rejected_inputs"]}
    assert no_solver.n_frames_used == 12 and sorted(rejected) == sorted(f"seestar_{p.name}" for p in extra)
    assert all("no celestial WCS" in r and "plate_solver=none" in r for r in rejected.values())
    solved = worker.run_mosaic(mixed, tmp_path / "out_auto", resolve_config())
    sources = [r["source"] for r in _report(solved)["astrometry"]["frames"]]
    assert solved.n_frames_used == 15 and sources.count("header") == 12 and sources.count("solved") == 3


def test_a_wrong_hint_falls_back_to_a_blind_solve(tmp_path):
    spec = dataclasses.replace(SPEC, panels=(1, 1), frames_per_panel=2, header_wcs=False, seed=8)
    dataset = synthetic.generate_dataset(tmp_path / "in", spec)
    with fits.open(dataset.frame_paths[0], mode="update") as hdul:  # this mount was not synced: 20 deg off
        hdul[0].header["RA"] = (hdul[0].header["RA"] + 20.0) % 360.0
    result = worker.run_mosaic(tmp_path / "in", tmp_path / "out", resolve_config())
    records = _report(result)["astrometry"]["frames"]
    assert [r["source"] for r in records] == ["solved", "solved"]
    assert [r["blind"] for r in records] == [True, False]
    n, rms = _astrometry_rms(dataset, result.mosaic_path)
    assert rms < 0.3


def test_no_solver_is_one_line_naming_what_to_install(runs, tmp_path, capsys):
    code = cli.main(["run", str(runs["root"] / "no_wcs"), "-o", str(tmp_path / "out"),
                     "--set", "plate_solver=astap", "--set", f"astap_path={tmp_path / 'no_astap'}"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic:")]
    assert code == 1 and len(lines) == 1  # (the other stderr lines are the progress bars)
    assert "no frame has a celestial WCS" in lines[0] and "pip install" in lines[0] and "ASTAP" in lines[0]


def test_seestar_demo_without_index_files_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("zemosaic.solve.index_catalogue.find_index_files", lambda folders=None: [])
    code = cli.main(["demo", "-o", str(tmp_path / "demo"), "--seestar-headers"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "index files" in err and "pip install" in err
