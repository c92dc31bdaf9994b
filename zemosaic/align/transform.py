"""Similarity transforms between two pixel grids, and their least-squares refinement on matched stars.

Coordinates are pixel indices (x = column, y = row, origin at the centre of element [0, 0]).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["SimilarityTransform"]

_TOL = 1e-6            # px tolerance of the "inside the source frame" test (overlap rectangle, resampling)
_MATCH_RADIUS = 1.5    # px, pairing radius of the refinement


@dataclass(frozen=True)
class SimilarityTransform:
    """A rotation + uniform scale + translation between two pixel grids.

    It maps **frame** pixel coordinates ``(x, y)`` to **reference** pixel coordinates::

        x_ref = scale * (cos(t) * x - sin(t) * y) + dx
        y_ref = scale * (sin(t) * x + cos(t) * y) + dy      with t = radians(rotation_deg)

    A positive angle turns the +x axis toward +y (rows grow downward in numpy order). For a pure
    translation, ``(dx, dy)`` is the shift to apply to the frame to bring it onto the reference.
    """

    rotation_deg: float
    scale: float
    dx: float
    dy: float

    @property
    def matrix(self) -> np.ndarray:
        """The 3x3 homogeneous matrix (float64) of the frame -> reference mapping."""
        t = math.radians(self.rotation_deg)
        c, s = self.scale * math.cos(t), self.scale * math.sin(t)
        return np.array([[c, -s, self.dx], [s, c, self.dy], [0.0, 0.0, 1.0]])

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> SimilarityTransform:
        """Read a similarity from a 3x3 (or 2x3) matrix; its shear, if any, is ignored."""
        m = np.asarray(matrix, dtype=np.float64)
        a, b = (m[0, 0] + m[1, 1]) / 2.0, (m[1, 0] - m[0, 1]) / 2.0
        return cls(math.degrees(math.atan2(b, a)), math.hypot(a, b), float(m[0, 2]), float(m[1, 2]))

    @classmethod
    def translation(cls, dx: float, dy: float) -> SimilarityTransform:
        """The pure translation by ``(dx, dy)`` pixels."""
        return cls(0.0, 1.0, float(dx), float(dy))


def _refine(src: np.ndarray, dst: np.ndarray, matrix: np.ndarray) -> tuple[SimilarityTransform, int]:
    """Least-squares similarity over all stars paired within ``_MATCH_RADIUS`` of ``matrix``'s prediction.

    Two rounds (the second with a radius of 3 x the residual RMS, at least 0.3 px). Keeps ``matrix``
    when fewer than 3 pairs are found.
    """
    tree = cKDTree(dst)
    radius = _MATCH_RADIUS
    best, n_pairs = SimilarityTransform.from_matrix(matrix), 0
    for _ in range(2):
        pred = src @ matrix[:2, :2].T + matrix[:2, 2]
        dist, j = tree.query(pred, distance_upper_bound=radius)
        pair = np.isfinite(dist)
        if pair.sum() < 3:
            break
        matrix, rms = _fit_similarity(src[pair], dst[j[pair]])
        best, n_pairs = SimilarityTransform.from_matrix(matrix), int(pair.sum())
        radius = max(3.0 * rms, 0.3)
    return best, n_pairs


def _fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear least squares for x' = a x - b y + tx, y' = b x + a y + ty; returns (3x3, rms)."""
    n = len(src)
    design = np.zeros((2 * n, 4))
    design[:n, 0], design[:n, 1], design[:n, 2] = src[:, 0], -src[:, 1], 1.0
    design[n:, 0], design[n:, 1], design[n:, 3] = src[:, 1], src[:, 0], 1.0
    rhs = np.concatenate([dst[:, 0], dst[:, 1]])
    (a, b, tx, ty), *_ = np.linalg.lstsq(design, rhs, rcond=None)
    rms = float(np.sqrt(np.mean((design @ np.array([a, b, tx, ty]) - rhs) ** 2)))
    return np.array([[a, -b, tx], [b, a, ty], [0.0, 0.0, 1.0]]), rms
