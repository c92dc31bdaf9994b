"""A night's bad frames, with their truth: passing clouds (whole frame or part of it), wind / tracking trails, focus
drift, dew haze, an obstacle over part of the field (a tree, the dome's edge) and satellites.

``SynthSpec(bad_frame_fraction=0.22, quality_defects=QUALITY_DEFECTS)`` gives that fraction of the frames one
defect each, the kinds taken in turn, the frames spread at random over the session (seeded). What each defect
does (ranges drawn per frame):

- ``cloud``: stars and nebula x 0.1-0.6 (transparency down 40-90 %), sky x 1.3-2.0 (the cloud reflects the
  town's light);
- ``partial_cloud``: the same over 25-50 % of the frame (a half-plane from one side, 40 px soft edge);
- ``trail``: every star smeared along one direction over 5-12 px (wind shake, a tracking jump);
- ``focus_drift``: FWHM x 1.7-2.5;
- ``dew``: transparency x 0.55-0.75, FWHM x 1.3, sky x 1.2 (haze on the optics);
- ``obstacle``: 15-35 % of the frame from one side shows a dark, starless silhouette (0.4 x the sky);
- ``satellite``: a bright trail across the frame. The stacker's pixel rejection handles it: it is **not** a bad
  frame (``truth["bad"]`` is False), the gate should keep it.

The truth of each frame is ``FrameTruth.details["quality"]``: ``kind``, ``bad`` and the parameters; a partial
defect also gives its half-plane (``region``: ``normal`` (nx, ny), ``offset``: pixels with ``nx x + ny y >
offset`` are covered) and ``region_fraction``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["QUALITY_DEFECTS", "plan_defects", "region_map", "smear"]

QUALITY_DEFECTS = ("cloud", "partial_cloud", "trail", "focus_drift", "dew", "obstacle", "satellite")
_EDGE_PX = 40.0


def plan_defects(n_frames: int, fraction: float, kinds: tuple[str, ...], shape: tuple[int, int],
                 rng: np.random.Generator) -> list[dict | None]:
    """Per frame (time order) its defect's truth, or None for a good frame."""
    out: list[dict | None] = [None] * n_frames
    if not kinds or fraction <= 0:
        return out
    n_bad = min(n_frames, int(round(fraction * n_frames)))
    chosen = sorted(rng.choice(n_frames, size=n_bad, replace=False).tolist())
    order = rng.permutation(len(chosen))
    for j, k in enumerate(chosen):
        out[k] = _draw(kinds[int(order[j]) % len(kinds)], shape, rng)
    return out


def _draw(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> dict:
    h, w = shape
    if kind == "cloud":
        return {"kind": kind, "bad": True, "transparency": float(rng.uniform(0.1, 0.6)),
                "sky_factor": float(rng.uniform(1.3, 2.0))}
    if kind == "partial_cloud":
        return {"kind": kind, "bad": True, "transparency": float(rng.uniform(0.1, 0.5)), "sky_factor": 1.5,
                **_half_plane(shape, float(rng.uniform(0.25, 0.5)), rng)}
    if kind == "trail":
        return {"kind": kind, "bad": True, "length_px": float(rng.uniform(5.0, 12.0)),
                "angle_deg": float(rng.uniform(0.0, 180.0))}
    if kind == "focus_drift":
        return {"kind": kind, "bad": True, "fwhm_factor": float(rng.uniform(1.7, 2.5))}
    if kind == "dew":
        return {"kind": kind, "bad": True, "transparency": float(rng.uniform(0.55, 0.75)), "fwhm_factor": 1.3,
                "sky_factor": 1.2}
    if kind == "obstacle":
        return {"kind": kind, "bad": True, "level_factor": 0.4, **_half_plane(shape, float(rng.uniform(0.15, 0.35)),
                                                                             rng)}
    if kind == "satellite":
        return {"kind": kind, "bad": False, "x0": float(rng.uniform(0.3, 0.7) * w),
                "y0": float(rng.uniform(0.3, 0.7) * h), "angle_deg": float(rng.uniform(0, 180)), "peak_adu": 600.0,
                "sigma_px": 1.0}
    raise ValueError(f"unknown quality defect {kind!r} (known: {', '.join(QUALITY_DEFECTS)})")


def _half_plane(shape: tuple[int, int], fraction: float, rng: np.random.Generator) -> dict:
    """A half-plane entering from one side (any angle within 30 deg of the side's normal) covering ``fraction``."""
    h, w = shape
    side = int(rng.integers(4))
    base = (0.0, 90.0, 180.0, 270.0)[side] + float(rng.uniform(-30.0, 30.0))
    nx, ny = math.cos(math.radians(base)), math.sin(math.radians(base))
    proj = np.sort((np.arange(0, w, 4)[None, :] * nx + np.arange(0, h, 4)[:, None] * ny).ravel())
    offset = float(proj[int((1.0 - fraction) * (len(proj) - 1))])
    return {"region": {"normal": [nx, ny], "offset": offset}, "region_fraction": fraction}


def region_map(shape: tuple[int, int], region: Mapping[str, Any]) -> np.ndarray:
    """float32 H x W in [0, 1]: 1 inside the half-plane, a linear ramp of ``_EDGE_PX`` across its edge."""
    h, w = shape
    nx, ny = region["normal"]
    d = (np.arange(w, dtype=np.float32)[None, :] * np.float32(nx) + np.arange(h, dtype=np.float32)[:, None]
         * np.float32(ny)) - np.float32(region["offset"])
    return np.clip(0.5 + d / np.float32(_EDGE_PX), 0.0, 1.0).astype(np.float32)


def smear(image: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    """``image`` (H x W x C) convolved with a flux-preserving line of ``length_px`` at ``angle_deg``."""
    half = int(math.ceil(length_px / 2.0)) + 1
    kernel = np.zeros((2 * half + 1, 2 * half + 1), dtype=np.float64)
    a = math.radians(angle_deg)
    for t in np.linspace(-length_px / 2.0, length_px / 2.0, int(8 * length_px) + 1):
        x, y = half + t * math.cos(a), half + t * math.sin(a)
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        kernel[y0, x0] += (1 - fx) * (1 - fy)
        kernel[y0, x0 + 1] += fx * (1 - fy)
        kernel[y0 + 1, x0] += (1 - fx) * fy
        kernel[y0 + 1, x0 + 1] += fx * fy
    kernel /= kernel.sum()
    from scipy.signal import fftconvolve  # imported here: scipy.signal takes seconds to import, and only trails need it

    out = fftconvolve(image, kernel[:, :, None].astype(np.float32), mode="same", axes=(0, 1))
    return out.astype(np.float32)
