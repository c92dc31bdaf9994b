"""Align and stack the frames of one master-tile group (the user's module name, kept at the seam).

This module is the public face of the intra-group work:

* :func:`align_images_in_group` (from :mod:`alignment`): astroalign + FFT phase-correlation fallback,
  with each frame's valid mask (astroalign's footprint is True where there is NO data; the valid
  mask is its complement, all channels required); :func:`find_group_transforms` and
  :func:`warp_group` are its two passes when the group is warped onto a canvas larger than the
  reference frame (the master tile's, :mod:`zemosaic.pipeline.tile_canvas`);
* :func:`stack_aligned_images` (from :mod:`stacking`): the mask-aware robust stacker, streamed over
  row chunks;
* the coverage accumulation of the mission: :class:`CoverageAccumulator` counts, per pixel, how many
  frames really contribute, frame by frame (memory O(H x W), never a stack of all masks).

It reads no configuration and writes no files; it knows nothing about tiles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zemosaic.align.group import (
    AlignedFrame,
    align_images_in_group,
    find_group_transforms,
    footprint_to_valid_mask,
    warp_group,
)
from zemosaic.stack.cpu import StackResult, stack_aligned_images

__all__ = [
    "AlignedFrame",
    "align_images_in_group",
    "find_group_transforms",
    "warp_group",
    "footprint_to_valid_mask",
    "StackResult",
    "stack_aligned_images",
    "CoverageAccumulator",
    "CoverageStats",
    "CoverageShapeError",
]


class CoverageShapeError(ValueError):
    """A valid mask does not have the coverage map's shape (frames of one group disagree)."""


@dataclass(frozen=True)
class CoverageStats:
    """Summary of a coverage map, as logged by ``MT_COVERAGE_STATS``."""

    shape: tuple[int, int]
    min: float
    max: float
    nonzero_frac: float
    n_frames: int

    def as_dict(self) -> dict:
        return {"shape": list(self.shape), "min": self.min, "max": self.max,
                "nonzero_frac": round(self.nonzero_frac, 6), "n_frames": self.n_frames}


class CoverageAccumulator:
    """Per-pixel count of contributing frames, accumulated one valid mask at a time.

    Parameters
    ----------
    shape : (H, W)
        Shape of the grid the frames were warped onto (the reference frame's, or the tile's canvas).

    Notes
    -----
    ``count`` is float32 ``H x W`` (the mission's ``coverage_count_hw``). A 3-D mask (H x W x C)
    counts a pixel only when every channel is valid. Masks of another shape raise
    :class:`CoverageShapeError`; they are never resized.
    """

    def __init__(self, shape: tuple[int, int]):
        self.shape = (int(shape[0]), int(shape[1]))
        self.count = np.zeros(self.shape, dtype=np.float32)
        self.n_frames = 0

    def add(self, valid: np.ndarray) -> None:
        """Add one frame's valid mask (True where the frame contributes)."""
        valid = np.asarray(valid)
        if valid.ndim == 3:
            valid = valid.all(axis=-1)  # type: ignore[assignment]  # an array for 3-D input (stubs allow a scalar)
        if valid.shape != self.shape:
            raise CoverageShapeError(f"valid mask shape {valid.shape} != coverage shape {self.shape}")
        self.count += valid.astype(bool, copy=False)
        self.n_frames += 1

    def stats(self) -> CoverageStats:
        """min / max / non-zero fraction of the map and the number of masks added."""
        return CoverageStats(self.shape, float(self.count.min()), float(self.count.max()),
                             float(np.count_nonzero(self.count)) / self.count.size, self.n_frames)

    def result(self) -> np.ndarray | None:
        """The coverage map, or None when no mask was added or nothing is covered."""
        if self.n_frames == 0 or not np.isfinite(self.count).all() or self.count.max() <= 0:
            return None
        return self.count
