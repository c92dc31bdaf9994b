"""Mosaic assembly: the global grid (Phase 4), overlap measurement for the inter-tile harmony (Phase 4.5),
alpha-weighted co-addition of the master tiles (Phase 5) and the mosaic outputs (Phase 6).

The co-addition streams, tile by tile, in the spirit of ``reproject.mosaicking.reproject_and_coadd``: one tile is
read, reprojected onto the sub-window of the global grid that bounds its footprint and added to two accumulators,
``sum(w * v)`` (``H x W x C``) and ``sum(w)`` (``H x W``), which are RAM arrays or, for large mosaics, ``np.memmap``
files.  Peak memory is one tile (and its reprojected window) plus the accumulators, whatever the number of tiles.

Weights.  A tile's weight map is its ``ALPHA`` extension (ones when absent) times a per-tile weight (its frame count
``NFRAMES`` by default: a tile stacked from twice as many frames has about half the variance), and zero where the
data are not finite.  The alpha is used exactly once, as this weight: the tile data are never multiplied by it
beforehand (no double mask).  Data and weight are reprojected as the pair ``(w * v, w)`` ("premultiplied", as in
compositing), so the interpolated value at a pixel is ``interp(w v) / interp(w)``: pixels of weight zero (alpha-0
border, NaN) never leak into their neighbours through the interpolation kernel, and a constant tile of alpha 0.5
still reads as its constant.

Resampling.  The default (``method="interp"``) is bilinear interpolation by a numba kernel that resamples every
channel and the weight in one pass; the tile position of each mosaic pixel comes from astropy's exact WCS transform on
a coarse grid of nodes, bilinearly interpolated in between with a checked error below 0.01 px (the approach SWarp
takes).  It matches ``reproject_interp`` to 1e-5 and is several times faster; ``reproject_adaptive`` is available for
tiles whose pixel scale differs from the grid's.  reproject is imported only where it is used (the global grid, the
reproject methods), because it pulls in dask.

Tile indices.  Everywhere below (overlaps, corrections, seam steps) a tile is designated by its index in the
``tiles`` list, which is also its ``tile_id`` when the list comes from :func:`discover_master_tiles`.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Sequence

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS, Sip
from astropy.wcs.utils import pixel_to_pixel, proj_plane_pixel_scales
from numba import njit, prange
from scipy import ndimage

from zemosaic.io import fits as fits_io
from zemosaic.progress import ProgressCallback, emit

__all__ = [
    "TileInputError",
    "TileInput",
    "RejectedTile",
    "GlobalGrid",
    "AssemblyTimings",
    "MosaicResult",
    "MosaicOutputs",
    "SeamStep",
    "FITS_SUFFIXES",
    "discover_master_tiles",
    "tile_input_from_file",
    "compute_global_grid",
    "measure_tile_overlaps",
    "assemble_mosaic",
    "write_mosaic_outputs",
    "seam_steps",
    "seam_step_sigma",
]

log = logging.getLogger(__name__)

FITS_SUFFIXES = (".fits", ".fit", ".fts")
_METHODS = ("interp", "adaptive", "reproject_interp")
_TILE_WEIGHTS = ("frames", "none")
_KEEP_ALPHA = 0.5


class TileInputError(fits_io.FitsInputError):
    """A file cannot be used as a master tile (integer raw frame, ALPHA of the wrong shape, bad NFRAMES...).
    The message starts with the file path."""


@dataclass(frozen=True)
class TileInput:
    """A master tile known from its headers (pixels not loaded).

    Attributes
    ----------
    tile_id : int
        Index of the tile in the run (and in the ``tiles`` list handed to the functions of this module).
    path : Path
        The FITS file (never modified).
    wcs : astropy.wcs.WCS
        2D celestial WCS of the image.
    shape : tuple of int
        ``(H, W)``.
    n_channels : int
        1 (mono) or 3 (RGB).
    n_frames : int
        Number of frames stacked into the tile (header ``NFRAMES``; 1 when absent).
    has_alpha : bool
        Whether the file carries an ``ALPHA`` extension.
    """

    tile_id: int
    path: Path
    wcs: WCS = field(repr=False, compare=False)
    shape: tuple[int, int]
    n_channels: int
    n_frames: int = 1
    has_alpha: bool = False


@dataclass(frozen=True)
class RejectedTile:
    """A file of the master-tile folder that was not used, with a one-line reason (starting with the path)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class GlobalGrid:
    """The mosaic's pixel grid: a 2D celestial TAN ``wcs`` and the array ``shape`` ``(H, W)``."""

    wcs: WCS = field(repr=False, compare=False)
    shape: tuple[int, int]

    @property
    def pixel_scale_arcsec(self) -> float:
        """Pixel scale (geometric mean of both axes) in arcseconds."""
        return _pixel_scale_deg(self.wcs) * 3600.0


