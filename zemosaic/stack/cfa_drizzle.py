"""CFA (Bayer) drizzle of a group of raw frames onto a master tile's grid: each raw pixel's one colour is dropped
onto the output grid through its frame's alignment transform, with no colour interpolation.

Debayering a raw frame invents two of the three colours of every pixel from its neighbours; stacking debayered
frames then averages those guesses, and the colour noise of the result is that of the interpolation, correlated
over a few pixels (colour blotches), not that of the frames' real samples.  Drizzle keeps only the real samples:
a raw pixel of colour ``c`` at frame position ``(x, y)`` is mapped to the output grid by the frame's transform
(frame -> tile canvas, then the output sampling ``scale``), and its value is spread over the output pixels that a
square "drop" of side ``pixfrac`` raw pixels centred there overlaps, in proportion to the overlap area (the
axis-aligned square of the "turbo" drizzle kernel), into the sums ``sum(a v)`` and ``sum(a)`` of channel ``c``
only.  With the frames' dithers and the field rotation of an Alt-Az mount, the red, green and blue sites of
different frames fall on different output pixels, so every channel fills in.  An output pixel of a channel that no
drop reached (few frames, small drops) takes the mean of its neighbours in that channel (normalised convolution,
logged as the filled fraction).

Three passes over the frames, each read raw (``read_cfa_frame``): (1) each frame's sky noise per channel and a
first mean; (2) per frame and channel a plane fitted (clipped least squares, in output coordinates) to the frame's
residual against that mean, on the sky they share (its sky offset and a gradient that moves with the camera), and
subtracted from its samples; (3) the final mean without the drops farther than ``kappa`` sigma from the first
mean (satellite trails, hot pixels, cosmic rays; sigma from the frame's sky noise and the local signal).  The
coverage (frames whose pixel-centre hull covers each output pixel, the mission's ``coverage_count_hw``) is computed
on the output grid, so that the mask and the alpha of the tile are those of the drizzled grid.

Output sampling ``scale`` 1, 1.5 or 2: the output grid has ``scale`` times the canvas's pixels a side (the S50's
2.4"/px undersamples its stars); its WCS is the canvas's with the pixel scale divided by ``scale``
(:func:`scale_wcs`).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS
from numba import njit

__all__ = ["DRIZZLE_SCALES", "DrizzleResult", "cfa_drizzle", "drizzle_matrix", "output_shape", "scale_wcs"]

log = logging.getLogger(__name__)

DRIZZLE_SCALES = (1.0, 1.5, 2.0)
_CHANNEL = {"R": 0, "G": 1, "B": 2}


@dataclass(frozen=True, eq=False)
class DrizzleResult:
    """A drizzled tile: ``image`` (H, W, 3) float32, NaN where no frame covers; ``coverage`` (H, W) float32 frames
    whose hull covers each pixel; ``weight`` (H, W, 3) summed drop areas; ``rejected_fraction`` of the drops;
    ``filled_fraction`` of the covered channel pixels filled from neighbours; ``n_frames`` dropped."""

    image: np.ndarray
    coverage: np.ndarray
    weight: np.ndarray
    rejected_fraction: float
    filled_fraction: float
    n_frames: int


def output_shape(canvas_shape: Sequence[int], scale: float) -> tuple[int, int]:
    """The drizzled grid's (H, W) for a canvas of ``canvas_shape`` at ``scale``."""
    return int(round(canvas_shape[0] * scale)), int(round(canvas_shape[1] * scale))


def drizzle_matrix(frame_to_canvas: np.ndarray, scale: float) -> np.ndarray:
    """3x3 frame pixel -> output pixel: the canvas pixel ``c`` maps to ``scale (c + 0.5) - 0.5`` (pixel edges
    kept: canvas pixel 0's left edge is output pixel 0's)."""
    s = float(scale)
    to_out = np.array([[s, 0.0, 0.5 * s - 0.5], [0.0, s, 0.5 * s - 0.5], [0.0, 0.0, 1.0]])
    return to_out @ np.asarray(frame_to_canvas, dtype=np.float64)


