"""Synthetic sky scenes shared by the truth-based tests of background, star_photometry and tile_harmony."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

NOISE = 10.0           # per-pixel Gaussian noise of every synthetic image (ADU)
SKY = np.array([400.0, 450.0, 380.0])
NEB_COLOUR = np.array([1.0, 0.55, 0.8])


def pixel_grid(shape):
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    return rr, cc


def gaussian_nebula(shape, *, centre, sigma, amplitude):
    """A 2D Gaussian nebula (H, W); sigma in pixels (row, col)."""
    rr, cc = pixel_grid(shape)
    d2 = ((rr - centre[0]) / sigma[0]) ** 2 + ((cc - centre[1]) / sigma[1]) ** 2
    return amplitude * np.exp(-0.5 * d2)


def star_field(shape, rng, n_stars, star_sigma):
    """Star image (H, W) and the star positions/fluxes (same stars for every call with the same rng seed)."""
    deltas = np.zeros(shape)
    rows = rng.integers(4, shape[0] - 4, n_stars)
    cols = rng.integers(4, shape[1] - 4, n_stars)
    flux = 3000.0 * rng.pareto(1.5, n_stars) + 300.0
    np.add.at(deltas, (rows, cols), flux)
    return gaussian_filter(deltas, star_sigma), (rows, cols, flux)


def observe(truth, gain, background, seed, noise=NOISE):
    rng = np.random.default_rng(seed)
    img = np.asarray(gain) * truth + background + rng.normal(0.0, noise, truth.shape)
    return img.astype(np.float32)


def tile_with_coverage_ring(h=120, w=160, seed=0):
    """A sky tile (H x W x 3) and a coverage map that is 10 inside and 1 on a 12 px border ring."""
    rng = np.random.default_rng(seed)
    img = (100.0 + rng.normal(0, 1.0, (h, w, 3))).astype(np.float32)
    cov = np.full((h, w), 10.0, np.float32)
    cov[:12, :] = cov[-12:, :] = cov[:, :12] = cov[:, -12:] = 1.0
    return img, cov


def nebula_floor_sky(gx, gy):
    """A nebula over the whole field whose floor rises to the right (+0.03 ADU/px), with structure: the common sky
    of the motion-sky tests, at global pixel coordinates."""
    return (0.03 * gx + 60.0 * np.exp(-0.5 * (((gx - 300) / 150) ** 2 + ((gy - 350) / 200) ** 2))
            + 8.0 * (1.0 + np.sin(gx / 60.0) * np.cos(gy / 80.0)))


FRAME_W, FRAME_H, CELL = 240, 400, 20  # the motion-sky tests' frames and cells (pixels)


def frame_cell_centres():
    """x, y of the cells' centres of one frame (raveled), in its own pixels."""
    xs, ys = np.meshgrid(np.arange(CELL / 2, FRAME_W, CELL), np.arange(CELL / 2, FRAME_H, CELL))
    return xs.ravel(), ys.ravel()


def frame_cells_on_sky(x, y, *, group: int, t: float, rotation_deg: float, rng):
    """Global pixel positions of a frame's cells: the frame of panel ``group`` (centres 170 px apart along x and
    60 px up every other panel) turned by ``rotation_deg * t`` (``t`` in [0, 1] through the night) and dithered by
    up to 4 px (one draw of ``rng``)."""
    centre = np.array([150.0 + 170.0 * group, 300.0 + 60.0 * (group % 2)])
    a = np.radians(rotation_deg * t)
    d = rng.uniform(-4, 4, 2)
    gx = centre[0] + d[0] + np.cos(a) * (x - FRAME_W / 2) - np.sin(a) * (y - FRAME_H / 2)
    gy = centre[1] + d[1] + np.sin(a) * (x - FRAME_W / 2) + np.cos(a) * (y - FRAME_H / 2)
    return gx, gy


def motion_sky_error(model):
    """Plane (ADU per px along x, y) and non-planar 98-2 % span of a fitted motion sky minus
    :func:`nebula_floor_sky`."""
    ny, nx = model.nodes.shape[:2]
    gx, gy = np.meshgrid(model.origin[0] + np.arange(nx) * model.step, model.origin[1] + np.arange(ny) * model.step)
    d = model.nodes[..., 0] - nebula_floor_sky(gx, gy)
    ok = np.isfinite(d)
    design = np.column_stack([np.ones(ok.sum()), gx[ok], gy[ok]])
    coef = np.linalg.lstsq(design, d[ok], rcond=None)[0]
    rest = d[ok] - design @ coef
    return coef[1:], float(np.percentile(rest, 98) - np.percentile(rest, 2))
