"""The master tile's canvas: the grid a group is stacked on (``master_tile_canvas = group | reference``).

A master tile used to be built on its reference frame's pixel grid, so whatever the rotated and dithered frames
of an Alt-Az group covered outside the reference rectangle was thrown away, however many frames covered it. With
``master_tile_canvas=group`` (the default) the tile's grid grows to cover the group, and the coverage mask (alpha),
not the reference rectangle, decides what is kept.

How the canvas is chosen (:func:`plan_tile_canvas`), from the alignment's own transforms (measured before any
pixel is warped: :func:`zemosaic.align.group.find_group_transforms`), in the reference frame's pixels:

1. Every aligned frame's pixel-centre hull is mapped into the reference grid; the union of their bounding boxes
   is where any frame lands.
2. On a grid of at most :data:`PREDICTION_CELLS` points over that box (every ``step`` pixels: 1 px on small frames,
   about 5 px on a Seestar group), the coverage is predicted: the number of frames whose hull contains the point. The
   well-covered region is where it reaches the tile's own alpha threshold
   ``thr = max(min(altaz_min_coverage_abs, frames), altaz_min_coverage_frac x max coverage)``.
3. The canvas is the bounding box of the well-covered points, grown by one ``step`` (the bounded margin: the
   prediction's resolution) and by the reference rectangle (a tile never loses what the reference grid kept),
   clipped to where frames land, on whole pixels (so the reference frame is copied, not resampled).
4. Memory guard: the canvas area is at most :data:`MAX_AREA_FACTOR` times the reference frame's, and one row of
   all frames must leave the stacker at least :data:`MIN_STACK_ROWS` rows within ``stack_memory_budget_mb``; a
   larger box is shrunk to that area, with its aspect ratio, centred on the coverage-weighted centre of the
   well-covered points (``reason=capped``).

A group whose frames barely overlap has a small maximum coverage and a threshold of at least
``min(altaz_min_coverage_abs, frames)`` frames, so its well-covered region is only where enough frames pile up:
the canvas covers that region (plus the reference rectangle), and the memory guard bounds it whatever the spread
of the pointings. When no point reaches the threshold (nothing will be kept by the alpha anyway), the canvas
falls back to the reference grid (``reason=no well-covered region``).

The decision is logged once per tile as ``MT_CANVAS tile_id=... mode=... shape=HxW origin=(x0, y0) ...
reason=...`` and recorded in the run report (``tiles[].canvas``). Pixels of the canvas that no frame covers are
valid in no frame: the stacker leaves them NaN with coverage 0, never zeros averaged in. The tile's WCS is the
reference frame's, shifted by the origin (:func:`canvas_wcs`).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS, Sip

from zemosaic.align.canvas import Canvas, frame_corners
from zemosaic.align.transform import SimilarityTransform

__all__ = ["CANVAS_MODES", "MAX_AREA_FACTOR", "MIN_STACK_ROWS", "PREDICTION_CELLS", "CanvasPlan",
           "plan_tile_canvas", "canvas_wcs"]

log = logging.getLogger(__name__)

CANVAS_MODES = ("group", "reference")
"""The values of ``master_tile_canvas``."""

MAX_AREA_FACTOR = 4.0
"""A canvas covers at most this many times the reference frame's area (a +-30 deg Alt-Az group needs about 2.3)."""

MIN_STACK_ROWS = 16
"""The canvas is narrow enough for the stacker to hold this many rows of every frame within its memory budget."""

PREDICTION_CELLS = 512 * 512
"""Points of the coverage prediction grid at most (its step grows with the group's extent)."""

_STACK_BYTES_PER_SAMPLE = 4 * 2  # float32 sample and the stacker's working memory per sample (about 1.5x)


@dataclass(frozen=True)
class CanvasPlan:
    """The canvas a tile is stacked on and why."""

    canvas: Canvas
    mode: str
    reason: str
    reference_shape: tuple[int, int]
    threshold: float | None = None
    step: int | None = None

    @property
    def area_ratio(self) -> float:
        """Canvas area over the reference frame's."""
        return self.canvas.area / float(self.reference_shape[0] * self.reference_shape[1])

    def as_dict(self) -> dict:
        """JSON-ready record for the run report."""
        return {"mode": self.mode, "shape": list(self.canvas.shape), "origin": list(self.canvas.origin),
                "area_ratio": round(self.area_ratio, 4),
                "threshold": None if self.threshold is None else round(self.threshold, 4), "step": self.step,
                "reason": self.reason}