@dataclass(frozen=True)
class AssemblyTimings:
    """Seconds spent in each part of :func:`assemble_mosaic`."""

    read_s: float
    reproject_s: float
    accumulate_s: float
    finalize_s: float
    total_s: float


@dataclass(frozen=True, eq=False)
class MosaicResult:
    """The co-added mosaic.

    Attributes
    ----------
    data : numpy.ndarray
        float32 ``H x W`` or ``H x W x 3``; NaN where no tile contributes.  May be an ``np.memmap`` (whose file is
        already unlinked on POSIX) when the accumulators were memory-mapped.
    weight : numpy.ndarray
        float32 ``H x W``: sum of the reprojected weights (alpha x per-tile weight); 0 where nothing contributes.
    grid : GlobalGrid
    n_tiles : int
        Tiles that contributed at least one pixel.
    timings : AssemblyTimings
    """

    data: np.ndarray
    weight: np.ndarray
    grid: GlobalGrid
    n_tiles: int
    timings: AssemblyTimings


@dataclass(frozen=True)
class MosaicOutputs:
    """Files written by :func:`write_mosaic_outputs`."""

    fits: Path
    preview: Optional[Path] = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return tuple(p for p in (self.fits, self.preview) if p is not None)


@dataclass(frozen=True)
class SeamStep:
    """Median step of the mosaic across the edge of tile ``i`` where tile ``j`` continues it, in data units
    (inside ``i`` minus outside, channel ``channel``), measured on ``n_pairs`` mirrored pixel pairs."""

    i: int
    j: int
    channel: int
    step: float
    n_pairs: int


# --------------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------------


