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
    scale_deg = float(np.median([_pixel_scale_deg(t.wcs) for t in tiles]))
    from reproject.mosaicking import find_optimal_celestial_wcs  # on demand: reproject pulls in dask

    inputs = [(tuple(t.shape), t.wcs) for t in tiles]
    wcs, shape = find_optimal_celestial_wcs(inputs, projection="TAN", resolution=scale_deg * u.deg,
                                            auto_rotate=False)
    shape = (int(shape[0]), int(shape[1]))
    wcs.pixel_shape = (shape[1], shape[0])
    log.info("global grid: %d x %d px (H x W), %.3f arcsec/px, north-up TAN centred at RA %.5f Dec %.5f",
             shape[0], shape[1], scale_deg * 3600.0, wcs.wcs.crval[0], wcs.wcs.crval[1])
    return GlobalGrid(wcs=wcs, shape=shape)


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