def scale_wcs(wcs: WCS | None, scale: float) -> WCS | None:
    """The WCS of the drizzled grid: ``wcs`` (the canvas's) with pixels ``scale`` times smaller, same sky
    (CRPIX moved by the pixel-edge convention of :func:`drizzle_matrix`, CD / CDELT divided, SIP rescaled)."""
    if wcs is None or scale == 1.0:
        return wcs
    out = wcs.deepcopy()
    s = float(scale)
    out.wcs.crpix = s * (np.asarray(wcs.wcs.crpix) - 0.5) + 0.5
    if wcs.wcs.has_cd():
        out.wcs.cd = np.asarray(wcs.wcs.cd) / s
    else:
        out.wcs.cdelt = np.asarray(wcs.wcs.cdelt) / s
    if wcs.sip is not None:
        out.sip = _scaled_sip(wcs.sip, s)
    if wcs.pixel_shape is not None:
        out.pixel_shape = (int(round(wcs.pixel_shape[0] * s)), int(round(wcs.pixel_shape[1] * s)))
    out.wcs.set()
    return out


def cfa_drizzle(load: Callable[[int], tuple[np.ndarray, str]], matrices: Sequence[np.ndarray], out_hw, *,
                scale: float = 1.0, pixfrac: float = 1.0, kappa: float = 5.0) -> DrizzleResult:
    """Drizzle the raw CFA frames ``load(k)`` (``(H x W raw, pattern)``; frame 0 is the reference) through
    ``matrices[k]`` (frame -> output, :func:`drizzle_matrix`) onto an ``out_hw`` grid (module docstring).

    Raises
    ------
    ValueError
        A frame is not a Bayer mosaic, ``pixfrac`` <= 0, or no matrix is given.
    """
    if not matrices:
        raise ValueError("cfa_drizzle: no frames")
    if pixfrac <= 0:
        raise ValueError(f"pixfrac must be > 0, got {pixfrac}")
    half = 0.5 * pixfrac * float(scale)
    h, w = int(out_hw[0]), int(out_hw[1])
    sigmas, sky = _sky_terms(load, len(matrices))
    offsets = np.zeros((len(matrices), 3))  # the sky is matched by the planes of pass 2, on the common sky
    planes = np.zeros((len(matrices), 3, 3))
    first = _accumulate(load, matrices, offsets, planes, (h, w), half, None, (sigmas, sky), kappa)
    mean1 = _mean(*first[:2])
    planes = np.stack([_frame_plane(*load(k), matrices[k], offsets[k], mean1) for k in range(len(matrices))])
    wv, wgt, rejected, total = _accumulate(load, matrices, offsets, planes, (h, w), half, mean1, (sigmas, sky),
                                           kappa)
    coverage = _coverage(load, matrices, (h, w))
    image = _mean(wv, wgt)
    filled = _fill_channel_holes(image, wgt, coverage > 0)
    image[coverage <= 0] = np.nan
    log.info("CFA drizzle: %d frames, scale %.1f, pixfrac %.2f: %.3f%% of the drops rejected (kappa %.1f), %.3f%% "
             "of the channel pixels filled from neighbours", len(matrices), scale, pixfrac,
             100.0 * rejected / max(total, 1), kappa, 100.0 * filled)
    return DrizzleResult(image, coverage, wgt, rejected / max(total, 1), filled, len(matrices))


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _channel_map(pattern: str | None) -> np.ndarray:
    if pattern is None or len(pattern) != 4 or any(ch not in _CHANNEL for ch in pattern.upper()):
        raise ValueError(f"CFA drizzle needs a Bayer mosaic, got pattern {pattern!r}")
    p = pattern.upper()
    return np.array([[_CHANNEL[p[0]], _CHANNEL[p[1]]], [_CHANNEL[p[2]], _CHANNEL[p[3]]]], dtype=np.int64)


