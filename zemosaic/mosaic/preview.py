"""Display previews: an automatic astro stretch and an 8-bit PNG writer with a coverage alpha channel.

The stretch is the "screen transfer function" of astro tools (PixInsight's auto-STF, Siril's autostretch), with the
sky, not the image median, as its reference, and made colour-preserving:

1. the **sky level** of each channel is measured above Phase 5.5's lower envelope
   (:func:`zemosaic.mosaic.sky.fit_mosaic_sky`: star-clipped cell medians, fitted at their 2 % quantile), so a
   nebula that fills much of the field is not taken for sky (the image median would be: its colour would be
   subtracted as a cast, and the sky would come out tinted), as the mean of the darkest 5 % of the cells; the
   darkest are chosen on the sum of the channels weighted by the inverse of each one's noise variance, so that the
   choice biases every channel's level by the same amount whatever its noise (choosing the cells darkest in every
   channel, as Phase 5.5 does, biases a noisier channel more: after the colour calibration, which multiplies B's
   noise by 1.6, the sky came out bluish, 2-3.5 levels of 255); Phase 5.5's level is the fallback when too few
   cells cover the image, the image median on images too small for any;
2. per channel, the black point is ``sky - D`` with one depth ``D`` for every channel (2.8 x the pixel noise, or
   deeper when a gradient left in the data goes further below the sky), so the sky lands at the same level in R, G
   and B: **neutral grey**, whatever the colour cast of the data;
3. one common white point for all channels (linked): the brightest valid luminance, so nothing is clipped by the
   normalisation itself (the MTF then saturates star cores smoothly, as screen stretches do);
4. a midtones transfer function (MTF) on the luminance, with the midtone chosen so that the sky lands at 15 % grey
   (a dark grey: the auto-STF's 25 % shows the noise as much as the nebula), applied to R, G and B as one common
   gain ``MTF(L) / L``; colour ratios are therefore kept (stars keep their colour instead of bleaching to white), and
   pixels pushed above 1 are scaled down as a whole (hue kept: the brightest channel of a bright star's core reaches
   255, on about 0.6 % of the demo's pixels). Nebulosity 3 noise sigmas above the sky comes out about 30 levels (of
   255) above the sky's grey.

Previews are written the way FITS viewers (Siril, DS9) display images: the first FITS row at the bottom.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from zemosaic._pixels import finite_in_every_channel
from zemosaic._stats import block_sums, diff_noise_sigma, mad_sigma
from zemosaic.io.atomic import atomic_output
from zemosaic.mosaic.sky import MosaicSky, fit_mosaic_sky

__all__ = ["stretch_for_display", "write_preview_png"]

_PNG_COMPRESS_LEVEL = 1  # the preview is rewritten every run and read at once: speed over a tenth of its size

log = logging.getLogger(__name__)

_SHADOW_SIGMAS = 2.8
_SHADOW_PERCENTILE = 0.5  # the darkest half percent of the sky may clip to black
_TARGET_BACKGROUND = 0.15  # the sky's grey: PixInsight's auto-STF uses 0.25, a finished image is darker
_MAX_STAT_SAMPLES = 250_000
_SKY_SAMPLES = 512  # the sky level: the image reduced to at most this many samples on its long side,
_SKY_CELL = 8  # in cells of 8 x 8 samples,
_SKY_CELL_SHARE = 0.05  # the darkest 5 % of them,
_MIN_SKY_CELLS = 8  # at least 8


def stretch_for_display(image: np.ndarray, *, valid: np.ndarray | None = None) -> np.ndarray:
    """Stretch a linear image to 0..1 for display (robust black point, linked MTF that keeps colours).

    Parameters
    ----------
    image : numpy.ndarray
        ``H x W`` or ``H x W x 3``, linear data in any units; NaN allowed.
    valid : numpy.ndarray of bool, optional
        ``H x W`` mask of the pixels to take statistics from (e.g. coverage > 0).  Non-finite pixels are always
        excluded.

    Returns
    -------
    numpy.ndarray
        float32, same shape, values in [0, 1]; 0 where the input is not finite or not valid, all 0 when no pixel is
        valid or the valid pixels are constant.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"image must be H x W or H x W x 3, got shape {img.shape}")
    colour = img if img.ndim == 3 else img[..., None]
    mask = finite_in_every_channel(colour)
    if valid is not None:
        mask &= np.asarray(valid, dtype=bool)
    out = np.zeros(colour.shape, dtype=np.float32)
    samples = _sample(colour, mask)
    if samples.shape[0] == 0:
        return out if img.ndim == 3 else out[..., 0]
    # one shadow depth for every channel, from the pixel-to-pixel noise (not the spread of the sky, which
    # a residual gradient dominates): the sky lands at the same level in R, G and B, i.e. neutral grey
    # ... and deep enough that a sky gradient left in the data is shown, not clipped to black
    sky = _sky_level(colour, mask, samples)
    spread = float(np.mean(sky - np.percentile(samples, _SHADOW_PERCENTILE, axis=0)))
    depth = max(_SHADOW_SIGMAS * float(np.mean(_pixel_noise(colour, mask))), spread)
    black = (sky - depth).astype(np.float32)
    shifted = np.where(mask[..., None], np.maximum(colour - black, np.float32(0.0)), np.float32(0.0))
    white = float(shifted.mean(axis=2).max())
    if not white > 0:
        return out if img.ndim == 3 else out[..., 0]
    midtone = _midtone_for(depth / white)                             # the sky sits at ``depth`` above black
    shifted /= np.float32(white)
    out = _colour_preserving_mtf(shifted.astype(np.float32), midtone)
    return out if img.ndim == 3 else out[..., 0]