def discover_master_tiles(folder: str | os.PathLike) -> tuple[list[TileInput], list[RejectedTile]]:
    """Find the usable master tiles of a folder, reading headers only.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding master tiles: ours (``master_tile_NNN.fits`` with ALPHA / COVERAGE) or any float FITS image
        (``H x W`` or 3 colour planes) with a celestial WCS.  Files whose suffix is not one of
        :data:`FITS_SUFFIXES` (case-insensitive) and hidden files are ignored; subfolders are not searched.

    Returns
    -------
    tiles : list of TileInput
        In file-name order; ``tile_id`` is the index in this list.
    rejected : list of RejectedTile
        Every FITS-named file that cannot be used, with a one-line reason.

    Raises
    ------
    NotADirectoryError
        ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a directory")
    tiles: list[TileInput] = []
    rejected: list[RejectedTile] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in FITS_SUFFIXES or not path.is_file():
            continue
        try:
            tiles.append(tile_input_from_file(path, len(tiles)))
        except fits_io.FitsInputError as exc:
            log.warning("master tile rejected: %s", exc)
            rejected.append(RejectedTile(path, str(exc)))
    log.info("master tiles in %s: %d usable, %d rejected", folder, len(tiles), len(rejected))
    return tiles, rejected


def tile_input_from_file(path: str | os.PathLike, tile_id: int) -> TileInput:
    """Describe one master-tile file from its headers (pixels not loaded).

    Parameters
    ----------
    path : str or os.PathLike
        FITS file.  Never modified.
    tile_id : int
        Index given to the tile.

    Returns
    -------
    TileInput

    Raises
    ------
    fits_io.FitsInputError
        Not FITS, truncated, no image, unsupported layout or no celestial WCS (the subclasses of
        :mod:`fits_io`), or :class:`TileInputError`: integer or Bayer data (a raw frame, not a tile), an ALPHA
        extension whose size differs from the image, a bad ``NFRAMES``.
    """
    path = Path(path)
    info = fits_io.read_frame_info(path)
    bitpix = int(info.header.get("BITPIX", 0))
    if bitpix > 0 or info.bayer_pattern is not None:
        raise TileInputError(f"{path}: integer or Bayer data (BITPIX={bitpix}): a raw frame, not a master tile")
    has_alpha = _check_alpha_extension(path, info.shape)
    return TileInput(
        tile_id=int(tile_id),
        path=path,
        wcs=info.wcs,
        shape=tuple(int(s) for s in info.shape),
        n_channels=int(info.n_channels),
        n_frames=_n_frames(info.header, path),
        has_alpha=has_alpha,
    )


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


def measure_tile_overlaps(tiles: Sequence[TileInput], grid: GlobalGrid, *, decimate: Optional[int] = None,
                          block: Optional[int] = None, stars: bool = True) -> list:
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

    Memory: one full-resolution tile at a time (with a few full-size float32 planes for the star detection) plus
    the decimated reprojections of all tiles (``1 / decimate**2`` of the tiles' area, e.g. 1.6 MB for a
    1080 x 1920 RGB tile at ``decimate=4``) and the star catalogues (a few kB per tile).

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
    from zemosaic.mosaic import star_photometry  # Phase 4.5 maths; imported here so Phase 5 does not depend on them
    from zemosaic.mosaic import harmony as tile_harmony

    decimate, block = _overlap_sampling(tiles, decimate, block)
    if decimate < 1 or block < 1:
        raise ValueError(f"decimate and block must be >= 1, got {decimate} and {block}")
    small_grid = GlobalGrid(_decimate_wcs(grid.wcs, decimate), _ceil_div_shape(grid.shape, decimate))
    views = [_tile_view(t, grid, small_grid, decimate, stars, star_photometry) for t in tiles]
    overlaps = []
    for i in range(len(views)):
        for j in range(i + 1, len(views)):
            overlap = _pair_overlap(views[i], views[j], i, j, decimate, block, tile_harmony, star_photometry)
            if overlap is not None:
                overlaps.append(overlap)
    log.info("overlap measurement: %d tiles, %d overlapping pairs (decimate=%d, block=%d), star samples: %s",
             len(tiles), len(overlaps), decimate, block,
             f"median {np.median([o.n_stars for o in overlaps]):.0f} per pair" if stars and overlaps else "off")
    return overlaps


def assemble_mosaic(
    tiles: Sequence[TileInput],
    grid: GlobalGrid,
    *,
    corrections: Optional[Sequence] = None,
    method: str = "interp",
    tile_weight: str = "frames",
    memmap_dir: str | os.PathLike | None = None,
    memmap_threshold_mb: float = 1024,
    progress_callback: Optional[ProgressCallback] = None,
) -> MosaicResult:
    """Co-add the master tiles on the global grid as an alpha-weighted mean, one tile at a time (Phase 5).

    For each tile: weight ``w = ALPHA (ones if absent) x tile weight``, zero where the data are not finite; the pair
    ``(w * v, w)`` is reprojected onto the window of the grid bounding the tile's footprint; the reprojected value
    ``v = interp(w v) / interp(w)`` is corrected (``corrections[k].apply(v, x, y)``, global pixel coordinates) and
    ``w * v`` and ``w`` are added to the accumulators.  Finally ``data = sum(w v) / sum(w)``, NaN where
    ``sum(w) == 0``.  The alpha is a weight only, used once (module docstring).

    Parameters
    ----------
    tiles : sequence of TileInput
        All with the same number of channels.
    grid : GlobalGrid
    corrections : sequence of tile_harmony.TileCorrection, optional
        One per tile (same order), from :func:`tile_harmony.solve_tile_harmony`; None for no correction.
    method : {"interp", "adaptive", "reproject_interp"}
        ``"interp"`` (default): bilinear interpolation, the same maths as ``reproject_interp(order="bilinear")``
        (the tests check they agree to 1e-5), done by a numba kernel that resamples all channels and the weight in
        one pass; the tile pixel of each mosaic pixel is computed exactly by astropy on nodes every 32 px (or fewer,
        until bilinear interpolation of these positions is within 0.01 px) and interpolated in between, as SWarp
        does.  That is 3-4x faster than ``reproject_interp``, whose time goes into per-pixel WCS transforms.
        The tiles and the grid share the same pixel scale, so there is no downsampling to anti-alias; bilinear
        keeps star centroids (< 0.1 px) and flux (the interpolation weights sum to 1).
        ``"adaptive"``: ``reproject_adaptive`` (anti-aliased, Jacobian-aware), for tiles whose scale differs a lot
        from the grid's; several times slower.  ``"reproject_interp"``: reproject's own bilinear (reference).
    tile_weight : {"frames", "none"}
        Per-tile factor of the weight: ``n_frames`` (inverse-variance-like for tiles of equal exposures) or 1.
    memmap_dir : str or os.PathLike, optional
        Folder for memory-mapped accumulators (default: the system temp folder).
    memmap_threshold_mb : float
        Accumulators larger than this (MB, both together) are memory-mapped files; smaller ones live in RAM.
    progress_callback : callable, optional
        Receives ``ProgressEvent("assemble", done, total, message)`` after each tile.

    Returns
    -------
    MosaicResult

    Raises
    ------
    ValueError
        No tiles, mixed channel counts, unknown ``method`` / ``tile_weight``, ``corrections`` of the wrong length.
    fits_io.FitsInputError
        A tile cannot be read or has no WCS.
    """
    n_channels = _check_assembly_args(tiles, corrections, method, tile_weight)
    t_start = time.perf_counter()
    sum_wv, sum_w = _allocate_accumulators(grid.shape, n_channels, memmap_dir, memmap_threshold_mb)
    clock = {"read": 0.0, "reproject": 0.0, "accumulate": 0.0}
    contributed = 0
    emit(progress_callback, "assemble", 0, len(tiles), "co-adding master tiles")
    for k, tile in enumerate(tiles):
        correction = corrections[k] if corrections is not None else None
        if _coadd_tile(tile, grid, sum_wv, sum_w, correction, method, tile_weight, clock):
            contributed += 1
        emit(progress_callback, "assemble", k + 1, len(tiles), f"tile {k + 1}/{len(tiles)} {tile.path.name}")
    t_fin = time.perf_counter()
    data = _normalise(sum_wv, sum_w)
    finalize = time.perf_counter() - t_fin
    timings = AssemblyTimings(clock["read"], clock["reproject"], clock["accumulate"], finalize,
                              time.perf_counter() - t_start)
    log.info("assembly: %d/%d tiles contributed, %.1f%% of the grid covered, %.2f s (read %.2f, reproject %.2f, "
             "accumulate %.2f, finalise %.2f)", contributed, len(tiles), 100.0 * float(np.mean(sum_w > 0)),
             timings.total_s, timings.read_s, timings.reproject_s, timings.accumulate_s, timings.finalize_s)
    return MosaicResult(data=data, weight=sum_w, grid=grid, n_tiles=contributed, timings=timings)


def write_mosaic_outputs(result: MosaicResult, out_dir: str | os.PathLike, *, write_preview: bool = True,
                         header_extra: Optional[Mapping] = None) -> MosaicOutputs:
    """Write ``OUT/mosaic.fits`` (float32 ``3 x H x W`` or ``H x W`` + WCS, extension ``WEIGHT``) and
    ``OUT/mosaic_preview.png`` (stretched, transparent where the weight is 0), each atomically.

    Parameters
    ----------
    result : MosaicResult
    out_dir : str or os.PathLike
        Output folder (created if missing).
    write_preview : bool
        Also write the PNG preview.
    header_extra : Mapping, optional
        Extra primary-header keywords (``key -> value`` or ``key -> (value, comment)``).

    Returns
    -------
    MosaicOutputs
    """
    out_dir = Path(out_dir)
    extra = {"NTILES": (int(result.n_tiles), "master tiles co-added"),
             "BUNIT": ("ADU", "weighted mean of the master tiles")}
    extra.update(dict(header_extra or {}))
    fits_path = fits_io.write_fits_image(out_dir / "mosaic.fits", result.data, wcs=result.grid.wcs,
                                         header_extra=extra, extensions={"WEIGHT": result.weight})
    preview_path = None
    if write_preview:
        from zemosaic.io import preview  # PIL only needed when a preview is written

        preview_path = preview.write_preview_png(out_dir / "mosaic_preview.png", result.data,
                                                 alpha=(result.weight > 0).astype(np.float32))
    log.info("mosaic written: %s%s", fits_path, f", {preview_path}" if preview_path else "")
    return MosaicOutputs(fits=fits_path, preview=preview_path)


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
    for i, (win_i, mask_i) in enumerate(kept):
        if win_i is None:
            continue
        p, q, depth = _mirror_pairs(win_i, mask_i, band, grid.shape)
        inside_i = _mask_at(win_i, mask_i, q)
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
# Tiles and WCS helpers
# --------------------------------------------------------------------------------------------------------------------


def _check_alpha_extension(path: Path, shape: tuple[int, int]) -> bool:
    """Whether ``path`` has an ALPHA extension of the image's size (headers only); TileInputError if mis-sized."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
            for hdu in hdul[1:]:
                if str(hdu.header.get("EXTNAME", "")).strip().upper() != "ALPHA":
                    continue
                hdr = hdu.header
                alpha_hw = (int(hdr.get("NAXIS2", 0)), int(hdr.get("NAXIS1", 0)))
                if alpha_hw != tuple(shape):
                    raise TileInputError(f"{path}: ALPHA extension is {alpha_hw[0]}x{alpha_hw[1]}, "
                                         f"image is {shape[0]}x{shape[1]}")
                return True
    return False


