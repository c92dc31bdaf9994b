"""Whole-run decisions on sane frames: the frames unlike the rest of the run, found before Phase 2.

The grid size, the memory estimate and the sparse-mosaic refusal of Phase 2 are taken on every frame's footprint: one
frame whose header is honest but absurd (100000 x 100000 px, a 66-degree field) would refuse the whole run.
:func:`run_outliers` finds, among frames with a WCS, those unlike the run's usual frame, each with its reason:

- size: an image area more than :data:`SIZE_RATIO` times larger (or smaller) than the median frame's;
- footprint: a field of view (the diagonal, from the WCS) more than :data:`FOOTPRINT_RATIO` times the median's.

The pixel scale is checked per group after clustering (:func:`zemosaic.pipeline.clustering.reject_scale_outliers`).
With fewer than three frames there is no majority and nothing is an outlier. :func:`extent_frames` names the frames
that set a refused mosaic's extent, for the refusal message.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["SIZE_RATIO", "FOOTPRINT_RATIO", "run_outliers", "extent_frames", "fov_deg"]

SIZE_RATIO = 4.0        # image area against the run's median frame
FOOTPRINT_RATIO = 4.0   # field-of-view diagonal against the run's median frame


def fov_deg(info: Any) -> float:
    """The diagonal of a frame's field (degrees) from its WCS's pixel scale."""
    return math.hypot(*info.shape) * info.pixel_scale_arcsec / 3600.0


def run_outliers(infos: Sequence[Any]) -> list[tuple[int, str]]:
    """``(index, reason)`` of the frames (``FrameInfo``-like: ``shape``, ``wcs``) unlike the run's usual frame."""
    if len(infos) < 3:
        return []
    areas = np.array([float(i.shape[0]) * float(i.shape[1]) for i in infos])
    fovs = np.array([fov_deg(i) for i in infos])
    usual = int(np.argsort(areas)[len(areas) // 2])
    med_area, med_fov = float(np.median(areas)), float(np.median(fovs))
    uh, uw = infos[usual].shape
    out = []
    for k, info in enumerate(infos):
        h, w = info.shape
        ratio = areas[k] / med_area
        if ratio > SIZE_RATIO or ratio < 1.0 / SIZE_RATIO:
            out.append((k, f"image {w} x {h} px is {_times(ratio)} the area of the run's usual frame ({uw} x {uh} "
                           f"px; limit {SIZE_RATIO:g}x): left out of the mosaic estimate and the stack"))
        elif fovs[k] > FOOTPRINT_RATIO * med_fov or fovs[k] < med_fov / FOOTPRINT_RATIO:
            out.append((k, f"field of view {fovs[k]:.3g} deg (diagonal) is {_times(fovs[k] / med_fov)} the run's "
                           f"usual {med_fov:.3g} deg (limit {FOOTPRINT_RATIO:g}x): a wrong WCS scale or another "
                           "instrument"))
    return out


def _times(ratio: float) -> str:
    return f"{ratio:.3g} times" if ratio >= 1 else f"1/{1 / ratio:.3g} of"


def extent_frames(centres: Sequence[tuple[float, float]], fovs: Sequence[float], names: Sequence[str],
                  n: int = 3) -> str:
    """The ``n`` frames that most set a mosaic's extent: farthest from the median pointing (edge included), as
    ``name (x.x deg from the median pointing, field y.y deg)`` joined with commas."""
    ra, dec = np.radians(np.asarray(centres, float)).T
    xyz = np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    mean = np.median(xyz, axis=0)
    mean /= np.linalg.norm(mean) or 1.0
    dist = np.degrees(np.arccos(np.clip(xyz @ mean, -1.0, 1.0)))
    reach = dist + 0.5 * np.asarray(fovs, float)
    order = np.argsort(-reach)[:n]
    return ", ".join(f"{names[k]} ({dist[k]:.1f} deg from the median pointing, field {fovs[k]:.2g} deg)"
                     for k in order)
