"""Unparsable or impossible values of the keywords we use are said once per file, with the value and what is done
instead, and listed in the run report's input_files (issue 31 item 5)."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from fits_cards import write_raw_card
from zemosaic.io import fits as fits_io
from zemosaic.io.keywords import keyword_problems
from zemosaic.pipeline.run import run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

SPEC = SynthSpec(panels=(1, 1), frames_per_panel=4, width=200, height=300, pixel_scale_arcsec=4.8, seed=6)


@pytest.mark.parametrize("cards, words", [
    ({"EXPTIME": "ten"}, "EXPTIME = 'ten' is not a FITS number of seconds >= 0: exposure unknown, left out"),
    ({"EXPTIME": -5.0}, "EXPTIME = -5.0 is not a FITS number of seconds >= 0"),
    ({"EXPTIME": "10"}, "EXPTIME = '10' is not a FITS number of seconds >= 0"),  # text: the products drop it
    ({"EXPTIME": "ten", "EXPOSURE": 10.0}, "EXPTIME = 'ten' is not a FITS number of seconds >= 0: EXPOSURE = 10.0"),
    ({"DATE-OBS": "2024-02-30T25:61:00"}, "DATE-OBS = '2024-02-30T25:61:00' is not a date and time that exists"),
    ({"DATE-OBS": "last night"}, "start time unknown"),
    ({"RA": "north", "DEC": 10.0}, "RA = 'north', DEC = 10.0 is not a position in degrees"),
    ({"RA": 10.0, "DEC": 95.0}, "(Dec within +-90): no pointing hint from them"),
    ({"FOCALLEN": 0.0}, "FOCALLEN = 0.0 is not a number > 0: no pixel scale from the optics"),
    ({"XPIXSZ": "2,9"}, "XPIXSZ = '2,9' is not a number > 0"),
])
def test_each_damaged_keyword_is_one_line_with_its_value_and_fallback(cards, words):
    problems = keyword_problems(fits.Header(cards), colour_planes=False, has_wcs=False)
    assert len(problems) == 1 and words in problems[0], problems


def test_sane_keywords_and_hints_of_a_frame_with_wcs_say_nothing():
    good = {"EXPTIME": 10.0, "DATE-OBS": "2024-07-30T21:01:00.123456", "RA": 83.8, "DEC": -5.4, "FOCALLEN": 250.0,
            "XPIXSZ": 2.9, "BAYERPAT": "GRBG"}
    assert keyword_problems(fits.Header(good), colour_planes=False, has_wcs=False) == []
    assert keyword_problems(fits.Header({"RA": "x", "FOCALLEN": -1}), colour_planes=False, has_wcs=True) == []
    assert "BAYERPAT = 'GRBG' on a frame of 3 colour planes: ignored" in keyword_problems(
        fits.Header({"BAYERPAT": "GRBG"}), colour_planes=True, has_wcs=True)[0]


def test_a_run_says_each_problem_once_and_reports_it(tmp_path, caplog):
    dataset = generate_dataset(tmp_path / "gen", SPEC)
    inp = tmp_path / "in"
    inp.mkdir()
    frames = [shutil.copy2(p, inp / p.name) for p in dataset.frame_paths]
    with fits.open(frames[0], mode="update") as hdul:  # EXPTIME alone, and damaged
        hdul[0].header.remove("EXPOSURE", ignore_missing=True)
    write_raw_card(Path(frames[0]), "EXPTIME", "'ten'")
    with fits.open(frames[1], mode="update") as hdul:
        hdul[0].header["DATE-OBS"] = "2024-13-45T25:00:00"
    colour = inp / "colour.fits"  # a 3-plane frame that still says BAYERPAT
    with fits.open(frames[2]) as hdul:
        header = hdul[0].header.copy()
        data = hdul[0].data.astype(np.float32)
    fits.PrimaryHDU(np.stack([data] * 3), header).writeto(colour)
    with caplog.at_level(logging.WARNING):
        result = run_mosaic(inp, tmp_path / "out")
    report = json.loads(result.report_path.read_text())
    entries = {Path(e["path"]).name: e for e in report["input_files"]}
    name0, name1 = Path(frames[0]).name, Path(frames[1]).name
    assert entries[name0]["header_problems"] == [
        "EXPTIME = 'ten' is not a FITS number of seconds >= 0: exposure unknown, left out of the integration time "
        "(EXPTIME) of the products"]
    assert "DATE-OBS = '2024-13-45T25:00:00'" in entries[name1]["header_problems"][0]
    assert "BAYERPAT = 'GRBG' on a frame of 3 colour planes" in entries["colour.fits"]["header_problems"][0]
    assert "header_problems" not in entries[Path(frames[3]).name]
    lines = [r.getMessage() for r in caplog.records if "is not a FITS number of seconds" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"{inp / name0}: EXPTIME = 'ten'")  # once, naming the file
    assert fits_io.read_frame_info(Path(frames[0])).exposure_s is None