def _n_frames(header: fits.Header, path: Path) -> int:
    value = header.get("NFRAMES", 1)
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise TileInputError(f"{path}: NFRAMES={value!r} is not an integer") from None
    if n < 1:
        raise TileInputError(f"{path}: NFRAMES={n} must be >= 1")
    return n


def _pixel_scale_deg(wcs: WCS) -> float:
    scales = proj_plane_pixel_scales(wcs.celestial)
    return float(np.sqrt(abs(scales[0] * scales[1])))


def _decimate_wcs(wcs: WCS, factor: int) -> WCS:
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


def _decimate_sip(sip: Sip, factor: int, crpix) -> Sip:
    """SIP in decimated pixels: with ``u = factor * u'``, a full-pixel distortion ``f(u) = sum A_pq u^p v^q`` is
    ``f / factor = sum A_pq factor^(p+q-1) u'^p v'^q`` decimated pixels (same for the inverse terms)."""

    def scaled(coeffs):
        if coeffs is None:
            return None
        p, q = np.indices(coeffs.shape)
        return coeffs * float(factor) ** (p + q - 1)

    return Sip(scaled(sip.a), scaled(sip.b), scaled(sip.ap), scaled(sip.bp), crpix)


def _ceil_div_shape(shape, factor: int) -> tuple[int, int]:
    return (-(-shape[0] // factor), -(-shape[1] // factor))


def _footprint_window(tile_wcs: WCS, tile_shape, grid: GlobalGrid, margin: int = 2):
    """``(y0, y1, x0, x1)`` bounding the tile's footprint on the grid (+ margin), clipped; None if off the grid."""
    h, w = tile_shape
    n = 33
    xs = np.concatenate([np.linspace(-0.5, w - 0.5, n), np.full(n, w - 0.5), np.linspace(w - 0.5, -0.5, n),
                         np.full(n, -0.5)])
    ys = np.concatenate([np.full(n, -0.5), np.linspace(-0.5, h - 0.5, n), np.full(n, h - 0.5),
                         np.linspace(h - 0.5, -0.5, n)])
    gx, gy = pixel_to_pixel(tile_wcs, grid.wcs, xs, ys)
    if not (np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))):
        raise ValueError("tile footprint cannot be projected onto the global grid")
    y0 = max(int(np.floor(gy.min())) - margin, 0)
    y1 = min(int(np.ceil(gy.max())) + margin + 1, grid.shape[0])
    x0 = max(int(np.floor(gx.min())) - margin, 0)
    x1 = min(int(np.ceil(gx.max())) + margin + 1, grid.shape[1])
    if y1 <= y0 or x1 <= x0:
        return None
    return y0, y1, x0, x1


