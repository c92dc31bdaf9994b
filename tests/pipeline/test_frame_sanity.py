"""Whole-run decisions on frames that passed the per-frame sanity checks (issue 31 item 2): an honest but absurd
frame is rejected with its reason and the run goes on; a refusal that remains names the frames that cause it."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from astropy.io import fits

from zemosaic import cli
from zemosaic.pipeline import frame_sanity
from zemosaic.pipeline.run import MosaicRefusedError, run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

SPEC = SynthSpec(panels=(2, 1), frames_per_panel=3, width=200, height=300, pixel_scale_arcsec=4.8, seed=12)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sanity")
    generate_dataset(root / "in", SPEC)
    return root / "in"


def _copy(session: Path, dst: Path) -> list[Path]:
    dst.mkdir()
    for p in sorted(session.glob("*.fit")):
        shutil.copy2(p, dst / p.name)
    return sorted(dst.glob("*.fit"))


def _huge_frame(template: Path, path: Path, side: int = 100_000) -> None:
    """The template's header with an image of ``side`` x ``side`` 8-bit pixels (a sparse file: the header is
    honest, the file as long as it says) and its WCS centred on the same point at the same scale."""
    header = fits.getheader(template)
    header["BITPIX"], header["NAXIS1"], header["NAXIS2"] = 8, side, side
    header["CRPIX1"] += (side - fits.getheader(template)["NAXIS1"]) / 2.0
    header["CRPIX2"] += (side - fits.getheader(template)["NAXIS2"]) / 2.0
    for key in ("BZERO", "BSCALE", "BAYERPAT"):
        header.remove(key, ignore_missing=True)
    text = header.tostring().encode("ascii")
    with open(path, "wb") as handle:
        handle.write(text)
        handle.truncate(len(text) + ((side * side + 2879) // 2880) * 2880)


def test_an_absurd_but_honest_frame_is_rejected_and_the_good_frames_stacked(session, tmp_path):
    frames = _copy(session, tmp_path / "in")
    _huge_frame(frames[0], tmp_path / "in" / "huge.fits")
    result = run_mosaic(tmp_path / "in", tmp_path / "out")
    report = json.loads(result.report_path.read_text())
    entries = {Path(e["path"]).name: e for e in report["input_files"]}
    assert result.n_frames_used == len(frames) and report["status"] == "ok"
    assert entries["huge.fits"]["status"] == "rejected"
    assert entries["huge.fits"]["reason"].startswith("sanity: image 100000 x 100000 px is 1.67e+05 times the area")
    assert report["mosaic_check"]["memory_estimate_mb"] < 50  # the estimate was taken without it


def test_a_frame_whose_wcs_scale_is_wrong_is_rejected_by_its_footprint():
    class Info:
        def __init__(self, shape, scale):
            self.shape, self.pixel_scale_arcsec = shape, scale

    infos = [Info((300, 200), 4.8)] * 5 + [Info((300, 200), 4.8 * 60)] + [Info((2000, 3000), 4.8)]
    out = dict(frame_sanity.run_outliers(infos))
    assert sorted(out) == [5, 6]
    assert "field of view" in out[5] and "60 times the run's usual" in out[5]
    assert "image 3000 x 2000 px is 100 times the area of the run's usual frame (200 x 300 px" in out[6]
    assert frame_sanity.run_outliers(infos[5:]) == []  # two frames: no majority, nothing is an outlier


def test_a_refusal_that_remains_names_the_frames(session, tmp_path, capsys):
    frames = _copy(session, tmp_path / "in")
    with fits.open(frames[0], mode="update") as hdul:  # another target 40 degrees away: a sparse mosaic
        hdul[0].header["CRVAL1"] = (hdul[0].header["CRVAL1"] + 40.0) % 360.0
    with pytest.raises(MosaicRefusedError, match=f"frames that set its extent: {frames[0].name} \\("):
        run_mosaic(tmp_path / "in", tmp_path / "out")
    code = cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out2")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic:")]
    assert code == cli.EXIT_MOSAIC_REFUSED and len(err) == 1 and frames[0].name in err[0]
    assert os.path.exists(tmp_path / "out2" / "run_report.json")


def test_a_refusal_on_existing_tiles_names_the_tiles(session, tmp_path):
    run_mosaic(session, tmp_path / "out")
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    for p in sorted((tmp_path / "out" / "master_tiles").glob("master_tile_*.fits")):
        shutil.copy2(p, tiles / p.name)
    with fits.open(tiles / "master_tile_001.fits", mode="update") as hdul:  # 40 degrees away
        hdul[0].header["CRVAL1"] = (hdul[0].header["CRVAL1"] + 40.0) % 360.0
    with pytest.raises(MosaicRefusedError, match="tiles that set its extent: master_tile_00[01].fits \\("):
        run_mosaic(tiles, tmp_path / "out2", {"use_existing_master_tiles_mode": True})
