"""Refine a plate solution on all matched stars and measure it: a least-squares TAN fit.

Every solver backend returns a first WCS from a few matched quads; :func:`refine_tan_wcs` pairs the frame's
detected stars with the catalogue stars that WCS puts in the field, fits a TAN projection (CRVAL, CD) to all
pairs by linear least squares in the tangent plane, re-pairs with a tighter radius and fits again. The
result carries the number of pairs and their RMS residual in pixels, which the run report shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS
from scipy.spatial import cKDTree

__all__ = ["RefinedWcs", "refine_tan_wcs", "tan_wcs", "tangent_plane"]

_MIN_PAIRS = 6


@dataclass(frozen=True)
class RefinedWcs:
    """A refined TAN WCS, the star pairs it rests on and their RMS residual (pixels)."""

    wcs: WCS
    n_matched: int
    residual_px: float


def tan_wcs(crval: tuple[float, float], crpix0: tuple[float, float] | np.ndarray, cd: np.ndarray,
            shape: tuple[int, int]) -> WCS:
    """A TAN WCS from its reference point ``crval`` (deg), 0-based reference pixel ``crpix0`` (x, y) and
    2x2 ``cd`` matrix (deg/px); ``pixel_shape`` set from ``shape`` ``(H, W)``."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(crval[0]) % 360.0, float(crval[1])]
    wcs.wcs.crpix = [float(crpix0[0]) + 1.0, float(crpix0[1]) + 1.0]
    wcs.wcs.cd = np.asarray(cd, dtype=np.float64)
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.set()
    wcs.pixel_shape = (int(shape[1]), int(shape[0]))
    return wcs


def tangent_plane(ra: np.ndarray, dec: np.ndarray, crval: tuple[float, float]) -> np.ndarray:
    """Gnomonic (TAN) intermediate world coordinates, degrees, ``(N, 2)``, of sky positions about ``crval``."""
    unit = tan_wcs(crval, (0.0, 0.0), np.eye(2), (1, 1))
    x, y = unit.wcs_world2pix(np.asarray(ra, float), np.asarray(dec, float), 0)
    return np.column_stack([x, y])


def refine_tan_wcs(wcs: WCS, stars_xy: np.ndarray, cat_ra: np.ndarray, cat_dec: np.ndarray,
                   shape: tuple[int, int], *, radius_px: float = 3.0) -> RefinedWcs | None:
    """Fit a TAN WCS to the detected stars paired with the catalogue stars ``wcs`` puts near them.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        First solution (any projection, SIP allowed).
    stars_xy : numpy.ndarray
        ``(N, 2)`` detected star positions, 0-based (x = column, y = row).
    cat_ra, cat_dec : numpy.ndarray
        Catalogue star positions in degrees.
    shape : tuple of int
        ``(H, W)`` of the image.
    radius_px : float
        Pairing radius of the first round; the second uses ``max(0.5, 3 x RMS)`` of the first.

    Returns
    -------
    RefinedWcs or None
        None when fewer than 6 pairs are found (the first WCS is then not confirmed).
    """
    stars_xy = np.asarray(stars_xy, dtype=np.float64).reshape(-1, 2)
    if len(stars_xy) < _MIN_PAIRS or len(cat_ra) < _MIN_PAIRS:
        return None
    current, radius, result = wcs, float(radius_px), None
    for _ in range(3):
        pairs = _pair(current, stars_xy, cat_ra, cat_dec, radius)
        if pairs is None:
            return result
        fitted = _fit_tan(stars_xy[pairs[0]], cat_ra[pairs[1]], cat_dec[pairs[1]], shape)
        resid = _residuals(fitted, stars_xy[pairs[0]], cat_ra[pairs[1]], cat_dec[pairs[1]])
        rms = float(np.sqrt(np.mean(resid ** 2)))
        result = RefinedWcs(fitted, len(pairs[0]), rms)
        current, radius = fitted, max(0.5, 3.0 * rms)
    return result


def _pair(wcs: WCS, stars_xy: np.ndarray, ra: np.ndarray, dec: np.ndarray,
          radius: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Indices (star, catalogue) of mutual nearest neighbours closer than ``radius`` px."""
    with np.errstate(all="ignore"):
        px = np.column_stack(wcs.all_world2pix(ra, dec, 0))
    ok = np.flatnonzero(np.all(np.isfinite(px), axis=1))
    if len(ok) < _MIN_PAIRS:
        return None
    dist, star_idx = cKDTree(stars_xy).query(px[ok], distance_upper_bound=radius)
    hit = np.isfinite(dist)
    cat_idx, star_idx = ok[hit], star_idx[hit]
    back = cKDTree(px[ok]).query(stars_xy[star_idx])[1]
    mutual = ok[back] == cat_idx
    if mutual.sum() < _MIN_PAIRS:
        return None
    return star_idx[mutual], cat_idx[mutual]


def _fit_tan(xy: np.ndarray, ra: np.ndarray, dec: np.ndarray, shape: tuple[int, int]) -> WCS:
    """Least-squares TAN about the image centre: two rounds, the second about the first's centre position."""
    centre = np.array([(shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0])
    crval = (float(np.median(ra)), float(np.median(dec)))
    design = np.column_stack([xy - centre, np.ones(len(xy))])
    wcs = None
    for _ in range(2):
        iwc = tangent_plane(ra, dec, crval)
        coef, *_ = np.linalg.lstsq(design, iwc, rcond=None)
        cd, offset = coef[:2].T, coef[2]
        crpix0 = centre - np.linalg.solve(cd, offset)     # the pixel whose IWC is 0 (the tangent point)
        wcs = tan_wcs(crval, crpix0, cd, shape)
        world = wcs.wcs_pix2world([centre], 0)[0]
        crval = (float(world[0]), float(world[1]))
    assert wcs is not None
    return wcs


def _residuals(wcs: WCS, xy: np.ndarray, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    px = np.column_stack(wcs.wcs_world2pix(ra, dec, 0))
    return np.hypot(*(px - xy).T)
