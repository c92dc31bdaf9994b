"""Star detection on a frame's luminance plane: NaN-free planes, a smooth sky mesh, robust noise, local
maxima with a minimum support, and Gaussian-windowed centroids accurate to a few hundredths of a pixel.

:func:`detect_stars` is ZeMosaic's one star finder: the aligner, the plate solver's star lists and the inter-tile
star photometry all use it. It beats ``sep`` (SExtractor as a library, installed with astroalign) on both counts
that matter here: ``python bench/bench_star_finder_vs_sep.py`` measured 0.045 s against 0.211 s per 1080 x 1920
image and 0.043 px against 0.107 px RMS centroid error (sep + winpos) on stars at known positions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import ndimage
from scipy.spatial import cKDTree

from zemosaic._numba_pool import run_blocks
from zemosaic._pixels import true_pixels
from zemosaic._stats import mad_sigma

__all__ = ["StarDetection", "detect_stars", "detect_stars_with_sky", "luminance_plane"]

STAMP_RADIUS = 4           # half size of the centroid stamp (9x9)
_WINDOW_SIGMA = 1.5    # px, Gaussian weight of the windowed centroid
_MAX_STARS = 800       # brightest stars kept per frame for the least-squares refinement
_BACKGROUND_BOX = 64   # px, mesh size of the local sky background


def finite_plane(plane: np.ndarray) -> np.ndarray:
    """float32 plane with non-finite pixels replaced by the median of the finite ones."""
    plane = np.asarray(plane, dtype=np.float32)
    bad = ~np.isfinite(plane)
    if not bad.any():
        return plane
    good = plane[~bad]
    return np.where(bad, np.float32(np.median(good)) if good.size else np.float32(0), plane)


def luminance_plane(image: np.ndarray) -> np.ndarray:
    """NaN-free 2D detection plane: the frame itself (mono) or the mean of its channels (non-finite pixels
    replaced by the median of the finite ones)."""
    if image.ndim == 2 or image.shape[2] == 1:
        return finite_plane(image.reshape(image.shape[:2]))
    lum = image[:, :, 0] + image[:, :, 1]
    for c in range(2, image.shape[2]):
        lum += image[:, :, c]
    lum *= np.float32(1.0 / image.shape[2])
    return finite_plane(lum)


def smooth_background(plane: np.ndarray, box: int = _BACKGROUND_BOX) -> np.ndarray:
    """Smooth sky background: median per ~box x box cell, 3x3 median-filtered, bilinear upsampling."""
    h, w = plane.shape
    ny, nx = max(1, round(h / box)), max(1, round(w / box))
    sub = plane[::4, ::4]                       # 256 samples per 64 px cell: plenty for a median
    by, bx = sub.shape[0] // ny, sub.shape[1] // nx
    cells = sub[: ny * by, : nx * bx].reshape(ny, by, nx, bx).transpose(0, 2, 1, 3).reshape(ny, nx, -1)
    mesh = np.median(cells, axis=-1).astype(np.float32)
    mesh = ndimage.median_filter(mesh, size=3, mode="nearest")
    return (_interp_matrix(h, ny, 4 * by) @ mesh) @ _interp_matrix(w, nx, 4 * bx).T


def _interp_matrix(n: int, cells: int, size: int) -> np.ndarray:
    """n x cells float32 matrix of bilinear weights from cell centres to pixel positions."""
    pos = np.clip((np.arange(n) + 0.5) / size - 0.5, 0, cells - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, cells - 1)
    f = (pos - i0).astype(np.float32)
    m = np.zeros((n, cells), dtype=np.float32)
    rows = np.arange(n)
    m[rows, i0] += 1 - f
    m[rows, i1] += f
    return m


def _noise_sigma(residual: np.ndarray) -> float:
    """Robust noise (1.4826 MAD) of ~65k subsampled pixels; their std when the MAD is 0 (noiseless data)."""
    h, w = residual.shape
    step = max(1, int(math.sqrt(h * w / 65536.0)))
    s = residual[::step, ::step].ravel()
    mad = float(mad_sigma(s))
    return mad if mad > 0 else float(s.std())


def detect_stars(plane: np.ndarray, detection_sigma: float = 3.0, min_area: int = 5, *,
                 max_stars: int = _MAX_STARS) -> np.ndarray:
    """Star positions ``(N, 2)`` as 0-based ``(x, y)``, brightest first, at most ``max_stars``.

    ``plane`` is a 2-D float image without NaN (see :func:`finite_plane`). A star is a local maximum of the
    background-subtracted plane above ``detection_sigma`` x noise (robust MAD of the residual), with at least
    ``min_area`` pixels above that threshold in its 5 x 5 box, that also stands out of its 9 x 9 stamp's
    border (so noise peaks on nebulosity brighter than the sky mesh are not stars); fluxes are measured above
    that border level; positions are Gaussian-windowed centroids; sources within 2 px of a brighter one are
    dropped (doubles make degenerate triangles for the matcher).
    """
    return detect_stars_with_sky(plane, detection_sigma, min_area, max_stars=max_stars).xy


@dataclass(frozen=True, eq=False)
class StarDetection:
    """One detection pass: the star positions and what they were measured against.

    ``xy`` (N, 2) as (x, y), brightest first; ``residual`` the plane minus ``sky`` (float32, H x W), ``sky`` the
    smooth sky mesh interpolated to every pixel; ``noise`` the robust sigma of the residual (0 on a flat plane,
    then ``xy`` is empty); ``capped`` True when ``max_stars`` cut the list (fainter stars were found, not kept).
    The frame-quality measures (:mod:`zemosaic.quality`) read the stars from here, so a frame's stars are found
    once.
    """

    xy: np.ndarray
    residual: np.ndarray
    sky: np.ndarray
    noise: float
    capped: bool = False  # more candidates than ``max_stars``: the faintest stars are not in ``xy``


def detect_stars_with_sky(plane: np.ndarray, detection_sigma: float = 3.0, min_area: int = 5, *,
                          max_stars: int = _MAX_STARS) -> StarDetection:
    """:func:`detect_stars` that also returns the sky mesh, the residual and the noise it used."""
    sky = smooth_background(plane)
    resid = plane - sky
    noise = _noise_sigma(resid)
    if not noise > 0:
        return StarDetection(np.empty((0, 2)), resid, sky, 0.0)
    xy, capped = _stars_in_residual(resid, detection_sigma * noise, min_area, max_stars)
    return StarDetection(xy, resid, sky, noise, capped)



def _stars_in_residual(resid: np.ndarray, thr: float, min_area: int, max_stars: int) -> tuple[np.ndarray, bool]:
    """The stars of a background-subtracted plane above ``thr`` (see :func:`detect_stars`), and whether
    ``max_stars`` cut the candidates."""
    r = STAMP_RADIUS
    peaks = np.zeros(resid.shape, dtype=np.bool_)
    run_blocks(_peak_rows, resid.shape[0], 1, resid, np.float32(thr), int(min_area), r, peaks)
    ys, xs = true_pixels(peaks)
    off = np.arange(-r, r + 1)
    stamps = resid[ys[:, None, None] + off[None, :, None], xs[:, None, None] + off[None, None, :]]
    ring = np.concatenate([stamps[:, 0, :], stamps[:, -1, :], stamps[:, 1:-1, 0], stamps[:, 1:-1, -1]], axis=1)
    stamps = stamps - np.median(ring, axis=1)[:, None, None]
    sharp = stamps[:, r, r] > thr
    ys, xs, stamps = ys[sharp], xs[sharp], stamps[sharp]
    order = np.argsort(-stamps.sum(axis=(1, 2)), kind="stable")[:max_stars]
    cx, cy, ok = _window_centroids(stamps[order])
    xy = np.column_stack([xs[order] + cx, ys[order] + cy])[ok]
    return xy[_isolated(xy, 2.0)], len(stamps) > max_stars


def _isolated(xy: np.ndarray, radius: float) -> np.ndarray:
    """Mask of points (ordered brightest first) with no brighter point within ``radius``."""
    keep = np.ones(len(xy), dtype=bool)
    if len(xy) < 2:
        return keep
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    keep[pairs.max(axis=1)] = False
    return keep


@njit(nogil=True, cache=True)
def _peak_rows(y0, y1, resid, thr, min_area, border, peaks):  # pragma: no cover - compiled
    """Rows ``y0:y1`` of the peak map: mark local maxima above ``thr`` (3x3; ties go to the first pixel in raster
    order) that have at least ``min_area`` pixels above ``thr`` in their 5x5 box, ``border`` px or more from the
    edges."""
    h, w = resid.shape
    for y in range(max(y0, border), min(y1, h - border)):
        for x in range(border, w - border):
            v = resid[y, x]
            if v <= thr:
                continue
            peak = True
            for oy in range(-1, 2):
                for ox in range(-1, 2):
                    nb = resid[y + oy, x + ox]
                    before = oy < 0 or (oy == 0 and ox < 0)
                    if (before and v <= nb) or (not before and v < nb):
                        peak = False
            if not peak:
                continue
            count = 0
            for oy in range(-2, 3):
                for ox in range(-2, 3):
                    if resid[y + oy, x + ox] > thr:
                        count += 1
            peaks[y, x] = count >= min_area


def _window_centroids(stamps: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian-windowed centroids of (N, 9, 9) stamps relative to their centre pixel.

    Iterates ``c += 2 * sum(w I (x - c)) / sum(w I)`` with ``w`` a Gaussian of ``_WINDOW_SIGMA``
    centred on the current estimate; the fixed point is the centre of a symmetric profile, free of
    the pixel-phase bias of plain moments. Returns (cx, cy, ok); ``ok`` is False for stamps whose
    weighted flux is not positive or whose centroid drifts more than 2 px.
    """
    r = stamps.shape[1] // 2
    grid = np.arange(-r, r + 1, dtype=np.float64)
    cx = np.zeros(len(stamps))
    cy = np.zeros(len(stamps))
    data = stamps.astype(np.float64)
    norm = np.ones(len(stamps))
    for _ in range(iterations):
        ux = grid[None, :] - cx[:, None]
        uy = grid[None, :] - cy[:, None]
        wx = np.exp(-0.5 * (ux / _WINDOW_SIGMA) ** 2)
        wy = np.exp(-0.5 * (uy / _WINDOW_SIGMA) ** 2)
        wi = data * wy[:, :, None] * wx[:, None, :]
        norm = wi.sum(axis=(1, 2))
        safe = np.where(norm > 0, norm, 1.0)
        cx = np.clip(cx + 2 * (wi * ux[:, None, :]).sum(axis=(1, 2)) / safe, -r, r)
        cy = np.clip(cy + 2 * (wi * uy[:, :, None]).sum(axis=(1, 2)) / safe, -r, r)
    ok = (norm > 0) & (np.abs(cx) <= 2) & (np.abs(cy) <= 2)
    return cx, cy, ok