def _window_wcs(wcs: WCS, window) -> WCS:
    y0, y1, x0, x1 = window
    sub = wcs.slice((slice(y0, y1), slice(x0, x1)))
    sub.pixel_shape = (x1 - x0, y1 - y0)
    return sub


def _read_tile(tile: TileInput):
    """Pixels of a tile: ``(values HxWxC float32, alpha HxW float32 in [0, 1] (ones if absent), wcs)``."""
    image = fits_io.read_fits_image(tile.path)
    if image.wcs is None:
        raise fits_io.NoCelestialWcsError(f"{tile.path}: no celestial WCS")
    values = image.data if image.data.ndim == 3 else image.data[..., None]
    alpha = image.extensions.get("ALPHA")
    if alpha is None or alpha.shape != values.shape[:2]:
        if alpha is not None:
            log.warning("%s: ALPHA of shape %s ignored (image %s)", tile.path, alpha.shape, values.shape[:2])
        alpha = np.ones(values.shape[:2], dtype=np.float32)
    alpha = np.clip(np.nan_to_num(alpha.astype(np.float32, copy=False), nan=0.0), 0.0, 1.0)
    return values, alpha, image.wcs


def _reproject_planes(planes: np.ndarray, tile_wcs: WCS, grid: GlobalGrid, window, method: str) -> np.ndarray:
    """Reproject ``(H, W, P)`` planes onto the grid window -> ``(h, w, P)`` float32, 0 outside the tile."""
    if method == "interp":
        node_x, node_y, step = _pixel_map(grid.wcs, tile_wcs, window)
        out = np.empty((window[1] - window[0], window[3] - window[2], planes.shape[2]), dtype=np.float32)
        _bilinear_kernel(np.ascontiguousarray(planes, dtype=np.float32), node_x, node_y, float(step), out)
        return out
    from reproject import reproject_adaptive, reproject_interp  # imported on demand: reproject pulls in dask

    y0, y1, x0, x1 = window
    out_wcs = _window_wcs(grid.wcs, window)
    chw = np.ascontiguousarray(np.moveaxis(planes, 2, 0))
    shape_out = (chw.shape[0], y1 - y0, x1 - x0)
    if method == "reproject_interp":
        out = reproject_interp((chw, tile_wcs), out_wcs, shape_out=shape_out, order="bilinear",
                               roundtrip_coords=False, return_footprint=False)
    else:
        out = reproject_adaptive((chw, tile_wcs), out_wcs, shape_out=shape_out, conserve_flux=False,
                                 kernel="gaussian", boundary_mode="strict", return_footprint=False)
    out = np.ascontiguousarray(np.moveaxis(np.asarray(out, dtype=np.float32), 0, 2))
    np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return out


