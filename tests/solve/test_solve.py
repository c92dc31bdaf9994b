"""Plate solving: hints, the TAN refinement, the solver backends on real index stars, the cache, carried WCSs.

The backends are run on star lists made from the astrometry.net index files' own stars projected through a
known WCS (the truth), so every figure is an error against that truth. CI installs Debian's astrometry.net and
its Tycho-2 index files; tests that need them skip only where they are missing.
"""
from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.pipeline.frame_wcs import _register_star_lists, carry_wcs
from zemosaic.solve import solvers
from zemosaic.solve.cache import CachedWcs, WcsCache, file_sha256, wcs_to_header, write_wcs_sidecar
from zemosaic.solve.hints import PointingHint, hint_from_header, parse_dec_text, parse_ra_text
from zemosaic.solve.index_catalogue import find_index_files, index_stars
from zemosaic.solve.refine import refine_tan_wcs, tan_wcs

SHAPE = (1920, 1080)
SCALE = 2.39
HAVE_INDEX = bool(find_index_files())
needs_index = pytest.mark.skipif(not HAVE_INDEX, reason="no astrometry.net index files installed")


def seestar_cd(angle_deg: float, scale_arcsec: float = SCALE) -> np.ndarray:
    th = np.radians(angle_deg)
    return scale_arcsec / 3600.0 * np.array([[-np.cos(th), np.sin(th)], [np.sin(th), np.cos(th)]])


def field_stars(truth, noise_px=0.08, seed=0):
    """The index stars inside the field of ``truth``, at their true pixels plus centroid noise, brightest first."""
    ra0, dec0 = truth.wcs.crval
    cat = index_stars(ra0, dec0, 1.2)
    x, y = truth.wcs_world2pix(cat.ra, cat.dec, 0)
    inside = (x >= 0) & (x < SHAPE[1]) & (y >= 0) & (y < SHAPE[0])
    true_xy = np.column_stack([x, y])[inside]
    noisy = true_xy + np.random.default_rng(seed).normal(0.0, noise_px, true_xy.shape)
    return noisy, true_xy, cat.ra[inside], cat.dec[inside]


def rms_against(wcs, true_xy, ra, dec) -> float:
    px = np.column_stack(wcs.wcs_world2pix(ra, dec, 0))
    return float(np.sqrt(np.mean(np.sum((px - true_xy) ** 2, axis=1))))


# --- hints -----------------------------------------------------------------------------------------------
def test_seestar_header_gives_pointing_and_scale():
    header = fits.Header({"RA": 118.87917, "DEC": -0.5, "FOCALLEN": 250, "XPIXSZ": 2.90000009536743})
    hint = hint_from_header(header)
    assert hint.ra_deg == pytest.approx(118.87917) and hint.dec_deg == -0.5
    assert hint.scale_arcsec == pytest.approx(2.3927, abs=1e-3)  # 206.265 * 2.9 um / 250 mm
    assert hint.source == "RA/DEC + FOCALLEN/XPIXSZ"


def test_sexagesimal_hints_binning_and_config_scale():
    header = fits.Header({"OBJCTRA": "07 55 31.0", "OBJCTDEC": "-00 30 00", "FOCALLEN": 250, "XPIXSZ": 2.9,
                          "XBINNING": 2})
    hint = hint_from_header(header)
    assert hint.ra_deg == pytest.approx((7 + 55 / 60 + 31 / 3600) * 15) and hint.dec_deg == pytest.approx(-0.5)
    assert hint.scale_arcsec == pytest.approx(2 * 2.3927, abs=2e-3)
    bare = hint_from_header(fits.Header({"EXPTIME": 10.0}), default_scale_arcsec=1.5)
    assert not bare.has_position and bare.scale_arcsec == 1.5 and bare.source == "config"
    assert parse_ra_text("12h30m00s") == pytest.approx(187.5)
    assert parse_dec_text("-12:30:36") == pytest.approx(-12.51)
    for bad in ("25 00 00", "ab cd"):
        with pytest.raises(ValueError):
            parse_ra_text(bad)
    assert not hint_from_header(fits.Header({"OBJCTRA": "nonsense", "OBJCTDEC": "+10"})).has_position


