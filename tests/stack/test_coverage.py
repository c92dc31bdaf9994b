"""The mission's coverage accumulator: a per-pixel count of the frames whose valid mask covers it."""
import numpy as np
import pytest

from zemosaic.stack.coverage import CoverageAccumulator, CoverageShapeError


def test_one_frame_is_a_coverage_of_ones_where_it_has_data():
    valid = np.zeros((6, 8), bool)
    valid[1:5, 2:7] = True
    acc = CoverageAccumulator((6, 8))
    acc.add(valid)
    result = acc.result()
    assert result is not None and result.dtype == np.float32
    np.testing.assert_array_equal(result, valid.astype(np.float32))
    stats = acc.stats()
    assert (stats.min, stats.max, stats.n_frames) == (0.0, 1.0, 1)
    assert stats.nonzero_frac == pytest.approx(20 / 48)


def test_frames_add_up_and_a_colour_pixel_counts_only_when_every_channel_has_data():
    acc = CoverageAccumulator((4, 5))
    a = np.ones((4, 5), bool)
    b = np.ones((4, 5, 3), bool)
    b[0, 0, 2] = False  # one channel missing: the pixel is not covered by this frame
    c = np.zeros((4, 5), bool)
    c[2:, :] = True
    for mask in (a, b, c):
        acc.add(mask)
    expected = np.full((4, 5), 2.0, np.float32)
    expected[0, 0] = 1.0
    expected[2:, :] += 1.0
    np.testing.assert_array_equal(acc.result(), expected)
    assert acc.stats().as_dict() == {"shape": [4, 5], "min": 1.0, "max": 3.0, "nonzero_frac": 1.0, "n_frames": 3}


def test_nothing_covered_is_no_coverage_and_a_wrong_shape_is_refused_not_resized():
    acc = CoverageAccumulator((3, 3))
    assert acc.result() is None  # no frame at all
    acc.add(np.zeros((3, 3), bool))
    assert acc.result() is None and acc.stats().n_frames == 1  # frames, but no pixel covered
    with pytest.raises(CoverageShapeError, match=r"\(3, 4\)"):
        acc.add(np.ones((3, 4), bool))
    assert acc.stats().n_frames == 1  # the refused mask was not counted


def test_the_report_summary_keeps_six_decimals_of_the_covered_share():
    acc = CoverageAccumulator((3, 3))
    one = np.zeros((3, 3), bool)
    one[1, 1] = True
    acc.add(one)
    assert acc.stats().as_dict()["nonzero_frac"] == 0.111111
