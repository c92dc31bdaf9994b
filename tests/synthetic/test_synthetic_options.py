"""The ``zemosaic synth`` options build the SynthSpec they say, and refuse bad values in one line."""
import argparse

import pytest

from zemosaic.synthetic import generator as synthetic
from zemosaic.synthetic import options as synthetic_options
from zemosaic.synthetic.generator import SynthSpec


def test_cli_options_build_the_spec():
    parser = argparse.ArgumentParser()
    synthetic_options.add_synth_arguments(parser)
    ns = parser.parse_args(["--panels", "1x3", "--size", "200x300", "--frames", "5", "--mount", "equatorial",
                            "--no-nebula", "--defects", "hot_pixels,no_wcs", "--seed", "7", "--overlap", "0.2"])
    spec = synthetic_options.spec_from_args(ns)
    assert (spec.panels, spec.width, spec.height, spec.frames_per_panel) == ((1, 3), 200, 300, 5)
    assert spec.mount == "equatorial" and not spec.nebula and spec.seed == 7 and spec.overlap == 0.2
    assert spec.defects == ("hot_pixels", "no_wcs")
    assert synthetic_options.spec_from_args(parser.parse_args([])) == SynthSpec()
    assert synthetic_options.spec_from_args(parser.parse_args(["--defects", "all"])).defects == synthetic.DEFECT_NAMES
    for bad in (["--panels", "2by2"], ["--defects", "dust"], ["--overlap", "1.5"], ["--frames", "0"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_cli_real_telescope_options():
    parser = argparse.ArgumentParser()
    synthetic_options.add_synth_arguments(parser)
    spec = synthetic_options.spec_from_args(parser.parse_args(
        ["--no-header-wcs", "--hint-error-arcmin", "5", "--hint-same-for-all", "--real-stars"]))
    assert not spec.header_wcs and spec.hint_error_arcmin == 5.0 and spec.hint_same_for_all
    assert spec.real_stars == "auto"
    spec = synthetic_options.spec_from_args(parser.parse_args(["--real-stars", "/data/index"]))
    assert spec.real_stars == "/data/index" and spec.header_wcs and spec.hint_error_arcmin == 0.0
    with pytest.raises(SystemExit):
        parser.parse_args(["--hint-error-arcmin", "-1"])
