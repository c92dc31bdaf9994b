"""Seam measurement on a finished mosaic: the step of the mosaic across each tile edge that lies inside a
neighbouring tile (:func:`seam_steps`), and the worst one in units of the background noise
(:func:`seam_step_sigma`).  A check of the harmony and the co-addition, used by the tests and benchmarks.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from zemosaic._stats import diff_noise_sigma
from zemosaic.mosaic.coadd import MosaicResult
from zemosaic.mosaic.grid import GlobalGrid
from zemosaic.mosaic.resample import footprint_window, reproject_planes
from zemosaic.mosaic.tiles import KEEP_ALPHA, TileInput, read_tile

__all__ = [
    "SeamStep",
    "seam_steps",
    "seam_step_sigma",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeamStep:
    """Median step of the mosaic across the edge of tile ``i`` where tile ``j`` continues it, in data units
    (inside ``i`` minus outside, channel ``channel``), measured on ``n_pairs`` mirrored pixel pairs."""

    i: int
    j: int
    channel: int
    step: float
    n_pairs: int


def seam_steps(mosaic, tiles: Sequence[TileInput], grid: GlobalGrid, *, band: int = 6,
               min_pairs: int = 200) -> list[SeamStep]:
    """Measure the step of the mosaic across each tile edge that lies inside a neighbouring tile.

    For tile ``i``, its kept area on the grid (reprojected alpha > 0.5, finite data) is computed; every kept pixel
    ``p`` within ``band`` px of the area's edge is paired with its mirror ``q`` across the edge (reflection through
    the nearest outside pixel, from a Euclidean distance transform).  Pairs whose ``q`` lies in tile ``j``'s kept area
    give the seam ``(i, j)``.  Per depth ``d`` (1..band px from the edge) the median of ``M(p) - M(q)`` is taken (the
    median ignores stars); a sky gradient adds ``2 d x slope`` to it, so the step is the intercept at ``d = 0`` of a
    straight line fitted to these medians.  Reads every tile once (the alpha decides the kept area).

    Parameters
    ----------
    mosaic : MosaicResult or numpy.ndarray
        The mosaic data (``H x W`` or ``H x W x C``) on ``grid``.
    tiles : sequence of TileInput
    grid : GlobalGrid
    band : int
        Depth in px of the edge band on each side.
    min_pairs : int
        Seams with fewer pairs are not reported.

    Returns
    -------
    list of SeamStep
    """
    data = _mosaic_array(mosaic)
    kept = [_kept_window(t, grid, margin=band + 2) for t in tiles]
    steps = []
    for i in range(len(kept)):
        steps += _tile_seam_steps(data, kept, i, band, grid.shape, min_pairs)
    return steps


def seam_step_sigma(mosaic, tiles: Sequence[TileInput], grid: GlobalGrid, *, noise_sigma=None,
                    band: int = 6) -> float:
    """Worst seam step between tiles, in units of the background noise.

    Parameters
    ----------
    mosaic : MosaicResult or numpy.ndarray
        The mosaic data (``H x W`` or ``H x W x C``) on ``grid``.
    tiles : sequence of TileInput
    grid : GlobalGrid
    noise_sigma : float or sequence of float, optional
        Background noise per pixel (one value or one per channel).  Default: estimated from the mosaic as the
        robust (MAD) scatter of differences between pixels 3 columns apart, divided by sqrt(2) (3 columns so that
        the correlation introduced by the reprojection does not hide noise).
    band : int
        See :func:`seam_steps`.

    Returns
    -------
    float
        ``max |step| / sigma`` over seams and channels; NaN when no seam could be measured.
    """
    data = _mosaic_array(mosaic)
    sigma = _noise_per_channel(data, noise_sigma)
    steps = seam_steps(data, tiles, grid, band=band)
    if not steps:
        log.warning("seam_step_sigma: no seam between tiles could be measured")
        return float("nan")
    worst = max(abs(s.step) / sigma[s.channel] for s in steps)
    log.info("worst seam step: %.3f sigma over %d seams", worst, len(steps))
    return float(worst)


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _tile_seam_steps(data: np.ndarray, kept: list, i: int, band: int, grid_shape, min_pairs: int) -> list[SeamStep]:
    """The seam steps across the edge of tile ``i`` into every other tile (``kept``: ``(window, mask)`` per tile)."""
    win_i, mask_i = kept[i]
    if win_i is None:
        return []
    p, q, depth = _mirror_pairs(win_i, mask_i, band, grid_shape)
    inside_i = _mask_at(win_i, mask_i, q)
    steps = []
    for j, (win_j, mask_j) in enumerate(kept):
        if j == i or win_j is None:
            continue
        sel = _mask_at(win_j, mask_j, q) & ~inside_i
        if int(sel.sum()) < min_pairs:
            continue
        diff = data[p[0][sel], p[1][sel]] - data[q[0][sel], q[1][sel]]
        for c in range(diff.shape[1]):
            step, n = _edge_step(diff[:, c], depth[sel])
            if n >= min_pairs:
                steps.append(SeamStep(i, j, c, step, n))
    return steps


def _mosaic_array(mosaic) -> np.ndarray:
    data = mosaic.data if isinstance(mosaic, MosaicResult) else np.asarray(mosaic)
    return data if data.ndim == 3 else data[..., None]


def _kept_window(tile: TileInput, grid: GlobalGrid, margin: int):
    """``(window, kept)``: the tile's kept area (alpha > 0.5, finite) reprojected on its grid window."""
    pixels = read_tile(tile)
    kept, tile_wcs = pixels.kept().astype(np.float32), pixels.wcs
    del pixels
    window = footprint_window(tile_wcs, kept.shape, grid, margin=margin)
    if window is None:
        return None, None
    out = reproject_planes(kept[..., None], tile_wcs, grid, window, "interp")[..., 0]
    return window, out > KEEP_ALPHA


