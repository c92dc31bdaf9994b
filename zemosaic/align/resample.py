"""Lanczos-3 resampling of a frame onto the reference grid or a canvas (numba kernels), with its valid mask.

Why Lanczos-3: its weights are normalised to sum to one, so flux and sky level are preserved exactly;
its passband is flatter than bicubic convolution, so star profiles (FWHM 2-4 px on a Seestar) keep
their width and peak instead of being blurred; it is local (6x6 taps, unlike a spline prefilter that
spreads one hot pixel over the whole row) and it is the usual choice of astronomical resamplers. It rings
slightly next to undersampled or saturated stars; the mask-aware stacker rejects such outliers.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from zemosaic._numba_pool import run_blocks
from zemosaic.align.transform import INSIDE_TOL, SimilarityTransform

__all__: list[str] = []


def robust_sky(image: np.ndarray) -> np.ndarray:
    """Per-channel median (float32, shape (C,)) over ~65k subsampled finite pixels; 0 if none."""
    h, w = image.shape[:2]
    step = max(1, int(math.sqrt(h * w / 65536.0)))
    sample = image[::step, ::step].reshape(-1, 1 if image.ndim == 2 else image.shape[2]).astype(np.float32)
    sample[~np.isfinite(sample)] = np.nan
    with np.errstate(all="ignore"):
        med = np.nanmedian(sample, axis=0) if np.isfinite(sample).any() else np.zeros(sample.shape[1])
    return np.nan_to_num(med, nan=0.0).astype(np.float32)


def fill_non_finite(image: np.ndarray, fill: np.ndarray) -> np.ndarray:
    out = np.array(image, dtype=np.float32, copy=True)
    bad = ~np.isfinite(out)
    if out.ndim == 2:
        out[bad] = fill[0]
    else:
        out[bad] = np.broadcast_to(fill, out.shape)[bad]
    return out


def warp_lanczos3(image: np.ndarray, transform: SimilarityTransform, want_valid: bool,
          out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Lanczos-3 resampling of all channels onto the output grid, plus the valid mask if asked.

    ``transform`` maps frame pixels to output pixels; the output grid is ``out_shape`` (H, W), the
    frame's own shape by default (the reference grid), or a larger canvas
    (:class:`zemosaic.align.canvas.Canvas`). RGB frames go through one kernel that interpolates the 3
    channels of each tap together (one short vector operation per tap); other channel counts are
    resampled plane by plane.
    """
    fill = robust_sky(image)
    src = image if np.isfinite(image).all() else fill_non_finite(image, fill)
    src = np.ascontiguousarray(src)
    inverse = np.linalg.inv(transform.matrix)[:2].copy()
    hw = tuple(image.shape[:2]) if out_shape is None else (int(out_shape[0]), int(out_shape[1]))
    valid = np.empty(hw if want_valid else (1, 1), dtype=np.bool_)
    out = np.empty(hw + tuple(image.shape[2:]), dtype=np.float32)
    if image.ndim == 3 and image.shape[2] == 3:
        run_blocks(_lanczos3_rgb, hw[0], 1, src, inverse, fill, out, valid, want_valid, _LANCZOS3_LUT)
    elif image.ndim == 2:
        run_blocks(_lanczos3_plane, hw[0], 1, src, inverse, float(fill[0]), out, valid, want_valid, _LANCZOS3_LUT)
    else:
        for c in range(image.shape[2]):
            plane = np.empty(hw, dtype=np.float32)
            run_blocks(_lanczos3_plane, hw[0], 1, np.ascontiguousarray(src[:, :, c]), inverse, float(fill[c]),
                       plane, valid, want_valid and c == 0, _LANCZOS3_LUT)
            out[:, :, c] = plane
    return out, (valid if want_valid else None)


_LUT_STEPS = 1024  # sub-pixel phases of the weight table: position quantised to 1/2048 px at worst


def lanczos3_table(steps: int = _LUT_STEPS) -> np.ndarray:
    """(steps + 1, 6) float32 normalised Lanczos-3 weights of taps -2..3 for offsets k / steps."""
    frac = np.arange(steps + 1) / steps
    t = frac[:, None] - np.arange(-2, 4)[None, :]          # distance from each tap to the sample
    weights = np.sinc(t) * np.sinc(t / 3.0)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


_LANCZOS3_LUT = lanczos3_table()


@njit(cache=True, inline="always")
def _source_position(inverse, x, y, h, w, steps):
    """Source position of output pixel (x, y): (inside, ix, iy, qx, qy) with q the table phase."""
    xs = inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]
    ys = inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]
    inside = xs >= -INSIDE_TOL and xs <= w - 1 + INSIDE_TOL and ys >= -INSIDE_TOL and ys <= h - 1 + INSIDE_TOL
    ix = int(math.floor(xs))
    iy = int(math.floor(ys))
    return inside, ix, iy, int((xs - ix) * steps + 0.5), int((ys - iy) * steps + 0.5)


@njit(nogil=True, cache=True, fastmath=True)
def _lanczos3_rgb(y0, y1, src, inverse, fill, out, valid, want_valid, lut):  # pragma: no cover - compiled
    """Output rows ``y0:y1``: src H x W x 3 float32 -> out H x W x 3, edge-clamped taps, fill outside the source
    frame. Each channel's sums in scalars, and the taps of a pixel whose 6 x 6 footprint lies inside the frame read
    without clamping (most pixels: 1.6x faster than clamping every tap; the same sums in the same order)."""
    h, w = src.shape[0], src.shape[1]
    steps = lut.shape[0] - 1
    for y in range(y0, y1):
        for x in range(out.shape[1]):
            inside, ix, iy, qx, qy = _source_position(inverse, x, y, h, w, steps)
            if want_valid:
                valid[y, x] = inside
            if not inside:
                for c in range(3):
                    out[y, x, c] = fill[c]
                continue
            interior = ix >= 2 and iy >= 2 and ix + 3 < w and iy + 3 < h
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            for j in range(6):
                row = iy + j - 2 if interior else min(max(iy + j - 2, 0), h - 1)
                taps = src[row]
                l0 = np.float32(0.0)
                l1 = np.float32(0.0)
                l2 = np.float32(0.0)
                for i in range(6):
                    px = taps[ix + i - 2] if interior else taps[min(max(ix + i - 2, 0), w - 1)]
                    wx = lut[qx, i]
                    l0 += wx * px[0]
                    l1 += wx * px[1]
                    l2 += wx * px[2]
                wy = lut[qy, j]
                a0 += wy * l0
                a1 += wy * l1
                a2 += wy * l2
            out[y, x, 0] = a0
            out[y, x, 1] = a1
            out[y, x, 2] = a2


@njit(nogil=True, cache=True, fastmath=True)
def _lanczos3_plane(y0, y1, src, inverse, fill, out, valid, want_valid, lut):  # pragma: no cover - compiled
    """Single-plane twin of :func:`_lanczos3_rgb`."""
    h, w = src.shape
    steps = lut.shape[0] - 1
    for y in range(y0, y1):
        for x in range(out.shape[1]):
            inside, ix, iy, qx, qy = _source_position(inverse, x, y, h, w, steps)
            if want_valid:
                valid[y, x] = inside
            if not inside:
                out[y, x] = fill
                continue
            acc = np.float32(0.0)
            for j in range(6):
                row = min(max(iy + j - 2, 0), h - 1)
                line = np.float32(0.0)
                for i in range(6):
                    line += lut[qx, i] * src[row, min(max(ix + i - 2, 0), w - 1)]
                acc += lut[qy, j] * line
            out[y, x] = acc
