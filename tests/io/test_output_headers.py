"""Standard headers of master tiles and mosaic (zemosaic.io.headers), and the output convention of mosaic.fits
(output_scale, output_fill_value): checked on a small synthetic run whose frames have different exposures."""
import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from astropy.io import fits

import zemosaic
from zemosaic.config import resolve_config
from zemosaic.io import headers
from zemosaic.pipeline.run import run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

SPEC = SynthSpec(panels=(2, 1), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8,
                 defects=("all_nan",))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run over 2 fields of 3 frames (exposures 10, 11, ... 16 s) plus an all-NaN frame that is rejected."""
    root = tmp_path_factory.mktemp("headers")
    generate_dataset(root / "in", SPEC)
    for k, path in enumerate(sorted((root / "in").glob("*.fit"))):
        fits.setval(path, "EXPTIME", value=10.0 + k)
    run_mosaic(root / "in", root / "out", resolve_config())
    report = json.loads((root / "out" / "run_report.json").read_text())
    return root, report


def _used_frames(tile_report):
    return [f["path"] for f in tile_report["frames"] if f["method"] != "failed"]


def _expected(paths):
    hdrs = [fits.getheader(p) for p in paths]
    starts = [datetime.fromisoformat(h["DATE-OBS"]) for h in hdrs]
    ends = [s + timedelta(seconds=h["EXPTIME"]) for s, h in zip(starts, hdrs, strict=True)]
    return {"n": len(hdrs), "exptime": sum(h["EXPTIME"] for h in hdrs), "start": min(starts), "end": max(ends),
            "headers": hdrs}


def _check_standard_keys(header, expected):
    assert header["NCOMBINE"] == expected["n"] and header["STACKCNT"] == expected["n"]
    assert header["EXPTIME"] == pytest.approx(expected["exptime"], abs=1e-6)
    assert header["LIVETIME"] == pytest.approx(expected["exptime"], abs=1e-6)
    assert datetime.fromisoformat(header["DATE-OBS"]) == expected["start"]
    assert datetime.fromisoformat(header["DATE-END"]) == expected["end"]
    first = expected["headers"][0]
    for key in ("OBJECT", "INSTRUME", "TELESCOP", "FILTER", "FOCALLEN", "XPIXSZ", "YPIXSZ"):
        assert header[key] == first[key], key
    assert header["SOFTWARE"] == header["CREATOR"] == f"ZeMosaic {zemosaic.__version__}"
    history = [str(v) for v in header["HISTORY"]]
    for phase in ("Phase 1 ", "Phase 2 ", "Phase 3 stack", "Phase 3 reject", "Phase 3 cleanup"):
        assert any(line.startswith(phase) for line in history), phase
    assert all(len(line) <= 72 for line in history)  # one card per line, no continuation
    assert "MJD-OBS" not in header  # the reference frame's time is not the product's


def test_master_tiles_carry_the_facts_of_the_frames_they_stack(run):
    _, report = run
    assert len(report["tiles"]) == 2
    for tile in report["tiles"]:
        used = _used_frames(tile)
        assert len(used) == tile["frames_used"] == 3
        header = fits.getheader(tile["path"])
        _check_standard_keys(header, _expected(used))
        assert header["BUNIT"] == "ADU"


def test_mosaic_header_sums_the_frames_used_and_names_every_phase(run):
    root, report = run
    used = [p for tile in report["tiles"] for p in _used_frames(tile)]
    all_frames = sorted((root / "in").glob("*.fit"))
    assert len(used) == 6 and len(all_frames) == 7  # the all-NaN frame is not counted
    header = fits.getheader(root / "out" / "mosaic.fits")
    expected = _expected(used)
    _check_standard_keys(header, expected)
    assert expected["exptime"] < sum(fits.getheader(p)["EXPTIME"] for p in all_frames)
    history = [str(v) for v in header["HISTORY"]]
    for phase in ("Phase 4 ", "Phase 4.5 ", "Phase 5 ", "Phase 6 "):
        assert any(line.startswith(phase) for line in history), phase
    assert header["BUNIT"] == "ADU" and header["OUTSCALE"] == "adu" and header["ADUSCALE"] == 1.0


def test_disagreeing_inputs_leave_the_keyword_out():
    a, b = fits.Header(), fits.Header()
    a["OBJECT"], b["OBJECT"] = "M42", "M43"
    a["FOCALLEN"], b["FOCALLEN"] = 250.0, 250.0
    a["DATE-OBS"], a["EXPTIME"] = "2024-01-01T20:00:00.5", 10.0
    b["DATE-OBS"], b["EXPOSURE"] = "2024-01-01T19:59:00", 30
    facts = headers.facts_from_frames([a, b])
    assert "OBJECT" not in facts.agreed and facts.agreed["FOCALLEN"] == 250.0
    assert facts.n_frames == 2 and facts.exposure_s == 40.0
    assert facts.date_obs == "2024-01-01T19:59:00.000" and facts.date_end == "2024-01-01T20:00:10.500"
    product = headers.product_header(facts, bunit="ADU", history=["Phase 3 stack: x"])
    assert "OBJECT" not in product and product["NCOMBINE"] == 2 and list(product["HISTORY"]) == ["Phase 3 stack: x"]


def test_output_scale_unit_and_fill_value_change_only_the_written_mosaic(run, tmp_path):
    root, _ = run
    reference = fits.open(root / "out" / "mosaic.fits")
    cfg = resolve_config(overrides=["use_existing_master_tiles_mode=true", "output_scale=unit",
                                    "output_fill_value=0", "write_preview=false"])
    run_mosaic(root / "out" / "master_tiles", tmp_path / "unit", cfg)
    with fits.open(tmp_path / "unit" / "mosaic.fits") as hdul, reference:
        data, weight, header = hdul[0].data, hdul["WEIGHT"].data, hdul[0].header
        ref_data, ref_weight = reference[0].data, reference["WEIGHT"].data
        np.testing.assert_array_equal(weight, ref_weight)
        uncovered = weight == 0
        assert uncovered.any() and (~uncovered).any()
        assert np.all(np.isfinite(data))  # tools whose statistics stop at NaN get finite figures
        assert np.all(data[:, uncovered] == 0.0)
        assert np.all(np.isnan(ref_data[:, uncovered]))  # the default keeps NaN
        assert float(data[:, ~uncovered].max()) == pytest.approx(1.0, abs=1e-6)
        scale = header["ADUSCALE"]
        assert scale == pytest.approx(float(np.nanmax(ref_data)), rel=1e-6)
        np.testing.assert_allclose(data[:, ~uncovered] * scale, ref_data[:, ~uncovered], rtol=1e-5, atol=1e-3)
        assert header["BUNIT"] == "" and header["OUTSCALE"] == "unit" and float(header["FILLVAL"]) == 0.0
        assert any(str(v).startswith("Phases 1-3 skipped") for v in header["HISTORY"])
        assert header["NCOMBINE"] == reference[0].header["NCOMBINE"]


def test_fill_value_and_scale_keys_are_validated():
    assert resolve_config(base={"output_fill_value": -1}).output_fill_value == "-1.0"
    with pytest.raises(ValueError, match="output_fill_value"):
        resolve_config(overrides=["output_fill_value=none"])
    with pytest.raises(ValueError, match="output_scale"):
        resolve_config(overrides=["output_scale=percent"])
