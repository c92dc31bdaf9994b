"""One registration per frame: the transform the frames' WCS predict, refined on their stars, replaces the
star-pattern matcher when the stars support it, and is as accurate; a wrong prediction is refused."""
from __future__ import annotations

import numpy as np
from astropy.wcs import WCS

from zemosaic.align.group import SimilarityTransform, find_group_transforms
from zemosaic.align.stars import detect_stars
from zemosaic.align.transform import refine_prediction, wcs_transform
from zemosaic.synthetic.generator import render_star_field

SHAPE = (360, 480)
TRUTH = SimilarityTransform(rotation_deg=7.5, scale=1.0, dx=23.4, dy=-11.7)  # frame -> reference


def _catalogue(seed=11, n=400, margin=80):
    rng = np.random.default_rng(seed)
    h, w = SHAPE
    return (rng.uniform(-margin, w + margin, n), rng.uniform(-margin, h + margin, n), 10 ** rng.uniform(2.6, 4.2, n))


def _frame(cat, transform=None, seed=0):
    x, y, flux = cat
    if transform is not None:
        inv = np.linalg.inv(transform.matrix)
        x, y = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2], inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
    img = render_star_field(SHAPE, x, y, flux) + np.float32(200.0)
    return (img + np.random.default_rng(seed).normal(0, 4.0, img.shape)).astype(np.float32)


def _max_error(found: SimilarityTransform, truth: SimilarityTransform) -> float:
    """Largest displacement (px) between the two mappings over the frame's corners."""
    h, w = SHAPE
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], dtype=float)
    return float(np.max(np.hypot(*((corners @ found.matrix.T)[:, :2] - (corners @ truth.matrix.T)[:, :2]).T)))


def _pair():
    cat = _catalogue()
    ref, frame = _frame(cat, seed=1), _frame(cat, TRUTH, seed=2)
    return ref, frame, detect_stars(ref), detect_stars(frame)


def test_a_prediction_off_by_pixels_refines_to_the_truth_as_well_as_the_matcher():
    ref, frame, ref_stars, stars = _pair()
    rough = SimilarityTransform(TRUTH.rotation_deg + 0.3, 1.0, TRUTH.dx + 3.0, TRUTH.dy - 2.5)  # a WCS a bit off
    found = refine_prediction(stars, ref_stars, rough.matrix, SHAPE)
    assert not isinstance(found, str), found
    transform, n_pairs = found
    assert n_pairs >= 100
    by_prediction = _max_error(transform, TRUTH)
    matcher = find_group_transforms([ref, frame], 0, star_lists=[ref_stars, stars])[1]
    assert matcher.method == "astroalign"
    by_matcher = _max_error(matcher.transform, TRUTH)
    assert by_prediction < 0.1, by_prediction
    assert by_prediction <= by_matcher + 0.01, (by_prediction, by_matcher)


def test_a_wrong_prediction_is_refused_and_the_frame_is_measured_instead():
    ref, frame, ref_stars, stars = _pair()
    wrong = SimilarityTransform(TRUTH.rotation_deg, 1.0, TRUTH.dx + 45.0, TRUTH.dy + 30.0)
    assert isinstance(refine_prediction(stars, ref_stars, wrong.matrix, SHAPE), str)
    found = find_group_transforms([ref, frame], 0, star_lists=[ref_stars, stars], predicted=[None, wrong.matrix])
    assert found[1].method == "astroalign"
    assert _max_error(found[1].transform, TRUTH) < 0.1


def test_a_good_prediction_registers_the_frame_without_reading_it():
    ref, frame, ref_stars, stars = _pair()

    class OnlyTheReference(list):
        def __getitem__(self, i):
            assert i == 0, "the frame's pixels were read although its WCS prediction was good"
            return super().__getitem__(i)

    found = find_group_transforms(OnlyTheReference([ref, frame]), 0, star_lists=[ref_stars, stars],
                                  predicted=[None, TRUTH.matrix])
    assert [f.method for f in found] == ["reference", "wcs"]
    assert _max_error(found[1].transform, TRUTH) < 0.1


def _tan(ra, dec, rot_deg, scale_deg=2.4 / 3600):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [SHAPE[1] / 2 + 0.5, SHAPE[0] / 2 + 0.5]
    t = np.radians(rot_deg)
    w.wcs.cd = scale_deg * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    return w


def test_two_wcs_predict_the_rotation_and_offset_between_their_frames():
    ref_wcs, frame_wcs = _tan(315.0, 44.0, 0.0), _tan(315.01, 44.005, 6.0)
    matrix = wcs_transform(frame_wcs, ref_wcs, SHAPE)
    got = SimilarityTransform.from_matrix(matrix)
    # the truth, point by point: a frame pixel carried to the sky and back into the reference
    x, y = np.array([10.0, 400.0, 250.0]), np.array([20.0, 300.0, 180.0])
    rx, ry = ref_wcs.world_to_pixel_values(*frame_wcs.pixel_to_world_values(x, y))
    pred = np.column_stack([x, y, np.ones(3)]) @ matrix.T
    assert np.max(np.hypot(pred[:, 0] - rx, pred[:, 1] - ry)) < 0.02
    assert abs(abs(got.rotation_deg) - 6.0) < 0.05 and abs(got.scale - 1.0) < 1e-3
    assert wcs_transform(None, ref_wcs, SHAPE) is None
