"""Colour calibration on stars (zemosaic.mosaic.colour) and the generator's sensor response (issue 27).

Unit level: a star field with a known colour cast (the S50 response) and a sky made neutral; the factors found,
the stars white after, the sky's neutral point kept; white stars get no correction.  The pipeline's before/after
against the generator's truth is in tests/io/test_output_products.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from zemosaic.mosaic import colour
from zemosaic.synthetic import generator as synthetic
from zemosaic.synthetic.scene import bv_to_rgb_ratio


def _star_field(response=(0.78, 1.0, 0.62), *, n=220, seed=4, shape=(420, 420), sky=500.0, noise=4.0):
    """(image H x W x 3, star colours N x 3 before the response): stars of Gaussian sigma 1.3 px, true colours
    scattered around white, seen through ``response``; a sky neutral at ``sky`` ADU; 8 saturated stars."""
    rng = np.random.default_rng(seed)
    h, w = shape
    image = np.full((h, w, 3), sky, np.float64) + rng.normal(0.0, noise, (h, w, 3))
    yy, xx = np.mgrid[0:h, 0:w]
    truth = np.exp(rng.normal(0.0, 0.12, (n, 3)))
    truth /= truth[:, 1:2]
    ys, xs = rng.uniform(20, h - 20, n), rng.uniform(20, w - 20, n)
    flux = rng.uniform(3000.0, 40000.0, n)
    flux[:8] = 4e6
    for k in range(n):
        y0, x0 = int(ys[k]), int(xs[k])
        win = (slice(y0 - 8, y0 + 9), slice(x0 - 8, x0 + 9))
        profile = np.exp(-((yy[win] - ys[k]) ** 2 + (xx[win] - xs[k]) ** 2) / (2 * 1.3 ** 2)) / (2 * np.pi * 1.3 ** 2)
        image[win] += profile[..., None] * flux[k] * truth[k] * np.asarray(response)
    return np.minimum(image, 60000.0).astype(np.float32), truth


def test_the_sensor_cast_is_found_and_removed_and_the_sky_neutral_point_kept():
    image, truth = _star_field()
    covered = np.ones(image.shape[:2], bool)
    calibration = colour.calibrate_star_colours(image, covered)
    print(calibration.as_dict())
    assert calibration.applied and calibration.n_stars >= 100
    np.testing.assert_allclose(calibration.factors, (1 / 0.78, 1.0, 1 / 0.62), rtol=0.03)
    np.testing.assert_allclose(calibration.sky, 500.0, atol=1.0)
    before = image.copy()
    calibration.apply(image, covered)
    sky = np.abs(before - 500.0).max(axis=2) < 12.0  # sky pixels (within 3 sigma)
    np.testing.assert_allclose(np.median(image[sky], axis=0), np.median(before[sky], axis=0), atol=0.3)
    after = colour.measure_star_colours(image, covered)
    assert np.all(np.abs(np.log(np.median(after.flux / after.flux[:, 1:2], axis=0))) < 0.03)  # white on average
    cards = calibration.header_cards()
    assert cards["COLCAL"][0] == "stars" and cards["COLFAC3"][0] == pytest.approx(calibration.factors[2], 1e-4)


def test_white_stars_get_no_correction_and_too_few_stars_none():
    image, _ = _star_field(response=(1.0, 1.0, 1.0))
    covered = np.ones(image.shape[:2], bool)
    calibration = colour.calibrate_star_colours(image, covered)
    assert not calibration.applied and calibration.factors == (1.0, 1.0, 1.0) and "white" in calibration.reason
    assert max(abs(np.log(m)) for m in calibration.measured) < 0.03
    empty = np.full((200, 200, 3), 100.0, np.float32)
    few = colour.calibrate_star_colours(empty, np.ones((200, 200), bool))
    assert not few.applied and "usable stars" in few.reason
    saturated_only = colour.measure_star_colours(*_star_field(n=8)[:1], np.ones((420, 420), bool))
    assert saturated_only.flux.shape[0] == 0  # clipped stars are never measured


def test_sensor_response_scales_the_scene_light_between_truth_and_frames(tmp_path):
    """Noiseless frames: the light of stars and nebula is multiplied by the response, the sky's light pollution
    and the truth (catalogue, truth_sky.fits) are not."""
    base = dict(panels=(1, 1), frames_per_panel=1, width=96, height=128, noise=False, bayer=False, seed=3,
                gradient_frac=0.0, n_stars=40)
    frames = {}
    for name, response in (("none", None), ("s50", synthetic.SENSOR_S50), ("double", (2.0, 2.0, 2.0))):
        synthetic.generate_dataset(tmp_path / name, synthetic.SynthSpec(**base, sensor_response=response))
        frames[name] = fits.getdata(next((tmp_path / name).glob("*.fit"))).astype(np.float64)
    light = frames["double"] - frames["none"]  # the scene's light, once (3 x H x W)
    bright = light.min(axis=0) > 60.0  # uint16 rounding: +-0.5 ADU, under 1 % here
    assert bright.sum() > 50
    for c, r in enumerate(synthetic.SENSOR_S50):
        ratio = (frames["s50"][c] - frames["none"][c])[bright] / light[c][bright]
        np.testing.assert_allclose(np.median(ratio), r - 1.0, atol=0.01)
    cats = [Table.read(tmp_path / n / "truth" / "catalogue.csv") for n in ("none", "s50")]
    np.testing.assert_array_equal(cats[0]["flux_r"], cats[1]["flux_r"])
    np.testing.assert_array_equal(fits.getdata(tmp_path / "none" / "truth" / "truth_sky.fits"),
                                  fits.getdata(tmp_path / "s50" / "truth" / "truth_sky.fits"))
    with pytest.raises(synthetic.SynthSpecError, match="sensor_response"):
        synthetic.SynthSpec(sensor_response=(1.0, 0.0, 1.0))


def test_a_colour_catalogue_makes_solar_type_stars_white_whatever_the_field_s_star_mix(tmp_path):
    """A field of mostly red stars (mean B-V 1.1): the average star is red, so the average-star reference leaves
    the sensor cast plus the field's redness; with the catalogue (positions, B-V) the solar-type stars are the
    reference and the factors are the sensor's inverse within 3 %."""
    from astropy.wcs import WCS

    rng = np.random.default_rng(9)
    h = w = 460
    n = 300
    bv = np.clip(rng.normal(1.1, 0.35, n), -0.2, 2.0)
    colours = bv_to_rgb_ratio(bv)  # R/G, 1, B/G of each star's black body, 5800 K white
    response = np.asarray(synthetic.SENSOR_S50)
    image = 500.0 + rng.normal(0.0, 3.0, (h, w, 3))
    ys, xs = rng.uniform(20, h - 20, n), rng.uniform(20, w - 20, n)
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(n):
        win = (slice(int(ys[k]) - 8, int(ys[k]) + 9), slice(int(xs[k]) - 8, int(xs[k]) + 9))
        psf = np.exp(-((yy[win] - ys[k]) ** 2 + (xx[win] - xs[k]) ** 2) / (2 * 1.3 ** 2)) / (2 * np.pi * 1.3 ** 2)
        image[win] += psf[..., None] * rng.uniform(4000, 40000) * colours[k] * response
    image = image.astype(np.float32)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.crval, wcs.wcs.crpix = ["RA---TAN", "DEC--TAN"], [50.0, 10.0], [230.0, 230.0]
    wcs.wcs.cd = np.diag([-2.0 / 3600.0, 2.0 / 3600.0])
    ra, dec = wcs.pixel_to_world_values(xs, ys)
    path = tmp_path / "colours.csv"
    path.write_text("ra,dec,bv\n" + "".join(f"{a:.9f},{d:.9f},{b:.4f}\n" for a, d, b in zip(ra, dec, bv, strict=True)))
    covered = np.ones((h, w), bool)
    average = colour.calibrate_star_colours(image, covered)
    solar = colour.calibrate_star_colours(image, covered, wcs=wcs, catalogue=colour.read_colour_catalogue(path))
    print(average.as_dict(), solar.as_dict(), sep="\n")
    expected = 1.0 / response
    assert solar.reference.startswith("solar-type") and solar.n_stars >= 10
    np.testing.assert_allclose(solar.factors, expected, rtol=0.03)
    assert abs(np.log(average.factors[2] / expected[2])) > 3 * abs(np.log(solar.factors[2] / expected[2]))
    with pytest.raises(ValueError, match="colours_bad.csv"):
        (tmp_path / "colours_bad.csv").write_text("ra,dec\n1,2\n")
        colour.read_colour_catalogue(tmp_path / "colours_bad.csv")


