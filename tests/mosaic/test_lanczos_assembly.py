"""Phase 5 keeps star profiles and weighs each tile pixel by the frames under it (issue 26 items 4 and 2).

A tile of Gaussian stars (FWHM 2.2 px, the Seestar's undersampled case) is co-added onto a grid rotated by 7 deg and
moved by a fraction of a pixel, so every star lands at another sub-pixel phase: the mosaic's fitted FWHM is compared
with the tile's, and the aperture fluxes with the tile's.  Tiles with garbage under alpha 0 and NaN pixels show
that nothing of weight 0 reaches the mosaic through the 6 x 6 taps.  Two constant tiles of known COVERAGE show the
per-pixel frame weighting.
"""
from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs import WCS
from astropy.wcs.utils import pixel_to_pixel

from measure import aperture_flux, gaussian_fwhm
from zemosaic import mosaic as ma
from zemosaic.io import fits as fits_io

SCALE_DEG = 2.4 / 3600.0
FWHM = 2.2
SHAPE = (180, 200)


def _tan(dx, dy, rot_deg, shape=SHAPE, ra=150.0, dec=30.0):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [shape[1] / 2 + 0.5 + dx, shape[0] / 2 + 0.5 + dy]
    t = np.deg2rad(rot_deg)
    wcs.wcs.cd = SCALE_DEG * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    wcs.wcs.set()
    return wcs


def _star_tile(seed=3, n=30):
    """Sky 100 + ``n`` Gaussian stars on a 12 px lattice jittered by +-2 px (isolated), and their positions."""
    rng = np.random.default_rng(seed)
    gy, gx = np.mgrid[25:SHAPE[0] - 25:16, 25:SHAPE[1] - 25:16]
    pick = rng.choice(gx.size, n, replace=False)
    x = gx.ravel()[pick] + rng.uniform(-2, 2, n)
    y = gy.ravel()[pick] + rng.uniform(-2, 2, n)
    amp = rng.uniform(500, 3000, n)
    yy, xx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype(float)
    img = np.full(SHAPE, 100.0)
    sig = FWHM / 2.3548
    for xi, yi, a in zip(x, y, amp, strict=True):
        img += a * np.exp(-0.5 * ((xx - xi) ** 2 + (yy - yi) ** 2) / sig**2)
    return img.astype(np.float32), x, y


@pytest.fixture(scope="module")
def star_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stars")
    img, x, y = _star_tile()
    tile_wcs = _tan(0.0, 0.0, 0.0)
    fits_io.write_fits_image(folder / "t.fits", img, wcs=tile_wcs, header_extra={"NFRAMES": 4})
    tiles, _ = ma.discover_master_tiles(folder)
    grid = ma.GlobalGrid(_tan(0.37, 0.61, 7.0, (SHAPE[0] + 30, SHAPE[1] + 30)), (SHAPE[0] + 30, SHAPE[1] + 30))
    gx, gy = pixel_to_pixel(tile_wcs, grid.wcs, x, y)
    return img, (x, y), tiles, grid, (gx, gy)


def test_lanczos_keeps_star_fwhm_within_2_percent_where_bilinear_widens_it(star_case):
    img, (x, y), tiles, grid, (gx, gy) = star_case
    f_tile = np.nanmedian(gaussian_fwhm(img, x, y))
    lanczos = ma.assemble_mosaic(tiles, grid, method="lanczos3")
    bilinear = ma.assemble_mosaic(tiles, grid, method="interp")
    f_l = np.nanmedian(gaussian_fwhm(lanczos.data, gx, gy))
    f_b = np.nanmedian(gaussian_fwhm(bilinear.data, gx, gy))
    print(f"median star FWHM: tile {f_tile:.3f} px, mosaic Lanczos-3 {f_l:.3f} ({f_l / f_tile - 1:+.1%}), "
          f"bilinear {f_b:.3f} ({f_b / f_tile - 1:+.1%})")
    assert abs(f_tile - FWHM) < 0.02
    assert abs(f_l / f_tile - 1) < 0.02
    assert f_b / f_tile - 1 > 0.04  # what the bilinear kernel did (the case can tell them apart)


