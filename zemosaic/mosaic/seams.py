"""Seam measurement on a finished mosaic: the step of the mosaic across each tile edge that lies inside a
neighbouring tile (:func:`seam_steps`), and the worst one in units of the background noise
(:func:`seam_step_sigma`).  A check of the harmony and the co-addition, used by the tests and benchmarks.

Two estimators (``estimator=``):

* ``"reference"``: the mosaic's difference across the edge of tile ``i`` minus the same difference in
  the tile ``j`` that continues it (reprojected with the mosaic's kernel), over a 24 px band, a sigma-clipped line
  fit, and a standard error from a block jackknife.  The sky's own structure (stars, nebula, gradient) is in both
  and cancels: what is left is the seam and the noise.  On a seamless mosaic it reads 0 within its standard error
  (~0.03-0.06 sigma per seam at the demo's size).
* ``"median"`` (the default, the first estimator): per-depth medians of the mosaic's own differences over a 6 px
  band.  The sky's structure and the few hundred pairs per depth make it read 0.3-0.4 sigma on a seamless mosaic
  at the demo's size (0.6-0.9 at 240 x 360 frames), so it only tells large seams (harmony on or off) apart.  It is
  the default so that the figures and tests written with it keep their meaning; the two differ where a third tile
  covers part of a seam (the median reads the step of the longest part, the reference estimator the mean step).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from zemosaic._stats import diff_noise_sigma, robust_sigma
from zemosaic.mosaic.coadd import MosaicResult
from zemosaic.mosaic.grid import GlobalGrid
from zemosaic.mosaic.resample import footprint_window, reproject_planes
from zemosaic.mosaic.tiles import KEEP_ALPHA, TileInput, read_tile

__all__ = [
    "ESTIMATORS",
    "SeamStep",
    "seam_steps",
    "seam_step_sigma",
]

log = logging.getLogger(__name__)

ESTIMATORS = ("reference", "median")
_DEFAULT_BAND = {"reference": 24, "median": 6}
_BLOCK_PX = 32  # jackknife blocks: pairs grouped by the 32 x 32 px cell of their inside pixel
_CLIP = 3.0  # residuals beyond 3 robust sigma (stars, defects) are left out of the fit
_GROW_PX = 3  # pairs this close to an outlier (a star's core) are left out with it (its wings)
_DISK = np.hypot(*np.mgrid[-_GROW_PX:_GROW_PX + 1, -_GROW_PX:_GROW_PX + 1]) <= _GROW_PX
_MIN_KEPT = 0.5  # the clipping never leaves fewer than half of the pairs
_MIN_DEPTH = 1.9  # depths below 2 px: the interpolation kernel straddles the edge and blurs the step


@dataclass(frozen=True)
class SeamStep:
    """Step of the mosaic across the edge of tile ``i`` where tile ``j`` continues it, in data units (inside ``i``
    minus outside, channel ``channel``), measured on ``n_pairs`` mirrored pixel pairs; ``se`` its standard error
    (block jackknife; NaN for the ``median`` estimator)."""

    i: int
    j: int
    channel: int
    step: float
    n_pairs: int
    se: float = float("nan")


def seam_steps(mosaic, tiles: Sequence[TileInput], grid: GlobalGrid, *, band: int | None = None,
               min_pairs: int = 200, estimator: str = "median", method: str = "lanczos3") -> list[SeamStep]:
    """Measure the step of the mosaic across each tile edge that lies inside a neighbouring tile.

    For tile ``i``, its kept area on the grid (reprojected alpha > 0.5, finite data) is computed; every kept pixel
    ``p`` within ``band`` px of the area's edge is paired with its mirror ``q`` across the edge (reflection through
    the nearest outside pixel, from a Euclidean distance transform).  Pairs whose ``q`` lies in tile ``j``'s kept area
    give the seam ``(i, j)``; depths from 2 px.

    ``estimator="reference"``: ``M(p) - M(q) - g (R_j(p) - R_j(q))`` with ``R_j`` tile ``j`` reprojected onto the
    grid with ``method`` (the sky both see cancels; ``g`` absorbs the harmony's gain on ``j`` and is fitted with the
    step), less the difference across the pair of a quadratic surface (the background the mosaic has and the tile
    has not: Phase 5.5's sky, the harmony's planes; fitted too), least squares with 3-sigma clipping, standard
    error by a jackknife over 32 x 32 px blocks (the noise of neighbouring pixels is correlated by the
    resampling).  ``estimator="median"``: the per-depth medians of ``M(p) - M(q)`` (a sky gradient adds
    ``2 d x slope`` at depth ``d``), line fitted to them (count-weighted) and taken at ``d = 0``; no standard
    error.

    Parameters
    ----------
    mosaic : MosaicResult or numpy.ndarray
        The mosaic data (``H x W`` or ``H x W x C``) on ``grid``.
    tiles : sequence of TileInput
    grid : GlobalGrid
    band : int, optional
        Depth in px of the edge band on each side (default 24 for ``reference``, 6 for ``median``).
    min_pairs : int
        Seams with fewer pairs are not reported.
    estimator : {"median", "reference"}
        See the module docstring.
    method : str
        Resampling of the reference tiles (one of :data:`zemosaic.mosaic.resample.METHODS`): the mosaic's own,
        so that star profiles match.

    Returns
    -------
    list of SeamStep

    Raises
    ------
    ValueError
        Unknown ``estimator``.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"seam estimator must be one of {ESTIMATORS}, got {estimator!r}")
    band = _DEFAULT_BAND[estimator] if band is None else int(band)
    data = _mosaic_array(mosaic)
    on_grid = [_tile_on_grid(t, grid, band + 2, method if estimator == "reference" else None) for t in tiles]
    steps = []
    for i in range(len(on_grid)):
        steps += _tile_seam_steps(data, on_grid, i, band, grid.shape, min_pairs)
    return steps


