"""The reference seam estimator (zemosaic.mosaic.seams, ``estimator="reference"``) against known truth: a seamless
mosaic reads 0, a mosaic with a step of k sigma put in on purpose reads k, each within a stated tolerance.  (The
median estimator, the default, reads 0.15-0.22 sigma on the same seamless mosaic: printed, not asserted.)

Three tiles in a row, each overlapping its neighbours by 30 % (never two others at once), are rendered from one
analytic sky (level, gradient, a wave, 900 Gaussian stars) through their own rotated TAN WCS, with independent white
noise of ``NOISE`` ADU and equal frame counts, so that the co-addition of two tiles gives each half of the weight.
The middle tile offset by ``2 k NOISE`` then makes a step of ``k NOISE`` at each of the four edges that lie inside
another tile (inside: the mean of the two tiles; outside: the other tile alone).
"""
from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs.utils import pixel_to_pixel

from zemosaic import mosaic as ma
from zemosaic.io import fits as fits_io
from zemosaic.solve.refine import tan_wcs

SCALE_DEG = 2.4 / 3600.0
RA0, DEC0 = 150.0, 30.0
TILE_H, TILE_W = 480, 320
NOISE = 5.0
_LAYOUT = [(-0.7, 0.0, 0.0), (0.0, 0.0, 3.0), (0.7, 0.0, -2.0)]
TOL_ZERO = 0.06  # sigma: a seamless mosaic's worst step over the 12 (seam, channel) cases stays below this
TOL_STEP = 0.05  # sigma: an injected step is read within this (the per-seam standard error is ~0.015)


def _tan(ra, dec, rot_deg, shape):
    h, w = shape
    t = np.deg2rad(rot_deg)
    cd = SCALE_DEG * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    return tan_wcs((ra, dec), (w / 2 - 0.5, h / 2 - 0.5), cd, shape)


def _render(truth_wcs, stars, wcs, shape):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    tx, ty = pixel_to_pixel(wcs, truth_wcs, xx, yy)
    img = 1000.0 + 0.05 * tx - 0.03 * ty + 15.0 * np.sin(tx / 70.0) * np.cos(ty / 50.0)
    for sx, sy, amp in stars:
        d2 = (tx - sx) ** 2 + (ty - sy) ** 2
        near = d2 < 100.0
        img[near] += amp * np.exp(-0.5 * d2[near] / 1.5 ** 2)
    return img


@pytest.fixture(scope="module")
def seam_tiles(tmp_path_factory):
    rng = np.random.default_rng(26)
    truth_wcs = _tan(RA0, DEC0, 0.0, (TILE_H + 40, 3 * TILE_W))
    stars = np.column_stack([rng.uniform(0, 3 * TILE_W, 900), rng.uniform(0, TILE_H + 40, 900),
                             rng.pareto(1.5, 900) * 60 + 20])
    folder = tmp_path_factory.mktemp("seam_tiles")
    alpha = np.zeros((TILE_H, TILE_W), np.float32)
    alpha[6:-6, 6:-6] = 1.0
    for k, (fx, fy, rot) in enumerate(_LAYOUT):
        wcs = _tan(RA0 - fx * TILE_W * SCALE_DEG / np.cos(np.deg2rad(DEC0)), DEC0 + fy * TILE_H * SCALE_DEG, rot,
                   (TILE_H, TILE_W))
        img = _render(truth_wcs, stars, wcs, (TILE_H, TILE_W))
        rgb = np.stack([img, 0.8 * img, 0.6 * img], axis=2) + rng.normal(0.0, NOISE, (TILE_H, TILE_W, 3))
        fits_io.write_fits_image(folder / f"master_tile_{k:03d}.fits", rgb.astype(np.float32), wcs=wcs,
                                 header_extra={"NFRAMES": 10}, extensions={"ALPHA": alpha, "COVERAGE": alpha * 10})
    tiles, rejected = ma.discover_master_tiles(folder)
    assert not rejected
    return tiles, ma.compute_global_grid(tiles)


