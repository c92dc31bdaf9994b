"""Truth-based tests of star_photometry.py: star detection, aperture fluxes and the pairing of two catalogues."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from sky_scenes import NOISE, gaussian_nebula, pixel_grid
from zemosaic.mosaic import star_photometry as sp


def _star_grid_image(shape=(200, 260), sigma=1.5):
    """Sky gradient + wide nebula + 5 x 6 isolated Gaussian stars of known flux on a 40-px grid (H, W, 3)."""
    rr, cc = pixel_grid(shape)
    sky = 400.0 + 0.8 * cc - 0.5 * rr + gaussian_nebula(shape, centre=(100, 120), sigma=(150, 200), amplitude=600.0)
    rows, cols = np.meshgrid(np.arange(20, 200, 40), np.arange(20, 260, 42), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    flux = np.geomspace(4e3, 2e5, rows.size)
    flux[-1] = 5e5                                           # the one to saturate
    deltas = np.zeros(shape)
    deltas[rows, cols] = flux
    img = sky + gaussian_filter(deltas, sigma)
    rgb = img[:, :, None] * np.array([1.0, 0.8, 0.6]) + np.random.default_rng(8).normal(0, NOISE, shape + (3,))
    return rgb.astype(np.float32), rows, cols, flux


def test_measure_stars_fluxes_positions_and_guards():
    img, rows, cols, flux = _star_grid_image()
    valid = np.ones(img.shape[:2], dtype=bool)
    valid[:, 236:] = False                                   # the last star column's annuli leave the valid area
    img[:, :, 0] = np.minimum(img[:, :, 0], 20000.0)        # R saturates: only the brightest star reaches it
    st = sp.measure_stars(img, valid)
    assert st.n_stars == rows.size                           # no detection from the gradient or the nebula
    assert st.fwhm == pytest.approx(2.355 * 1.5, rel=0.1)
    order = np.lexsort((np.round(st.x), np.round(st.y)))
    x, y, f = st.x[order], st.y[order], st.flux[order]
    np.testing.assert_allclose(x, cols, atol=0.15)
    np.testing.assert_allclose(y, rows, atol=0.15)
    k = int(np.searchsorted(st.radii, 2.0 * st.fwhm))       # radius used for pairs (2 FWHM)
    inner = cols < 200
    true = flux[inner, None] * np.array([1.0, 0.8, 0.6])
    pull = (f[inner, k] - true) / st.noise[order][inner, k]  # sky-subtracted aperture flux = truth within noise
    assert np.all(np.abs(pull) < 4.5) and abs(np.median(pull)) < 1.0, pull  # measured: 3.9, 0.54 (the nebula's
    # curvature lifts the aperture above its annulus; the same in both tiles of a pair, so ratios do not mind)
    bright = flux[inner] > 1e5
    np.testing.assert_allclose(f[inner, k][bright], true[bright], rtol=0.01)
    assert np.all(np.isnan(f[cols > 230, -1]))               # annulus touches invalid pixels
    assert np.all(np.isnan(f[-1, :, 0]))                      # saturated (peak >= 90 % of the channel maximum)
    assert np.all(np.isfinite(f[-2, k]))                      # the next brightest (62 % of it) is kept
    assert sp.measure_stars(np.full((64, 64), 5.0, np.float32)).n_stars == 0


def test_match_star_samples_pairs_shared_stars():
    img, rows, cols, flux = _star_grid_image()
    a = sp.measure_stars(img[:, :150])
    b = sp.measure_stars(1.2 * img[:, 60:] + 50.0)           # another gain and level, shifted by 60 px
    b = sp.StarFluxes(b.x + 60.0, b.y, b.flux, b.noise, b.radii, b.fwhm)
    s = sp.match_star_samples(a, b)
    shared = np.sum((cols > 60 + 12) & (cols < 150 - 12))    # both apertures and annuli inside both windows
    assert len(s.x) >= shared - 1 and len(s.x) <= np.sum((cols > 60) & (cols < 150))
    np.testing.assert_allclose(np.nanmedian(s.flux_j / s.flux_i, axis=0), 1.2, rtol=0.01)
    assert s.radius >= 2.0 * max(a.fwhm, b.fwhm) and np.all(s.err[np.isfinite(s.err)] < 0.15)  # SNR >= 10
    moved = sp.StarFluxes(b.x + 5.0, b.y, b.flux, b.noise, b.radii, b.fwhm)
    assert len(sp.match_star_samples(a, moved).x) == 0      # nothing within the pairing tolerance
