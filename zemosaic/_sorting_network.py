"""Batcher's odd-even merge sort as a sorting network, applied to many columns ("lanes") at once.

A comparator ``(i, j)`` puts the lesser of rows ``i`` and ``j`` in row ``i``; applied to every lane of a 2D block
in one loop, it is a vector min and max, so a block of short columns (the frames of a stack's pixels, the samples
of the background's cells) sorts in a few tens of nanoseconds per column, without a branch to mispredict.
Shared by the stack's reject-and-combine kernel (:mod:`zemosaic.stack.kernels`) and the background's cell
medians (:mod:`zemosaic.background`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

__all__ = ["sorting_network", "sort_lanes"]


@lru_cache(maxsize=16)
def sorting_network(n: int) -> np.ndarray:
    """int64 ``(K, 2)`` comparators ``(i, j)``, ``i < j``, of Batcher's odd-even merge sort of ``n`` values.

    Built for the next power of two; a comparator that touches a position >= ``n`` is left out (positions
    >= ``n`` would hold +inf, which a comparator never moves, so those comparators are no-ops).
    """
    size = 1
    while size < n:
        size *= 2
    pairs: list = []

    def merge(lo: int, length: int, r: int) -> None:
        step = 2 * r
        if step < length:
            merge(lo, length, step)
            merge(lo + r, length, step)
            pairs.extend((i, i + r) for i in range(lo + r, lo + length - r, step))
        else:
            pairs.append((lo, lo + r))

    def sort(lo: int, length: int) -> None:
        if length > 1:
            half = length // 2
            sort(lo, half)
            sort(lo + half, half)
            merge(lo, length, 1)

    sort(0, size)
    table = np.array([p for p in pairs if p[1] < n] or [(0, 0)], dtype=np.int64).reshape(-1, 2)
    if n < 2:
        table = table[:0]
    table.setflags(write=False)
    return table


@njit(cache=True, fastmath={"nnan"})
def sort_lanes(block, net, low_out):
    """Sort every column of ``block`` (no NaN) with the comparators ``net``, each a min/max over all lanes.

    The minima go through ``low_out`` (a scratch row that is not part of ``block``): written in place, the
    two rows of a comparator are two views of one array that LLVM cannot tell apart, and it leaves the loop
    scalar (3-4x slower); written out of place, the loop is a vector min and max (``nnan``: no NaN here; +inf is fine).
    """
    width = block.shape[1]
    for c in range(net.shape[0]):
        low = block[net[c, 0]]
        high = block[net[c, 1]]
        for ln in range(width):
            x = low[ln]
            y = high[ln]
            low_out[ln] = min(x, y)
            high[ln] = max(x, y)
        for ln in range(width):
            low[ln] = low_out[ln]
