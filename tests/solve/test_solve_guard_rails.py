"""Phase 1b's guard rails (issue 31 items 0 and 3): any failure of a solver backend rejects that frame only (the
in-process ``astrometry`` package and an external ``solve-field``); cheap checks before any solve (size, stars on the
binned copy, a hint far from the others); the run's budget for blind solves; one progress event per frame settled."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.io import fits as fits_io
from zemosaic.pipeline import frame_wcs as solve_frames
from zemosaic.pipeline.frame_wcs import SolveSettings, assign_frame_wcs
from zemosaic.pipeline.master_tile import ScannedFrame
from zemosaic.solve import prechecks
from zemosaic.solve.solvers import SolveFailedError, SolveFieldSolver, SolveRequest, SolveResult
from zemosaic.synthetic.generator import SynthSpec, generate_dataset


def _star_field(path: Path, shape=(200, 300), n_stars=60, seed=0, hint=None) -> Path:
    """A WCS-less frame of Gaussian stars on noise; ``hint``: (RA, Dec) written as Seestar's RA/DEC."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    img = rng.normal(1000.0, 5.0, shape)
    for _ in range(n_stars):
        x, y, flux = rng.uniform(5, w - 5), rng.uniform(5, h - 5), rng.uniform(500, 5000)
        img += flux * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5 ** 2))
    header = fits.Header()
    if hint is not None:
        header["RA"], header["DEC"] = hint
        header["FOCALLEN"], header["XPIXSZ"] = 250.0, 2.9
    fits.PrimaryHDU(img.astype(np.float32), header).writeto(path)
    return path


def _scanned(paths: list[Path]) -> list[ScannedFrame]:
    return [ScannedFrame(p, fits_io.read_frame_info(p, require_wcs=False)) for p in paths]


@dataclass
class _FakeSolver:
    """A backend that records what it is asked and fails (or raises ``error``) after ``delay_s``."""

    delay_s: float = 0.0
    error: BaseException | None = None
    name: str = "fake"
    in_process: bool = False

    def __post_init__(self):
        self.calls: list[SolveRequest] = []

    def solve(self, request: SolveRequest) -> SolveResult:
        self.calls.append(request)
        time.sleep(self.delay_s)
        raise self.error or SolveFailedError("fake: no solution")


def _run(monkeypatch, frames, solver, **settings):
    monkeypatch.setattr(solve_frames, "select_solver", lambda *a, **k: solver)
    events = []
    outcome = assign_frame_wcs(frames, SolveSettings(**settings), events.append)
    return outcome, [e for e in events if e.phase == "solve"]


def test_a_thumbnail_and_a_starless_frame_are_rejected_before_any_solve(tmp_path, monkeypatch):
    tiny = _star_field(tmp_path / "thumb.fits", shape=(16, 16), n_stars=1)
    blank = _star_field(tmp_path / "blank.fits", n_stars=0)
    good = _star_field(tmp_path / "good.fits")
    solver = _FakeSolver()
    outcome, events = _run(monkeypatch, _scanned([tiny, blank, good]), solver)
    reasons = {p.name: r for p, r in outcome.rejected}
    assert "image too small to plate-solve (16 x 16 px" in reasons["thumb.fits"]
    assert "0 star(s) detected on its 2x2-binned copy" in reasons["blank.fits"]
    assert "WCS" in reasons["thumb.fits"].split("not plate-solved")[0]  # the scan's problem is kept
    assert len(solver.calls) >= 1 and all(c.shape == (200, 300) for c in solver.calls)  # only the good frame
    assert [(e.done, e.total) for e in events][-1] == (3, 3)
    assert [e.done for e in events] == sorted(e.done for e in events)  # the bar only moves forward


@pytest.mark.parametrize("error", [AssertionError(), KeyError("index_ra"), ZeroDivisionError("float division"),
                                   MemoryError("solver")])
def test_any_exception_of_a_solver_rejects_that_frame_only(tmp_path, monkeypatch, error):
    paths = [_star_field(tmp_path / f"f{k}.fits", seed=k) for k in range(2)]
    outcome, events = _run(monkeypatch, _scanned(paths), _FakeSolver(error=error))
    assert [p.name for p, _ in outcome.rejected] == ["f0.fits", "f1.fits"]
    assert all(f"the solver failed on it ({type(error).__name__}" in r for _, r in outcome.rejected)
    assert events[-1].done == events[-1].total == 2


