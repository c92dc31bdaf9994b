"""Normalisation fits, noise estimates and the per-chunk normalisation of the GPU stacker, for any ``xp``.

What the CPU stacker computes frame by frame (:mod:`zemosaic.stack.cpu`, :mod:`zemosaic.background`), computed
here for all frames at once on the array module ``xp`` (``numpy`` in the tests, ``cupy`` on a device):

* :func:`xp_noise_sigma`: the raw noise of every frame (1.4826 x MAD of adjacent-pixel differences / sqrt(2) on
  ``noise_rows`` rows, bright pixels left out), as ``normalization.noise_sigma``; it feeds the weights and
  ``linear_fit``.
* :func:`xp_block_medians`: the star-clipped block medians of every (frame, reference) pair on the decimated
  grid, as ``_sample_blocks.block_medians`` (the bulk of a ``background_match`` fit).
* :func:`xp_fit_match`: the clip-and-refit of ``frame = gain x reference + S(x, y)`` with the instrumented gain
  estimate, as ``background._fit_channel``, for all frames and channels as one batch (weighted normal
  equations solved by a written-out Cholesky; a fixed number of rounds with per-element convergence flags, so
  no host synchronisation).
* :class:`ChunkNormalizer`: ``(chunk - S) / gain`` (and the reference flattening) of a row chunk of all frames,
  as ``BackgroundMatch.apply``, and the linear ``(chunk - offset) / gain`` of the other methods.

The rare cases the batch does not cover (no common pixel, a frame equal to the reference, too few blocks for any
surface, a degenerate system, non-finite block values) are handed to the CPU functions for that frame, as is the
one-frame reference flattening; the ``additive``/``multiplicative``/``linear_fit`` fits run on the host on their
8,000-pixel grids with the noise measured here. The result is a list of the CPU stacker's own normaliser objects,
so the records in ``StackResult.normalization`` are the same.
"""
from __future__ import annotations

import contextlib
import logging
import math

import numpy as np

from zemosaic import background as bg
from zemosaic._sample_blocks import SampleBlocks
from zemosaic._stats import MAD_TO_SIGMA, to_blocks
from zemosaic.stack.frame_cache import release_rows
from zemosaic.stack.gpu_xp import cholesky_solve, is_numpy, masked_median_lastaxis, sort_axis0, to_host
from zemosaic.stack.normalization import BackgroundNorm, both_masks, mask_copy

__all__ = [
    "xp_noise_sigma",
    "xp_block_medians",
    "fit_background_device",
    "ChunkNormalizer",
    "device_noise",
]

logger = logging.getLogger("zemosaic.stack.gpu")

_SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------------------------------
# noise
# --------------------------------------------------------------------------------------------------

def noise_row_picks(height: int, noise_rows: int) -> np.ndarray:
    """The rows ``normalization.noise_sigma`` samples."""
    count = max(1, min(height, int(noise_rows)))
    return np.unique(np.linspace(0, height - 1, count).astype(int))


def read_noise_rows(frames, masks, noise_rows: int):
    """Host arrays of the sampled rows of every frame: float32 ``(n, R, W, C)`` and bool ``(n, R, W)`` (the
    frames' masks on those rows; None when no frame has a mask)."""
    height = frames[0].shape[0]
    picks = noise_row_picks(height, noise_rows)
    rows = np.stack([_hwc(np.asarray(f[picks], dtype=np.float32)) for f in frames])
    for f in frames:
        release_rows(f, 0, height)
    if all(m is None for m in masks):
        return rows, None
    ok = np.stack([np.ones(rows.shape[1:3], bool) if m is None else np.asarray(m[picks], dtype=bool)
                   for m in masks])
    return rows, ok


def xp_noise_sigma(xp, rows, mask):
    """Noise sigma per frame and channel, float64 ``(n, C)`` (NaN where fewer than 16 pixel pairs).

    Parameters
    ----------
    rows : array ``(n, R, W, C)``
        The sampled rows (any float dtype; computed in float64 as the CPU code does).
    mask : array, bool ``(n, R, W)``, or None
        The frames' valid masks on those rows.
    """
    rows = rows.astype(xp.float64)
    ok = xp.isfinite(rows).all(axis=-1)
    if mask is not None:
        ok = ok & mask
    diffs = rows[:, :, 1:] - rows[:, :, :-1]
    pair = ok[:, :, 1:] & ok[:, :, :-1]
    sigma = _diff_sigma(xp, diffs, pair)
    measured = xp.isfinite(sigma).all(axis=-1)
    level = _row_levels(xp, rows, ok)
    dim = (rows <= level + 2.5 * sigma[:, None, None, :]).all(axis=-1) & ok
    pair = dim[:, :, 1:] & dim[:, :, :-1]
    refined = _diff_sigma(xp, diffs, pair)
    use = measured & (pair.sum(axis=(1, 2)) >= 16)
    return xp.where(use[:, None], refined, sigma)


