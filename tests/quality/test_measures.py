"""Frame-quality measures against stars of known shape, flux and sky (zemosaic.quality.measures)."""
import math

import numpy as np
import pytest

from zemosaic.align.stars import detect_stars_with_sky
from zemosaic.quality.group import relate_to_reference
from zemosaic.quality.measures import measure_frame, measure_stars


def _gauss_field(shape=(600, 400), n=150, sigma_x=1.5, sigma_y=1.5, angle_deg=0.0, scale=1.0, sky=400.0,
                 noise=True, seed=0, slope=(0.0, 0.0), shift=(0.0, 0.0)):
    """Gaussian stars (same positions for a seed), flux x ``scale``, plane sky, Poisson-like noise."""
    rng = np.random.default_rng(seed)
    h, w = shape
    x = rng.uniform(20, w - 20, n) + shift[0]
    y = rng.uniform(20, h - 20, n) + shift[1]
    flux = 3000.0 * (1 + rng.pareto(1.5, n))
    img = np.zeros(shape, np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    for xi, yi, fi in zip(x, y, flux, strict=True):
        y0, y1, x0, x1 = int(yi) - 15, int(yi) + 16, int(xi) - 15, int(xi) + 16
        if y0 < 0 or x0 < 0 or y1 > h or x1 > w:
            continue
        dx, dy = xx[y0:y1, x0:x1] - xi, yy[y0:y1, x0:x1] - yi
        u, v = c * dx + s * dy, -s * dx + c * dy
        img[y0:y1, x0:x1] += scale * fi / (2 * math.pi * sigma_x * sigma_y) * np.exp(
            -0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    img += sky + slope[0] * xx + slope[1] * yy
    if noise:
        img += rng.standard_normal(shape) * np.sqrt(img)
    return img.astype(np.float32)


@pytest.mark.parametrize("fwhm", [2.5, 4.0, 6.5])
def test_fwhm_of_gaussian_stars_within_3_percent(fwhm):
    sigma = fwhm / 2.3548
    q = measure_frame(detect_stars_with_sky(_gauss_field(sigma_x=sigma, sigma_y=sigma), 3.0, 5))
    assert q.fwhm_px == pytest.approx(fwhm, rel=0.03)
    assert q.elongation < 0.03


def test_elongation_and_its_angle():
    q = measure_frame(detect_stars_with_sky(_gauss_field(sigma_x=2.0, sigma_y=1.2, angle_deg=30.0), 3.0, 5))
    assert q.elongation == pytest.approx(1 - 1.2 / 2.0, abs=0.03)
    assert q.elongation_angle_deg == pytest.approx(30.0, abs=3.0)


def test_sky_level_gradient_and_noise():
    img = _gauss_field(sky=500.0, slope=(0.2, 0.0))
    q = measure_frame(detect_stars_with_sky(img, 3.0, 5))
    h, w = img.shape
    assert q.sky_level == pytest.approx(500.0 + 0.2 * (w - 1) / 2, rel=0.02)
    assert q.sky_gradient == pytest.approx(0.2 * (w - 1), rel=0.1)
    assert q.sky_gradient_angle_deg == pytest.approx(0.0, abs=5.0) or q.sky_gradient_angle_deg > 355
    assert q.noise == pytest.approx(math.sqrt(q.sky_level), rel=0.1)


def test_binned_measures_are_given_in_full_resolution_pixels():
    sigma = 5.0 / 2.3548
    img = _gauss_field(shape=(800, 600), sigma_x=sigma, sigma_y=sigma)
    binned = img.reshape(400, 2, 300, 2).sum(axis=(1, 3))
    q = measure_frame(detect_stars_with_sky(binned, 3.0, 2), binning=2)
    assert q.fwhm_px == pytest.approx(5.0, rel=0.06)
    assert q.sky_level == pytest.approx(400.0, rel=0.02)


@pytest.mark.parametrize("transparency", [0.9, 0.4, 0.15])
def test_transparency_is_the_flux_ratio_of_matched_stars(transparency):
    ref = measure_stars(detect_stars_with_sky(_gauss_field(seed=3), 3.0, 5))
    frame_img = _gauss_field(seed=3, scale=transparency, shift=(3.0, -2.0))
    frame = measure_stars(detect_stars_with_sky(frame_img, 3.0, 5))
    matrix = np.array([[1.0, 0, -3.0], [0, 1.0, 2.0], [0, 0, 1]])  # frame -> reference
    t, n, grid = relate_to_reference(frame, ref, matrix, frame_img.shape, 128)
    assert t == pytest.approx(transparency, abs=0.02)
    assert n >= 20
    values = [v for row in grid for v in row if v is not None]
    # locally, a star the frame lost votes 0: at 15 % many are lost, and the cells read lower still
    assert values and np.median(values) == pytest.approx(transparency, abs=0.15 if transparency < 0.2 else 0.04)


def test_defocused_stars_keep_their_flux():
    ref = measure_stars(detect_stars_with_sky(_gauss_field(seed=4), 3.0, 5))
    soft = _gauss_field(seed=4, sigma_x=2.6, sigma_y=2.6)
    frame = measure_stars(detect_stars_with_sky(soft, 3.0, 5))
    t, _, _ = relate_to_reference(frame, ref, np.eye(3), soft.shape, 128)
    assert t == pytest.approx(1.0, abs=0.05)


def test_a_satellite_trail_does_not_make_the_stars_elongated():
    img = _gauss_field(seed=5)
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w]
    img += (800.0 * np.exp(-0.5 * ((xx * 0.6 - yy * 0.8 + 100.0) / 1.0) ** 2)).astype(np.float32)
    q = measure_frame(detect_stars_with_sky(img, 3.0, 5))
    assert q.elongation < 0.05
    assert q.fwhm_px == pytest.approx(1.5 * 2.3548, rel=0.05)
