"""Framing of the mosaic's products (``crop``): which rows and columns of the assembled grid are written.

* ``none``: the whole grid (the bounding box of the tiles' footprints, empty corners included).
* ``covered``: the grid trimmed of its empty rows and columns (nothing holding data is lost).
* ``rectangle``: the largest axis-aligned rectangle whose pixels all hold data: finite in every channel, with a
  weight of at least ``alpha_threshold`` times the mosaic's median covered weight (the tiles' alpha threshold, in
  the weight's units: alpha x frames).  Data outside it are dropped; the staircase edge of a mosaic of rotated
  fields is gone.

The WCS follows (:func:`crop_wcs`: the same sky at the same pixels), so every product stays aligned with the sky.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS
from numba import njit

from zemosaic._pixels import finite_in_every_channel

__all__ = ["CROP_MODES", "Framing", "frame_mosaic", "data_pixels", "largest_rectangle", "crop_wcs"]

CROP_MODES = ("none", "covered", "rectangle")
"""The values of ``crop``."""


@dataclass(frozen=True)
class Framing:
    """The written window ``[y0:y1, x0:x1]`` of the assembled grid and what it changes.

    Attributes
    ----------
    mode : str
        One of :data:`CROP_MODES`.
    y0, y1, x0, x1 : int
        Rows ``y0`` to ``y1 - 1`` and columns ``x0`` to ``x1 - 1`` of the assembled grid (0-based) are written.
    empty_before, empty_after : float
        Share of the pixels holding no data (weight 0) in the whole grid and in the window.
    data_pixels_dropped : int
        Pixels with weight > 0 left outside the window (0 for ``none`` and ``covered``).
    """

    mode: str
    y0: int
    y1: int
    x0: int
    x1: int
    empty_before: float
    empty_after: float
    data_pixels_dropped: int

    @property
    def window(self) -> tuple[slice, slice]:
        """``(rows, columns)`` slices of the assembled grid."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def as_dict(self) -> dict:
        return {"mode": self.mode, "window_yx": [self.y0, self.y1, self.x0, self.x1],
                "empty_fraction_before": round(self.empty_before, 4),
                "empty_fraction_after": round(self.empty_after, 4),
                "data_pixels_dropped": int(self.data_pixels_dropped)}


def frame_mosaic(data: np.ndarray, weight: np.ndarray, mode: str, *, alpha_threshold: float = 1e-3) -> Framing:
    """Choose the written window of a mosaic (see the module docstring).

    Parameters
    ----------
    data : numpy.ndarray
        ``H x W`` or ``H x W x C``; NaN where nothing was covered.
    weight : numpy.ndarray
        ``H x W``, 0 where nothing was covered.
    mode : {'none', 'covered', 'rectangle'}
    alpha_threshold : float
        ``rectangle`` only: the least weight a pixel needs, relative to the median covered weight.

    Returns
    -------
    Framing
        The whole grid when nothing is covered.

    Raises
    ------
    ValueError
        An unknown ``mode``.
    """
    if mode not in CROP_MODES:
        raise ValueError(f"crop must be one of {', '.join(CROP_MODES)}, got {mode!r}")
    covered = np.asarray(weight) > 0
    height, width = covered.shape
    box = (0, height, 0, width)
    if mode != "none" and covered.any():
        rows, cols = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
        box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
        if mode == "rectangle":
            good = data_pixels(data, weight, alpha_threshold)
            if good.any():
                box = largest_rectangle(good)
    y0, y1, x0, x1 = box
    inside = covered[y0:y1, x0:x1]
    return Framing(mode, y0, y1, x0, x1, empty_before=float(1.0 - covered.mean()),
                   empty_after=float(1.0 - inside.mean()) if inside.size else 1.0,
                   data_pixels_dropped=int(covered.sum() - inside.sum()))


def data_pixels(data: np.ndarray, weight: np.ndarray, alpha_threshold: float) -> np.ndarray:
    """``H x W`` bool: finite in every channel and weight >= ``alpha_threshold`` x the median covered weight."""
    weight = np.asarray(weight)
    covered = weight > 0
    if not covered.any():
        return covered
    least = float(alpha_threshold) * float(np.median(weight[covered]))
    good = covered & (weight >= least)
    finite = finite_in_every_channel(data)
    return good & finite


def largest_rectangle(good: np.ndarray) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)`` of the largest-area axis-aligned rectangle of True pixels (the first found of equal
    area); every pixel of ``good[y0:y1, x0:x1]`` is True.  Linear time: the largest rectangle under the histogram
    of each row's run heights, with a stack."""
    good = np.ascontiguousarray(good, dtype=np.bool_)
    if not good.any():
        raise ValueError("no True pixel: no rectangle")
    y0, y1, x0, x1 = _largest_rectangle(good)
    return int(y0), int(y1), int(x0), int(x1)


def crop_wcs(wcs: WCS, y0: int, x0: int, shape: tuple[int, int]) -> WCS:
    """The WCS of the window starting at row ``y0``, column ``x0`` of ``wcs``'s grid (reference pixel moved; SIP
    kept), with ``pixel_shape`` set to the window's ``(W, H)``."""
    out = wcs.slice((slice(int(y0), int(y0) + int(shape[0])), slice(int(x0), int(x0) + int(shape[1]))))
    out.pixel_shape = (int(shape[1]), int(shape[0]))
    return out


@njit(cache=True)
def _largest_rectangle(good):  # pragma: no cover - compiled
    height, width = good.shape
    heights = np.zeros(width + 1, dtype=np.int64)  # sentinel 0 at the end flushes the stack
    stack = np.empty(width + 1, dtype=np.int64)
    best_area, best = 0, (0, 0, 0, 0)
    for y in range(height):
        for x in range(width):
            heights[x] = heights[x] + 1 if good[y, x] else 0
        top = 0
        for x in range(width + 1):
            while top > 0 and heights[stack[top - 1]] >= heights[x]:
                h = heights[stack[top - 1]]
                top -= 1
                left = stack[top - 1] + 1 if top > 0 else 0
                area = h * (x - left)
                if area > best_area:
                    best_area, best = area, (y + 1 - h, y + 1, left, x)
            stack[top] = x
            top += 1
    return best
