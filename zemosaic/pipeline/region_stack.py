"""A rectangle of the global grid stacked from the frames aligned on it, and written as a tile for Phase 4.5-6.

GRID stacks one grid tile per call, SDS one sky-region chunk per call; both use the stacker of Phase 3 (same
mask-aware normalisation, weighting, rejection and combination, streamed over row chunks within
``stack_memory_budget_mb``), reading the frames through :class:`~zemosaic.pipeline.global_frames.RegionView`.

The tiles they write are ``master_tiles/master_tile_NNN.fits`` with the master-tile layout (data, WCS, ``ALPHA``,
``COVERAGE``) so that Phases 4 to 6 read them as they read master tiles: ``COVERAGE`` is the number of frames
stacked at each pixel, ``NFRAMES`` the tile's largest coverage (see :func:`write_region_tile` for ``ALPHA``).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from zemosaic.config import ZeMosaicConfig
from zemosaic.io import fits as fits_io
from zemosaic.io import headers
from zemosaic.mosaic.grid import GlobalGrid
from zemosaic.mosaic.harmony import TileCorrection
from zemosaic.pipeline.global_frames import AlignedFrame, RegionView
from zemosaic.pipeline.master_tile import stack_options, stacker

__all__ = ["RegionStack", "stack_region", "window_wcs", "write_region_tile"]

log = logging.getLogger(__name__)


@dataclass
class RegionStack:
    """The stack of one region: ``image`` ``(h, w, C)`` float32 (NaN where no frame), ``coverage`` ``(h, w)``
    frames stacked per pixel, the frames used and the stacker's figures."""

    region: tuple[int, int, int, int]
    image: np.ndarray
    coverage: np.ndarray
    frames: list[Path]
    stack: dict = field(default_factory=dict)


def stack_region(members: Sequence[AlignedFrame], region: tuple[int, int, int, int], cfg: ZeMosaicConfig, *,
                 normalize_method: str | None = None, corrections: Mapping[int, TileCorrection] | None = None,
                 frame_weights: Mapping[int, float] | None = None) -> RegionStack:
    """Stack ``members`` over ``region`` ``(y0, y1, x0, x1)``; the first member is the normalisation reference.

    ``normalize_method`` defaults to ``cfg.stack_normalize_method``; ``corrections`` (frame index ->
    ``TileCorrection``) are applied to the frames' values as they are read (SDS: the frames' photometric solve);
    ``frame_weights`` (frame index -> factor, the quality gate's ``psf_snr`` sharpness) multiply the stacker's
    weights, as in a master tile.
    """
    views = [RegionView(f, region, None if corrections is None else corrections[f.index].apply) for f in members]
    h = region[1] - region[0]
    options = replace(stack_options(cfg), normalize_method=normalize_method or cfg.stack_normalize_method,
                      noise_rows=max(24, h // 8),
                      frame_weights=None if frame_weights is None else tuple(frame_weights.get(f.index, 1.0)
                                                                              for f in members))
    stack = stacker(cfg)(views, options, valid_masks=None)
    image = np.asarray(stack.image, dtype=np.float32)
    image = image[..., None] if image.ndim == 2 else image
    coverage = np.asarray(stack.coverage, dtype=np.float32)
    image[coverage <= 0] = np.nan
    figures = {"normalize": normalize_method or cfg.stack_normalize_method,
               "rejection": cfg.stack_rejection_algorithm, "combine": cfg.stack_final_combine,
               "weighting": cfg.stack_weighting_method, "rejected_fraction": round(float(stack.rejected_fraction), 5),
               "chunk_rows": int(stack.chunk_rows)}
    return RegionStack(region, image, coverage, [f.path for f in members], figures)


def window_wcs(grid: GlobalGrid, y0: int, x0: int, shape: tuple[int, int]):
    """The grid's WCS for the window whose top-left pixel is ``(y0, x0)`` (CRPIX shifted; same projection)."""
    wcs = grid.wcs.deepcopy()
    wcs.wcs.crpix = [wcs.wcs.crpix[0] - x0, wcs.wcs.crpix[1] - y0]
    wcs.pixel_shape = (int(shape[1]), int(shape[0]))
    return wcs


def write_region_tile(path: Path, image: np.ndarray, coverage: np.ndarray, grid: GlobalGrid,
                      origin: tuple[int, int], frames: Sequence[Path], cfg: ZeMosaicConfig, *, mode: str,
                      tile_id: int, binary_alpha: bool = False, normalize: str | None = None,
                      resume_key: str | None = None, rejected_fraction: float | None = None
                      ) -> tuple[Path, tuple[int, ...], int] | None:
    """Write a stacked region as a master-tile file, cropped to the bounding box of its coverage.

    ``ALPHA`` is ``COVERAGE / NFRAMES`` (the co-addition then weighs each pixel by its frame count), or, with
    ``binary_alpha``, 1 wherever a frame was stacked (GRID: overlapping grid tiles hold the same frames, and
    Phase 4.5 needs their whole overlap as kept pixels, ``ALPHA > 0.5``).

    ``resume_key`` (GRID) is written as ``ZRESKEY``: what the tile was stacked from (its frames, their corrections
    and the settings), so that ``--resume`` reuses the tile when the key is unchanged; ``rejected_fraction`` as
    ``STKREJFR``.

    Returns ``(path, shape, n_frames)`` (``n_frames`` = the largest coverage, the file's ``NFRAMES``), or None
    when nothing is covered."""
    rows, cols = np.flatnonzero(coverage.any(axis=1)), np.flatnonzero(coverage.any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    data = np.ascontiguousarray(image[r0:r1, c0:c1])
    cov = np.ascontiguousarray(coverage[r0:r1, c0:c1], dtype=np.float32)
    n_frames = max(1, int(round(float(cov.max()))))
    alpha = (cov > 0).astype(np.float32) if binary_alpha else np.clip(cov / n_frames, 0.0, 1.0).astype(np.float32)
    wcs = window_wcs(grid, origin[0] + r0, origin[1] + c0, data.shape[:2])
    standard = headers.product_header(headers.facts_from_frames(headers.read_primary_headers(list(frames))),
                                      bunit="ADU", bunit_comment=f"{mode} stack of the frames, in their ADU",
                                      history=headers.tile_history(cfg))
    standard.update({"MTILEID": (tile_id, f"{mode} tile id"), "NFRAMES": (n_frames, "largest frame count"),
                     "ZMODE": (mode, "zemosaic mode that built this tile"),
                     "GRIDY0": (origin[0] + r0, "first row on the global grid"),
                     "GRIDX0": (origin[1] + c0, "first column on the global grid"),
                     "STKNORM": (normalize or cfg.stack_normalize_method, "stack normalisation"),
                     "STKREJ": (cfg.stack_rejection_algorithm, "stack rejection")})
    if resume_key is not None:
        standard["ZRESKEY"] = resume_key[:64]  # 64 hex digits: no room left on the card for a comment
    if rejected_fraction is not None:
        standard["STKREJFR"] = (round(float(rejected_fraction), 5), "fraction of samples rejected")
    out = data[..., 0] if data.shape[2] == 1 else data
    fits_io.write_fits_image(path, out, wcs=wcs, header_extra=standard,
                             extensions={"ALPHA": alpha, "COVERAGE": cov})
    return path, tuple(out.shape), n_frames