def seam_step_sigma(mosaic, tiles: Sequence[TileInput], grid: GlobalGrid, *, noise_sigma=None,
                    band: int | None = None, estimator: str = "median", method: str = "lanczos3") -> float:
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
    band, estimator, method
        See :func:`seam_steps`.

    Returns
    -------
    float
        ``max |step| / sigma`` over seams and channels; NaN when no seam could be measured.
    """
    data = _mosaic_array(mosaic)
    sigma = _noise_per_channel(data, noise_sigma)
    steps = seam_steps(data, tiles, grid, band=band, estimator=estimator, method=method)
    if not steps:
        log.warning("seam_step_sigma: no seam between tiles could be measured")
        return float("nan")
    worst = max(steps, key=lambda s: abs(s.step) / sigma[s.channel])
    value = abs(worst.step) / sigma[worst.channel]
    log.info("worst seam step (%s): %.3f sigma (+- %.3f) over %d seams", estimator, value,
             worst.se / sigma[worst.channel], len(steps))
    return float(value)


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _tile_seam_steps(data: np.ndarray, on_grid: list, i: int, band: int, grid_shape,
                     min_pairs: int) -> list[SeamStep]:
    """The seam steps across the edge of tile ``i`` into every other tile (``on_grid``: ``(window, kept, values)``
    per tile, ``values`` None for the median estimator)."""
    win_i, mask_i, _ = on_grid[i]
    if win_i is None:
        return []
    p, q, depth = _mirror_pairs(win_i, mask_i, band, grid_shape)
    inside_i = _mask_at(win_i, mask_i, q)
    steps = []
    for j, (win_j, mask_j, ref_j) in enumerate(on_grid):
        if j == i or win_j is None:
            continue
        sel = _mask_at(win_j, mask_j, q) & ~inside_i
        if int(sel.sum()) < min_pairs:
            continue
        ps, qs = (p[0][sel], p[1][sel]), (q[0][sel], q[1][sel])
        diff = data[ps] - data[qs]
        if ref_j is None:
            fits = [(*_edge_step(diff[:, c], depth[sel]), float("nan")) for c in range(diff.shape[1])]
        else:
            ref = _values_at(win_j, ref_j, ps) - _values_at(win_j, ref_j, qs)
            fits = [_reference_step(diff[:, c], ref[:, c], depth[sel], ps, qs) for c in range(diff.shape[1])]
        steps += [SeamStep(i, j, c, step, n, se) for c, (step, n, se) in enumerate(fits) if n >= min_pairs]
    return steps


def _mosaic_array(mosaic) -> np.ndarray:
    data = mosaic.data if isinstance(mosaic, MosaicResult) else np.asarray(mosaic)
    return data if data.ndim == 3 else data[..., None]


def _tile_on_grid(tile: TileInput, grid: GlobalGrid, margin: int, method: str | None):
    """``(window, kept, values)``: the tile's kept area (alpha > 0.5, finite) reprojected on its grid window, and
    (``method`` given) its values there by ``method`` (NaN outside the kept area), else None."""
    pixels = read_tile(tile)
    kept, tile_wcs = pixels.kept(), pixels.wcs
    window = footprint_window(tile_wcs, kept.shape, grid, margin=margin)
    if window is None:
        return None, None, None
    kept_grid = reproject_planes(kept[..., None].astype(np.float32), tile_wcs, grid, window, "interp")[..., 0]
    kept_grid = kept_grid > KEEP_ALPHA
    if method is None:
        return window, kept_grid, None
    planes = np.concatenate([np.where(kept[..., None], pixels.values, 0.0), kept[..., None]], axis=2)
    del pixels
    out = reproject_planes(planes.astype(np.float32), tile_wcs, grid, window, method)
    weight = out[..., -1:]
    values = np.where(kept_grid[..., None] & (weight > 0.5), out[..., :-1] / np.maximum(weight, 1e-6), np.nan)
    return window, kept_grid, values.astype(np.float32)


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
    """The median estimator: intercept at depth 0 of the per-depth medians of ``diff`` (count-weighted line fit);
    ``(step, n_used)``."""
    ok = np.isfinite(diff) & (depth >= _MIN_DEPTH)
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


def _reference_step(diff: np.ndarray, ref: np.ndarray, depth: np.ndarray, p, q) -> tuple[float, int, float]:
    """The reference estimator: ``diff ~ step + g ref + grad B . (p - q)`` by least squares; ``(step, n_used, se)``.

    ``B`` is a quadratic surface in the grid's coordinates, what the mosaic's background has that the reference
    tile's has not (Phase 5.5's sky model, the harmony's planes): across a pair its difference is the gradient at
    the pair's midpoint times ``p - q`` (exact for a quadratic), whatever the edge's direction (a slope per depth
    would take the projection of a gradient on a turning edge, at a tile's corner, for a step).

    Pairs whose residual lies beyond 3 robust sigma, and every pair within ``_GROW_PX`` of one (at ``p`` or at
    ``q``), are left out and the fit repeated (3 times): a star is resampled differently in two tiles (a sharper
    core, weaker wings), so clipping only its core would leave its wings to bias the step.  Where that would leave
    fewer than half of the pairs (noise-free data, whose robust sigma is tiny), only the outliers themselves are
    left out, or none.  ``se`` from a jackknife that leaves out one 32 x 32 px block of pairs at a time."""
    ok = np.isfinite(diff) & np.isfinite(ref) & (depth >= _MIN_DEPTH)
    if ok.sum() < 3 or np.ptp(depth[ok]) == 0:
        return float("nan"), 0, float("nan")
    y = diff[ok].astype(np.float64)
    p, q = (p[0][ok], p[1][ok]), (q[0][ok], q[1][ok])
    x = np.column_stack([np.ones(y.size), ref[ok], _gradient_terms(p, q)])
    keep = np.ones(y.size, dtype=bool)
    for _ in range(3):
        coef = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        resid = y - x @ coef
        scale = robust_sigma(resid[keep])
        if scale <= 0:
            break
        outlier = np.abs(resid) > _CLIP * scale
        keep = ~_near(outlier, p, q)
        if keep.mean() < _MIN_KEPT:  # noise-free data: a tiny scale; stars' wings not worth half the pairs
            keep = ~outlier if (~outlier).mean() >= _MIN_KEPT else np.ones(y.size, dtype=bool)
    coef = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
    blocks = (p[0] // _BLOCK_PX) * (int(p[1].max()) // _BLOCK_PX + 1) + p[1] // _BLOCK_PX
    return float(coef[0]), int(keep.sum()), _jackknife_se(x[keep], y[keep], blocks[keep])


def _gradient_terms(p, q) -> np.ndarray:
    """``(n, 5)``: ``B(p) - B(q)`` of the quadratic ``B = a x + b y + c x^2 + e x y + f y^2`` is these columns times
    ``(a, b, c, e, f)`` (midpoint coordinates centred and scaled by 1000 px for the conditioning)."""
    dx, dy = (p[1] - q[1]).astype(np.float64), (p[0] - q[0]).astype(np.float64)
    mx, my = 0.5 * (p[1] + q[1]), 0.5 * (p[0] + q[0])
    mx, my = (mx - mx.mean()) / 1000.0, (my - my.mean()) / 1000.0
    return np.column_stack([dx, dy, 2.0 * mx * dx, my * dx + mx * dy, 2.0 * my * dy])


def _near(outlier: np.ndarray, p, q) -> np.ndarray:
    """Pairs whose ``p`` or ``q`` lies within ``_GROW_PX`` of the ``p`` or ``q`` of an ``outlier`` pair."""
    rows, cols = np.concatenate([p[0], q[0]]), np.concatenate([p[1], q[1]])
    y0, x0 = rows.min(), cols.min()
    marked = np.zeros((rows.max() - y0 + 1, cols.max() - x0 + 1), dtype=bool)
    bad = np.concatenate([outlier, outlier])
    marked[rows[bad] - y0, cols[bad] - x0] = True
    marked = ndimage.binary_dilation(marked, structure=_DISK)
    hit = marked[rows - y0, cols - x0]
    n = p[0].size
    return hit[:n] | hit[n:]


def _jackknife_se(x: np.ndarray, y: np.ndarray, blocks: np.ndarray) -> float:
    """Block-jackknife standard error of the first least-squares coefficient of ``y ~ x``."""
    labels, inverse = np.unique(blocks, return_inverse=True)
    k = labels.size
    if k < 3:
        return float("nan")
    xtx = np.zeros((k, x.shape[1], x.shape[1]))
    xty = np.zeros((k, x.shape[1]))
    np.add.at(xtx, inverse, x[:, :, None] * x[:, None, :])
    np.add.at(xty, inverse, x * y[:, None])
    loo_a, loo_b = xtx.sum(axis=0) - xtx, xty.sum(axis=0) - xty
    good = np.abs(np.linalg.det(loo_a)) > 1e-12 * np.abs(np.linalg.det(xtx.sum(axis=0)))
    if good.sum() < 3:
        return float("nan")
    loo = np.linalg.solve(loo_a[good], loo_b[good][..., None])[:, 0, 0]
    n = loo.size
    return float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


def _values_at(window, values, pts) -> np.ndarray:
    """``values`` (``h x w x C`` on ``window``) at global points; NaN outside the window."""
    ry, rx = pts[0] - window[0], pts[1] - window[2]
    inside = (ry >= 0) & (ry < values.shape[0]) & (rx >= 0) & (rx < values.shape[1])
    out = np.full((ry.size, values.shape[2]), np.nan, dtype=np.float64)
    out[inside] = values[ry[inside], rx[inside]]
    return out


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
