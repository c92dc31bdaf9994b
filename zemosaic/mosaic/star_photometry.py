"""Star aperture photometry for the inter-tile harmony gains (Phase 4.5).

:func:`measure_stars` detects the bright stars of an image above a block-median sky (with ZeMosaic's one star
finder, :func:`zemosaic.align.stars.detect_stars`, which also places the apertures) and measures their
sky-subtracted fluxes in a ladder of apertures; :func:`match_star_samples` pairs the stars two images share
(same pixel frame, e.g. global mosaic pixels) and keeps their fluxes at one common aperture radius. A star is a
point source, so its local-sky-subtracted flux scales with the gain only, whatever the sky level, gradient or
nebulosity around it: the ratio of a star's fluxes in two tiles is their gain ratio, which
:func:`tile_harmony.solve_tile_harmony` prefers to the diffuse structure. Pure array maths.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.ndimage import distance_transform_edt, zoom
from scipy.spatial import cKDTree

from zemosaic._numba_pool import run_blocks
from zemosaic._sample_blocks import block_median_grid
from zemosaic._stats import mad_sigma
from zemosaic.align.stars import detect_stars
from zemosaic.background import as_hwc, check_images

__all__ = [
    "StarFluxes",
    "StarSamples",
    "measure_stars",
    "match_star_samples",
]

logger = logging.getLogger(__name__)

_STAR_RADII = (3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0)  # aperture ladder (px); a pair picks one common radius
_STAR_ANNULUS = (2.0, 6.0)        # sky annulus from r + 2 to r + 6 px around an aperture of radius r
_STAR_DETECT_SIGMA = 15.0         # detection: peak above the block-median sky, in noise sigmas
_STAR_MIN_AREA = 5                # detection: pixels above the threshold in the 5 x 5 box of a peak
_STAR_MIN_SNR = 10.0              # a star flux counts in a pair when its aperture SNR is this high in both
_STAR_SATURATION = 0.9            # peaks above this fraction of the channel's maximum are taken as saturated
_STAR_APERTURE_FWHM = 2.0         # aperture radius in FWHM of the broader PSF of the pair
_STAR_SKY_BLOCK = 32              # block size (px) of the block-median sky used for detection
_STAR_MAX = 1500                  # brightest candidates kept per image (~1 s for a 1080 x 1920 RGB tile)
_STAR_CHUNK = 256                 # stars photometered per vectorised chunk (bounds the cutout memory)


@dataclass(frozen=True, eq=False)
class StarFluxes:
    """Aperture photometry of the bright stars of one image (:func:`measure_stars`).

    Attributes
    ----------
    x, y : numpy.ndarray
        ``(M,)`` centroids in the image's pixel coordinates (x = column); callers may move them to
        another frame (e.g. global mosaic pixels) with :func:`dataclasses.replace`.
    flux : numpy.ndarray
        ``(M, R, C)`` sky-subtracted aperture sums at each radius of ``radii``. NaN where the aperture
        or its sky annulus leaves the valid area, or where the star is saturated in that channel.
    noise : numpy.ndarray
        ``(M, R, C)`` 1-sigma error of ``flux`` from the sky noise measured in the annulus.
    radii : numpy.ndarray
        ``(R,)`` aperture radii in pixels.
    fwhm : float
        Median FWHM of the stars in pixels, NaN without stars.
    """

    x: np.ndarray
    y: np.ndarray
    flux: np.ndarray
    noise: np.ndarray
    radii: np.ndarray
    fwhm: float

    @property
    def n_stars(self) -> int:
        """Number of stars M."""
        return int(self.x.size)


class StarSamples(NamedTuple):
    """Fluxes of the stars two images share (:func:`match_star_samples`)."""

    x: np.ndarray         # (M,) mean position of the two detections
    y: np.ndarray
    flux_i: np.ndarray    # (M, C), NaN where the channel is unusable (saturated, SNR too low)
    flux_j: np.ndarray
    err: np.ndarray       # (M, C) 1-sigma error of log(flux_i / flux_j)
    radius: float         # aperture radius used (px)


def measure_stars(image: np.ndarray, valid: np.ndarray | None = None, *,
                  detect_sigma: float = _STAR_DETECT_SIGMA, max_stars: int = _STAR_MAX) -> StarFluxes:
    """Detect the bright stars of an image and measure their fluxes in a ladder of apertures.

    The channel-mean image minus a block-median sky surface (32-px blocks, bilinearly interpolated: sky
    levels, gradients and nebulae larger than a few blocks do not count as stars) goes to
    :func:`zemosaic.align.stars.detect_stars` with ``detect_sigma`` as its threshold; its windowed
    centroids (a few hundredths of a pixel) centre the apertures. Each star is measured at
    every radius of the ladder (3 to 13 px) with the sky taken as the median of an annulus from
    ``r + 2`` to ``r + 6`` px, so that two images can later be compared at one common radius
    (:func:`match_star_samples`). A star whose brightest pixel in a channel reaches 90 % of that
    channel's maximum over the valid area is taken as saturated there (flux NaN).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` full-resolution image (stars unresolved by decimation).
    valid : numpy.ndarray, optional
        ``(H, W)`` bool, True where the pixels may be used; non-finite pixels are never used.
        Apertures or annuli touching an invalid pixel give NaN fluxes.
    detect_sigma : float
        Detection threshold in noise sigmas of the channel mean.
    max_stars : int
        At most this many candidates, the brightest, are measured (cost and memory bound: the
        stars are photometered 256 at a time on small cutouts).

    Returns
    -------
    StarFluxes
        Positions in the image's pixel coordinates. Empty (M = 0) on a featureless image.

    Raises
    ------
    ValueError
        On shapes that disagree.
    """
    check_images(np.asarray(image), None, valid)
    img = as_hwc(np.asarray(image, dtype=np.float32))
    ok, lum, ceiling = _usable_mean_and_ceiling(img, valid)
    radii = np.asarray(_STAR_RADII)
    half = int(np.ceil(radii[-1] + _STAR_ANNULUS[1]))
    resid = lum - _sky_surface(lum, _STAR_SKY_BLOCK)
    xy = detect_stars(np.where(ok, resid, 0.0).astype(np.float32), detect_sigma, _STAR_MIN_AREA,
                      max_stars=max_stars)
    xy = xy[ok[np.rint(xy[:, 1]).astype(int), np.rint(xy[:, 0]).astype(int)]] if len(xy) else xy
    if len(xy) == 0:
        empty = np.zeros((0, radii.size, img.shape[2]))
        return StarFluxes(np.zeros(0), np.zeros(0), empty, empty.copy(), radii, float("nan"))
    parts = [_photometer(img, ok, resid, xy[k:k + _STAR_CHUNK], radii, half, ceiling)
             for k in range(0, len(xy), _STAR_CHUNK)]
    flux, noise, fwhm = (np.concatenate(p) for p in zip(*parts, strict=True))
    good_fwhm = fwhm[np.isfinite(fwhm)]
    logger.debug("stars: %d measured (threshold %.1f sigma), fwhm %.2f px", len(xy), detect_sigma,
                 np.median(good_fwhm) if good_fwhm.size else np.nan)
    x, y, fwhm = xy[:, 0], xy[:, 1], good_fwhm
    return StarFluxes(x, y, flux, noise, radii, float(np.median(fwhm)) if fwhm.size else float("nan"))


def match_star_samples(stars_i: StarFluxes, stars_j: StarFluxes, *, aperture_fwhm: float = _STAR_APERTURE_FWHM,
                       min_snr: float = _STAR_MIN_SNR, tolerance: float | None = None) -> StarSamples:
    """Pair the stars two images share and return their fluxes at one common aperture radius.

    The two catalogues must be in the same pixel frame (e.g. global mosaic pixels). Stars are paired
    when each is the other's nearest neighbour within ``tolerance``; the radius is the smallest of the
    ladder reaching ``aperture_fwhm`` times the broader of the two FWHMs (at 2 FWHM a Gaussian PSF is
    fully enclosed and a Moffat beta = 2.5 one at 93 %, so a 5 % seeing difference between the images
    biases the ratio by under 1 %; larger radii would cost noise and neighbours' light). Neighbours need
    no isolation cut: the apertures are centred on the centroids with soft edges, so both images sum
    the same patch of sky, and the solve clips the few stars a neighbour still upsets. A channel's flux
    pair is kept
    when both fluxes have an SNR of at least ``min_snr`` (else NaN); stars with no kept channel are
    dropped.

    Parameters
    ----------
    stars_i, stars_j : StarFluxes
        From :func:`measure_stars`, positions in one common frame.
    aperture_fwhm : float
        Aperture radius in FWHM.
    min_snr : float
        Minimum aperture SNR in both images.
    tolerance : float, optional
        Pairing distance in pixels; default ``max(1.5, FWHM / 2)``.

    Returns
    -------
    StarSamples
        M may be 0.

    Raises
    ------
    ValueError
        When the two catalogues were measured with different radii or channel counts.
    """
    if not np.array_equal(stars_i.radii, stars_j.radii) or stars_i.flux.shape[2] != stars_j.flux.shape[2]:
        raise ValueError("star catalogues differ in aperture radii or channel count")
    fwhms = [f for f in (stars_i.fwhm, stars_j.fwhm) if np.isfinite(f)]
    fwhm = max(fwhms) if fwhms else float(stars_i.radii[len(stars_i.radii) // 2]) / aperture_fwhm
    k = min(int(np.searchsorted(stars_i.radii, aperture_fwhm * fwhm)), stars_i.radii.size - 1)
    tol = max(1.5, 0.5 * fwhm) if tolerance is None else float(tolerance)
    ia, ib = _mutual_nearest(stars_i, stars_j, tol)
    fi, fj = stars_i.flux[ia, k], stars_j.flux[ib, k]
    ni, nj = stars_i.noise[ia, k], stars_j.noise[ib, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        good = (fi >= min_snr * ni) & (fj >= min_snr * nj) & (ni > 0) & (nj > 0)
        err = np.hypot(ni / fi, nj / fj)
    rows = good.any(axis=1)
    fi, fj, err = (np.where(good, a, np.nan)[rows] for a in (fi, fj, err))
    x = 0.5 * (stars_i.x[ia] + stars_j.x[ib])[rows]
    y = 0.5 * (stars_i.y[ia] + stars_j.y[ib])[rows]
    return StarSamples(x, y, fi, fj, err, float(stars_i.radii[k]))


# ---------------------------------------------------------------------------------------------
# Private
# ---------------------------------------------------------------------------------------------

def _usable_mean_and_ceiling(img: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """One pass over rows on the thread pool: the usable pixels ``ok`` (``valid`` where given, and finite in every
    channel), the channel mean where ok (NaN elsewhere; numpy's float32 mean, bit for bit) and each channel's
    maximum over ok (-inf where none)."""
    ok = np.ones(img.shape[:2], bool) if valid is None else np.array(valid, dtype=bool)
    lum = np.empty(ok.shape, np.float32)
    parts = run_blocks(_nb_usable_mean_and_ceiling, ok.shape[0], 1, img, ok, lum)
    ceiling = np.max(np.stack(parts), axis=0) if parts else np.full(img.shape[2], -np.inf, np.float32)
    return ok, lum, ceiling


@njit(nogil=True, cache=True)
def _nb_usable_mean_and_ceiling(y0, y1, img, ok, lum):  # pragma: no cover - compiled
    """Rows ``y0:y1`` of :func:`_usable_mean_and_ceiling` (``ok`` cleared where a channel is not finite): the
    channels summed in order in float32, divided in float64 and rounded to float32 (numpy's mean of float32 over a
    short axis); returns these rows' per-channel maxima."""
    channels = img.shape[2]
    top = np.full(channels, -np.inf, np.float32)
    for y in range(y0, y1):
        for x in range(img.shape[1]):
            total = img[y, x, 0]
            finite = np.isfinite(total)
            for c in range(1, channels):
                total += img[y, x, c]
                finite &= np.isfinite(img[y, x, c])
            ok[y, x] &= finite
            if ok[y, x]:
                lum[y, x] = np.float32(np.float64(total) / channels)
                for c in range(channels):
                    top[c] = max(top[c], img[y, x, c])
            else:
                lum[y, x] = np.float32(np.nan)
    return top


def _sky_surface(lum: np.ndarray, block: int) -> np.ndarray:
    """Block-median surface of an (H, W) image with NaN holes, bilinearly interpolated to full size.

    Blocks without valid pixels take their nearest valid block's median.
    """
    h, w = lum.shape
    med = block_median_grid(lum, block)
    gh, gw = med.shape
    hole = np.isnan(med)
    if hole.all():
        return np.zeros((h, w), dtype=np.float32)
    if hole.any():
        idx = distance_transform_edt(hole, return_distances=False, return_indices=True)
        med = med[idx[0], idx[1]]
    if min(gh, gw) < 2:
        return np.broadcast_to(np.repeat(np.repeat(med, block, 0), block, 1)[:h, :w], (h, w)).astype(np.float32)
    return zoom(med.astype(np.float32), block, order=1, mode="nearest", grid_mode=True)[:h, :w]


def _photometer(img: np.ndarray, ok: np.ndarray, resid: np.ndarray, xy: np.ndarray,
                radii: np.ndarray, half: int, ceiling: np.ndarray) -> tuple:
    """Aperture photometry of a chunk of stars (``xy`` from :func:`detect_stars`) on cutouts centred on their
    nearest pixels: ``(flux, noise, fwhm)`` per star."""
    cols, rows = np.rint(xy[:, 0]).astype(int), np.rint(xy[:, 1]).astype(int)
    dx, dy = xy[:, 0] - cols, xy[:, 1] - rows
    off = np.arange(-half, half + 1)
    rr, cc = rows[:, None, None] + off[None, :, None], cols[:, None, None] + off[None, None, :]
    inside = (rr >= 0) & (rr < ok.shape[0]) & (cc >= 0) & (cc < ok.shape[1])   # (n, S, S)
    rr, cc = np.clip(rr, 0, ok.shape[0] - 1), np.clip(cc, 0, ok.shape[1] - 1)
    good = ok[rr, cc] & inside                                            # (n, S, S)
    cut = np.where(good[..., None], img[rr, cc], 0.0)                     # (n, S, S, C), float32
    fwhm = _fwhm(np.where(good, resid[rr, cc], np.nan), half, radii)
    dist = np.hypot(off[None, :, None] - dy[:, None, None], off[None, None, :] - dx[:, None, None])
    flux = np.full((len(rows), radii.size, cut.shape[3]), np.nan)
    noise = np.full_like(flux, np.nan)
    grid_dist = np.hypot(off[:, None], off[None, :])
    for k, r in enumerate(radii):
        flux[:, k], noise[:, k] = _aperture_sums(cut, good, dist, grid_dist, r)
    core = cut[:, half - 1:half + 2, half - 1:half + 2].max(axis=(1, 2))  # (n, C) brightest pixel
    saturated = core >= _STAR_SATURATION * ceiling
    flux[np.broadcast_to(saturated[:, None, :], flux.shape)] = np.nan
    fwhm[saturated.any(axis=1)] = np.nan
    return flux, noise, fwhm


def _fwhm(lum: np.ndarray, half: int, radii: np.ndarray) -> np.ndarray:
    """FWHM (from the area above half maximum) of sky-subtracted cutouts centred on their stars' peaks."""
    off = np.arange(-half, half + 1)
    near = np.hypot(off[:, None], off[None, :]) <= 0.5 * radii[-1]     # neighbours rarely reach this close
    peak = lum[:, half, half]
    n_half = np.sum((np.nan_to_num(lum) > 0.5 * peak[:, None, None]) & near, axis=(1, 2))
    return np.where(peak > 0, 2.0 * np.sqrt(n_half / np.pi), np.nan)


def _aperture_sums(cut: np.ndarray, good: np.ndarray, dist: np.ndarray, grid_dist: np.ndarray, r: float) -> tuple:
    """Sky-subtracted flux and its error ``(n, C)`` in apertures of radius ``r`` around each star's centroid.

    Pixel weights fall linearly from 1 to 0 across the aperture edge (``clip(r + 0.5 - d, 0, 1)``, close
    to the pixel's area inside the circle), so the sum varies smoothly with the centre and two images
    with different pixel grids measure the same patch of sky. The sky annulus is centred on the peak
    pixel (``grid_dist``; half a pixel does not matter to a median), so all stars share one index set.
    NaN when the aperture or its annulus touches an unusable pixel.
    """
    w = np.clip(r + 0.5 - dist, 0.0, 1.0)                               # (n, S, S)
    ann = (grid_dist >= r + _STAR_ANNULUS[0]) & (grid_dist <= r + _STAR_ANNULUS[1])
    usable = good[:, (grid_dist <= r + 1.5) | ann].all(axis=1)
    sky_px = cut[:, ann]                                                  # (n, n_ann, C)
    sky = np.median(sky_px, axis=1)
    sig = mad_sigma(sky_px, axis=1, center=sky[:, None])
    n_ap = w.sum(axis=(1, 2))[:, None]
    flux = np.einsum("nij,nijc->nc", w, cut) - n_ap * sky
    noise = sig * np.sqrt(n_ap + 0.5 * np.pi * n_ap ** 2 / ann.sum())
    flux[~usable], noise[~usable] = np.nan, np.nan
    return flux, noise


def _mutual_nearest(a: StarFluxes, b: StarFluxes, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the star pairs that are each other's nearest neighbour within ``tol`` px."""
    if a.n_stars == 0 or b.n_stars == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    pa, pb = np.stack([a.x, a.y], axis=1), np.stack([b.x, b.y], axis=1)
    _, ab = cKDTree(pb).query(pa, distance_upper_bound=tol)
    _, ba = cKDTree(pa).query(pb, distance_upper_bound=tol)
    ia = np.flatnonzero(ab < b.n_stars)
    ib = ab[ia]
    mutual = ba[ib] == ia
    return ia[mutual], ib[mutual]