def _mirror_pairs(window, mask, band, grid_shape):
    """Global ``(rows, cols)`` of edge-band pixels ``p`` of ``mask`` and of their mirrors ``q`` across the edge."""
    padded = np.pad(mask, 1)
    dist, (iy, ix) = ndimage.distance_transform_edt(padded, return_indices=True)
    sel = (dist > 0) & (dist <= band)
    py, px = np.nonzero(sel)
    qy, qx = 2 * iy[sel] - py, 2 * ix[sel] - px
    off_y, off_x = window[0] - 1, window[2] - 1
    py, px, qy, qx = py + off_y, px + off_x, qy + off_y, qx + off_x
    ok = (qy >= 0) & (qy < grid_shape[0]) & (qx >= 0) & (qx < grid_shape[1])
    return (py[ok], px[ok]), (qy[ok], qx[ok]), dist[sel][ok]


def _edge_step(diff: np.ndarray, depth: np.ndarray) -> tuple[float, int]:
    """Intercept at depth 0 of the per-depth medians of ``diff`` (count-weighted line fit); ``(step, n_used)``.
    Depths below 2 px are left out: there the interpolation kernel straddles the edge and blurs the step."""
    ok = np.isfinite(diff) & (depth >= 1.9)
    diff, bins = diff[ok], np.rint(depth[ok]).astype(int)
    levels = np.unique(bins)
    if diff.size == 0:
        return float("nan"), 0
    if levels.size < 2:
        return float(np.median(diff)), int(diff.size)
    med = np.array([np.median(diff[bins == b]) for b in levels])
    counts = np.array([np.count_nonzero(bins == b) for b in levels], dtype=np.float64)
    slope, intercept = np.polyfit(levels.astype(np.float64), med, 1, w=np.sqrt(counts))
    return float(intercept), int(diff.size)


def _mask_at(window, mask, pts) -> np.ndarray:
    """``mask`` (on ``window``) sampled at global points; False outside the window."""
    ry, rx = pts[0] - window[0], pts[1] - window[2]
    inside = (ry >= 0) & (ry < mask.shape[0]) & (rx >= 0) & (rx < mask.shape[1])
    out = np.zeros(ry.shape, dtype=bool)
    out[inside] = mask[ry[inside], rx[inside]]
    return out


def _noise_per_channel(data: np.ndarray, noise_sigma) -> np.ndarray:
    n_ch = data.shape[2]
    if noise_sigma is not None:
        sigma = np.broadcast_to(np.asarray(noise_sigma, dtype=np.float64), (n_ch,)).copy()
    else:
        diff = data[:, 3:, :] - data[:, :-3, :]
        sigma = np.empty(n_ch)
        for c in range(n_ch):
            d = diff[..., c][np.isfinite(diff[..., c])]
            sigma[c] = diff_noise_sigma(d) if d.size else np.nan
    if not np.all(sigma > 0):
        raise ValueError(f"background noise must be > 0, got {sigma}")
    return sigma
