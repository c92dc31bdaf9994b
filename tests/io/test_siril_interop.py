"""Siril takes our mosaic as it is: its `stat` gives finite figures that match ours (optional: needs siril-cli).

With ``output_fill_value=0`` the uncovered pixels are 0 (WEIGHT still 0 there); Siril leaves zero pixels out of
its statistics, so its per-layer mean, median and sigma are those of the covered pixels. Siril comes from
Debian's ``siril`` package; the test is skipped where ``siril-cli`` is absent.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from astropy.io import fits

from zemosaic import cli
from zemosaic.synthetic import generator as synthetic

pytestmark = pytest.mark.skipif(shutil.which("siril-cli") is None, reason="siril-cli is not installed")

_LAYER = re.compile(r"(Red|Green|Blue) layer: Mean: ([-\d.e+]+), Median: ([-\d.e+]+), Sigma: ([-\d.e+]+)")


def test_siril_stat_is_finite_and_matches_ours(tmp_path):
    spec = synthetic.SynthSpec(panels=(1, 2), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8,
                               seed=31)
    synthetic.generate_dataset(tmp_path / "in", spec)
    assert cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--set", "output_fill_value=0"]) == 0
    script = tmp_path / "stat.ssf"
    script.write_text("requires 1.0.0\nload out/mosaic.fits\nstat\n")
    proc = subprocess.run(["siril-cli", "-d", str(tmp_path), "-s", str(script)], capture_output=True, text=True,
                          timeout=120)
    layers = {m.group(1): [float(v) for v in m.groups()[1:]] for m in _LAYER.finditer(proc.stdout + proc.stderr)}
    assert set(layers) == {"Red", "Green", "Blue"}, proc.stdout[-2000:]
    with fits.open(tmp_path / "out" / "mosaic.fits") as hdul:
        data, weight = hdul[0].data.astype(np.float64), hdul["WEIGHT"].data
    assert np.all(data[:, weight == 0] == 0.0)  # the fill value where nothing was covered
    for c, name in enumerate(("Red", "Green", "Blue")):
        covered = data[c][weight > 0]
        mean, median, sigma = layers[name]
        assert np.isfinite([mean, median, sigma]).all()
        ours = (covered.mean(), np.median(covered), covered.std())
        print(f"{name}: Siril {mean}/{median}/{sigma}, ours {ours[0]:.2f}/{ours[1]:.2f}/{ours[2]:.2f}")
        np.testing.assert_allclose([mean, median, sigma], ours, rtol=1e-3, atol=0.06)
