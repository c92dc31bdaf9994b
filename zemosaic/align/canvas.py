"""The output grid a group is warped onto: the reference frame's grid, or a larger canvas around it.

A :class:`Canvas` is a rectangle of pixels on the reference frame's grid (same pixel scale, same orientation):
its ``shape`` (H, W) and its ``origin`` (x0, y0), the reference-frame pixel coordinates of canvas pixel (0, 0), so
that ``canvas_x = reference_x - x0``. The reference frame's own grid is ``Canvas(frame_shape[:2], (0, 0))``. The
origin is integral, so the reference frame lands on a canvas by a pure integer translation: copied, never resampled.

Coordinates are pixel indices (x = column, y = row, origin at the centre of element [0, 0]).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zemosaic.align.transform import SimilarityTransform

__all__ = ["Canvas", "frame_corners"]


@dataclass(frozen=True)
class Canvas:
    """``shape`` (H, W) of the output grid and its ``origin`` (x0, y0) in reference-frame pixels."""

    shape: tuple[int, int]
    origin: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        h, w = (int(v) for v in self.shape)
        if h < 1 or w < 1:
            raise ValueError(f"a canvas needs at least one pixel, got shape {self.shape}")
        object.__setattr__(self, "shape", (h, w))
        object.__setattr__(self, "origin", (int(self.origin[0]), int(self.origin[1])))

    @classmethod
    def reference(cls, frame_shape: Sequence[int]) -> Canvas:
        """The reference frame's own grid (what the group was warped onto before canvases existed)."""
        return cls((int(frame_shape[0]), int(frame_shape[1])), (0, 0))

    def is_reference_grid(self, frame_shape: Sequence[int]) -> bool:
        """True when this canvas is exactly the reference frame's grid."""
        return self.origin == (0, 0) and self.shape == (int(frame_shape[0]), int(frame_shape[1]))

    @property
    def area(self) -> int:
        return self.shape[0] * self.shape[1]

    def from_reference(self, transform: SimilarityTransform) -> SimilarityTransform:
        """The frame -> canvas transform of a frame -> reference ``transform``."""
        x0, y0 = self.origin
        return SimilarityTransform(transform.rotation_deg, transform.scale, transform.dx - x0, transform.dy - y0)

    def reference_slices(self, frame_shape: Sequence[int]) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
        """``(canvas_slices, frame_slices)`` of the part of the reference frame that lies on the canvas, or None."""
        x0, y0 = self.origin
        h, w = int(frame_shape[0]), int(frame_shape[1])
        cy0, cy1 = max(0, -y0), min(self.shape[0], h - y0)
        cx0, cx1 = max(0, -x0), min(self.shape[1], w - x0)
        if cy1 <= cy0 or cx1 <= cx0:
            return None
        return ((slice(cy0, cy1), slice(cx0, cx1)),
                (slice(cy0 + y0, cy1 + y0), slice(cx0 + x0, cx1 + x0)))


def frame_corners(transform: SimilarityTransform, frame_shape: Sequence[int]) -> np.ndarray:
    """(4, 2) array (x, y) of the frame's pixel-centre hull corners mapped into reference-frame pixels.

    The hull ``0 <= x <= W-1, 0 <= y <= H-1`` is the region a warped frame's valid mask covers.
    """
    h, w = int(frame_shape[0]), int(frame_shape[1])
    corners = np.array([[0.0, 0.0, 1.0], [w - 1.0, 0.0, 1.0], [0.0, h - 1.0, 1.0], [w - 1.0, h - 1.0, 1.0]])
    return (corners @ transform.matrix.T)[:, :2]