# --- refinement and carried WCSs -------------------------------------------------------------------------
def test_refinement_recovers_the_true_wcs_from_a_rough_one():
    rng = np.random.default_rng(1)
    truth = tan_wcs((83.8, -5.4), (540.3, 959.1), seestar_cd(17.0), SHAPE)
    xy = np.column_stack([rng.uniform(0, 1080, 200), rng.uniform(0, 1920, 200)])
    ra, dec = truth.wcs_pix2world(xy[:, 0], xy[:, 1], 0)
    rough = tan_wcs((83.8, -5.4), (542.0, 958.0), seestar_cd(17.05, SCALE * 1.001), SHAPE)
    refined = refine_tan_wcs(rough, xy + rng.normal(0, 0.05, xy.shape), ra, dec, SHAPE)
    assert refined.n_matched == 200
    assert refined.residual_px == pytest.approx(0.05 * np.sqrt(2), rel=0.15)
    assert rms_against(refined.wcs, xy, ra, dec) < 0.02


def test_carried_wcs_is_exact_for_a_similarity():
    ref = tan_wcs((10.0, 40.0), (539.5, 959.5), seestar_cd(5.0), SHAPE)
    th = np.radians(3.0)
    matrix = np.array([[np.cos(th), -np.sin(th), 12.3], [np.sin(th), np.cos(th), -7.9], [0, 0, 1]])
    frame = carry_wcs(ref, matrix, SHAPE)
    p = np.array([[0.0, 0.0], [1079.0, 1919.0], [300.5, 1200.25]])
    p_ref = p @ matrix[:2, :2].T + matrix[:2, 2]
    np.testing.assert_allclose(frame.wcs_pix2world(p, 0), ref.wcs_pix2world(p_ref, 0), atol=1e-9)


def test_registration_of_star_lists_recovers_the_transform():
    rng = np.random.default_rng(4)
    src = np.column_stack([rng.uniform(0, 1080, 300), rng.uniform(0, 1920, 300)])
    th = np.radians(1.5)
    a = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    dst = src @ a.T + [25.0, -40.0] + rng.normal(0, 0.05, src.shape)
    matrix, n_pairs, rms = _register_star_lists(src, dst)
    np.testing.assert_allclose(matrix[:2, :2], a, atol=2e-5)
    np.testing.assert_allclose(matrix[:2, 2], [25.0, -40.0], atol=0.03)
    assert n_pairs >= 250 and rms < 0.1
    assert _register_star_lists(src, rng.uniform(0, 1000, (300, 2))) is None  # unrelated fields do not register


# --- the backends on real index stars --------------------------------------------------------------------
@needs_index
@pytest.mark.parametrize("backend", ["astrometry", "solve-field"])
@pytest.mark.parametrize("hinted", [True, False], ids=["hint", "blind"])
def test_backend_solves_a_tycho_field_to_the_true_wcs(backend, hinted):
    if backend == "solve-field" and shutil.which("solve-field") is None:
        pytest.skip("solve-field is not installed")
    if backend == "astrometry":
        pytest.importorskip("astrometry")
    truth = tan_wcs((83.8, -5.4), (539.5, 959.5), seestar_cd(23.0), SHAPE)
    stars, true_xy, ra, dec = field_stars(truth)
    hint = PointingHint(83.9, -5.3, SCALE, "test") if hinted else PointingHint(None, None, None, "none")
    result = solvers.select_solver(backend).solve(solvers.SolveRequest(stars, SHAPE, hint))
    assert result.solver == backend and result.blind is (not hinted)
    assert result.n_matched >= 30 and result.residual_px < 0.2
    assert rms_against(result.wcs, true_xy, ra, dec) < 0.05


