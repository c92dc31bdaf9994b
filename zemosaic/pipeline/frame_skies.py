"""Phase 5.5 with ``mosaic_background=motion``: the frames' background samples for the joint sky fit.

The frames stacked into the master tiles are read again (a Bayer frame binned into its 2x2 super-pixels, not
debayered: only its smooth background is used, and a cell's median over a quarter of the values costs a sixth of
one over the debayered pixels), reduced to star-clipped cell medians in their own pixels
(:func:`zemosaic.mosaic.sky_motion.frame_cells`)
and placed on the mosaic grid through their WCS (the one Phase 1b gave them). The fit itself is
:func:`zemosaic.mosaic.sky_motion.fit_motion_sky`; this module only gathers its inputs.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.wcs import WCS

from zemosaic.io import debayer as debayer_io
from zemosaic.io import fits as fits_io
from zemosaic.mosaic.sky_motion import FrameCells, frame_cells

__all__ = ["SkyFrame", "used_sky_frames", "motion_frame_cells", "frame_jacobians", "cell_size",
           "frame_to_grid_scale"]

log = logging.getLogger(__name__)

_CELLS_ON_SHORT_SIDE = 16    # a frame is cut into cells of about 1/16 of its short side ...
_CELL_RANGE = (16, 64)       # ... within these sizes (frame pixels)
_MAX_FRAMES_PER_TILE = 32    # frames of a tile read again for the fit (evenly spread: the rotation is kept)
_JACOBIAN_STEP = 64.0        # frame pixels between the points whose mosaic positions give a frame's Jacobian


@dataclass(frozen=True)
class SkyFrame:
    """A frame stacked into master tile ``tile`` (its index in the mosaic's tile list), with its WCS."""

    path: Path
    wcs: Any
    tile: int


def used_sky_frames(tile_reports: Sequence[Any], frames_by_path: Mapping[str, Any],
                    failed: set[str]) -> list[SkyFrame]:
    """The frames of the written tiles, in tile order: those aligned (a transform in the tile's record), not in
    ``failed`` and with a WCS, at most 32 per tile (evenly spread over the tile's frames, so its rotation is kept);
    ``tile_reports`` are the written tiles' :class:`~zemosaic.pipeline.report.TileReport` in the order of the
    mosaic's tile list."""
    out: list[SkyFrame] = []
    for k, tr in enumerate(tile_reports):
        mine = []
        for record in tr.frames:
            path = record.get("path")
            frame = frames_by_path.get(path)
            if record.get("rotation_deg") is None or path in failed or frame is None or frame.info.wcs is None:
                continue
            mine.append(SkyFrame(Path(path), frame.info.wcs, k))
        pick = np.unique(np.linspace(0, len(mine) - 1, min(len(mine), _MAX_FRAMES_PER_TILE)).round().astype(int))
        if mine:
            out.extend(mine[i] for i in pick)
    return out


def cell_size(frame_shape: Sequence[int]) -> int:
    """The cell side (frame pixels) for frames of ``frame_shape``: 1/16 of the short side, within 16-64 px."""
    return int(np.clip(round(min(frame_shape[:2]) / _CELLS_ON_SHORT_SIDE), *_CELL_RANGE))


def motion_frame_cells(frames: Sequence[SkyFrame], grid_wcs: WCS) -> tuple[list[FrameCells], int]:
    """Read every frame, reduce it to cell medians and map the cells onto the mosaic grid of ``grid_wcs``.

    A frame that cannot be read again is left out with a warning naming it (the fit goes on without it).

    Returns
    -------
    cells : list of FrameCells
    cell : int
        The cell side used (frame pixels; that of the first frame).
    """
    out: list[FrameCells] = []
    cell, rest = 0, list(frames)
    while rest and not cell:  # the first readable frame sets the cell size
        f = rest.pop(0)
        read = _read_for_sky(f)
        if read is not None:
            cell = cell_size(read.frame_shape)
            cell -= cell % read.scale  # a whole number of super-pixels
            out.append(_cells_on_grid(f, read, grid_wcs, cell))
    # the others two at a time: reading, binning and the cells' medians release the GIL
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zemosaic-sky") as pool:
        for cells in pool.map(lambda f: _frame_cells_on_grid(f, grid_wcs, cell), rest):
            if cells is not None:
                out.append(cells)
    return out, cell


def frame_jacobians(frames: Sequence[SkyFrame], grid_wcs: WCS) -> np.ndarray:
    """``(N, 2, 2)`` d(mosaic x, y) / d(frame x, y) of every frame at its reference pixel, from the WCS alone
    (differences over 64 px), so that the rotation between frames is known before any of them is read."""
    out = np.empty((len(frames), 2, 2))
    for k, f in enumerate(frames):
        x0, y0 = (np.asarray(f.wcs.wcs.crpix, np.float64) - 1.0)[:2]
        x = np.array([x0, x0 + _JACOBIAN_STEP, x0])
        y = np.array([y0, y0, y0 + _JACOBIAN_STEP])
        gx, gy = grid_wcs.all_world2pix(*f.wcs.all_pix2world(x, y, 0), 0)
        out[k] = np.array([[gx[1] - gx[0], gx[2] - gx[0]], [gy[1] - gy[0], gy[2] - gy[0]]]) / _JACOBIAN_STEP
    return out


@dataclass(frozen=True)
class _SkyPixels:
    """A frame read for its background: ``image`` ``(h, w, C)``, ``scale`` frame pixels per image pixel (2 for
    a Bayer frame's super-pixels), the frame's own shape and its pedestal (ADU)."""

    image: np.ndarray
    scale: int
    frame_shape: tuple[int, int]
    zero: float


def _read_for_sky(f: SkyFrame) -> _SkyPixels | None:
    """The frame's background pixels (:class:`_SkyPixels`), or None (a warning naming it)."""
    try:
        data, bayer = fits_io.read_cfa_frame(f.path)
        header = fits_io.read_image_header(f.path)
    except (fits_io.FitsInputError, OSError) as exc:
        log.warning("Phase 5.5: %s left out of the joint sky fit: %s", f.path.name, exc)
        return None
    frame_shape = (int(data.shape[0]), int(data.shape[1]))
    if bayer is not None:
        return _SkyPixels(debayer_io.super_pixels(data, bayer), 2, frame_shape, _zero_level(header))
    return _SkyPixels(data[..., None] if data.ndim == 2 else data, 1, frame_shape, _zero_level(header))


def _frame_cells_on_grid(f: SkyFrame, grid_wcs: WCS, cell: int) -> FrameCells | None:
    read = _read_for_sky(f)
    return None if read is None else _cells_on_grid(f, read, grid_wcs, cell)


def _cells_on_grid(f: SkyFrame, read: _SkyPixels, grid_wcs: WCS, cell: int) -> FrameCells:
    """One frame's cell medians (cells of ``cell`` frame pixels), placed on the mosaic grid through its WCS."""
    values, x, y = frame_cells(read.image, cell // read.scale, scale=float(read.scale))
    ra, dec = f.wcs.all_pix2world(x, y, 0)
    gx, gy = grid_wcs.all_world2pix(ra, dec, 0)
    good = np.isfinite(gx) & np.isfinite(gy)
    return FrameCells(values=values[good], x=x[good], y=y[good], gx=np.asarray(gx)[good], gy=np.asarray(gy)[good],
                      group=f.tile, zero=read.zero)


def frame_to_grid_scale(frame_wcs: WCS, grid_wcs: WCS) -> float:
    """Mosaic pixels per frame pixel (the ratio of the two WCS' pixel scales)."""
    def scale(w: WCS) -> float:
        return float(np.sqrt(abs(np.linalg.det(w.celestial.pixel_scale_matrix))))
    return scale(frame_wcs) / scale(grid_wcs)


def _zero_level(header) -> float:
    """The frame's pedestal (``PEDESTAL``, ADU) when its header says it, else 0."""
    try:
        return float(header.get("PEDESTAL", 0.0))
    except (TypeError, ValueError):
        return 0.0
