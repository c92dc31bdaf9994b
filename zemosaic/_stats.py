"""Robust estimators and block reductions, written once for every capability that needs them.

``MAD_TO_SIGMA = 1.4826`` turns a median absolute deviation into a Gaussian sigma. We keep our own short
helpers rather than ``astropy.stats.mad_std``: astropy's constant (1.482602...) would move every output by
a few ulps against the measured first wave, it cannot take a given centre, and it is no faster on the
sizes used here (both are one ``np.median`` pass over the data).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "MAD_TO_SIGMA",
    "mad_sigma",
    "robust_sigma",
    "diff_noise_sigma",
    "block_sums",
    "block_mean",
    "to_blocks",
]

MAD_TO_SIGMA = 1.4826


def mad_sigma(x: np.ndarray, axis: int | None = None, *, center=None):
    """Gaussian-equivalent sigma ``1.4826 * median(|x - center|)`` along ``axis``.

    ``center`` defaults to the median of ``x`` along ``axis``; give it when the centre is known (0 for
    residuals, a fitted sky). Returns a float64 scalar for ``axis=None``, else an array without ``axis``.
    """
    if center is None:
        center = np.median(x, axis=axis, keepdims=axis is not None)
    return MAD_TO_SIGMA * np.median(np.abs(x - center), axis=axis)


def robust_sigma(x: np.ndarray) -> float:
    """:func:`mad_sigma` of a 1-D sample as a float, 0 for an empty one (a fit with no residual left)."""
    if x.size == 0:
        return 0.0
    return float(mad_sigma(x))


def diff_noise_sigma(diffs: np.ndarray, axis: int | None = None):
    """Per-pixel noise sigma from differences of neighbouring pixels (smooth structure cancels).

    The difference of two independent pixels has sigma * sqrt(2), hence the division.
    """
    return mad_sigma(diffs, axis=axis) / np.sqrt(2.0)


def block_sums(array: np.ndarray, factor: int) -> np.ndarray:
    """Sum ``factor x factor`` blocks of the first two axes with strided slices (a loop over the factor,
    not the pixels). Partial blocks at the far edges sum what they hold."""
    rows = array[0::factor].copy()
    for offset in range(1, factor):
        rows += array[offset::factor]
    blocks = rows[:, 0::factor].copy()
    for offset in range(1, factor):
        blocks += rows[:, offset::factor]
    return blocks


def block_mean(values: np.ndarray, kept: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the kept pixels of ``(H, W, C)`` ``values`` in ``factor x factor`` blocks, and whether each
    block is fully kept. Partial blocks at the far edges average what they hold; a block with no kept
    pixel has mean 0 (check the counts or the returned flag)."""
    h, w, c = values.shape
    hp, wp = -(-h // factor), -(-w // factor)
    pad = ((0, hp * factor - h), (0, wp * factor - w))
    v = np.pad(np.where(kept[..., None], values, 0.0).astype(np.float32), pad + ((0, 0),))
    k = np.pad(kept, pad)
    sums = v.reshape(hp, factor, wp, factor, c).sum(axis=(1, 3))
    counts = k.reshape(hp, factor, wp, factor).sum(axis=(1, 3))
    full = counts == factor * factor
    mean = sums / np.maximum(counts, 1)[..., None]
    return mean.astype(np.float32), full


def to_blocks(stack: np.ndarray, block: int) -> np.ndarray:
    """``(k, H, W, C)`` -> ``(k, n_blocks, block * block, C)``, NaN-padded to whole blocks (row-major cells)."""
    k, h, w, c = stack.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    if (hp, wp) != (h, w):
        padded = np.full((k, hp, wp, c), np.nan, dtype=stack.dtype)
        padded[:, :h, :w] = stack
        stack = padded
    cells = stack.reshape(k, hp // block, block, wp // block, block, c).transpose(0, 1, 3, 2, 4, 5)
    return cells.reshape(k, (hp // block) * (wp // block), block * block, c)