def _diff_sigma(xp, diffs, pair):
    """``diff_noise_sigma`` of the differences where ``pair``, per frame and channel (NaN under 16 pairs)."""
    n, n_rows, width, n_ch = diffs.shape
    d = xp.moveaxis(diffs, -1, 1).reshape(n, n_ch, n_rows * width)
    ok = xp.broadcast_to(pair.reshape(n, 1, n_rows * width), d.shape)
    centre = masked_median_lastaxis(xp, d, ok)
    mad = masked_median_lastaxis(xp, xp.abs(d - centre[..., None]), ok)
    sigma = MAD_TO_SIGMA * mad / _SQRT2
    return xp.where((pair.sum(axis=(1, 2)) >= 16)[:, None], sigma, np.nan)


def _row_levels(xp, rows, ok):
    """Median per row and channel over the valid pixels, ``(n, R, 1, C)`` (+inf for a row without any)."""
    r = xp.moveaxis(rows, -1, 2)  # (n, R, C, W)
    med = masked_median_lastaxis(xp, r, xp.broadcast_to(ok[:, :, None, :], r.shape))
    return xp.moveaxis(xp.where(xp.isnan(med), np.inf, med)[..., None], -1, 2)


# --------------------------------------------------------------------------------------------------
# background_match: block medians of all (frame, reference) pairs
# --------------------------------------------------------------------------------------------------

_STAR_CLIP_SIGMA = 3.0
_MIN_BLOCK_FILL = 0.5