class _Linear:
    def __init__(self, gain, offset):
        self.gain, self.offset = gain, offset

    def apply(self, values, x, y):
        return self.gain * values + self.offset


def _mosaic(seam_tiles, corrections=None, method="lanczos3"):
    tiles, grid = seam_tiles
    return ma.assemble_mosaic(tiles, grid, corrections=corrections, method=method).data


@pytest.mark.parametrize("method", ["interp", "lanczos3"])
def test_a_seamless_mosaic_reads_zero(seam_tiles, method):
    tiles, grid = seam_tiles
    data = _mosaic(seam_tiles, method=method)
    new = ma.seam_step_sigma(data, tiles, grid, noise_sigma=NOISE, estimator="reference", method=method)
    old = ma.seam_step_sigma(data, tiles, grid, noise_sigma=NOISE)
    steps = ma.seam_steps(data, tiles, grid, estimator="reference", method=method)
    se = np.array([s.se for s in steps]) / NOISE
    z = np.array([abs(s.step) / s.se for s in steps])
    print(f"seamless ({method}): reference {new:.3f} sigma (se {np.median(se):.3f}), median estimator {old:.3f}")
    assert len(steps) == 12  # (0, 1), (1, 0), (1, 2), (2, 1) x 3 channels
    assert new < TOL_ZERO
    assert np.all(se < 0.04) and np.all(z < 4.0)  # the standard error is that of the scatter seen


@pytest.mark.parametrize("k", [0.15, 0.5])
def test_an_injected_step_reads_k_sigma(seam_tiles, k):
    tiles, grid = seam_tiles
    corrections = [_Linear(1.0, 0.0), _Linear(1.0, 2 * k * NOISE), _Linear(1.0, 0.0)]
    steps = ma.seam_steps(_mosaic(seam_tiles, corrections), tiles, grid, estimator="reference")
    sides = {(s.i, s.j, s.channel): s.step / NOISE for s in steps}
    print(f"step {k} sigma on tile 1: " + ", ".join(f"{key}: {v:+.3f}" for key, v in sorted(sides.items())))
    assert len(sides) == 12
    for (i, _, _), value in sides.items():
        expected = k if i == 1 else -k  # inside tile 1 minus outside, or inside the other minus tile 1
        assert value == pytest.approx(expected, abs=TOL_STEP)


def test_the_harmony_gain_is_fitted_not_read_as_a_seam(seam_tiles):
    """Every tile x 1.2 + 30 (what a harmony gain does to the tiles against their files): no seam; the reference
    difference is scaled by the fitted gain, else the stars would leave 20 % of themselves in it."""
    tiles, grid = seam_tiles
    data = _mosaic(seam_tiles, [_Linear(1.2, 30.0)] * 3)
    assert ma.seam_step_sigma(data, tiles, grid, noise_sigma=1.2 * NOISE, estimator="reference") < TOL_ZERO


def test_unknown_estimator_is_refused(seam_tiles):
    tiles, grid = seam_tiles
    with pytest.raises(ValueError, match="estimator"):
        ma.seam_steps(np.zeros(grid.shape), tiles, grid, estimator="mean")


def test_a_sky_surface_taken_off_the_mosaic_is_not_a_seam(seam_tiles):
    """A smooth surface subtracted from the mosaic only (what Phase 5.5 does, the tiles keep their light
    pollution): 0.3 ADU/px across, curved, so its gradient turns along the tiles' edges and corners. No seam."""
    tiles, grid = seam_tiles
    data = _mosaic(seam_tiles)
    yy, xx = np.mgrid[0:grid.shape[0], 0:grid.shape[1]].astype(np.float64)
    surface = 0.3 * xx - 0.2 * yy + 2e-4 * (xx - 400.0) ** 2 - 1e-4 * (xx - 400.0) * (yy - 280.0)
    assert ma.seam_step_sigma(data - surface[..., None], tiles, grid, noise_sigma=NOISE,
                              estimator="reference") < TOL_ZERO
