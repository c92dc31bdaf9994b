"""Similarity transforms between two pixel grids, and their least-squares refinement on matched stars.

Coordinates are pixel indices (x = column, y = row, origin at the centre of element [0, 0]).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["SimilarityTransform", "fit_similarity", "refine_prediction", "wcs_transform"]

INSIDE_TOL = 1e-6            # px tolerance of the "inside the source frame" test (overlap rectangle, resampling)
_MATCH_RADIUS = 1.5    # px, pairing radius of the refinement
_PREDICTION_RADIUS = 8.0  # px, first pairing radius around a WCS-predicted position
_PREDICTION_STARS = 200   # brightest stars paired in that first, wide round (fewer chance pairs)
_MIN_PREDICTED_PAIRS = 12  # star pairs needed to accept a WCS prediction (else the matcher measures the frame)
_MIN_PREDICTED_FRACTION = 0.2  # ... and this fraction of the stars expected in the overlap
_MAX_SCALE_DEVIATION = 0.05  # frames of one instrument: |scale - 1| above this is a wrong match


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


def refine_similarity(src: np.ndarray, dst: np.ndarray, matrix: np.ndarray) -> tuple[SimilarityTransform, int]:
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
        matrix, rms = fit_similarity(src[pair], dst[j[pair]])
        best, n_pairs = SimilarityTransform.from_matrix(matrix), int(pair.sum())
        radius = max(3.0 * rms, 0.3)
    return best, n_pairs


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear least squares for x' = a x - b y + tx, y' = b x + a y + ty; returns (3x3, rms)."""
    n = len(src)
    design = np.zeros((2 * n, 4))
    design[:n, 0], design[:n, 1], design[:n, 2] = src[:, 0], -src[:, 1], 1.0
    design[n:, 0], design[n:, 1], design[n:, 3] = src[:, 1], src[:, 0], 1.0
    rhs = np.concatenate([dst[:, 0], dst[:, 1]])
    (a, b, tx, ty), *_ = np.linalg.lstsq(design, rhs, rcond=None)
    rms = float(np.sqrt(np.mean((design @ np.array([a, b, tx, ty]) - rhs) ** 2)))
    return np.array([[a, -b, tx], [b, a, ty], [0.0, 0.0, 1.0]]), rms


def wcs_transform(frame_wcs, reference_wcs, shape: tuple[int, ...], *, steps: int = 5) -> np.ndarray | None:
    """The frame -> reference pixel mapping (3x3) that the two frames' celestial WCS predict, or None.

    A ``steps`` x ``steps`` grid of the frame's pixels is carried to the sky and back into the reference, and a
    similarity is fitted to the pairs. The WCS a frame got from Phase 1b (its header's, a plate solution, or a
    solved neighbour's carried by the registration of the two) therefore gives the transform that registration
    found, composed onto the tile's reference. None when either WCS is missing or a grid point has no position.
    """
    if frame_wcs is None or reference_wcs is None:
        return None
    h, w = int(shape[0]), int(shape[1])
    gx, gy = np.meshgrid(np.linspace(0, w - 1, steps), np.linspace(0, h - 1, steps))
    try:
        world = frame_wcs.celestial.pixel_to_world_values(gx.ravel(), gy.ravel())
        rx, ry = reference_wcs.celestial.world_to_pixel_values(*world)
    except Exception:  # noqa: BLE001 - a WCS that cannot map these points predicts nothing; the matcher measures
        return None
    src = np.column_stack([gx.ravel(), gy.ravel()])
    dst = np.column_stack([np.asarray(rx, dtype=float), np.asarray(ry, dtype=float)])
    if not np.all(np.isfinite(dst)):
        return None
    matrix, _ = fit_similarity(src, dst)
    return matrix


def refine_prediction(src: np.ndarray, dst: np.ndarray, matrix: np.ndarray, reference_shape: tuple[int, ...], *,
                      radius: float = _PREDICTION_RADIUS) -> tuple[SimilarityTransform, int] | str:
    """A predicted frame -> reference ``matrix`` checked and refined on the two frames' stars.

    The brightest stars are paired within ``radius`` px of their predicted positions; a similarity is fitted to
    those pairs and refitted on the pairs it explains (trimmed least squares, so the chance pairs of a wide radius
    drop out), then refined on every star (:func:`refine_similarity`). Accepted when at least
    ``_MIN_PREDICTED_PAIRS`` pairs and ``_MIN_PREDICTED_FRACTION`` of the frame's stars predicted inside the
    reference support it and its scale is that of one instrument; otherwise the reason (the caller measures the
    frame from scratch). A wrong prediction pairs stars by chance only: its refined fit keeps a handful of pairs.
    """
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(src) < _MIN_PREDICTED_PAIRS or len(dst) < _MIN_PREDICTED_PAIRS:
        return f"too few stars to check the prediction ({len(src)} / {len(dst)})"
    first = _trimmed_fit(src[:_PREDICTION_STARS], dst[:2 * _PREDICTION_STARS], matrix, radius)
    if first is None:
        return f"the prediction pairs fewer than {_MIN_PREDICTED_PAIRS} stars within {radius:g} px"
    transform, n_pairs = refine_similarity(src, dst, first)
    expected = _stars_inside(src, transform.matrix, reference_shape)
    needed = max(_MIN_PREDICTED_PAIRS, int(math.ceil(_MIN_PREDICTED_FRACTION * min(expected, len(dst)))))
    if n_pairs < needed:
        return f"the prediction is supported by {n_pairs} star pairs (< {needed})"
    if abs(transform.scale - 1.0) > _MAX_SCALE_DEVIATION:
        return f"the prediction refines to scale {transform.scale:.4f}"
    return transform, n_pairs


def _trimmed_fit(src: np.ndarray, dst: np.ndarray, matrix: np.ndarray, radius: float) -> np.ndarray | None:
    """Similarity fitted to the nearest pairs within ``radius`` of ``matrix``'s prediction, then refitted four times
    on the pairs within 3x the median residual (at least 1 px) of the last fit; None below the pairs needed."""
    dist, j = cKDTree(dst).query(src @ matrix[:2, :2].T + matrix[:2, 2], distance_upper_bound=radius)
    keep = np.isfinite(dist)
    pairs_src, pairs_dst = src[keep], dst[j[keep]]
    for _ in range(5):
        if len(pairs_src) < _MIN_PREDICTED_PAIRS:
            return None
        matrix, _ = fit_similarity(pairs_src, pairs_dst)
        resid = np.hypot(*(pairs_src @ matrix[:2, :2].T + matrix[:2, 2] - pairs_dst).T)
        inlier = resid <= max(3.0 * float(np.median(resid)), 1.0)
        pairs_src, pairs_dst = pairs_src[inlier], pairs_dst[inlier]
    return matrix if len(pairs_src) >= _MIN_PREDICTED_PAIRS else None


def _stars_inside(src: np.ndarray, matrix: np.ndarray, shape: tuple[int, ...]) -> int:
    """How many of the frame's stars ``matrix`` maps inside the reference frame."""
    xy = src @ matrix[:2, :2].T + matrix[:2, 2]
    h, w = int(shape[0]), int(shape[1])
    return int(np.count_nonzero((xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)))