def test_lanczos_conserves_star_flux_and_the_sky(star_case):
    img, (x, y), tiles, grid, (gx, gy) = star_case
    res = ma.assemble_mosaic(tiles, grid, method="lanczos3")
    ratio = aperture_flux(res.data, gx, gy) / aperture_flux(img, x, y)
    ok = np.isfinite(ratio)
    print(f"aperture flux mosaic / tile: {ok.sum()} stars, median {np.median(ratio[ok]):.5f}, "
          f"worst {np.abs(ratio[ok] - 1).max():.5f}")
    assert ok.sum() >= 20
    assert np.abs(ratio[ok] - 1).max() < 0.005
    # star-free sky: the constant 100 (normalised weights: a constant is reproduced exactly)
    yy, xx = np.mgrid[0:grid.shape[0], 0:grid.shape[1]]
    far = np.min(np.hypot(xx[..., None] - gx, yy[..., None] - gy), axis=-1) > 8
    sky = res.data[far & (res.weight > 0)]
    assert sky.size > 5000 and np.abs(sky - 100.0).max() < 1e-3


def test_lanczos_never_leaks_a_weight_zero_pixel(tmp_path):
    """A constant 100 tile with +-1e6 garbage under alpha 0 (a border band and an inner patch), NaN pixels and a
    feathered alpha: every mosaic pixel reads 100, and only pixels the tile's weight reaches have weight."""
    h, w = 80, 90
    data = np.full((h, w), 100.0, np.float32)
    alpha = np.ones((h, w), np.float32)
    alpha[:, :8] = 0.0
    data[:, :8] = 1e6
    alpha[30:34, 40:44] = 0.0
    data[30:34, 40:44] = -1e6
    data[50, 20] = np.nan
    data[60:62, 60:70] = np.nan
    alpha[:, 8:20] = np.linspace(0.05, 1.0, 12)[None, :]  # a feather right next to the garbage
    fits_io.write_fits_image(tmp_path / "t.fits", data, wcs=_tan(0, 0, 0, (h, w)), header_extra={"NFRAMES": 2},
                             extensions={"ALPHA": alpha, "COVERAGE": np.full((h, w), 2.0, np.float32)})
    tiles, _ = ma.discover_master_tiles(tmp_path)
    grid = ma.GlobalGrid(_tan(0.3, 0.45, 11.0, (h + 20, w + 20)), (h + 20, w + 20))
    res = ma.assemble_mosaic(tiles, grid, method="lanczos3")
    covered = res.weight > 0
    assert covered.sum() > 0.6 * h * w
    np.testing.assert_allclose(res.data[covered], 100.0, rtol=0, atol=1e-3)
    assert np.isnan(res.data[~covered]).all()
    # the weight is the bilinear weight: the same footprint as the bilinear kernel's
    np.testing.assert_array_equal(covered, ma.assemble_mosaic(tiles, grid, method="interp").weight > 0)


def _constant_tile(path, value, wcs, shape, coverage=None, n_frames=None):
    extensions = {"ALPHA": np.ones(shape, np.float32)}
    if coverage is not None:
        extensions["COVERAGE"] = coverage.astype(np.float32)
    extra = {} if n_frames is None else {"NFRAMES": n_frames}
    fits_io.write_fits_image(path, np.full(shape, value, np.float32), wcs=wcs, header_extra=extra,
                             extensions=extensions)


