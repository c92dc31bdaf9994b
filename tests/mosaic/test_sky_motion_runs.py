"""Whole runs of ``mosaic_background=motion`` against the generator's truth (issue 26 item 1), at small size.

A 2x2 mosaic of 240 x 360 frames over a nebula that fills the field and whose floor rises to one side
(``nebula_floor_frac``), each frame with its own light-pollution gradient fixed in its pixels, steady from frame to
frame: the lower envelope (``plane``) takes the nebula's floor for sky, the joint fit does not. On an equatorial
mount (dithers only) the fit cannot tell the sky's plane and falls back to the plane, said in the log.
The full-size figures are printed by ``bench/bench_nebula_sky.py``.
"""
import dataclasses
import json

import numpy as np
import pytest

import sky_truth
import zemosaic_worker as worker
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=30.0, seed=11, gradient_frac=0.3, nebula_floor_frac=0.6,
                           gradient_jitter=0.01, gradient_angle_jitter_deg=0.5)


def _run(root, spec, models):
    dataset = synthetic.generate_dataset(root / "in", spec)
    out = {}
    for k, model in enumerate(models):
        result = worker.run_mosaic(root / "in", root / "out", resolve_config(overrides=[f"mosaic_background={model}"]),
                                   overwrite=k == 0, resume=k > 0)
        image = fits_io.read_fits_image(result.mosaic_path)
        report = json.loads((root / "out" / "run_report.json").read_text())
        log = (root / "out" / "zemosaic.log").read_text()
        out[model] = (np.asarray(image.data, np.float64), report, log)
    image = fits_io.read_fits_image(root / "out" / "mosaic.fits")
    truth = np.asarray(dataset.scene.render(image.wcs, image.data.shape[:2]), np.float64)
    nebula = np.asarray(dataset.scene.render(image.wcs, image.data.shape[:2], stars=False), np.float64)
    return out, truth, nebula


@pytest.fixture(scope="module")
def altaz(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("motion_altaz"), SPEC, ("plane", "motion"))


def test_the_frames_motion_separates_the_gradient_from_the_nebula_floor(altaz):
    """The plane leaves the nebula floor's tilt (45 / 15 / 17 ADU, the red floor most); the joint fit leaves
    12 / 10 / 6 (its plane is pinned to +-8 / 6 / 4 ADU by 10 deg of rotation) and keeps the nebula (99-101 %)."""
    out, truth, nebula = altaz
    left = {m: sky_truth.sky_left(out[m][0], truth, nebula) for m in out}
    kept = {m: sky_truth.flux_kept(out[m][0], truth, nebula) for m in out}
    print({m: (left[m].round(1), kept[m].round(3)) for m in out})
    assert np.all(left["motion"] < 0.75 * left["plane"]) and left["motion"][0] * 3.0 < left["plane"][0]
    assert np.all(kept["motion"] >= 0.97) and np.all(kept["motion"] <= 1.03)


def test_the_run_says_what_the_joint_fit_decided(altaz):
    out, _, _ = altaz
    _, report, log = out["motion"]
    record = report["sky_motion"]
    assert record["identified"] is True and "fallback" not in record
    assert record["frames"] == SPEC.n_frames and record["rotation_spread_deg"] > 5.0
    assert report["mosaic"]["background"]["model"] == "motion" and report["mosaic"]["background"]["order"] == 3
    assert "PHASE_UPDATE:5.5 Phase 5.5: mosaic background (motion, joint fit" in log
    assert "Phase 5.5: joint sky fit: 24 frames" in log and "falls back" not in log


def test_an_equatorial_set_falls_back_to_the_plane_and_says_so(tmp_path):
    """Dithers only: the output is the plane's, bit for bit, and the log and report say why."""
    spec = dataclasses.replace(SPEC, mount="equatorial", panels=(1, 2), frames_per_panel=4)
    out, _, _ = _run(tmp_path, spec, ("plane", "motion"))
    data, report, log = out["motion"]
    np.testing.assert_array_equal(data, out["plane"][0])
    assert report["sky_motion"]["fallback"] == "plane" and report["sky_motion"]["identified"] is False
    assert "cannot be told" in report["sky_motion"]["reason"]
    assert "Phase 5.5: motion sky falls back to the plane lower envelope: the frames rotate by only" in log