def _pixel_map(grid_wcs: WCS, tile_wcs: WCS, window, step: int = 32, tolerance_px: float = 0.01):
    """Tile pixel coordinates of the window's pixels, exact (astropy) on nodes every ``step`` px, to be bilinearly
    interpolated in between.  The interpolation error is checked at the cell centres (where it is largest) and the
    step halved until it is below ``tolerance_px`` (step 1 = exact everywhere).  Returns ``(node_x, node_y, step)``,
    node arrays of shape ``(ny, nx)`` with ``ny, nx >= 2``."""
    y0, y1, x0, x1 = window
    while True:
        nx = max(2, -(-(x1 - x0 - 1) // step) + 1)
        ny = max(2, -(-(y1 - y0 - 1) // step) + 1)
        gx, gy = np.meshgrid(x0 + step * np.arange(nx, dtype=np.float64), y0 + step * np.arange(ny, dtype=np.float64))
        node_x, node_y = pixel_to_pixel(grid_wcs, tile_wcs, gx, gy)
        if step == 1:
            return node_x, node_y, step
        cx, cy = pixel_to_pixel(grid_wcs, tile_wcs, gx[:-1, :-1] + step / 2, gy[:-1, :-1] + step / 2)
        est_x = 0.25 * (node_x[:-1, :-1] + node_x[1:, :-1] + node_x[:-1, 1:] + node_x[1:, 1:])
        est_y = 0.25 * (node_y[:-1, :-1] + node_y[1:, :-1] + node_y[:-1, 1:] + node_y[1:, 1:])
        err = np.hypot(est_x - cx, est_y - cy)
        err = err[np.isfinite(err)]
        if err.size == 0 or err.max() <= tolerance_px:
            return node_x, node_y, step
        step //= 2


@njit(parallel=True, cache=True)
def _bilinear_kernel(src, node_x, node_y, step, out):  # pragma: no cover - compiled
    """Bilinear resampling of all planes of ``src (H, W, P)`` into ``out (h, w, P)``; the source position of each
    output pixel is interpolated from the node maps.  Source pixels outside the image count as 0 (premultiplied
    planes: zero weight), so positions up to one pixel beyond the edge get a partial weight, never a bias."""
    h_src, w_src, n_planes = src.shape
    h_out, w_out = out.shape[0], out.shape[1]
    ny, nx = node_x.shape
    inv = 1.0 / step
    for r in prange(h_out):
        gy = r * inv
        iy = min(int(gy), ny - 2)
        ty = gy - iy
        for c in range(w_out):
            gx = c * inv
            ix = min(int(gx), nx - 2)
            tx = gx - ix
            sx = (1 - ty) * ((1 - tx) * node_x[iy, ix] + tx * node_x[iy, ix + 1]) + \
                ty * ((1 - tx) * node_x[iy + 1, ix] + tx * node_x[iy + 1, ix + 1])
            sy = (1 - ty) * ((1 - tx) * node_y[iy, ix] + tx * node_y[iy, ix + 1]) + \
                ty * ((1 - tx) * node_y[iy + 1, ix] + tx * node_y[iy + 1, ix + 1])
            for k in range(n_planes):
                out[r, c, k] = 0.0
            if not (sx > -1.0 and sx < w_src and sy > -1.0 and sy < h_src):  # also False for NaN
                continue
            xa = int(np.floor(sx))
            ya = int(np.floor(sy))
            fx = sx - xa
            fy = sy - ya
            for dy in range(2):
                yy = ya + dy
                if yy < 0 or yy >= h_src:
                    continue
                wy = fy if dy == 1 else 1.0 - fy
                for dx in range(2):
                    xx = xa + dx
                    if xx < 0 or xx >= w_src:
                        continue
                    wgt = wy * (fx if dx == 1 else 1.0 - fx)
                    for k in range(n_planes):
                        out[r, c, k] += wgt * src[yy, xx, k]


# --------------------------------------------------------------------------------------------------------------------
# Phase 5 helpers
# --------------------------------------------------------------------------------------------------------------------


def _check_assembly_args(tiles, corrections, method, tile_weight) -> int:
    if not tiles:
        raise ValueError("assemble_mosaic: no tiles")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if tile_weight not in _TILE_WEIGHTS:
        raise ValueError(f"tile_weight must be one of {_TILE_WEIGHTS}, got {tile_weight!r}")
    channels = {t.n_channels for t in tiles}
    if len(channels) != 1:
        raise ValueError(f"tiles mix channel counts {sorted(channels)}: cannot co-add mono and colour tiles")
    if corrections is not None and len(corrections) != len(tiles):
        raise ValueError(f"{len(corrections)} corrections for {len(tiles)} tiles")
    return channels.pop()


def _allocate_accumulators(shape, n_channels, memmap_dir, threshold_mb):
    h, w = shape
    nbytes = h * w * (n_channels + 1) * 4
    if nbytes / 2**20 <= threshold_mb:
        log.debug("assembly accumulators in RAM (%.1f MB)", nbytes / 2**20)
        return np.zeros((h, w, n_channels), np.float32), np.zeros((h, w), np.float32)
    log.info("assembly accumulators memory-mapped in %s (%.1f MB)", memmap_dir or tempfile.gettempdir(),
             nbytes / 2**20)
    return _memmap_zeros((h, w, n_channels), memmap_dir), _memmap_zeros((h, w), memmap_dir)


def _memmap_zeros(shape, memmap_dir) -> np.memmap:
    """A zero-filled float32 memmap in a fresh temp file, unlinked at once where the OS allows it (POSIX): the
    mapping stays valid and the disk space is freed when the array is released."""
    if memmap_dir is not None:
        Path(memmap_dir).mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="zemosaic_acc_", suffix=".f32", dir=memmap_dir)
    os.close(fd)
    arr = np.memmap(name, dtype=np.float32, mode="w+", shape=shape)
    try:
        os.unlink(name)
    except OSError as exc:  # Windows: an open mapping cannot be unlinked; the temp file stays in memmap_dir
        log.debug("memmap file %s kept: %s", name, exc)
    return arr


def _tile_weight_map(values: np.ndarray, alpha: np.ndarray, factor: float) -> np.ndarray:
    weight = alpha * np.float32(factor)
    weight[~np.all(np.isfinite(values), axis=2)] = 0.0
    return weight


def _coadd_tile(tile, grid, sum_wv, sum_w, correction, method, tile_weight, clock) -> bool:
    """Read, reproject and accumulate one tile; False if it lies off the grid or has no weight there."""
    t0 = time.perf_counter()
    values, alpha, tile_wcs = _read_tile(tile)
    factor = tile.n_frames if tile_weight == "frames" else 1.0
    weight = _tile_weight_map(values, alpha, factor)
    window = _footprint_window(tile_wcs, values.shape[:2], grid)
    if window is None:
        log.warning("%s: tile lies outside the global grid, skipped", tile.path)
        return False
    planes = np.empty(values.shape[:2] + (values.shape[2] + 1,), dtype=np.float32)
    np.multiply(values, weight[..., None], out=planes[..., :-1])
    np.nan_to_num(planes[..., :-1], copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    planes[..., -1] = weight
    del values, alpha, weight
    t1 = time.perf_counter()
    out = _reproject_planes(planes, tile_wcs, grid, window, method)
    del planes
    t2 = time.perf_counter()
    w_out = out[..., -1]
    empty = w_out < 1e-6 * factor  # interpolation round-off around weight-0 areas
    w_out[empty] = 0.0
    wv = out[..., :-1]
    wv[empty] = 0.0
    if correction is not None:
        wv = _apply_correction(wv, w_out, correction, window)
    y0, y1, x0, x1 = window
    sum_wv[y0:y1, x0:x1] += wv
    sum_w[y0:y1, x0:x1] += w_out
    t3 = time.perf_counter()
    clock["read"] += t1 - t0
    clock["reproject"] += t2 - t1
    clock["accumulate"] += t3 - t2
    return bool(np.any(w_out > 0))


def _apply_correction(wv: np.ndarray, w_out: np.ndarray, correction, window) -> np.ndarray:
    """Corrected ``w * v`` ``(h, w, C)``: ``v = wv / w`` is corrected at global pixel coordinates."""
    y0, y1, x0, x1 = window
    covered = w_out > 0
    values = wv / np.where(covered, w_out, 1.0)[..., None]
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    corrected = np.asarray(correction.apply(values, xs, ys), dtype=np.float32)
    return corrected * w_out[..., None]


def _normalise(sum_wv: np.ndarray, sum_w: np.ndarray) -> np.ndarray:
    """``sum_wv / sum_w`` in place (NaN where ``sum_w == 0``), mono squeezed to ``H x W``; row-chunked so that
    memmapped accumulators are never loaded whole."""
    rows = max(1, (64 * 2**20) // max(1, sum_wv.shape[1] * sum_wv.shape[2] * 4))
    for r0 in range(0, sum_wv.shape[0], rows):
        w = sum_w[r0:r0 + rows, :, None]
        chunk = sum_wv[r0:r0 + rows]
        np.divide(chunk, w, out=chunk, where=w > 0)
        chunk[np.broadcast_to(w <= 0, chunk.shape)] = np.nan
    return sum_wv[..., 0] if sum_wv.shape[2] == 1 else sum_wv


# --------------------------------------------------------------------------------------------------------------------
# Phase 4.5 helpers
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


def _tile_view(tile: TileInput, grid: GlobalGrid, small_grid: GlobalGrid, factor: int, stars: bool, photometry):
    """Read a tile once: its star catalogue (full resolution, global pixels) and its decimated view."""
    values, alpha, tile_wcs = _read_tile(tile)
    kept = (alpha > _KEEP_ALPHA) & np.all(np.isfinite(values), axis=2)
    catalogue = _tile_stars(values, kept, tile_wcs, grid, photometry) if stars else None
    mean, full = _block_mean(values, kept, factor)
    del values, alpha, kept
    small_wcs = _decimate_wcs(tile_wcs, factor)
    window = _footprint_window(small_wcs, mean.shape[:2], small_grid, margin=1)
    if window is None:
        return None
    valid = full.astype(np.float32)
    planes = np.concatenate([mean * valid[..., None], valid[..., None]], axis=2)
    out = _reproject_planes(planes, small_wcs, small_grid, window, "interp")
    ok = out[..., -1] > 0.999
    vals = out[..., :-1] / np.where(ok, out[..., -1], 1.0)[..., None]
    vals[~ok] = 0.0
    return _DecimatedView(window, np.ascontiguousarray(vals, dtype=np.float32), ok, catalogue)


def _tile_stars(values: np.ndarray, kept: np.ndarray, tile_wcs: WCS, grid: GlobalGrid, photometry):
    """Star photometry of a tile on its kept pixels, positions mapped to global pixels."""
    catalogue = photometry.measure_stars(values, kept)
    if catalogue.n_stars:
        gx, gy = pixel_to_pixel(tile_wcs, grid.wcs, catalogue.x, catalogue.y)
        catalogue = replace(catalogue, x=np.asarray(gx, dtype=np.float64), y=np.asarray(gy, dtype=np.float64))
    log.debug("overlap measurement: %d stars measured, FWHM %.2f px", catalogue.n_stars, catalogue.fwhm)
    return catalogue


def _block_mean(values: np.ndarray, kept: np.ndarray, factor: int):
    """Mean of the kept pixels in ``factor x factor`` blocks (image padded at the far edges) and whether each block
    is fully kept."""
    h, w, c = values.shape
    hp, wp = _ceil_div_shape((h, w), factor)
    pad = ((0, hp * factor - h), (0, wp * factor - w))
    v = np.pad(np.where(kept[..., None], values, 0.0).astype(np.float32), pad + ((0, 0),))
    k = np.pad(kept, pad)
    sums = v.reshape(hp, factor, wp, factor, c).sum(axis=(1, 3))
    counts = k.reshape(hp, factor, wp, factor).sum(axis=(1, 3))
    full = counts == factor * factor
    mean = sums / np.maximum(counts, 1)[..., None]
    return mean.astype(np.float32), full


def _pair_overlap(a, b, i, j, factor, block, harmony, photometry):
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
    star_fields = {}
    if a.stars is not None and b.stars is not None:
        st = photometry.match_star_samples(a.stars, b.stars)
        star_fields = dict(star_i=st.flux_i, star_j=st.flux_j, star_err=st.err, star_x=st.x, star_y=st.y)
    return harmony.TileOverlap(i, j, gx, gy, np.asarray(vi), np.asarray(vj), **star_fields)


# --------------------------------------------------------------------------------------------------------------------
# Seam measurement helpers
# --------------------------------------------------------------------------------------------------------------------


def _mosaic_array(mosaic) -> np.ndarray:
    data = mosaic.data if isinstance(mosaic, MosaicResult) else np.asarray(mosaic)
    return data if data.ndim == 3 else data[..., None]


def _kept_window(tile: TileInput, grid: GlobalGrid, margin: int):
    """``(window, kept)``: the tile's kept area (alpha > 0.5, finite) reprojected on its grid window."""
    values, alpha, tile_wcs = _read_tile(tile)
    kept = ((alpha > _KEEP_ALPHA) & np.all(np.isfinite(values), axis=2)).astype(np.float32)
    del values, alpha
    window = _footprint_window(tile_wcs, kept.shape, grid, margin=margin)
    if window is None:
        return None, None
    out = _reproject_planes(kept[..., None], tile_wcs, grid, window, "interp")[..., 0]
    return window, out > _KEEP_ALPHA


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
            sigma[c] = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0) if d.size else np.nan
    if not np.all(sigma > 0):
        raise ValueError(f"background noise must be > 0, got {sigma}")
    return sigma