@pytest.mark.slow
def test_the_pipeline_keeps_white_stars_white_the_default_generator_against_truth(tmp_path):
    """Issue 27: the default generator's stars (no sensor response) measured 3 % R-high (G/R 0.969) by the
    calibration on the small 2x2 set.  Against the truth, star by star, on the demo's frames without the sensor
    (~900 stars): the mosaic's colours are the truth's within 1 % (measured 1.004 and 1.001): no debayer, aperture
    or photometry bias; what the small set showed is mostly its ~100 stars' own average colour (the white
    reference is the average star) and ~1 % of noise.  The calibration then changes nothing."""
    import dataclasses

    from astropy.wcs import WCS
    from scipy.spatial import cKDTree

    from zemosaic import cli
    from zemosaic.synthetic.demo import demo_spec

    synthetic.generate_dataset(tmp_path / "in", dataclasses.replace(demo_spec(1), sensor_response=None))
    assert cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--set", "colour_calibration=none",
                     "--set", "write_preview=false"]) == 0
    with fits.open(tmp_path / "out" / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data, 0, -1).astype(np.float32)
        wcs = WCS(hdul[0].header).celestial
    covered = np.all(np.isfinite(data), axis=2)
    stars = colour.measure_star_colours(data, covered)
    catalogue = Table.read(tmp_path / "in" / "truth" / "catalogue.csv")
    x, y = wcs.all_world2pix(np.asarray(catalogue["ra"]), np.asarray(catalogue["dec"]), 0)
    distance, index = cKDTree(np.column_stack([x, y])).query(np.column_stack([stars.x, stars.y]))
    near = distance < 1.5
    truth = np.stack([np.asarray(catalogue[k])[index[near]] for k in ("flux_r", "flux_g", "flux_b")], axis=1)
    measured = stars.flux[near]
    ratio = np.exp(np.median(np.log((measured[:, 1:2] / measured) / (truth[:, 1:2] / truth)), axis=0))
    print(f"{near.sum()} of {near.size} stars matched; mosaic / truth G/R {ratio[0]:.4f}, G/B {ratio[2]:.4f}")
    assert near.sum() >= 500 and near.mean() > 0.95
    np.testing.assert_allclose(ratio[[0, 2]], 1.0, atol=0.01)
    assert not colour.calibrate_star_colours(data, covered).applied