def test_overlap_weights_follow_each_tiles_coverage(tmp_path):
    """Tile A (100, 8 frames) over B (200, 8 frames): where A's pixels hold 2 frames and B's 6, the mosaic is
    (2 x 100 + 6 x 200) / 8; where both hold 8, the plain mean; a tile without COVERAGE weighs NFRAMES."""
    shape = (60, 80)
    wa = _tan(0, 0, 0, shape)
    wb = _tan(-40, 0, 0, shape)  # B's pixel (x) is A's (x + 40)
    cov_a = np.full(shape, 8.0)
    cov_a[:, 60:] = 2.0  # A's east border: 2 frames
    cov_b = np.full(shape, 8.0)
    cov_b[:, 20:40] = 6.0  # under A's east border
    _constant_tile(tmp_path / "a.fits", 100.0, wa, shape, cov_a, 8)
    _constant_tile(tmp_path / "b.fits", 200.0, wb, shape, cov_b, 8)
    tiles, _ = ma.discover_master_tiles(tmp_path)
    grid = ma.compute_global_grid(tiles)
    res = ma.assemble_mosaic(tiles, grid, method="interp", tile_weight="coverage")  # the weighting alone
    frames = ma.assemble_mosaic(tiles, grid, method="interp", tile_weight="frames")
    ax, ay = pixel_to_pixel(wa, grid.wcs, np.array([50.0, 70.0]), np.array([30.0, 30.0]))
    both8 = res.data[int(round(ay[0])), int(round(ax[0]))]
    border = res.data[int(round(ay[1])), int(round(ax[1]))]
    print(f"overlap: both 8 frames {both8:.2f}, A 2 frames / B 6 frames {border:.2f}; "
          f"frames weighting there {frames.data[int(round(ay[1])), int(round(ax[1]))]:.2f}")
    assert both8 == pytest.approx(150.0, abs=1e-3)
    assert border == pytest.approx((2 * 100.0 + 6 * 200.0) / 8, abs=1e-3)
    assert res.weight[int(round(ay[1])), int(round(ax[1]))] == pytest.approx(8.0, abs=1e-4)
    assert frames.data[int(round(ay[1])), int(round(ax[1]))] == pytest.approx(150.0, abs=1e-3)
    # a tile without COVERAGE: weight ALPHA x NFRAMES
    (tmp_path / "b.fits").unlink()
    _constant_tile(tmp_path / "b.fits", 200.0, wb, shape, None, 24)
    tiles, _ = ma.discover_master_tiles(tmp_path)
    res = ma.assemble_mosaic(tiles, grid, method="interp", tile_weight="coverage")
    assert res.data[int(round(ay[0])), int(round(ax[0]))] == pytest.approx((8 * 100.0 + 24 * 200.0) / 32, abs=1e-3)


def test_the_colour_tile_kernel_is_the_generic_one_bit_for_bit():
    """Colour tiles (four premultiplied planes) go through a kernel that keeps its sums in scalars: its output is the
    generic kernel's, bit for bit, with weight-0 holes (Lanczos falls back to bilinear there), an undefined node and
    positions beyond the tile's edges."""
    from zemosaic.mosaic import resample

    rng = np.random.default_rng(0)
    h, w = 260, 330
    weight = np.clip(rng.normal(1.0, 0.3, (h, w)), 0, None).astype(np.float32)
    weight[:12], weight[100:110, 150:170] = 0.0, 0.0
    weight[rng.random((h, w)) < 0.002] = 0.0
    values = rng.normal(500.0, 50.0, (h, w, 3)).astype(np.float32)
    src = np.concatenate([values * weight[..., None], weight[..., None]], axis=2).astype(np.float32)
    gy, gx = np.mgrid[0:10, 0:13] * 32.0
    angle = np.deg2rad(2.5)
    node_x, node_y = np.cos(angle) * gx - np.sin(angle) * gy - 7.3, np.sin(angle) * gx + np.cos(angle) * gy - 9.6
    node_x[3, 4] = np.nan
    generic, colour = np.empty((288, 384, 4), np.float32), np.empty((288, 384, 4), np.float32)
    resample._lanczos3_kernel(0, 288, src, node_x, node_y, 32.0, generic, resample._LANCZOS3_LUT)
    resample._lanczos3_rgbw_kernel(0, 288, src, node_x, node_y, 32.0, colour, resample._LANCZOS3_LUT)
    assert np.array_equal(generic, colour)
    assert (generic[..., 3] == 0).any() and (generic[..., 3] > 0).mean() > 0.5