def _sky_terms(load, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and channel the sky noise (1.4826 MAD of the colour sites); the reference's sky level (median)."""
    med = np.zeros((n, 3))
    sig = np.zeros((n, 3))
    for k in range(n):
        raw, pattern = load(k)
        cmap = _channel_map(pattern)
        for dy in range(2):
            for dx in range(2):
                c = cmap[dy, dx]
                sites = raw[dy::2, dx::2][::2, ::2]
                sites = sites[np.isfinite(sites)]
                if sites.size:
                    m = float(np.median(sites))
                    med[k, c] = m
                    sig[k, c] = 1.4826 * float(np.median(np.abs(sites - m)))
    return np.maximum(sig, 1e-6), med[0].copy()


def _accumulate(load, matrices, offsets, planes, hw, half, ref, noise, kappa):
    sigmas, sky = noise
    wv = np.zeros(hw + (3,), np.float32)
    wgt = np.zeros(hw + (3,), np.float32)
    use_ref = ref is not None
    ref_arr = ref if use_ref else np.zeros((1, 1, 3), np.float32)
    rejected = total = 0
    for k, m in enumerate(matrices):
        raw, pattern = load(k)
        r, t = _drop_frame(np.ascontiguousarray(raw, dtype=np.float32), _channel_map(pattern),
                           np.ascontiguousarray(m[:2], dtype=np.float64), offsets[k].astype(np.float64),
                           planes[k].astype(np.float64), float(half), ref_arr,
                           np.stack([sigmas[k], sky]).astype(np.float64), float(kappa), use_ref, wv, wgt)
        rejected += r
        total += t
    return wv, wgt, rejected, total


def _mean(wv: np.ndarray, wgt: np.ndarray) -> np.ndarray:
    out = np.full(wv.shape, np.nan, np.float32)
    np.divide(wv, wgt, out=out, where=wgt > 1e-6)
    return out


def _frame_plane(raw, pattern, m, offset, mean1, step: int = 4, iterations: int = 3) -> np.ndarray:
    """(3, 3) per channel ``a + b x + c y`` (output coordinates): the frame's residual against ``mean1``, fitted by
    least squares clipped at 3 sigma, on every other site of each colour."""
    cmap = _channel_map(pattern)
    h, w = mean1.shape[:2]
    out = np.zeros((3, 3))
    for dy in range(2):
        for dx in range(2):
            c = cmap[dy, dx]
            ys, xs = np.mgrid[dy:raw.shape[0]:step, dx:raw.shape[1]:step]
            ox = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
            oy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
            ix, iy = np.rint(ox).astype(np.int64), np.rint(oy).astype(np.int64)
            inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
            ref = np.full(ix.shape, np.nan)
            ref[inside] = mean1[iy[inside], ix[inside], c]
            resid = raw[ys, xs] - offset[c] - ref
            ok = np.isfinite(resid)
            out[c] = _clipped_plane(ox[ok], oy[ok], resid[ok], iterations)
    return out


def _clipped_plane(x, y, v, iterations: int) -> np.ndarray:
    if v.size < 10:
        return np.zeros(3)
    design = np.column_stack([np.ones_like(x), x, y])
    keep = np.ones(v.size, bool)
    coef = np.zeros(3)
    for _ in range(iterations):
        coef, *_ = np.linalg.lstsq(design[keep], v[keep], rcond=None)
        resid = v - design @ coef
        s = 1.4826 * np.median(np.abs(resid[keep]))
        keep = np.abs(resid) <= 3.0 * max(s, 1e-6)
        if keep.sum() < 10:
            break
    return coef


def _coverage(load, matrices, hw) -> np.ndarray:
    cov = np.zeros(hw, np.float32)
    for k, m in enumerate(matrices):
        raw, _ = load(k)
        inv = np.linalg.inv(m)[:2].copy()
        _add_hull(inv, raw.shape[0], raw.shape[1], cov)
    return cov


def _fill_channel_holes(image: np.ndarray, wgt: np.ndarray, covered: np.ndarray, rounds: int = 4) -> float:
    """Fill, in place, the covered pixels of a channel that no drop reached with the weighted mean of their 3 x 3
    neighbours (repeated ``rounds`` times for wider holes); the fraction of covered channel pixels filled."""
    from scipy import ndimage as ndi

    n_filled = 0
    for c in range(3):
        plane, w = image[..., c], wgt[..., c].astype(np.float64)
        values = np.where(w > 1e-6, np.nan_to_num(plane), 0.0)
        w = np.where(w > 1e-6, w, 0.0)
        hole = covered & (w <= 0)
        for _ in range(rounds):
            if not hole.any():
                break
            sw = ndi.uniform_filter(w, 3, mode="constant")
            swv = ndi.uniform_filter(values * w, 3, mode="constant")
            fill = hole & (sw > 0)
            plane[fill] = (swv[fill] / sw[fill]).astype(np.float32)
            n_filled += int(fill.sum())
            values[fill] = plane[fill]
            w[fill] = sw[fill]
            hole &= ~fill
    return n_filled / max(3 * int(covered.sum()), 1)


def _scaled_sip(sip, s: float):
    from astropy.wcs import Sip

    def scale(coeffs):
        if coeffs is None:
            return None
        out = np.array(coeffs, dtype=np.float64)
        for p in range(out.shape[0]):
            for q in range(out.shape[1]):
                out[p, q] *= s ** (1 - p - q)
        return out

    crpix = s * (np.asarray(sip.crpix) - 0.5) + 0.5
    return Sip(scale(sip.a), scale(sip.b), scale(sip.ap), scale(sip.bp), crpix)


@njit(cache=True)
def _drop_frame(raw, cmap, m, off, plane, half, ref, noise, kappa, use_ref, wv, wgt):  # pragma: no cover
    """Drop every finite raw pixel of one frame into its channel's sums; (rejected, total) drops.  ``noise`` rows:
    the frame's sky sigma and the reference's sky level per channel (the rejection's noise model)."""
    h_raw, w_raw = raw.shape
    h, w = wgt.shape[0], wgt.shape[1]
    rejected = 0
    total = 0
    for y in range(h_raw):
        for x in range(w_raw):
            v = raw[y, x]
            if not math.isfinite(v):
                continue
            c = cmap[y & 1, x & 1]
            ox = m[0, 0] * x + m[0, 1] * y + m[0, 2]
            oy = m[1, 0] * x + m[1, 1] * y + m[1, 2]
            if ox < -half - 0.5 or oy < -half - 0.5 or ox > w - 0.5 + half or oy > h - 0.5 + half:
                continue
            val = v - off[c] - (plane[c, 0] + plane[c, 1] * ox + plane[c, 2] * oy)
            total += 1
            if use_ref:
                ix = int(math.floor(ox + 0.5))
                iy = int(math.floor(oy + 0.5))
                if 0 <= ix < w and 0 <= iy < h:
                    r = ref[iy, ix, c]
                    if math.isfinite(r):
                        sig2 = noise[0, c] * noise[0, c]
                        signal = max(r - noise[1, c], 0.0)
                        var = sig2 * (1.0 + signal / max(sig2, 1.0)) + (0.1 * signal) ** 2
                        if abs(val - r) > kappa * math.sqrt(var):
                            rejected += 1
                            continue
            _spread(ox, oy, half, c, val, wv, wgt)
    return rejected, total


@njit(cache=True, inline="always")
def _spread(ox, oy, half, c, val, wv, wgt):  # pragma: no cover - compiled
    h, w = wgt.shape[0], wgt.shape[1]
    y0, y1, x0, x1 = oy - half, oy + half, ox - half, ox + half
    for iy in range(max(0, int(math.floor(y0 + 0.5))), min(h, int(math.floor(y1 + 0.5)) + 1)):
        ovy = min(y1, iy + 0.5) - max(y0, iy - 0.5)
        if ovy <= 0.0:
            continue
        for ix in range(max(0, int(math.floor(x0 + 0.5))), min(w, int(math.floor(x1 + 0.5)) + 1)):
            ovx = min(x1, ix + 0.5) - max(x0, ix - 0.5)
            if ovx <= 0.0:
                continue
            a = ovx * ovy
            wv[iy, ix, c] += a * val
            wgt[iy, ix, c] += a


@njit(cache=True)
def _add_hull(inv, h_raw, w_raw, cov):  # pragma: no cover - compiled
    """+1 on the output pixels whose centre maps inside the frame's pixel-centre hull."""
    h, w = cov.shape
    for y in range(h):
        for x in range(w):
            fx = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2]
            fy = inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
            if fx >= -1e-6 and fy >= -1e-6 and fx <= w_raw - 1 + 1e-6 and fy <= h_raw - 1 + 1e-6:
                cov[y, x] += 1.0