def test_the_astrometry_package_assertion_rejects_the_frame_not_the_run(tmp_path, monkeypatch):
    """The real in-process backend raises AssertionError on a field without stars (issue 31 item 0): with the
    pre-checks switched off, so that the frame reaches it, the frame is rejected with the reason."""
    pytest.importorskip("astrometry")
    from zemosaic.solve.index_catalogue import find_index_files
    from zemosaic.solve.solvers import AstrometryPackageSolver

    index_files = find_index_files()
    if not index_files:
        pytest.skip("no astrometry.net index files installed")
    monkeypatch.setattr(prechecks, "MIN_SIDE_PX", 1)
    monkeypatch.setattr(prechecks, "MIN_STARS", 0)
    tiny = _star_field(tmp_path / "thumb.fits", shape=(16, 16), n_stars=0)
    solver = AstrometryPackageSolver(index_files, timeout_s=5.0, search_radius_deg=3.0, scale_tolerance=0.1)
    with pytest.raises(AssertionError):  # the backend's own behaviour, which the boundary must contain
        solver.solve(SolveRequest(np.zeros((0, 2)), (16, 16), solve_frames.PointingHint(None, None, None, "")))
    outcome, _ = _run(monkeypatch, _scanned([tiny]), solver)
    assert len(outcome.rejected) == 1 and "AssertionError" in outcome.rejected[0][1]


