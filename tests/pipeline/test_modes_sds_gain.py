"""SDS's sqrt-N gain (issue 28): frames that straddle the panel borders (dithers of 70 px on 240 px wide frames,
panels overlapping by 10 %) give the overlaps pixels that a master tile drops (its coverage there is below
``altaz_min_coverage_abs`` / ``altaz_min_coverage_frac``) but SDS stacks: there SDS stacks more frames per pixel
than the master tiles keep, and its noise is lower by the expected ``sqrt(N_tiles / N_sds)``
(:mod:`mode_noise`: frame counts from the coverage maps, noise of block means against the truth)."""
import pytest

from mode_noise import overlap_gain
from zemosaic.config import resolve_config
from zemosaic.pipeline import run as run_module
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(1, 2), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                           seed=7, overlap=0.1, dither_px=70.0)


@pytest.fixture(scope="module")
def straddle(tmp_path_factory):
    root = tmp_path_factory.mktemp("straddle")
    ds = synthetic.generate_dataset(root / "in", SPEC)
    for mode in ("tiles", "sds"):
        run_module.run_mosaic(ds.out_dir, root / mode, resolve_config(overrides=[f"mode={mode}"]), overwrite=True)
    return ds, root


def test_sds_noise_in_the_straddled_overlaps_drops_by_sqrt_of_the_extra_frames(straddle):
    ds, root = straddle
    gain = overlap_gain(ds, root / "sds", root / "tiles", min_gain=1.3)
    print(gain)
    assert gain.blocks >= 300  # enough 4 x 4 blocks for a 5 % noise figure
    assert gain.frames_sds >= 1.4 * gain.frames_tiles  # SDS stacks the frames the master tiles dropped there
    assert gain.expected < 0.85  # a real gain is expected...
    assert gain.measured == pytest.approx(gain.expected, abs=0.07)  # ...and measured
    assert gain.measured < 0.92


def test_over_the_whole_overlap_the_noise_ratio_follows_the_frame_counts(straddle):
    """The control: over all the overlaps (mostly pixels where the master tiles keep the frames SDS stacks), the
    expected ratio is near 1 and the measured one follows it."""
    ds, root = straddle
    same = overlap_gain(ds, root / "sds", root / "tiles", min_gain=0.0)
    gained = overlap_gain(ds, root / "sds", root / "tiles", min_gain=1.3)
    print(same)
    assert same.blocks > 2 * gained.blocks and same.expected > gained.expected
    assert same.measured == pytest.approx(same.expected, abs=0.07)