def write_preview_png(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    max_size: int = 2048,
    flip_rows: bool = True,
) -> Path:
    """Write a stretched 8-bit PNG preview with an alpha channel, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination (folder created if missing).
    image : numpy.ndarray
        ``H x W`` (grey PNG) or ``H x W x 3`` (RGB PNG), linear; NaN = no data.
    alpha : numpy.ndarray, optional
        ``H x W`` weight / alpha / coverage map: the PNG is transparent (alpha 0) where it is 0 (or not finite) and
        opaque (255) elsewhere.  Pixels where the image is NaN are transparent too.
    max_size : int
        Longest side of the PNG.  Larger images are reduced by an integer factor with a NaN-aware block mean (a
        block is opaque if any of its pixels is covered, and shows the mean of those).
    flip_rows : bool
        Put the first row at the bottom, as FITS viewers display it (default).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        Bad shapes, or ``max_size < 1``.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"image must be H x W or H x W x 3, got shape {img.shape}")
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    covered = _coverage_mask(img, alpha)
    factor = int(np.ceil(max(img.shape[:2]) / max_size))
    if factor > 1:
        img, covered = _block_mean(img, covered, factor)
    stretched = stretch_for_display(img, valid=covered)
    pixels = np.round(stretched * 255.0).astype(np.uint8)
    alpha8 = np.where(covered, 255, 0).astype(np.uint8)
    rgba = np.dstack([pixels, alpha8])  # H x W x 4 (RGBA) or H x W x 2 (LA)
    if flip_rows:
        rgba = rgba[::-1]
    picture = Image.fromarray(np.ascontiguousarray(rgba))
    with atomic_output(path) as handle:  # zlib level 1: 0.36 s against 0.82 s at the default 6 for 10 % more bytes
        picture.save(handle, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
    log.debug("preview %s: %d x %d (reduced x%d)", path, rgba.shape[1], rgba.shape[0], max(factor, 1))
    return Path(path)


# --------------------------------------------------------------------------------------------------------------
# private helpers

def _sample(colour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Valid pixels as (N, C) float64, regularly thinned to about 250 000 for the statistics."""
    values = colour[mask]
    step = max(1, values.shape[0] // _MAX_STAT_SAMPLES)
    return values[::step].astype(np.float64)


def _sky_level(colour: np.ndarray, mask: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """(C,) sky level: above Phase 5.5's plane envelope (:func:`zemosaic.mosaic.sky.fit_mosaic_sky`, on the image
    as it is), on the cells chosen by :func:`_noise_weighted_sky`; Phase 5.5's own level when too few cells cover
    the image, the median of the samples when it is too small for any."""
    fit = fit_mosaic_sky(colour, mask.astype(np.float32), model="plane", neutralise=False)
    if fit.sky_level.shape != (colour.shape[2],) or not np.all(np.isfinite(fit.sky_level)):
        return np.median(samples, axis=0)
    level = _noise_weighted_sky(colour, mask, fit)
    return fit.sky_level if level is None else level


def _noise_weighted_sky(colour: np.ndarray, mask: np.ndarray, fit: MosaicSky) -> np.ndarray | None:
    """(C,) sky level: the mean over the darkest cells of their medians minus the envelope, the darkest chosen on
    the channels' sum weighted by the inverse of each channel's cell-median noise variance.

    Choosing the darkest cells on the pixels that measure the level biases it low by the noise of each channel's
    cell medians (Phase 5.5's choice, the darkest in every channel, biases a channel of 1.6 times the noise 1.6
    times as much: the colour calibration's B); with those weights the bias is one and the same in every channel
    (the covariance of each channel's noise with the weighted sum is the same), so the sky keeps its colour.
    The noise of a cell median is that of the difference between the medians of the cell's two halves.
    None when fewer than ``_MIN_SKY_CELLS`` cells are wholly covered.
    """
    step = max(1, -(-max(colour.shape[:2]) // _SKY_SAMPLES))
    dec, kept = _block_mean(colour, mask, step) if step > 1 else (np.where(mask[..., None], colour, np.nan), mask)
    n_rows, n_cols = dec.shape[0] // _SKY_CELL, dec.shape[1] // _SKY_CELL
    if n_rows * n_cols < _MIN_SKY_CELLS:
        return None
    cells = dec[:n_rows * _SKY_CELL, :n_cols * _SKY_CELL].reshape(n_rows, _SKY_CELL, n_cols, _SKY_CELL, -1)
    whole = kept[:n_rows * _SKY_CELL, :n_cols * _SKY_CELL].reshape(n_rows, _SKY_CELL, n_cols, _SKY_CELL)
    whole = whole.all(axis=(1, 3)) & np.all(np.isfinite(cells), axis=(1, 3, 4))
    if whole.sum() < _MIN_SKY_CELLS:
        return None
    half = _SKY_CELL // 2
    above = np.median(cells, axis=(1, 3))[whole] - _envelope_at_cells(fit, step, n_rows, n_cols)[whole]
    halves = (np.median(cells[:, :, :, :half], axis=(1, 3)) - np.median(cells[:, :, :, half:], axis=(1, 3)))[whole]
    noise = np.maximum(mad_sigma(halves.astype(np.float64), axis=0), 1e-9)
    k = max(_MIN_SKY_CELLS, int(round(_SKY_CELL_SHARE * above.shape[0])))
    darkest = np.argsort(above @ (1.0 / noise ** 2), kind="stable")[:k]
    return above[darkest].mean(axis=0)


def _envelope_at_cells(fit: MosaicSky, step: int, n_rows: int, n_cols: int) -> np.ndarray:
    """(n_rows, n_cols, C) Phase 5.5's fitted envelope (median 0) at the cells' centres, full-resolution pixels."""
    centre = (np.arange(n_rows) * _SKY_CELL + (_SKY_CELL - 1) / 2.0) * step + (step - 1) / 2.0
    cols = np.round((np.arange(n_cols) * _SKY_CELL + (_SKY_CELL - 1) / 2.0) * step + (step - 1) / 2.0).astype(int)
    rows = [fit.model_rows(int(round(r)), int(round(r)) + 1)[0] for r in centre]
    model = np.stack(rows)[:, cols].astype(np.float64)
    return model if model.ndim == 3 else model[..., None]


def _pixel_noise(colour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-channel noise sigma from horizontal neighbour differences (1.4826 MAD / sqrt 2) on thinned rows;
    falls back to the MAD of the values when fewer than 16 pairs exist."""
    step = max(1, colour.shape[0] // 512)
    rows, ok = colour[::step].astype(np.float64), mask[::step]
    pair = ok[:, 1:] & ok[:, :-1]
    diffs = (rows[:, 1:] - rows[:, :-1])[pair]
    if diffs.shape[0] < 16:
        return mad_sigma(colour[mask].astype(np.float64), axis=0)
    return diff_noise_sigma(diffs, axis=0)


def _midtone_for(background: float) -> float:
    """Midtone balance m such that MTF(m, background) = target (the MTF is its own inverse in m)."""
    background = min(max(background, 1e-6), 1.0 - 1e-6)
    if background >= _TARGET_BACKGROUND:
        return 0.5  # already bright enough: identity
    return _mtf(_TARGET_BACKGROUND, background)


def _mtf(midtone: float, x):
    return (midtone - 1.0) * x / ((2.0 * midtone - 1.0) * x - midtone)


def _colour_preserving_mtf(shifted: np.ndarray, midtone: float) -> np.ndarray:
    """Apply the MTF to the luminance and the same gain to every channel; keep hue when clipping at 1."""
    lum = shifted.mean(axis=2, keepdims=True)
    stretched_lum = _mtf(midtone, np.clip(lum, 0.0, 1.0)).astype(np.float32)
    gain = np.divide(stretched_lum, lum, out=np.zeros_like(lum), where=lum > 0)
    out = shifted * gain
    peak = out.max(axis=2, keepdims=True)
    out = np.divide(out, peak, out=out, where=peak > 1.0)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _coverage_mask(img: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    finite = finite_in_every_channel(img)
    if alpha is None:
        return finite
    weights = np.asarray(alpha, dtype=np.float32)
    if weights.shape != img.shape[:2]:
        raise ValueError(f"alpha must be {img.shape[0]} x {img.shape[1]}, got shape {weights.shape}")
    return finite & np.isfinite(weights) & (weights > 0)


def _block_mean(img: np.ndarray, covered: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce by ``factor`` averaging only covered pixels; a block is covered if any of its pixels is.

    Works over bands of block rows so that memory stays a small multiple of one band, whatever the image size.
    """
    height, width = covered.shape
    out_h, out_w = -(-height // factor), -(-width // factor)
    colour = img if img.ndim == 3 else img[..., None]
    means = np.full((out_h, out_w, colour.shape[2]), np.nan, dtype=np.float32)
    counts = np.zeros((out_h, out_w), dtype=np.int64)
    band = max(1, 4_000_000 // (factor * factor * out_w))  # block rows per band
    for top in range(0, out_h, band):
        rows = slice(top * factor, min((top + band) * factor, height))
        sums, n = _band_sums(colour[rows], covered[rows], factor, out_w)
        counts[top:top + n.shape[0]] = n
        np.divide(sums, n[..., None], out=means[top:top + n.shape[0]], where=n[..., None] > 0)
    return (means if img.ndim == 3 else means[..., 0]), counts > 0


def _band_sums(colour: np.ndarray, covered: np.ndarray, factor: int, out_w: int):
    rows_out = -(-colour.shape[0] // factor)
    padded = np.zeros((rows_out * factor, out_w * factor, colour.shape[2]), dtype=np.float32)
    np.copyto(padded[:colour.shape[0], :colour.shape[1]], colour, where=covered[..., None])
    mask = np.zeros(padded.shape[:2], dtype=np.int32)
    mask[:covered.shape[0], :covered.shape[1]] = covered
    return block_sums(padded, factor), block_sums(mask, factor)

