"""The display stretch of the preview, Qt-free: black point, midtones, white point per channel (the midtones
transfer function astrophotographers know from Siril and PixInsight), the automatic levels, the histograms.

Levels are in the data's own units (ADU of ``mosaic.fits``). ``mid`` is the midtones balance in (0, 1): 0.5 is
linear between black and white, smaller brightens the faint end. NaN (nothing covered) stays transparent.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Levels", "auto_levels", "mtf", "stretch_to_rgba", "histograms", "channels_of"]

_TARGET_MEDIAN = 0.25  # the auto stretch puts the sky background here
_SHADOW_SIGMAS = 2.8  # and the black point this many robust sigmas below it


@dataclass(frozen=True)
class Levels:
    """One channel's black point, midtones balance and white point."""

    black: float
    mid: float
    white: float


def channels_of(data: np.ndarray) -> list[np.ndarray]:
    """The channels of an ``H x W`` or ``H x W x C`` array, each ``H x W``."""
    return [data] if data.ndim == 2 else [data[..., c] for c in range(data.shape[2])]


def mtf(mid: float, x: np.ndarray) -> np.ndarray:
    """The midtones transfer function: 0 -> 0, ``mid`` -> 0.5, 1 -> 1 (``x`` in [0, 1])."""
    x = np.clip(x, 0.0, 1.0)
    if abs(mid - 0.5) < 1e-9:
        return x
    return (mid - 1.0) * x / ((2.0 * mid - 1.0) * x - mid)


def _mid_for(x: float, target: float) -> float:
    """The midtones balance that sends ``x`` (in [0, 1]) to ``target``."""
    x = min(max(x, 1e-6), 1 - 1e-6)
    return float(np.clip(x * (target - 1.0) / (2.0 * target * x - target - x), 1e-4, 0.9999))


def auto_levels(data: np.ndarray, *, linked: bool = True) -> list[Levels]:
    """Levels per channel that show the sky dark grey and the faint signal above it: black point 2.8 robust
    sigmas below the median, white point at the 99.99th percentile, the median sent to 0.25. ``linked``: one set
    of levels from all channels together (colours kept); else one per channel (the sky made neutral)."""
    planes = channels_of(np.asarray(data, np.float32))
    samples = [p[np.isfinite(p)] for p in planes]
    if linked:
        merged = np.concatenate([s for s in samples if s.size]) if any(s.size for s in samples) else np.zeros(1)
        return [_levels_of(merged)] * len(planes)
    return [_levels_of(s if s.size else np.zeros(1)) for s in samples]


def _levels_of(values: np.ndarray) -> Levels:
    if values.size > 400_000:
        values = values[:: values.size // 400_000]
    med = float(np.median(values))
    mad = float(np.median(np.abs(values - med))) * 1.4826
    white = float(np.percentile(values, 99.99))
    black = max(float(values.min()), med - _SHADOW_SIGMAS * mad)
    if white <= black:
        white = black + 1.0
    return Levels(black, _mid_for((med - black) / (white - black), _TARGET_MEDIAN), white)


def stretch_to_rgba(data: np.ndarray, levels: Sequence[Levels]) -> np.ndarray:
    """``H x W x 4`` uint8 (RGB + alpha: 0 where the data are NaN) of ``data`` under ``levels`` (one per
    channel; a mono image is shown grey)."""
    planes = channels_of(np.asarray(data, np.float32))
    out = np.zeros(planes[0].shape + (4,), np.uint8)
    valid = np.ones(planes[0].shape, bool)
    shown = []
    for plane, lv in zip(planes, levels, strict=False):
        finite = np.isfinite(plane)
        valid &= finite
        x = (np.where(finite, plane, lv.black) - lv.black) / max(lv.white - lv.black, 1e-12)
        shown.append(np.round(255.0 * mtf(lv.mid, x)).astype(np.uint8))
    if len(shown) == 1:
        shown *= 3
    for c in range(3):
        out[..., c] = shown[c]
    out[..., 3] = np.where(valid, 255, 0)
    return out


def histograms(data: np.ndarray, *, bins: int = 256, value_range: tuple[float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel counts (``C x bins``) over ``value_range`` (default: the finite data's 0.01-99.99 %
    range) and the bin edges."""
    planes = channels_of(np.asarray(data, np.float32))
    if value_range is None:
        finite = np.concatenate([p[np.isfinite(p)][::7] for p in planes])
        value_range = (float(np.percentile(finite, 0.01)), float(np.percentile(finite, 99.99))) if finite.size \
            else (0.0, 1.0)
        if value_range[1] <= value_range[0]:
            value_range = (value_range[0], value_range[0] + 1.0)
    counts = []
    edges = np.linspace(value_range[0], value_range[1], bins + 1)
    for plane in planes:
        counts.append(np.histogram(plane[np.isfinite(plane)], bins=edges)[0])
    return np.asarray(counts), edges