def _to_blocks_xp(xp, stack, block: int):
    """``_stats.to_blocks`` for any ``xp``: ``(k, H, W, C)`` -> ``(k, n_blocks, block * block, C)``, NaN-padded."""
    k, h, w, c = stack.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    if (hp, wp) != (h, w):
        padded = xp.full((k, hp, wp, c), np.nan, dtype=stack.dtype)
        padded[:, :h, :w] = stack
        stack = padded
    cells = stack.reshape(k, hp // block, block, wp // block, block, c).transpose(0, 1, 3, 2, 4, 5)
    return cells.reshape(k, (hp // block) * (wp // block), block * block, c)


def _nan_median_cells(xp, cells):
    """``_sample_blocks._nan_median`` over axis -2 of ``(..., m, C)`` cells (NaN = missing), by a sorting network."""
    filled = xp.where(xp.isnan(cells), np.float32(np.inf), cells)
    moved = xp.moveaxis(filled, -2, 0)
    m = moved.shape[0]
    s = sort_axis0(xp, moved.reshape(m, -1), "network" if m <= 64 else "auto").reshape(moved.shape)
    count = (~xp.isnan(cells)).sum(axis=-2)  # (..., C)
    lo_i = xp.maximum(count - 1, 0) // 2
    hi_i = xp.minimum(count // 2, m - 1)
    lo = xp.take_along_axis(s, lo_i[None], axis=0)[0]
    hi = xp.take_along_axis(s, hi_i[None], axis=0)[0]
    return xp.where(count > 0, np.float32(0.5) * (lo + hi), np.float32(np.nan)).astype(cells.dtype)


def xp_block_medians(xp, frames_dec, ref_dec, mask_dec, rows, cols, block: int) -> dict:
    """Star-clipped block medians of every (frame, reference) pair, as ``_sample_blocks.block_medians``.

    Parameters
    ----------
    frames_dec : array, float32 ``(B, h, w, C)``
        The decimated frames.
    ref_dec : array, float32 ``(h, w, C)``
        The decimated reference.
    mask_dec : array, bool ``(B, h, w)``, or None
        Pixels valid in both the frame and the reference.
    rows, cols : numpy arrays ``(h,)``, ``(w,)``
        Pixel coordinates of the grid's rows and columns.
    block : int
        Block side in grid samples.

    Returns
    -------
    dict of arrays (on ``xp``)
        ``values`` float64 ``(B, 2, nb, C)`` (frame, reference), ``rows``/``cols`` float64 ``(B, nb)`` (mean
        position of the samples used), ``keep`` bool ``(B, nb)`` (the blocks ``block_medians`` keeps),
        ``bounds`` float64 ``(B, 4)``, ``any_ok`` bool ``(B,)`` (False: no usable pixel, ``block_medians``
        returns None) and ``grid_shape``.
    """
    n_frames, h, w, n_ch = frames_dec.shape
    ok = xp.isfinite(frames_dec).all(axis=-1) & xp.isfinite(ref_dec).all(axis=-1)[None]
    if mask_dec is not None:
        ok = ok & mask_dec
    any_ok = ok.reshape(n_frames, -1).any(axis=1)
    pair = xp.stack([frames_dec, xp.broadcast_to(ref_dec[None], frames_dec.shape)], axis=1)  # (B, 2, h, w, C)
    pair = xp.where(ok[:, None, :, :, None], pair, np.float32(np.nan)).astype(xp.float32)
    cells = _to_blocks_xp(xp, pair.reshape(n_frames * 2, h, w, n_ch), block)
    n_blocks, m = cells.shape[1], cells.shape[2]
    cells = cells.reshape(n_frames, 2, n_blocks, m, n_ch)
    rr_np = to_blocks(np.broadcast_to(rows[:, None], (h, w))[None, :, :, None].astype(np.float64), block)[0, :, :, 0]
    cc_np = to_blocks(np.broadcast_to(cols[None, :], (h, w))[None, :, :, None].astype(np.float64), block)[0, :, :, 0]
    rr, cc = xp.asarray(rr_np), xp.asarray(cc_np)
    finite = ~xp.isnan(cells[:, 0, :, :, 0])  # (B, nb, m)
    keep = finite.sum(axis=-1) >= max(1.0, _MIN_BLOCK_FILL * m)
    keep = xp.where(keep.any(axis=1)[:, None], keep, finite.any(axis=-1))
    sigma = _sample_sigma(xp, cells, keep)  # (B, 2, C)
    med = _nan_median_cells(xp, cells)  # (B, 2, nb, C)
    thr = med[:, :, :, None, :] + _STAR_CLIP_SIGMA * sigma[:, :, None, None, :]
    star = (cells > thr) & (sigma > 0)[:, :, None, None, :]
    star = star.any(axis=(1, 4))  # (B, nb, m): a star in either image or any channel
    cells = xp.where(star[:, None, :, :, None], np.float32(np.nan), cells)
    used = finite & ~star
    values = _nan_median_cells(xp, cells).astype(xp.float64)
    r_used = xp.where(used, rr[None], np.nan)
    c_used = xp.where(used, cc[None], np.nan)
    count = used.sum(axis=-1)
    with_any = count > 0
    mean_r = xp.where(with_any, xp.where(used, rr[None], 0.0).sum(axis=-1) / xp.maximum(count, 1), np.nan)
    mean_c = xp.where(with_any, xp.where(used, cc[None], 0.0).sum(axis=-1) / xp.maximum(count, 1), np.nan)
    sel = (keep[:, :, None] & used)
    bounds = xp.stack([
        xp.where(sel, r_used, np.inf).min(axis=(1, 2)), xp.where(sel, r_used, -np.inf).max(axis=(1, 2)),
        xp.where(sel, c_used, np.inf).min(axis=(1, 2)), xp.where(sel, c_used, -np.inf).max(axis=(1, 2))], axis=1)
    grid_shape = (-(-h // block), -(-w // block))
    return {"values": values, "rows": mean_r, "cols": mean_c, "keep": keep, "bounds": bounds,
            "any_ok": any_ok, "grid_shape": grid_shape}


def _sample_sigma(xp, cells, keep):
    """``_sample_blocks._sample_sigma`` of the kept blocks: ``(B, 2, C)`` noise of one sample."""
    n_frames, k, n_blocks, m, n_ch = cells.shape
    kb = keep[:, None, :, None, None]
    if m > 1:
        diff = xp.abs(cells[:, :, :, 1:] - cells[:, :, :, :-1])  # (B, 2, nb, m-1, C)
        ok = kb & ~xp.isnan(diff)
        flat = xp.moveaxis(diff, -1, 2).reshape(n_frames, k, n_ch, -1)
        flat_ok = xp.moveaxis(xp.broadcast_to(ok, diff.shape), -1, 2).reshape(n_frames, k, n_ch, -1)
        med = masked_median_lastaxis(xp, flat, flat_ok)
        sigma = med.astype(xp.float64) * (MAD_TO_SIGMA / np.sqrt(2.0))
    else:
        values = cells[:, :, :, 0, :]  # (B, 2, nb, C)
        ok_v = keep[:, None, :, None] & ~xp.isnan(values)
        centre = masked_median_lastaxis(xp, xp.moveaxis(values, 2, -1), xp.moveaxis(ok_v, 2, -1))  # (B, 2, C)
        diff = xp.abs(values - centre[:, :, None, :])
        ok = ok_v & ~xp.isnan(diff)
        med = masked_median_lastaxis(xp, xp.moveaxis(diff, 2, -1), xp.moveaxis(ok, 2, -1))
        sigma = med * np.float32(MAD_TO_SIGMA)
    anything = ok.reshape(n_frames, -1).any(axis=1)  # the CPU code's isfinite(diff).any() over the kept blocks
    sigma = xp.where(xp.isnan(sigma), 0.0, sigma)
    return xp.where(anything[:, None, None], sigma, 0.0).astype(sigma.dtype)


# --------------------------------------------------------------------------------------------------
# background_match: the batched clip-and-refit
# --------------------------------------------------------------------------------------------------

_CLIP_SIGMA = 3.0
_MAX_ITER = 10
_GAIN_PRIOR_WIDTH = 0.03
_MIN_STRUCTURE_CORR = 0.3
_GAIN_RANGE = (0.2, 5.0)


def _terms(order: int) -> list:
    return [(d - j, j) for d in range(order + 1) for j in range(d + 1)]


def _normalise(xp, values, lo, hi):
    half = xp.maximum(0.5 * (hi - lo), 0.5)
    return xp.clip((values - 0.5 * (lo + hi)) / half, -1.0, 1.0)


def poly_basis(xp, rows, cols, bounds, order: int):
    """``(B, nb, p)`` design matrices of the surface terms at the block positions (normalised by each frame's
    bounds, as ``background._block_uv``)."""
    u = _normalise(xp, cols, bounds[:, 2:3], bounds[:, 3:4])
    v = _normalise(xp, rows, bounds[:, 0:1], bounds[:, 1:2])
    return xp.stack([u ** i * v ** j for i, j in _terms(order)], axis=-1)


def _wsolve(xp, basis, w, y):
    """Weighted least squares per batch element: ``basis`` ``(..., nb, p)``, weights ``(..., nb)``, right-hand sides
    ``(..., nb, r)`` -> ``(..., p, r)`` (NaN when the system is singular)."""
    xw = basis * w[..., None]
    ata = xp.matmul(xp.swapaxes(xw, -1, -2), basis)
    atb = xp.matmul(xp.swapaxes(xw, -1, -2), y)
    lead = ata.shape[:-2]
    p, r = ata.shape[-1], atb.shape[-1]
    sol = cholesky_solve(xp, ata.reshape(-1, p, p), atb.reshape(-1, p, r))
    return sol.reshape(lead + (p, r))


def _neighbour_mean(xp, values, keep, grid_shape):
    """Mean of the kept 8-neighbours of every block on the grid (NaN where none), ``(..., nb)``."""
    gh, gw = grid_shape
    lead = values.shape[:-1]
    total = xp.where(keep, values, 0.0).reshape(lead + (gh, gw))
    count = keep.astype(xp.float64).reshape(lead + (gh, gw))
    pad = [(0, 0)] * len(lead) + [(1, 1), (1, 1)]
    tp, cp = xp.pad(total, pad), xp.pad(count, pad)
    s_total = xp.zeros_like(total)
    s_count = xp.zeros_like(count)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            s_total = s_total + tp[..., dy:dy + gh, dx:dx + gw]
            s_count = s_count + cp[..., dy:dy + gh, dx:dx + gw]
    mean = xp.where(s_count > 0, s_total / xp.where(s_count > 0, s_count, 1.0), np.nan)
    return mean.reshape(lead + (gh * gw,))


def _masked_sum(xp, x, w):
    return xp.where(w, x, 0.0).sum(axis=-1)


def _estimate_gain(xp, f, r, basis, keep, grid_shape):
    """``background._estimate_gain`` for every (frame, channel): gain, refused flag, refused value."""
    p = basis.shape[-1]
    z = _neighbour_mean(xp, r, keep, grid_shape)
    ok = keep & xp.isfinite(z)
    n_ok = ok.sum(axis=-1)
    w = ok.astype(xp.float64)
    data = xp.stack([xp.where(ok, f, 0.0), xp.where(ok, r, 0.0), xp.where(ok, z, 0.0)], axis=-1)  # (.., nb, 3)
    beta = _wsolve(xp, basis[:, None], w, data)  # (B, C, p, 3)
    resid = xp.where(ok[..., None], data - xp.matmul(basis[:, None], beta), 0.0)
    f_p, r_p, z_p = resid[..., 0], resid[..., 1], resid[..., 2]
    cross = (z_p * r_p).sum(axis=-1)
    zz, rr = (z_p * z_p).sum(axis=-1), (r_p * r_p).sum(axis=-1)
    safe_cross = xp.where(cross != 0, cross, 1.0)
    g_hat = (z_p * f_p).sum(axis=-1) / safe_cross
    e = xp.where(ok, f_p - g_hat[..., None] * r_p, 0.0)
    dof = xp.maximum(n_ok - p - 1, 1).astype(xp.float64)
    se = xp.sqrt(zz * (e * e).sum(axis=-1) / dof) / safe_cross
    w_data = 1.0 / xp.maximum(se, 1e-12) ** 2
    w_prior = 1.0 / _GAIN_PRIOR_WIDTH ** 2
    gain = (g_hat * w_data + w_prior) / (w_data + w_prior)
    structure = (n_ok > p + 2) & (cross > _MIN_STRUCTURE_CORR * xp.sqrt(zz * rr))
    refused = structure & ~((gain >= _GAIN_RANGE[0]) & (gain <= _GAIN_RANGE[1]))
    good = structure & ~refused
    return xp.where(good, gain, 1.0), refused, xp.where(refused, gain, 0.0), ok


def xp_fit_match(xp, f, r, inb, basis, grid_shape, fit_gain: bool = True) -> dict:
    """The clip-and-refit of ``background._fit_channel`` for a batch of frames and channels.

    Parameters
    ----------
    f, r : arrays, float64 ``(B, C, nb)``
        Frame and reference block medians on the full block grid (any value where not ``inb``).
    inb : array, bool ``(B, nb)``
        The blocks of each frame's sample (``SampleBlocks``).
    basis : array, float64 ``(B, nb, p)``
        Surface terms at the block positions (:func:`poly_basis`).
    grid_shape : (int, int)
        The block grid (``nb = gh * gw``), for the neighbour means of the gain estimate.
    fit_gain : bool
        False: gain 1.

    Returns
    -------
    dict of arrays
        ``gain`` ``(B, C)``, ``coeffs`` ``(B, C, p)``, ``n_kept`` ``(B, C)``, ``refused`` bool ``(B, C)`` and
        ``refused_gain`` (the refused fitted gain, for the note), ``finite`` bool ``(B,)`` (False: hand the frame
        to the CPU code).
    """
    p = basis.shape[-1]
    inb_c = xp.broadcast_to(inb[:, None, :], f.shape)
    f = xp.where(inb_c, f, 0.0)
    r = xp.where(inb_c, r, 0.0)
    keep = inb_c.copy()
    gain = xp.ones(f.shape[:2], dtype=xp.float64)
    coef = xp.zeros(f.shape[:2] + (p,), dtype=xp.float64)
    refused = xp.zeros(f.shape[:2], dtype=bool)
    refused_gain = xp.zeros(f.shape[:2], dtype=xp.float64)
    done = xp.zeros(f.shape[:2], dtype=bool)
    finite = xp.ones(f.shape[:2], dtype=bool)
    for _ in range(_MAX_ITER):
        if fit_gain:
            g_new, ref_new, rg_new, _ok = _estimate_gain(xp, f, r, basis, keep, grid_shape)
        else:
            g_new, ref_new, rg_new = gain, refused, refused_gain
        y = (f - g_new[..., None] * r)[..., None]
        c_new = _wsolve(xp, basis[:, None], keep.astype(xp.float64), y)[..., 0]  # (B, C, p)
        res = f - g_new[..., None] * r - xp.matmul(basis[:, None], c_new[..., None])[..., 0]
        centre = masked_median_lastaxis(xp, res, keep)
        sigma = MAD_TO_SIGMA * masked_median_lastaxis(xp, xp.abs(res - centre[..., None]), keep)
        sigma = xp.where(keep.any(axis=-1), sigma, 0.0)
        new_keep = xp.where((sigma > 0)[..., None], xp.abs(res - centre[..., None]) <= _CLIP_SIGMA * sigma[..., None],
                            keep) & inb_c
        live = ~done
        gain = xp.where(live, g_new, gain)
        coef = xp.where(live[..., None], c_new, coef)
        refused = xp.where(live, ref_new, refused)
        refused_gain = xp.where(live, rg_new, refused_gain)
        finite = finite & ~(live & ~(xp.isfinite(c_new).all(axis=-1) & xp.isfinite(g_new)))
        stop = (new_keep.sum(axis=-1) < p + 2) | (new_keep == keep).all(axis=-1)
        keep = xp.where((live & ~stop)[..., None], new_keep, keep)
        done = done | stop
    return {"gain": gain, "coeffs": coef, "n_kept": keep.sum(axis=-1), "refused": refused,
            "refused_gain": refused_gain, "finite": finite.all(axis=1)}


# --------------------------------------------------------------------------------------------------
# background_match for a whole stack
# --------------------------------------------------------------------------------------------------

def fit_background_device(xp, frames, masks, ref: int, options) -> list:
    """The ``background_match`` normalisers of every frame (``BackgroundNorm``), fitted on ``xp``.

    Same models as ``normalization.fit_background`` (``background.fit_background_match`` per frame against the
    reference, ``background.fit_reference_flattening`` once when ``options.flatten_reference``).
    """
    order = int(options.background_order)
    bg.check_order(order)
    step_opt = bg.check_step(int(options.sample_step or 8))
    ref_frame = frames[ref]
    shape = tuple(ref_frame.shape)
    ref_valid = mask_copy(masks[ref])
    flatten = None
    if options.flatten_reference:
        flatten = bg.fit_reference_flattening(ref_frame, valid=ref_valid, order=int(options.flatten_order),
                                              sample_step=step_opt)
    others = [i for i in range(len(frames)) if i != ref and frames[i] is not ref_frame]
    models: dict = {i: bg.identity_match(shape, "frame is the reference") for i in range(len(frames))
                    if i != ref and frames[i] is ref_frame}
    if others:
        models.update(_fit_others(xp, bg, frames, masks, ref, others, ref_valid, shape, order, step_opt))
    release_rows(ref_frame, 0, shape[0])
    result = []
    for i in range(len(frames)):
        if i == ref:
            result.append(BackgroundNorm(None, flatten))
            continue
        match = models[i]
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("stack: background_match frame %d: %s", i, match.as_dict())
        result.append(BackgroundNorm(match, flatten))
    return result


def _fit_others(xp, bg, frames, masks, ref, others, ref_valid, shape, order, step_opt) -> dict:
    height, width = shape[:2]
    step = max(1, min(step_opt, min(height, width) // bg.MIN_GRID_SAMPLES))
    ref_dec = _hwc(np.asarray(frames[ref][::step, ::step], dtype=np.float32))
    h, w = ref_dec.shape[:2]
    block = int(np.clip(min(h, w) // 12, 1, 4))
    dec = np.empty((len(others),) + ref_dec.shape, np.float32)
    mask_dec = None
    ref_mask_dec = None if ref_valid is None else ref_valid[::step, ::step]
    for k, i in enumerate(others):
        dec[k] = _hwc(np.asarray(frames[i][::step, ::step], dtype=np.float32))
        release_rows(frames[i], 0, height)
        mine = mask_copy(masks[i])
        both = both_masks(None if mine is None else mine[::step, ::step], ref_mask_dec)
        if both is not None:
            if mask_dec is None:
                mask_dec = np.ones((len(others), h, w), bool)
            mask_dec[k] = both
    rows = np.arange(h, dtype=np.float64) * step
    cols = np.arange(w, dtype=np.float64) * step
    blocks = xp_block_medians(xp, xp.asarray(dec), xp.asarray(ref_dec),
                              None if mask_dec is None else xp.asarray(mask_dec), rows, cols, block)
    host = {k: to_host(xp, v) for k, v in blocks.items() if k != "grid_shape"}
    grid_shape = blocks["grid_shape"]
    models: dict = {}
    groups: dict = {}
    for k, i in enumerate(others):
        sample = _sample_blocks(bg, host, k, grid_shape)
        if sample is None:
            logger.debug("background match: no common valid pixel -> identity")
            models[i] = bg.identity_match(shape, "no pixel valid in both frame and reference")
            continue
        if np.array_equal(sample.values[0], sample.values[1]):
            models[i] = bg.identity_match(shape, "frame equals the reference")
            continue
        if not (np.isfinite(sample.values).all() and np.isfinite(sample.rows).all()
                and np.isfinite(sample.cols).all()):
            models[i] = _cpu_fit(bg, frames, masks, ref, i, ref_valid, order, step_opt)
            continue
        fit_order, reason = bg.affordable_order(sample, order, n_extra=1)
        if fit_order is None:
            models[i] = bg.offset_only_match(sample, shape, reason)
            continue
        groups.setdefault(fit_order, []).append((k, i, reason))
    for fit_order, members in groups.items():
        models.update(_fit_group(xp, bg, frames, masks, ref, ref_valid, blocks, host, members, fit_order,
                                 shape, order, step_opt))
    return models


def _fit_group(xp, bg, frames, masks, ref, ref_valid, blocks, host, members, fit_order, shape, order, step_opt):
    idx_np = np.array([k for k, _, _ in members], dtype=np.int64)
    idx = xp.asarray(idx_np)
    values = blocks["values"][idx]  # (B, 2, nb, C)
    f = xp.moveaxis(values[:, 0], -1, 1)  # (B, C, nb)
    r = xp.moveaxis(values[:, 1], -1, 1)
    inb = blocks["keep"][idx]
    rows = xp.where(inb, blocks["rows"][idx], 0.0)
    cols = xp.where(inb, blocks["cols"][idx], 0.0)
    basis = poly_basis(xp, rows, cols, blocks["bounds"][idx], fit_order)
    fit = xp_fit_match(xp, f, r, inb, basis, blocks["grid_shape"])
    fit = {k: to_host(xp, v) for k, v in fit.items()}
    models = {}
    for b, (k, i, reason) in enumerate(members):
        if not fit["finite"][b]:
            models[i] = _cpu_fit(bg, frames, masks, ref, i, ref_valid, order, step_opt)
            continue
        notes = [f"channel {c}: fitted gain {fit['refused_gain'][b, c]:.3g} refused, gain fixed to 1"
                 for c in range(fit["gain"].shape[1]) if fit["refused"][b, c]]
        why = "; ".join(([reason] if reason else []) + notes) if notes else reason
        bounds = tuple(float(v) for v in host["bounds"][k])
        model = bg.BackgroundMatch(gain=fit["gain"][b].astype(np.float64), coeffs=fit["coeffs"][b],
                                   order=fit_order, shape=shape, bounds=bounds,
                                   n_samples=int(fit["n_kept"][b].min()), reason=why)
        logger.debug("background match: order=%d n=%d gain=%s coeffs=%s reason=%s", model.order,
                     model.n_samples, np.round(model.gain, 5).tolist(), np.round(model.coeffs, 4).tolist(),
                     model.reason)
        models[i] = model
    return models


def _sample_blocks(bg, host: dict, k: int, grid_shape):
    """The ``SampleBlocks`` of pair ``k`` (None when no pixel is usable), from the batch's host arrays."""
    if not host["any_ok"][k]:
        return None
    keep = host["keep"][k]
    where = np.flatnonzero(keep)
    grid = np.stack(np.divmod(where, grid_shape[1]), axis=1)
    return SampleBlocks(values=host["values"][k][:, keep], rows=host["rows"][k][keep],
                           cols=host["cols"][k][keep], bounds=tuple(float(v) for v in host["bounds"][k]),
                           grid=grid, grid_shape=tuple(grid_shape))


def _cpu_fit(bg, frames, masks, ref, i, ref_valid, order, step):
    both = both_masks(mask_copy(masks[i]), ref_valid)
    logger.debug("stack: background_match frame %d fitted on the CPU (outside the device batch)", i)
    return bg.fit_background_match(frames[i], frames[ref], both, order=order, sample_step=step)


# --------------------------------------------------------------------------------------------------
# applying the normalisation to a chunk
# --------------------------------------------------------------------------------------------------

class ChunkNormalizer:
    """Normalises a row chunk of all frames on ``xp``, as the CPU chunk loop does on the host.

    ``apply(raw, mask, r0)`` takes the raw float32 ``(n, rows, W, C)`` chunk and the masks ``(n, rows, W)`` (None:
    valid everywhere) and returns the normalised float32 chunk, the validity ``(n, rows, W)`` (mask and every
    channel finite) and the number of masked-valid but non-finite pixels per frame.
    """

    def __init__(self, xp, normalizers, shape):
        self.xp = xp
        self.n = len(normalizers)
        self.height, self.width = shape[:2]
        self.channels = shape[2] if len(shape) == 3 else 1
        self.background = any(isinstance(nz, BackgroundNorm) for nz in normalizers)
        if self.background:
            self._init_background(normalizers)
        else:
            self.offset = xp.asarray(np.array([nz.offset for nz in normalizers], np.float64))
            self.gain = xp.asarray(np.array([nz.gain for nz in normalizers], np.float64))

    def _init_background(self, normalizers):
        xp = self.xp
        models = [nz.match for nz in normalizers]
        top = max([m.order for m in models if m is not None] + [0])
        polys = np.zeros((self.n, top + 1, self.width, self.channels), np.float32)
        inv_gain = np.ones((self.n, self.channels), np.float32)
        self._bounds = np.zeros((self.n, 2))
        for i, m in enumerate(models):
            if m is None:
                self._bounds[i] = (0.0, float(self.height - 1))
                continue
            cp = m.column_polynomials()
            polys[i, : cp.shape[0]] = cp.reshape(cp.shape[0], self.width, self.channels)
            inv_gain[i] = (1.0 / np.asarray(m.gain)).astype(np.float32)
            self._bounds[i] = m.bounds[:2]
        self.polys, self.inv_gain = xp.asarray(polys), xp.asarray(inv_gain)
        flat = normalizers[0].flatten
        self.flatten = flat
        if flat is not None:
            fp = flat.column_polynomials()
            self.flat_polys = xp.asarray(fp.reshape(fp.shape[0], self.width, self.channels))
            self.flat_inv_gain = xp.asarray((1.0 / np.asarray(flat.gain)).astype(np.float32))

    def _row_coords(self, bounds, r0, r1):
        half = np.maximum(0.5 * (bounds[:, 1:2] - bounds[:, 0:1]), 0.5)
        rows = np.arange(r0, r1, dtype=np.float64)[None, :]
        return np.clip((rows - 0.5 * (bounds[:, 0:1] + bounds[:, 1:2])) / half, -1.0, 1.0).astype(np.float32)

    def apply(self, raw, mask, r0: int):
        xp = self.xp
        rows = raw.shape[1]
        if self.background:
            v = xp.asarray(self._row_coords(self._bounds, r0, r0 + rows))[:, :, None, None]  # (n, rows, 1, 1)
            out = (raw - _horner(xp, self.polys[:, None], v)) * self.inv_gain[:, None, None, :]
            if self.flatten is not None:
                fb = np.array([self.flatten.bounds[:2]])
                fv = xp.asarray(self._row_coords(fb, r0, r0 + rows))[0][:, None, None]  # (rows, 1, 1)
                out = (out - _horner(xp, self.flat_polys[None], fv)) * self.flat_inv_gain
            out = out.astype(xp.float32, copy=False)
        else:
            out = ((raw.astype(xp.float64) - self.offset[:, None, None, :]) / self.gain[:, None, None, :])
            out = out.astype(xp.float32)
        finite = xp.isfinite(out).all(axis=-1)
        if mask is None:
            valid = finite
            bad = (~finite).reshape(self.n, -1).sum(axis=1)
        else:
            valid = finite & mask
            bad = (mask & ~finite).reshape(self.n, -1).sum(axis=1)
        return out, valid, bad


def _horner(xp, polys, v):
    """``sum_j polys[..., j, x, c] * v ** j`` by Horner in float32 (``background._nb_match_rows``'s order)."""
    order = polys.shape[-3] - 1
    s = polys[..., order, :, :]
    for j in range(order - 1, -1, -1):
        s = s * v + polys[..., j, :, :]
    return s


def _hwc(block: np.ndarray) -> np.ndarray:
    return block[..., None] if block.ndim == 2 else block


def device_noise(xp, frames, masks, noise_rows: int) -> np.ndarray:
    """Raw noise sigma of every frame, float64 ``(n, C)`` on the host (computed on ``xp``)."""
    rows, ok = read_noise_rows(frames, masks, noise_rows)
    with np.errstate(all="ignore") if is_numpy(xp) else contextlib.nullcontext():
        sigma = xp_noise_sigma(xp, xp.asarray(rows), None if ok is None else xp.asarray(ok))
    return to_host(xp, sigma)
