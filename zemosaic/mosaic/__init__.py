"""Mosaic assembly: from master tiles to the mosaic (Phases 4 to 6), one module per job.

* :mod:`~zemosaic.mosaic.tiles`: what a master tile is (:class:`TileInput`), finding the tiles of a folder, reading
  one tile's pixels.
* :mod:`~zemosaic.mosaic.grid`: the mosaic's pixel grid (Phase 4, :func:`compute_global_grid`).
* :mod:`~zemosaic.mosaic.overlaps`: overlap samples between tiles (Phase 4.5 input, :func:`measure_tile_overlaps`).
* :mod:`~zemosaic.mosaic.harmony`: the inter-tile photometric solve (Phase 4.5, :func:`solve_tile_harmony`), with
  :mod:`~zemosaic.mosaic.star_photometry` for the star fluxes that fix the gains.
* :mod:`~zemosaic.mosaic.resample`: a tile's planes reprojected onto a window of the grid (numba bilinear kernel).
* :mod:`~zemosaic.mosaic.coadd`: the alpha-weighted, streamed co-addition (Phase 5, :func:`assemble_mosaic`).
* :mod:`~zemosaic.mosaic.sky`: the smooth sky left in the mosaic, fitted and removed, then neutralised (Phase 5.5,
  :func:`fit_mosaic_sky`, ``mosaic_background``).
* :mod:`~zemosaic.mosaic.outputs`: ``mosaic.fits`` and the preview (Phase 6, :func:`write_mosaic_outputs`).
* :mod:`~zemosaic.mosaic.preview`: the automatic display stretch (its sky level is Phase 5.5's) and the PNG preview.
* :mod:`~zemosaic.mosaic.exports`: the 16-bit TIFF / PNG exports for image editors.
* :mod:`~zemosaic.mosaic.seams`: seam steps measured on a finished mosaic (:func:`seam_step_sigma`).

A tile is designated everywhere (overlaps, corrections, seam steps) by its index in the ``tiles`` list.
"""
from zemosaic.mosaic.coadd import AssemblyTimings, MosaicResult, assemble_mosaic
from zemosaic.mosaic.grid import GlobalGrid, compute_global_grid
from zemosaic.mosaic.harmony import (
    HarmonySolution,
    OverlapSamples,
    TileCorrection,
    TileOverlap,
    sample_overlap,
    solve_tile_harmony,
)
from zemosaic.mosaic.outputs import MosaicOutputs, write_mosaic_outputs
from zemosaic.mosaic.overlaps import measure_tile_overlaps
from zemosaic.mosaic.seams import SeamStep, seam_step_sigma, seam_steps
from zemosaic.mosaic.star_photometry import StarFluxes, StarSamples, match_star_samples, measure_stars
from zemosaic.mosaic.tiles import (
    FITS_SUFFIXES,
    RejectedTile,
    TileInput,
    TileInputError,
    discover_master_tiles,
    read_tile,
    tile_input_from_file,
    tile_input_from_written,
)

__all__ = [
    # tiles
    "FITS_SUFFIXES",
    "TileInputError",
    "TileInput",
    "RejectedTile",
    "discover_master_tiles",
    "tile_input_from_file",
    "tile_input_from_written",
    "read_tile",
    # grid (Phase 4)
    "GlobalGrid",
    "compute_global_grid",
    # overlaps and harmony (Phase 4.5)
    "measure_tile_overlaps",
    "TileOverlap",
    "TileCorrection",
    "HarmonySolution",
    "OverlapSamples",
    "solve_tile_harmony",
    "sample_overlap",
    "StarFluxes",
    "StarSamples",
    "measure_stars",
    "match_star_samples",
    # co-addition (Phase 5)
    "AssemblyTimings",
    "MosaicResult",
    "assemble_mosaic",
    # outputs (Phase 6)
    "MosaicOutputs",
    "write_mosaic_outputs",
    # seams
    "SeamStep",
    "seam_steps",
    "seam_step_sigma",
]
