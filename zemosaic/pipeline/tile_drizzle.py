"""The CFA-drizzle branch of a master tile (``master_tile_stack = cfa_drizzle``): the group's raw frames dropped
onto the tile's canvas at ``drizzle_scale`` (:mod:`zemosaic.stack.cfa_drizzle`), with the coverage on the drizzled
grid, in place of warping the debayered frames and stacking them."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic.align.canvas import Canvas
from zemosaic.config import ZeMosaicConfig
from zemosaic.io import fits as fits_io
from zemosaic.pipeline import tile_canvas
from zemosaic.stack import cfa_drizzle

__all__ = ["DrizzledTile", "drizzle_group"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DrizzledTile:
    """The drizzled image (H, W, 3), its coverage (frames per pixel, on the drizzled grid), WCS, frames used."""

    image: np.ndarray
    coverage: np.ndarray
    wcs: Any
    n_used: int
    stack: dict  # the report's account of the stack (method, scale, pixfrac, rejected and filled fractions)
    stack_s: float  # seconds the drizzle took


def drizzle_group(paths: Sequence[Path], found, canvas: Canvas, ref_wcs, cfg: ZeMosaicConfig,
                  tile_id: int) -> DrizzledTile | None:
    """Drizzle the aligned frames (``found[k].ok``; slot 0 is the reference) of a group onto ``canvas``; None (the
    caller stacks the debayered frames) when the frames are not Bayer mosaics, said in the log."""
    used = [k for k, f in enumerate(found) if f.ok and f.transform is not None]
    raw0, pattern = fits_io.read_cfa_frame(paths[used[0]])
    if pattern is None:
        log.info("master tile %d: frames are not Bayer mosaics: CFA drizzle not possible, debayer-then-stack",
                 tile_id)
        return None
    scale = float(cfg.drizzle_scale)
    matrices = [cfa_drizzle.drizzle_matrix(canvas.from_reference(found[k].transform).matrix, scale) for k in used]
    out_hw = cfa_drizzle.output_shape(canvas.shape, scale)
    cached: dict[int, tuple[np.ndarray, str]] = {0: (raw0, pattern)}

    def load(i: int):
        if i not in cached:
            cached.clear()  # one raw frame in RAM at a time (besides the reference's)
            cached[0] = (raw0, pattern)
            cached[i] = fits_io.read_cfa_frame(paths[used[i]])  # type: ignore[assignment]
        return cached[i]

    t0 = time.perf_counter()
    result = cfa_drizzle.cfa_drizzle(load, matrices, out_hw, scale=scale, pixfrac=cfg.drizzle_pixfrac)
    stack_s = round(time.perf_counter() - t0, 3)
    stack = {"method": "cfa_drizzle", "scale": scale, "pixfrac": cfg.drizzle_pixfrac,
             "rejected_fraction": round(result.rejected_fraction, 6),
             "filled_fraction": round(result.filled_fraction, 6)}
    wcs = cfa_drizzle.scale_wcs(tile_canvas.canvas_wcs(ref_wcs, canvas), scale)
    log.info("master tile %d: CFA drizzle of %d frames onto %d x %d px (canvas %d x %d at scale %.1f)", tile_id,
             len(used), out_hw[1], out_hw[0], canvas.shape[1], canvas.shape[0], scale)
    return DrizzledTile(result.image, result.coverage, wcs, len(used), stack, stack_s)