@needs_index
def test_unrelated_stars_are_not_solved():
    pytest.importorskip("astrometry")
    rng = np.random.default_rng(9)
    stars = np.column_stack([rng.uniform(0, 1080, 80), rng.uniform(0, 1920, 80)])
    with pytest.raises(solvers.SolveFailedError):
        solvers.select_solver("astrometry", timeout_s=2).solve(
            solvers.SolveRequest(stars, SHAPE, PointingHint(83.8, -5.4, SCALE, "test")))


def test_no_solver_gives_one_line_naming_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(solvers.SolverUnavailableError) as caught:
        solvers.select_solver("auto", index_dirs=[tmp_path / "no_index"])
    message = str(caught.value)
    assert "\n" not in message and "pip install" in message and "astrometry-data-tycho2" in message
    assert str(tmp_path / "no_index") in message


def test_astap_command_line_and_result(tmp_path):
    """A stand-in ``astap`` that records its arguments and writes the .wcs ASTAP writes (text header)."""
    truth = tan_wcs((120.0, 30.0), (539.5, 959.5), seestar_cd(0.0), SHAPE)
    header = truth.to_header()
    header["NSTARS"] = 57
    header_text = header.tostring(sep="\n")
    (tmp_path / "truth.txt").write_text(header_text)
    exe = tmp_path / "astap"
    exe.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args.txt\nf=\"$2\"\n"
                   f"cp {tmp_path}/truth.txt \"${{f%.fits}}.wcs\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    solver = solvers.select_solver("astap", astap_path=str(exe), astap_database_dir="/data/d50",
                                   search_radius_deg=2.0)
    request = solvers.SolveRequest(np.zeros((0, 2)), SHAPE, PointingHint(120.0, 30.0, SCALE, "t"),
                                   np.zeros(SHAPE, np.float32))
    result = solver.solve(request)
    args = (tmp_path / "args.txt").read_text().split()
    assert args[args.index("-ra") + 1] == "8.000000" and args[args.index("-spd") + 1] == "120.000000"
    assert float(args[args.index("-fov") + 1]) == pytest.approx(SCALE * 1920 / 3600, abs=1e-3)
    assert args[args.index("-r") + 1] == "2.000" and args[args.index("-d") + 1] == "/data/d50"
    assert result.n_matched == 57 and result.solver == "astap"
    np.testing.assert_allclose(result.wcs.wcs.crval, [120.0, 30.0])


# --- cache and sidecars ----------------------------------------------------------------------------------
def test_cache_round_trip_and_sidecar(tmp_path):
    frame = tmp_path / "frame.fit"
    frame.write_bytes(b"some frame bytes")
    key = file_sha256(frame)
    wcs = tan_wcs((83.8, -5.4), (539.5, 959.5), seestar_cd(12.0), SHAPE)
    cache = WcsCache(tmp_path / "cache")
    assert cache.get(key) is None
    cache.put(key, CachedWcs(wcs_to_header(wcs), "solved", "astrometry", False, 55, 0.08, 0.3), file_name="frame.fit")
    back = cache.get(key)
    assert back.source == "solved" and back.n_matched == 55
    p = np.array([[0.0, 0.0], [1079.0, 1919.0]])
    np.testing.assert_allclose(back.wcs.wcs_pix2world(p, 0), wcs.wcs_pix2world(p, 0), atol=1e-10)
    (tmp_path / "cache" / f"{key}.json").write_text("{broken")
    assert cache.get(key) is None
    sidecar = write_wcs_sidecar(tmp_path / "out" / "frame.wcs", wcs, SHAPE)
    header = fits.getheader(sidecar)
    assert header["IMAGEW"] == 1080 and header["CTYPE1"] == "RA---TAN"
    assert os.listdir(tmp_path / "out") == ["frame.wcs"]
