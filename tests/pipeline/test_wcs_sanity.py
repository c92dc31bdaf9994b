"""WCS sanity (issue 15 E): broken header WCSs rejected with the reason, pixel-scale outliers rejected, a distant
frame reported as its own target, an absurd mosaic (memory estimate, covered fraction) refused before allocation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from fits_cards import write_raw_card
from run_folders import copy_frames, read_report
from zemosaic import cli
from zemosaic.io import fits as fits_io
from zemosaic.mosaic import grid as mosaic_grid
from zemosaic.pipeline import clustering
from zemosaic.pipeline.run import MosaicRefusedError, run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

ONE_PANEL = SynthSpec(panels=(1, 1), frames_per_panel=4, width=240, height=360, pixel_scale_arcsec=4.8)
NO_SOLVE = {"plate_solver": "none"}


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("panel")
    generate_dataset(root / "in", ONE_PANEL)
    return root / "in"





def _rejected(out: Path) -> dict[str, str]:
    return {Path(r["path"]).name: r["reason"] for r in read_report(out)["rejected_inputs"]}


# --- broken header WCS -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "text"), [("CRVAL2", "NaN"), ("CRVAL1", "nan"), ("CD1_1", "NaN"),
                                           ("CRPIX1", "NaN"), ("CD2_2", "1e400")])
def test_non_finite_wcs_card_is_refused_not_read_as_zero(panel, tmp_path, key, text):
    frame = copy_frames(panel, tmp_path / "in")[0]
    write_raw_card(frame, key, text)
    info = fits_io.read_frame_info(frame, require_wcs=False)
    assert info.wcs is None
    assert info.wcs_problem == f"WCS keyword {key} = {text} is not a finite number (a broken WCS, not used)"
    with pytest.raises(fits_io.NoCelestialWcsError, match=f"{key} = {text}"):
        fits_io.read_frame_info(frame)


@pytest.mark.parametrize(("cards", "what"), [
    ({"CD1_1": 1e-12, "CD1_2": 0.0}, "pixel scale"),           # 4e-6 x 4.8 arcsec: skewed
    ({"CD1_1": -1e-9, "CD2_2": 1e-9}, "pixel scale"),          # 3.6e-6 arcsec: not optics
    ({"CD1_1": -30.0, "CD2_2": 30.0}, "pixel scale"),          # 30 deg per pixel
])
def test_degenerate_wcs_is_refused_with_the_reason(panel, tmp_path, cards, what):
    frame = copy_frames(panel, tmp_path / "in")[0]
    with fits.open(frame, mode="update") as hdul:
        hdul[0].header.update(cards)
    info = fits_io.read_frame_info(frame, require_wcs=False)
    assert info.wcs is None and "degenerate WCS" in info.wcs_problem and what in info.wcs_problem


def test_run_rejects_the_nan_crval_frame_and_keeps_the_mosaic_compact(panel, tmp_path):
    frames = copy_frames(panel, tmp_path / "in")
    write_raw_card(frames[1], "CRVAL2", "NaN")
    out = tmp_path / "out"
    result = run_mosaic(tmp_path / "in", out, NO_SOLVE)
    reasons = _rejected(out)
    assert list(reasons) == [frames[1].name] and "CRVAL2 = NaN is not a finite number" in reasons[frames[1].name]
    assert result.n_tiles == 1 and result.n_frames_used == 3
    h, w = result.mosaic_shape[:2]
    assert h < 500 and w < 400  # not 5 degrees tall, as when the NaN became Dec 0
    assert read_report(out)["mosaic_check"]["stage"] == "tiles"


# --- pixel scale far from the group's ------------------------------------------------------------------------
def test_scale_outlier_is_rejected_with_its_figures(panel, tmp_path):
    frames = copy_frames(panel, tmp_path / "in")
    with fits.open(frames[2], mode="update") as hdul:
        h = hdul[0].header
        for key in ("CD1_1", "CD1_2", "CD2_1", "CD2_2"):
            h[key] = h[key] * 1.5
    out = tmp_path / "out"
    result = run_mosaic(tmp_path / "in", out, NO_SOLVE)
    reason = _rejected(out)[frames[2].name]
    assert reason.startswith("pixel scale 7.200 arcsec differs by 50% from its group's median 4.800 arcsec")
    assert result.n_frames_used == 3


class _Stand:
    def __init__(self, ra, dec, scale, shape=(360, 240)):
        self.center_radec, self.pixel_scale_arcsec, self.shape = (ra, dec), scale, shape
        self.mount_mode, self.date_obs = "altaz", None


def test_reject_scale_outliers_recomputes_the_reference():
    frames = [_Stand(10.0, 20.0, 4.8), _Stand(10.0005, 20.0, 4.8), _Stand(10.001, 20.0, 5.0), _Stand(10.0, 20.0, 9.6)]
    groups = clustering.cluster_frames(frames)
    assert len(groups) == 1
    kept, rejected = clustering.reject_scale_outliers(groups, frames, 0.2)
    assert [i for i, _ in rejected] == [3] and "differs by 96% from its group's median 4.900" in rejected[0][1]
    assert sorted(kept[0].members) == [0, 1, 2] and kept[0].reference in (0, 1, 2)


# --- separate targets and absurd mosaics -----------------------------------------------------------------------
def test_separate_targets_from_group_positions():
    frames = [_Stand(10.0, 20.0, 4.8), _Stand(10.3, 20.0, 4.8), _Stand(10.0, 30.0, 4.8)]
    groups = clustering.cluster_frames(frames)
    targets = clustering.separate_targets(groups, frames, 3.0)
    assert [t.n_frames for t in targets] == [2, 1]
    assert targets[1].nearest_other_deg == pytest.approx(10.0, abs=0.2)
    assert len(clustering.separate_targets(groups[:1], frames, 3.0)) == 1


def _move_frame(path: Path, d_dec: float, d_ra: float = 0.0) -> None:
    with fits.open(path, mode="update") as hdul:
        hdul[0].header["CRVAL1"] = hdul[0].header["CRVAL1"] + d_ra
        hdul[0].header["CRVAL2"] = hdul[0].header["CRVAL2"] + d_dec


def test_frame_of_another_target_stops_the_run_before_phase_3(panel, tmp_path, capsys):
    frames = copy_frames(panel, tmp_path / "in")
    _move_frame(frames[3], 7.0, 7.0)  # ~9.9 deg away: a 7900 x 7300 px grid, 0.3 % covered
    out = tmp_path / "out"
    with pytest.raises(MosaicRefusedError) as err:
        run_mosaic(tmp_path / "in", out, NO_SOLVE)
    message = str(err.value)
    assert "\n" not in message and "% covered" in message and "2 separate targets" in message
    assert "allow_sparse_mosaic=true" in message or "mosaic_max_memory_mb" in message
    report = read_report(out)
    assert report["status"] == "refused" and report["error"] == message
    assert [t["n_frames"] for t in report["targets"]] == [3, 1]
    assert report["targets"][1]["frames"] == [str(frames[3])]
    assert report["targets"][1]["nearest_other_deg"] == pytest.approx(9.85, abs=0.2)
    assert report["mosaic_check"]["covered_fraction_estimate"] < 0.01
    assert report["mosaic_check"]["stage"] == "frames"
    assert not (out / "master_tiles").exists() and not (out / "mosaic.fits").exists()
    log = (out / "zemosaic.log").read_text()
    assert "input holds 2 separate targets" in log
    code = cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out2"), "--set", "plate_solver=none"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_MOSAIC_REFUSED == 4 and lines[-1].startswith("zemosaic: mosaic refused: mosaic of ")


def test_sparse_mosaic_is_built_when_asked(panel, tmp_path):
    frames = copy_frames(panel, tmp_path / "in")
    _move_frame(frames[3], 1.6)  # 3.3 fields of view away: its own target, a mosaic ~14 % covered
    out = tmp_path / "out"
    with pytest.raises(MosaicRefusedError, match="covered"):
        run_mosaic(tmp_path / "in", out, {**NO_SOLVE, "mosaic_min_covered_frac": 0.5})
    result = run_mosaic(tmp_path / "in", tmp_path / "out2", {**NO_SOLVE, "mosaic_min_covered_frac": 0.5,
                                                             "allow_sparse_mosaic": True})
    report = read_report(tmp_path / "out2")
    assert result.n_tiles == 2 and len(report["targets"]) == 2 and report["status"] == "ok"
    check = report["mosaic_check"]
    assert check["stage"] == "tiles" and check["covered_fraction_estimate"] < 0.5
    actual = report["mosaic"]["covered_fraction"]
    assert check["covered_fraction_estimate"] == pytest.approx(actual, abs=0.03)


def test_memory_budget_stops_before_allocation_with_the_figure(panel, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(MosaicRefusedError, match=r"would need about \d+ MB, over mosaic_max_memory_mb=1 "):
        run_mosaic(panel, out, {**NO_SOLVE, "mosaic_max_memory_mb": 1.0})
    check = read_report(out)["mosaic_check"]
    h, w = check["shape"]
    assert check["memory_estimate_mb"] == pytest.approx(h * w * 7 * 4 / 2**20, abs=0.1)
    assert check["covered_fraction_estimate"] > 0.9  # one panel, a compact mosaic
    assert not (out / "master_tiles").exists()


def test_covered_fraction_and_memory_estimate_are_exact_on_a_known_grid():
    from astropy.wcs import WCS

    def tan(ra, dec, scale_deg=4.8 / 3600):
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval, w.wcs.crpix = [ra, dec], [120.5, 180.5]
        w.wcs.cd = np.array([[-scale_deg, 0.0], [0.0, scale_deg]])
        return w

    a, b = ((360, 240), tan(10.0, 0.0)), ((360, 240), tan(10.0, 1.0))
    grid = mosaic_grid.grid_for_footprints([a, b])
    frac = mosaic_grid.covered_fraction(grid, [a, b])
    assert frac == pytest.approx(2 * 360 * 240 / (grid.shape[0] * grid.shape[1]), rel=0.05)
    assert mosaic_grid.covered_fraction(grid, [a]) == pytest.approx(frac / 2, rel=0.05)
    assert mosaic_grid.memory_estimate_mb((1000, 2000), 3) == pytest.approx(1000 * 2000 * 7 * 4 / 2**20)