def plan_tile_canvas(transforms: Sequence[SimilarityTransform | None], frame_shape: Sequence[int], *,
                     mode: str = "group", min_coverage_abs: float = 3.0, min_coverage_frac: float = 0.4,
                     n_channels: int = 3, memory_budget_mb: float = 768.0, tile_id: int | None = None
                     ) -> CanvasPlan:
    """Choose the canvas of a tile from its frames' frame -> reference transforms (module docstring).

    Parameters
    ----------
    transforms : sequence of SimilarityTransform or None
        One per frame of the group; None for a frame that is not stacked (failed alignment). The reference's
        is the identity.
    frame_shape : sequence of int
        The frames' (H, W, ...) shape.
    mode : {"group", "reference"}
        ``reference`` keeps the reference frame's grid (the behaviour before canvases existed).
    min_coverage_abs, min_coverage_frac : float
        The tile's alpha thresholds (``altaz_min_coverage_abs`` is clamped to the frames stacked here too).
    n_channels, memory_budget_mb : int, float
        For the stacker's row budget (``stack_memory_budget_mb``).
    tile_id : int, optional
        For the ``MT_CANVAS`` log line.
    """
    if mode not in CANVAS_MODES:
        raise ValueError(f"master_tile_canvas must be one of {CANVAS_MODES}, got {mode!r}")
    ref_shape = (int(frame_shape[0]), int(frame_shape[1]))
    used = [t for t in transforms if t is not None]
    if mode == "reference":
        plan = CanvasPlan(Canvas.reference(ref_shape), "reference", "master_tile_canvas=reference", ref_shape)
    elif len(used) < 2:
        plan = CanvasPlan(Canvas.reference(ref_shape), "reference", "a single frame: its own grid", ref_shape)
    else:
        plan = _group_plan(used, ref_shape, min_coverage_abs, min_coverage_frac,
                           _max_width(len(used), n_channels, memory_budget_mb))
    c = plan.canvas
    log.info("MT_CANVAS tile_id=%s mode=%s shape=%dx%d origin=(%d, %d) reference=%dx%d area_ratio=%.3f "
             "threshold=%s step=%s reason=%s", tile_id, plan.mode, c.shape[0], c.shape[1], c.origin[0], c.origin[1],
             ref_shape[0], ref_shape[1], plan.area_ratio,
             "none" if plan.threshold is None else f"{plan.threshold:.4g}", plan.step, plan.reason)
    return plan


def canvas_wcs(wcs: WCS | None, canvas: Canvas) -> WCS | None:
    """The WCS of the canvas: the reference frame's WCS with CRPIX (and the SIP/table reference points) moved by
    the origin, so every canvas pixel keeps the sky of the reference pixel it stands for (None stays None)."""
    if wcs is None:
        return None
    x0, y0 = canvas.origin
    out = wcs.deepcopy()
    if (x0, y0) != (0, 0):
        out.wcs.crpix = out.wcs.crpix - np.array([x0, y0], dtype=float)
        for table in (out.cpdis1, out.cpdis2, out.det2im1, out.det2im2):
            if table is not None:
                table.crval = (table.crval[0] - x0, table.crval[1] - y0)
        if out.sip is not None:
            sip = out.sip
            out.sip = Sip(sip.a, sip.b, sip.ap, sip.bp, np.asarray(sip.crpix, dtype=float) - np.array([x0, y0]))
    out.pixel_shape = (canvas.shape[1], canvas.shape[0])
    return out