def test_the_luminance_pass_is_numpys_sum_where_every_channel_is_finite_and_covered():
    """The one-pass luminance of the star finder gives numpy's values bit for bit: the float32 channel sum where
    the pixel is covered and finite in every channel, NaN elsewhere (overflow to inf and signed zeros as numpy)."""
    rng = np.random.default_rng(5)
    data = (rng.lognormal(5, 3, (201, 157, 3)) * rng.choice([-1, 1], (201, 157, 3))).astype(np.float32)
    data[rng.random(data.shape) < 0.05] = np.nan
    data[rng.random(data.shape) < 0.01] = np.inf
    data[rng.random(data.shape) < 0.01] = -0.0
    covered = rng.random(data.shape[:2]) < 0.9
    data[7, 9], covered[7, 9] = 3e38, True                                         # the float32 sum overflows
    good, lum = np.empty(covered.shape, bool), np.empty(covered.shape, np.float32)
    with np.errstate(over="ignore"):
        colour._nb_luminance_rows(0, covered.shape[0], data, covered, good, lum)
        want_good = covered & np.all(np.isfinite(data), axis=2)
        want = np.where(want_good, np.nan_to_num(data, nan=0.0).sum(axis=2, dtype=np.float32), np.float32(np.nan))
    assert np.array_equal(good, want_good) and np.array_equal(lum, want, equal_nan=True)
    assert np.array_equal(np.signbit(lum), np.signbit(want)) and np.isinf(lum).any()
