"""The mosaic's pixel grid (Phase 4): :class:`GlobalGrid`, :func:`compute_global_grid` over the tiles, and the
decimated copies of a WCS (same sky, larger pixels) that the overlap measurement works on.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.wcs import WCS, Sip
from astropy.wcs.utils import proj_plane_pixel_scales

from zemosaic.mosaic.tiles import TileInput

__all__ = [
    "GlobalGrid",
    "compute_global_grid",
    "grid_for_footprints",
    "covered_fraction",
    "memory_estimate_mb",
    "decimate_wcs",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GlobalGrid:
    """The mosaic's pixel grid: a 2D celestial TAN ``wcs`` and the array ``shape`` ``(H, W)``."""

    wcs: WCS = field(repr=False, compare=False)
    shape: tuple[int, int]

    @property
    def pixel_scale_arcsec(self) -> float:
        """Pixel scale (geometric mean of both axes) in arcseconds."""
        return _pixel_scale_deg(self.wcs) * 3600.0

    def decimated(self, factor: int) -> GlobalGrid:
        """The same sky with pixels ``factor`` times larger (see :func:`decimate_wcs`); the shape rounds up."""
        return GlobalGrid(decimate_wcs(self.wcs, factor), (-(-self.shape[0] // factor), -(-self.shape[1] // factor)))


def compute_global_grid(tiles: Sequence[TileInput]) -> GlobalGrid:
    """Compute the mosaic's grid: one TAN WCS covering every tile at the tiles' median pixel scale.

    The grid is **north-up** (north along +y, east towards -x), built with
    ``reproject.mosaicking.find_optimal_celestial_wcs``.  An optimally rotated grid would be a little smaller for
    rotated Alt-Az panels, but north-up is what astrophotographers expect, what SWarp and Montage produce by default,
    and it needs no extra dependency (reproject's ``auto_rotate`` requires shapely).

    Parameters
    ----------
    tiles : sequence of TileInput
        At least one tile.

    Returns
    -------
    GlobalGrid

    Raises
    ------
    ValueError
        No tiles.
    """
    if not tiles:
        raise ValueError("compute_global_grid: no tiles")
    grid = grid_for_footprints([((int(t.shape[0]), int(t.shape[1])), t.wcs) for t in tiles])
    log.info("global grid: %d x %d px (H x W), %.3f arcsec/px, north-up TAN centred at RA %.5f Dec %.5f",
             grid.shape[0], grid.shape[1], grid.pixel_scale_arcsec, grid.wcs.wcs.crval[0], grid.wcs.wcs.crval[1])
    return grid


def grid_for_footprints(footprints: Sequence[tuple[tuple[int, int], WCS]]) -> GlobalGrid:
    """The north-up TAN grid covering images given as ``((H, W), wcs)`` at their median pixel scale (what
    :func:`compute_global_grid` does for tiles; also used to estimate a mosaic from raw frames before stacking).

    Raises
    ------
    ValueError
        No footprints.
    """
    if not footprints:
        raise ValueError("grid_for_footprints: no footprints")
    scale_deg = float(np.median([_pixel_scale_deg(wcs) for _, wcs in footprints]))
    from reproject.mosaicking import find_optimal_celestial_wcs  # on demand: reproject pulls in dask

    inputs = [(tuple(int(n) for n in shape[:2]), wcs) for shape, wcs in footprints]
    wcs, shape = find_optimal_celestial_wcs(inputs, projection="TAN", resolution=scale_deg * u.deg,
                                            auto_rotate=False)
    shape = (int(shape[0]), int(shape[1]))
    wcs.pixel_shape = (shape[1], shape[0])
    return GlobalGrid(wcs=wcs, shape=shape)


def covered_fraction(grid: GlobalGrid, footprints: Sequence[tuple[tuple[int, int], WCS]], *,
                     max_side: int = 256) -> float:
    """Fraction of ``grid`` that the images ``((H, W), wcs)`` cover, measured on a copy of the grid decimated to
    at most ``max_side`` pixels a side (cheap whatever the mosaic's size; exact to about one coarse pixel along
    the footprint edges). No pixel array of the full grid is allocated."""
    factor = max(1, -(-max(grid.shape) // int(max_side)))
    coarse = grid.decimated(factor)
    h, w = coarse.shape
    ys, xs = np.mgrid[0:h, 0:w]
    with np.errstate(invalid="ignore"):
        lon, lat = coarse.wcs.pixel_to_world_values(xs.ravel().astype(float), ys.ravel().astype(float))
    covered = np.zeros(h * w, dtype=bool)
    for shape, wcs in footprints:
        height, width = int(shape[0]), int(shape[1])
        with np.errstate(invalid="ignore"):
            px, py = wcs.celestial.world_to_pixel_values(lon, lat)
        covered |= (px >= -0.5) & (px <= width - 0.5) & (py >= -0.5) & (py <= height - 0.5)
    return float(covered.mean())


def memory_estimate_mb(shape: tuple[int, int], n_channels: int) -> float:
    """MB a mosaic of ``shape`` (H, W) needs in Phases 5-6: the accumulators ``sum(w v)`` (H x W x C) and
    ``sum(w)`` (H x W) plus the C-plane copy written to disk, float32."""
    h, w = int(shape[0]), int(shape[1])
    return h * w * (2 * int(n_channels) + 1) * 4 / 2**20


def decimate_wcs(wcs: WCS, factor: int) -> WCS:
    """WCS of the same sky with pixels ``factor`` times larger: decimated pixel ``i`` (0-based) covers full pixels
    ``i*factor .. i*factor + factor - 1``, i.e. its centre is full pixel ``i*factor + (factor - 1) / 2``.
    (astropy's step slicing rescales CDELT only, which is ignored when a CD matrix is present.)"""
    out = wcs.deepcopy()
    if out.wcs.has_cd():
        out.wcs.cd = out.wcs.cd * factor
    else:
        out.wcs.cdelt = out.wcs.cdelt * factor
    out.wcs.crpix = (np.asarray(wcs.wcs.crpix) - 0.5) / factor + 0.5
    if wcs.sip is not None:
        out.sip = _decimate_sip(wcs.sip, factor, out.wcs.crpix)
    out.wcs.set()
    return out


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _pixel_scale_deg(wcs: WCS) -> float:
    scales = proj_plane_pixel_scales(wcs.celestial)
    return float(np.sqrt(abs(scales[0] * scales[1])))


def _decimate_sip(sip: Sip, factor: int, crpix) -> Sip:
    """SIP in decimated pixels: with ``u = factor * u'``, a full-pixel distortion ``f(u) = sum A_pq u^p v^q`` is
    ``f / factor = sum A_pq factor^(p+q-1) u'^p v'^q`` decimated pixels (same for the inverse terms)."""

    def scaled(coeffs):
        if coeffs is None:
            return None
        p, q = np.indices(coeffs.shape)
        return coeffs * float(factor) ** (p + q - 1)

    return Sip(scaled(sip.a), scaled(sip.b), scaled(sip.ap), scaled(sip.bp), crpix)