# ------------------------------------------------------------------------------------------------
def _max_width(n_frames: int, n_channels: int, memory_budget_mb: float) -> int:
    """Widest canvas whose MIN_STACK_ROWS rows of every frame fit the stacker's memory budget."""
    per_px = n_frames * max(1, n_channels) * _STACK_BYTES_PER_SAMPLE * MIN_STACK_ROWS
    return max(1, int(memory_budget_mb * 2**20 // per_px))


def _group_plan(used: list[SimilarityTransform], ref_shape: tuple[int, int], min_coverage_abs: float,
                min_coverage_frac: float, max_width: int) -> CanvasPlan:
    h, w = ref_shape
    corners = np.concatenate([frame_corners(t, ref_shape) for t in used])
    lo = np.ceil(corners.min(axis=0) - 1e-6).astype(int)   # (x, y): the pixels any frame can land on
    hi = np.floor(corners.max(axis=0) + 1e-6).astype(int)
    extent = hi - lo + 1
    step = max(1, math.ceil(math.sqrt(float(extent[0]) * float(extent[1]) / PREDICTION_CELLS)))
    xs = np.arange(lo[0], hi[0] + 1, step, dtype=np.float64)
    ys = np.arange(lo[1], hi[1] + 1, step, dtype=np.float64)
    count = _predicted_coverage(used, ref_shape, xs, ys)
    max_cov = int(count.max())
    thr = max(min(float(min_coverage_abs), float(len(used))), float(min_coverage_frac) * max_cov)
    well = count >= thr
    if not well.any():
        return CanvasPlan(Canvas.reference(ref_shape), "reference",
                          f"no well-covered region (max predicted coverage {max_cov} < threshold {thr:g})",
                          ref_shape, threshold=thr, step=step)
    rows, cols = np.nonzero(well)
    box_lo = np.array([min(xs[cols.min()] - step, 0), min(ys[rows.min()] - step, 0)])
    box_hi = np.array([max(xs[cols.max()] + step, w - 1), max(ys[rows.max()] + step, h - 1)])
    box_lo = np.maximum(box_lo, lo).astype(int)
    box_hi = np.minimum(box_hi, hi).astype(int)
    size = box_hi - box_lo + 1                    # (W, H) of the canvas
    reason = "bounding box of the well-covered region and the reference rectangle"
    max_area = MAX_AREA_FACTOR * h * w
    if size[0] * size[1] > max_area or size[0] > max_width:
        weights = count[rows, cols].astype(np.float64)
        centre = np.array([np.average(xs[cols], weights=weights), np.average(ys[rows], weights=weights)])
        shrink = min(1.0, math.sqrt(max_area / float(size[0] * size[1])), max_width / float(size[0]))
        new = np.maximum(np.floor(size * shrink), 1).astype(int)
        start = np.clip(np.round(centre - (new - 1) / 2.0).astype(int), box_lo, box_hi - new + 1)
        reason = (f"capped: the well-covered box {size[1]}x{size[0]} ({size[0] * size[1] / (h * w):.2f} x the "
                  f"reference area) exceeds the memory guard ({MAX_AREA_FACTOR:g} x the reference area, "
                  f"width <= {max_width} px for the stack budget); centred on the coverage-weighted centre")
        box_lo, size = start, new
    canvas = Canvas((int(size[1]), int(size[0])), (int(box_lo[0]), int(box_lo[1])))
    if canvas.is_reference_grid(ref_shape):
        return CanvasPlan(canvas, "reference", "the well-covered region lies within the reference frame", ref_shape,
                          threshold=thr, step=step)
    return CanvasPlan(canvas, "group", reason, ref_shape, threshold=thr, step=step)


def _predicted_coverage(used: list[SimilarityTransform], ref_shape: tuple[int, int], xs: np.ndarray,
                        ys: np.ndarray) -> np.ndarray:
    """Number of frames whose pixel-centre hull contains each point (ys x xs) of the reference grid."""
    h, w = ref_shape
    count = np.zeros((ys.size, xs.size), dtype=np.int32)
    tol = 1e-6
    for t in used:
        inverse = np.linalg.inv(t.matrix)
        # frame coordinates of every grid point, separably: x_f = a x + b y + c, y_f = d x + e y + f
        xf = inverse[0, 0] * xs[None, :] + inverse[0, 1] * ys[:, None] + inverse[0, 2]
        inside = (xf >= -tol) & (xf <= w - 1 + tol)
        yf = inverse[1, 0] * xs[None, :] + inverse[1, 1] * ys[:, None] + inverse[1, 2]
        inside &= (yf >= -tol) & (yf <= h - 1 + tol)
        count += inside
    return count
