"""Overlap measurement between master tiles (Phase 4.5 input): block-median samples of the diffuse sky on a
decimated copy of the global grid, and the bright stars both tiles of a pair measured, as
:class:`zemosaic.mosaic.harmony.TileOverlap` objects for :func:`zemosaic.mosaic.harmony.solve_tile_harmony`.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from astropy.wcs import WCS
from astropy.wcs.utils import pixel_to_pixel

from zemosaic._numba_pool import parallel_map
from zemosaic._stats import block_mean
from zemosaic.mosaic import harmony, star_photometry
from zemosaic.mosaic.grid import GlobalGrid, decimate_wcs
from zemosaic.mosaic.resample import footprint_window, reproject_planes
from zemosaic.mosaic.tiles import TileInput, read_tile

__all__ = ["measure_tile_overlaps"]

log = logging.getLogger(__name__)


def measure_tile_overlaps(tiles: Sequence[TileInput], grid: GlobalGrid, *, decimate: int | None = None,
                          block: int | None = None, stars: bool = True) -> list:
    """Measure the overlaps between tiles for the inter-tile photometric solve (Phase 4.5).

    Each tile is read once, block-averaged ``decimate x decimate`` over its kept pixels (alpha > 0.5 and finite;
    only fully kept blocks are valid), and reprojected onto a decimated copy of the global grid (same sky, pixels
    ``decimate`` times larger), inside the bounding box of its footprint only.  For every pair of tiles whose valid
    areas overlap, :func:`tile_harmony.sample_overlap` takes block-median samples (``block`` decimated pixels a side)
    whose coordinates are converted back to full-resolution global pixel coordinates.  These diffuse samples fix
    the offsets and planes.

    Star samples (``stars=True``) fix the gains: while a tile is read, :func:`star_photometry.measure_stars` measures
    its bright unsaturated stars at full resolution, in its own pixels (no interpolation), on its kept pixels only
    (apertures and sky annuli entirely inside alpha > 0.5), and their centroids are mapped to global pixels.  For
    each pair, :func:`star_photometry.match_star_samples` pairs the stars both tiles detected (mutual nearest neighbours
    within ~1.5 px, so they lie in both kept areas) and keeps their fluxes at one common aperture radius; a star is
    a point source, so the ratio of its local-sky-subtracted fluxes is the tiles' gain ratio whatever their sky
    levels, gradients or nebulosity.

    Memory: one full-resolution tile per core at a time (with a few full-size float32 planes for the star detection)
    plus the decimated reprojections of all tiles (``1 / decimate**2`` of the tiles' area, e.g. 1.6 MB for a 1080 x
    1920 RGB tile at ``decimate=4``) and the star catalogues (a few kB per tile).

    Parameters
    ----------
    tiles : sequence of TileInput
    grid : GlobalGrid
    decimate : int, optional
        Decimation factor of the measurement grid (>= 1).  Default: ``clip(min_side // 256, 1, 4)`` where
        ``min_side`` is the smallest tile side (4 for Seestar tiles of 1080 x 1920).
    block : int, optional
        Side, in decimated pixels, of the blocks whose medians are the samples.  Default:
        ``clip(min_side // (32 * decimate), 2, 8)``, i.e. blocks of ~1/32 of a tile side (8, i.e. 32 full
        pixels, for Seestar tiles), so that an overlap of a few tenths of a tile gives hundreds of samples.
    stars : bool
        Also measure star samples (``star_i``, ``star_j``, ``star_err``, ``star_x``, ``star_y``); False leaves
        them empty, and the gains then come from the diffuse structure.

    Returns
    -------
    list of tile_harmony.TileOverlap
        ``i < j`` are indices in ``tiles``; ``x``, ``y`` full-resolution global pixel coordinates (0-based,
        x = column); values ``(N, C)``; star fluxes ``(M, C)``.  Pairs without common valid pixels are absent.

    Raises
    ------
    ValueError
        ``decimate`` or ``block`` < 1.
    fits_io.FitsInputError
        A tile cannot be read.
    """
    decimate, block = _overlap_sampling(tiles, decimate, block)
    if decimate < 1 or block < 1:
        raise ValueError(f"decimate and block must be >= 1, got {decimate} and {block}")
    small_grid = grid.decimated(decimate)
    # two tiles at a time on two cores: reading, star photometry and reprojection release the GIL
    views = parallel_map(lambda t: _tile_view(t, grid, small_grid, decimate, stars), tiles)
    overlaps = []
    for i in range(len(views)):
        for j in range(i + 1, len(views)):
            overlap = _pair_overlap(views[i], views[j], i, j, decimate, block)
            if overlap is not None:
                overlaps.append(overlap)
    log.info("overlap measurement: %d tiles, %d overlapping pairs (decimate=%d, block=%d), star samples: %s",
             len(tiles), len(overlaps), decimate, block,
             f"median {np.median([o.n_stars for o in overlaps]):.0f} per pair" if stars and overlaps else "off")
    return overlaps


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _overlap_sampling(tiles, decimate, block) -> tuple[int, int]:
    min_side = min(min(t.shape) for t in tiles) if tiles else 256
    if decimate is None:
        decimate = int(np.clip(min_side // 256, 1, 4))
    if block is None:
        block = int(np.clip(min_side // (32 * decimate), 2, 8))
    return int(decimate), int(block)


@dataclass(frozen=True, eq=False)
class _DecimatedView:
    """A tile on the decimated grid: ``window`` (y0, y1, x0, x1), ``values`` (h, w, C), ``valid`` (h, w), and its
    star catalogue in global pixels (``star_photometry.StarFluxes``, None when not measured)."""

    window: tuple
    values: np.ndarray
    valid: np.ndarray
    stars: object = None


def _tile_view(tile: TileInput, grid: GlobalGrid, small_grid: GlobalGrid, factor: int, stars: bool):
    """Read a tile once: its star catalogue (full resolution, global pixels) and its decimated view."""
    pixels = read_tile(tile)
    kept = pixels.kept()
    catalogue = _tile_stars(pixels.values, kept, pixels.wcs, grid) if stars else None
    mean, full = block_mean(pixels.values, kept, factor)
    small_wcs = decimate_wcs(pixels.wcs, factor)
    del pixels, kept  # the full-resolution tile is not needed for the decimated view
    return _decimated_view(mean, full, small_wcs, small_grid, catalogue)


def _decimated_view(mean: np.ndarray, full: np.ndarray, small_wcs: WCS, small_grid: GlobalGrid, catalogue):
    """The block means of a tile (valid where the block is fully kept) reprojected onto the decimated grid."""
    window = footprint_window(small_wcs, mean.shape[:2], small_grid, margin=1)
    if window is None:
        return None
    valid = full.astype(np.float32)
    planes = np.concatenate([mean * valid[..., None], valid[..., None]], axis=2)
    out = reproject_planes(planes, small_wcs, small_grid, window, "interp")
    ok = out[..., -1] > 0.999
    vals = out[..., :-1] / np.where(ok, out[..., -1], 1.0)[..., None]
    vals[~ok] = 0.0
    return _DecimatedView(window, np.ascontiguousarray(vals, dtype=np.float32), ok, catalogue)


def _tile_stars(values: np.ndarray, kept: np.ndarray, tile_wcs: WCS, grid: GlobalGrid):
    """Star photometry of a tile on its kept pixels, positions mapped to global pixels."""
    catalogue = star_photometry.measure_stars(values, kept)
    if catalogue.n_stars:
        gx, gy = pixel_to_pixel(tile_wcs, grid.wcs, catalogue.x, catalogue.y)
        catalogue = replace(catalogue, x=np.asarray(gx, dtype=np.float64), y=np.asarray(gy, dtype=np.float64))
    log.debug("overlap measurement: %d stars measured, FWHM %.2f px", catalogue.n_stars, catalogue.fwhm)
    return catalogue


def _pair_overlap(a, b, i: int, j: int, factor: int, block: int):
    """The :class:`harmony.TileOverlap` of two decimated views (samples in full-resolution global pixels), or
    None when they share no valid pixel or no sample."""
    if a is None or b is None:
        return None
    y0, x0 = max(a.window[0], b.window[0]), max(a.window[2], b.window[2])
    y1, x1 = min(a.window[1], b.window[1]), min(a.window[3], b.window[3])
    if y1 <= y0 or x1 <= x0:
        return None
    sa = (slice(y0 - a.window[0], y1 - a.window[0]), slice(x0 - a.window[2], x1 - a.window[2]))
    sb = (slice(y0 - b.window[0], y1 - b.window[0]), slice(x0 - b.window[2], x1 - b.window[2]))
    va, vb = a.valid[sa], b.valid[sb]
    if not np.any(va & vb):
        return None
    xs, ys, vi, vj = harmony.sample_overlap(a.values[sa], b.values[sb], va, vb, block=block, origin=(y0, x0))
    if len(xs) == 0:
        return None
    gx = np.asarray(xs, dtype=np.float64) * factor + (factor - 1) / 2.0  # decimated -> full-resolution pixels
    gy = np.asarray(ys, dtype=np.float64) * factor + (factor - 1) / 2.0
    star_fields: dict[str, Any] = {}  # TileOverlap's star_* keyword arguments
    if a.stars is not None and b.stars is not None:
        st = star_photometry.match_star_samples(a.stars, b.stars)
        star_fields = dict(star_i=st.flux_i, star_j=st.flux_j, star_err=st.err, star_x=st.x, star_y=st.y)
    return harmony.TileOverlap(i, j, gx, gy, np.asarray(vi), np.asarray(vj), **star_fields)
