"""Translation between two planes by FFT phase correlation, and the overlap rectangle of a translated frame."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft

from zemosaic.align.stars import finite_plane, smooth_background
from zemosaic.align.transform import INSIDE_TOL

__all__ = ["FftShift", "phase_correlate", "fft_overlap_rect"]

_FFT_PEAK_SIGMA = 1.0  # px, width of the Gaussian the phase-correlation peak is shaped into


@dataclass(frozen=True)
class FftShift:
    """Result of :func:`phase_correlate`.

    ``dy, dx`` is the shift (rows, columns) to apply to the frame so that it lands on the reference:
    ``aligned(y, x) = frame(y - dy, x - dx)``; it equals ``SimilarityTransform.translation(dx, dy)``.
    ``confidence`` is the peak-to-sidelobe ratio of the correlation surface:
    ``(peak - mean) / std`` of the surface outside an 11x11 box around the peak.
    """

    dy: float
    dx: float
    confidence: float


def phase_correlate(reference_plane: np.ndarray, frame_plane: np.ndarray) -> FftShift:
    """Measure the translation between two 2D planes by phase correlation.

    Both planes get their non-finite pixels replaced by the median, their local sky background
    (64 px mesh) removed and a 2D Hann window applied. The cross-power spectrum is whitened and
    multiplied by a Gaussian low-pass, so the correlation peak is a Gaussian of 1 px sigma centred
    on the shift; a log-parabola fit through the 3 samples around the maximum (per axis) gives the
    sub-pixel position.

    Parameters
    ----------
    reference_plane, frame_plane : numpy.ndarray
        2D arrays of the same shape.

    Returns
    -------
    FftShift
        ``(dy, dx)`` to apply to the frame (``aligned(y, x) = frame(y - dy, x - dx)``) and the
        peak-to-sidelobe ratio as ``confidence`` (about 5-8 for unrelated images, tens to thousands
        for a star field; a rotated frame can still score high: :func:`align_images_in_group`
        therefore also checks that the four quadrants agree).

    Raises
    ------
    ValueError
        The planes are not 2D or differ in shape.
    """
    ref = np.asarray(reference_plane, dtype=np.float32)
    frm = np.asarray(frame_plane, dtype=np.float32)
    if ref.ndim != 2 or ref.shape != frm.shape:
        raise ValueError(f"phase_correlate needs two 2D planes of one shape, got {ref.shape} and {frm.shape}")
    return correlate_spectra(fft_spectrum(finite_plane(ref)), fft_spectrum(finite_plane(frm)), ref.shape)


def fft_overlap_rect(shape: Sequence[int], dy: float, dx: float,
                     out_shape: Sequence[int] | None = None) -> tuple[int, int, int, int]:
    """Output rectangle covered by a frame translated by ``(dy, dx)``.

    Parameters
    ----------
    shape : sequence of int
        Image shape; only the first two entries (H, W) are used.
    dy, dx : float
        Shift applied to the frame (see :class:`FftShift`).
    out_shape : sequence of int, optional
        (H, W) of the output grid when it is not the frame's own (a canvas,
        :class:`zemosaic.align.canvas.Canvas`); ``dy, dx`` are then the shift onto that grid.

    Returns
    -------
    tuple of int
        ``(y0, x0, y1, x1)``, half-open: rows ``y0 <= y < y1`` and columns ``x0 <= x < x1`` are the
        output pixels whose source position ``(y - dy, x - dx)`` lies inside the frame's pixel-centre
        hull. Empty (``y0 >= y1`` or ``x0 >= x1``) when the frame does not overlap the reference, and
        ``(0, 0, 0, 0)`` when a shift is not finite (no measurable translation).
    """
    h, w = int(shape[0]), int(shape[1])
    out_h, out_w = (h, w) if out_shape is None else (int(out_shape[0]), int(out_shape[1]))
    if not (math.isfinite(dy) and math.isfinite(dx)):
        return 0, 0, 0, 0
    y0, y1 = _overlap_1d(h, dy, out_h)
    x0, x1 = _overlap_1d(w, dx, out_w)
    return y0, x0, y1, x1


def fft_spectrum(plane: np.ndarray) -> np.ndarray:
    """rfft2 of the background-subtracted, Hann-windowed plane (already finite)."""
    h, w = plane.shape
    resid = plane - smooth_background(plane)
    window = np.outer(np.hanning(h).astype(np.float32), np.hanning(w).astype(np.float32))
    return scipy.fft.rfft2(resid * window, workers=-1)


def correlate_spectra(ref_spec: np.ndarray, frm_spec: np.ndarray, shape: tuple[int, int]) -> FftShift:
    h, w = shape
    cross = ref_spec * np.conj(frm_spec)
    magnitude = np.abs(cross)
    peak_mag = float(magnitude.max())
    if not (np.isfinite(peak_mag) and peak_mag > 0.0):
        # a constant plane (all-zero frame, flat field) has no structure to correlate: no shift, no confidence
        return FftShift(0.0, 0.0, 0.0)
    cross /= magnitude + 1e-20 * (peak_mag + 1e-30)
    fy = scipy.fft.fftfreq(h)[:, None]
    fx = scipy.fft.rfftfreq(w)[None, :]
    cross *= np.exp(-2.0 * (math.pi * _FFT_PEAK_SIGMA) ** 2 * (fy ** 2 + fx ** 2))
    surf = scipy.fft.irfft2(cross, s=(h, w), workers=-1)
    if not np.all(np.isfinite(surf)) or float(np.ptp(surf)) <= 0.0:
        return FftShift(0.0, 0.0, 0.0)  # nothing measurable (non-finite input spectra)
    py, px = np.unravel_index(int(np.argmax(surf)), surf.shape)
    dy = py + _peak_offset(surf[(py - 1) % h, px], surf[py, px], surf[(py + 1) % h, px])
    dx = px + _peak_offset(surf[py, (px - 1) % w], surf[py, px], surf[py, (px + 1) % w])
    dy = dy - h if dy > h / 2 else dy
    dx = dx - w if dx > w / 2 else dx
    return FftShift(float(dy), float(dx), _peak_to_sidelobe(surf, int(py), int(px)))


def _peak_offset(left: float, centre: float, right: float) -> float:
    """Sub-sample offset of a peak from 3 samples: Gaussian (log-parabola) fit, parabola if not positive."""
    if min(left, centre, right) > 0:
        left, centre, right = math.log(left), math.log(centre), math.log(right)
    denom = left - 2.0 * centre + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def _peak_to_sidelobe(surf: np.ndarray, py: int, px: int, half: int = 5) -> float:
    rolled = np.roll(surf, (half - py, half - px), axis=(0, 1))
    side = rolled.copy()
    side[: 2 * half + 1, : 2 * half + 1] = np.nan
    std = float(np.nanstd(side))
    return float((surf[py, px] - np.nanmean(side)) / std) if std > 0 else 0.0


def _overlap_1d(n: int, shift: float, n_out: int) -> tuple[int, int]:
    lo = max(0, math.ceil(shift - INSIDE_TOL))
    hi = min(n_out, math.floor(n - 1 + shift + INSIDE_TOL) + 1)
    return lo, max(lo, hi)


def rect_area(rect: tuple[int, int, int, int]) -> int:
    y0, x0, y1, x1 = rect
    return max(0, y1 - y0) * max(0, x1 - x0)


def rect_mask(hw: tuple[int, int], rect: tuple[int, int, int, int]) -> np.ndarray:
    y0, x0, y1, x1 = rect
    mask = np.zeros(hw, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def quadrant_slices(shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    h, w = shape
    if min(h, w) < 128:
        return []
    ys = (slice(0, h // 2), slice(h // 2, h))
    xs = (slice(0, w // 2), slice(w // 2, w))
    return [(sy, sx) for sy in ys for sx in xs]