def test_an_external_solve_field_that_writes_nonsense_rejects_that_frame_only(tmp_path, monkeypatch):
    """An external solve-field (here a script standing in for a broken install) whose output files are not what
    astrometry.net writes: the wrapper's KeyError reaches the boundary, the frame is rejected."""
    exe = tmp_path / "solve-field"
    exe.write_text("#!/bin/sh\n"
                   "dir=\"\"; while [ $# -gt 0 ]; do [ \"$1\" = --dir ] && dir=$2; shift; done\n"
                   f"cp {tmp_path / 'wcs.fits'} \"$dir/field.wcs\"; cp {tmp_path / 'corr.fits'} \"$dir/field.corr\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    hdr = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0, "CRVAL2": 20.0,
                       "CRPIX1": 150.0, "CRPIX2": 100.0, "CD1_1": -0.001, "CD2_2": 0.001})
    fits.PrimaryHDU(header=hdr).writeto(tmp_path / "wcs.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("other", "D", array=np.zeros(3))])]).writeto(tmp_path / "corr.fits")
    solver = SolveFieldSolver(str(exe), [tmp_path / "index.fits"], timeout_s=5.0, search_radius_deg=3.0,
                              scale_tolerance=0.1)
    paths = [_star_field(tmp_path / "f0.fits", hint=(10.0, 20.0))]
    outcome, _ = _run(monkeypatch, _scanned(paths), solver)
    assert len(outcome.rejected) == 1 and "the solver failed on it (KeyError" in outcome.rejected[0][1]


def test_blind_solves_stop_when_the_run_budget_is_spent(tmp_path, monkeypatch):
    paths = [_star_field(tmp_path / f"f{k}.fits", seed=k) for k in range(6)]  # no hint: every solve is blind
    solver = _FakeSolver(delay_s=0.15)
    outcome, events = _run(monkeypatch, _scanned(paths), solver, blind_budget_s=0.4, solve_strategy="per_field")
    spent = [r for _, r in outcome.rejected if "blind-solve budget of 0.4 s is spent" in r]
    assert len(solver.calls) == 3  # 0.15 s each: the budget is spent during the third
    assert len(spent) == 3 and len(outcome.rejected) == 6
    assert events[-1].done == events[-1].total == 6
    outcome, _ = _run(monkeypatch, _scanned(paths), _FakeSolver(), blind_budget_s=0.0)
    assert all("budget of 0 s is spent" in r for _, r in outcome.rejected)


def test_a_hint_far_from_the_other_frames_is_rejected_before_any_solve(tmp_path, monkeypatch):
    near = [_star_field(tmp_path / f"f{k}.fits", seed=k, hint=(120.0 + 0.3 * k, 30.0)) for k in range(4)]
    far = _star_field(tmp_path / "far.fits", seed=9, hint=(300.0, -40.0))
    solver = _FakeSolver()
    outcome, _ = _run(monkeypatch, _scanned([*near, far]), solver, solve_strategy="per_field")
    reasons = {p.name: r for p, r in outcome.rejected}
    assert "pointing hint RA 300.0000 Dec -40.0000 is" in reasons["far.fits"]
    assert "from the nearest of the 4 other frames" in reasons["far.fits"]
    assert all(c.hint.ra_deg != 300.0 for c in solver.calls)  # never sent to the solver
    assert prechecks.far_hints({0: (10.0, 0.0)}, {0: (10.0, 0.0), 1: (50.0, 0.0)}, {0: 1.0}) == {}  # two: no majority


def test_ten_good_frames_and_one_tiny_wcs_less_file_make_a_mosaic(tmp_path):
    """Issue 31 item 0 as reported: ten good frames plus one 16 x 16 FITS without WCS."""
    from zemosaic.pipeline.run import run_mosaic

    generate_dataset(tmp_path / "in", SynthSpec(panels=(2, 1), frames_per_panel=5, width=200, height=300,
                                                pixel_scale_arcsec=4.8, seed=3))
    fits.PrimaryHDU(np.ones((16, 16), np.float32)).writeto(tmp_path / "in" / "thumb.fits")
    result = run_mosaic(tmp_path / "in", tmp_path / "out", {"plate_solver": "auto"})
    report = json.loads(result.report_path.read_text())
    entries = {Path(e["path"]).name: e for e in report["input_files"]}
    assert result.n_frames_used == 10 and entries["thumb.fits"]["status"] == "rejected"
    assert "too small to plate-solve" in entries["thumb.fits"]["reason"]


def _tiny_files_folder(folder: Path, n_thumbnails: int) -> list[Path]:
    """A small session with header WCSs and ``n_thumbnails`` 16 x 16 thumbnails without a WCS (every other one
    with a pointing hint near the session); the good frames."""
    dataset = generate_dataset(folder, SynthSpec(panels=(2, 1), frames_per_panel=3, width=200, height=300,
                                                 pixel_scale_arcsec=4.8, seed=31))
    rng = np.random.default_rng(31)
    for k in range(n_thumbnails):
        header = fits.Header()
        if k % 2:
            header["RA"], header["DEC"] = 83.8 + rng.normal(0, 0.2), -5.4 + rng.normal(0, 0.2)
            header["FOCALLEN"], header["XPIXSZ"] = 250.0, 2.9
        fits.PrimaryHDU(rng.integers(0, 65535, (16, 16)).astype(np.uint16), header).writeto(
            folder / f"thumb_{k:05d}.fits")
    return list(dataset.frame_paths)


def _check_tiny_files_run(report: dict, good: list[Path], n_thumbnails: int) -> None:
    entries = {Path(e["path"]).name: e for e in report["input_files"]}
    assert report["status"] == "ok"
    assert all(entries[p.name]["status"] == "used" for p in good)
    assert sum(t["frames_used"] for t in report["tiles"]) == len(good)
    thumbs = [e for n, e in entries.items() if n.startswith("thumb_")]
    assert len(thumbs) == n_thumbnails
    assert all(e["status"] == "rejected" and "image too small to plate-solve (16 x 16 px" in e["reason"]
               for e in thumbs)
    assert report["astrometry"]["n_solves"] == 0  # not one solve was spent on them


def test_a_folder_of_thumbnails_stacks_the_good_frames_and_rejects_the_rest(tmp_path):
    from zemosaic.pipeline.run import run_mosaic

    good = _tiny_files_folder(tmp_path / "in", 60)
    events = []
    result = run_mosaic(tmp_path / "in", tmp_path / "out", {"plate_solver": "auto"}, events.append)
    _check_tiny_files_run(json.loads(result.report_path.read_text()), good, 60)
    solve = [(e.done, e.total) for e in events if e.phase == "solve"]
    assert solve[0] == (0, 60) and solve[-1] == (60, 60) and len(solve) == 62  # the start, one per thumbnail, the end


@pytest.mark.slow
def test_two_thousand_thumbnails_through_the_cli(tmp_path):
    """The folder of the issue (timed by bench/bench_tiny_files.py): 2000 thumbnails, progress on stderr."""
    good = _tiny_files_folder(tmp_path / "in", 2000)
    proc = subprocess.run([sys.executable, "-m", "zemosaic.cli", "run", str(tmp_path / "in"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True,
                          env=dict(os.environ, ZEMOSAIC_NUMBA_WARMUP="0"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    _check_tiny_files_run(json.loads((tmp_path / "out" / "run_report.json").read_text()), good, 2000)
    assert any(line.strip().startswith("solve [") and "2000/2000" in line for line in proc.stderr.splitlines())
