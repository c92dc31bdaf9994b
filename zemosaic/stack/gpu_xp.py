"""Array-module helpers of the GPU stacker: written once against ``xp`` (``numpy`` or ``cupy``).

Everything here runs unchanged on NumPy (the tests) and on CuPy (the device), and avoids what would
make a CuPy path slow or stall the host:

* no boolean-mask indexing (``a[mask]`` has a data-dependent size: CuPy must synchronise to learn it);
  masked statistics carry their mask and a count instead;
* no ``float(...)``/``bool(...)``/``.item()`` inside loops (each is a device-to-host synchronisation);
* sorting along a short leading axis with a sorting network (:func:`sort_axis0`): CuPy's ``sort`` of an
  N-d array along an axis is a global merge sort over ``(segment, value)`` pairs, an order of magnitude
  slower than ``log2(n) * (log2(n) + 1) / 2`` element-wise min/max layers for the 10-300 frames of a stack.

Missing samples are ``+inf`` (they sort last) and every median/order statistic takes the per-column count
of real samples: the data they stand for are finite by construction (validity requires it).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "network_layers",
    "sort_axis0",
    "take_flat",
    "lower_bound",
    "upper_bound",
    "masked_median_lastaxis",
    "masked_kth_lastaxis",
    "sorted_median",
    "cholesky_solve",
    "to_host",
    "is_numpy",
]

#: Above this many frames the library sort is used instead of the sorting network.
NETWORK_MAX_N = 512
#: On a device, masked medians of arrays larger than this are found by bisection rather than sorting.
_BISECT_MIN_SIZE = 1 << 22


def is_numpy(xp) -> bool:
    """True when ``xp`` is NumPy (work runs on the host, synchronously)."""
    return xp is np


def to_host(xp, array) -> np.ndarray:
    """A NumPy copy (CuPy) or the array itself (NumPy)."""
    return xp.asnumpy(array) if hasattr(xp, "asnumpy") else np.asarray(array)


@lru_cache(maxsize=32)
def network_layers(n: int) -> tuple:
    """Batcher's odd-even merge sorting network for ``n`` keys, as layers of disjoint comparators.

    Returns a tuple of ``(i, j)`` pairs of int64 arrays, one per layer, with ``i < j``: after applying every
    layer in order (``x[i], x[j] = min, max``) any ``n`` keys are sorted ascending. The network is built for
    the next power of two and the comparators that touch a position ``>= n`` are dropped, which is valid
    because every comparator puts its minimum at the lower position (padding keys at ``+inf`` never move).
    """
    if n < 2:
        return ()
    size = 1 << (n - 1).bit_length()
    layers = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            pairs = []
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    lo, hi = i + j, i + j + k
                    if lo // (2 * p) == hi // (2 * p) and hi < n:
                        pairs.append((lo, hi))
            if pairs:
                arr = np.array(pairs, dtype=np.int64)
                layers.append((arr[:, 0].copy(), arr[:, 1].copy()))
            k //= 2
        p *= 2
    return tuple(layers)


def sort_axis0(xp, x, method: str = "auto"):
    """Ascending sort of ``x`` along axis 0 (a new array; ``x`` is untouched). No NaN allowed: use ``+inf``.

    ``method``: ``"network"`` (element-wise min/max layers, see :func:`network_layers`), ``"library"``
    (``xp.sort``), or ``"auto"``: the library on NumPy and for more than :data:`NETWORK_MAX_N` rows, the
    network otherwise. Both give the same array (sorting is unique up to the order of equal keys).
    """
    n = x.shape[0]
    if method == "auto":
        method = "library" if (is_numpy(xp) or n > NETWORK_MAX_N) else "network"
    if method == "library" or n < 2:
        return xp.sort(x, axis=0)
    if method != "network":
        raise ValueError(f"unknown sort method {method!r}")
    s = x.copy()
    layers = network_layers(n) if is_numpy(xp) else _device_layers(xp, n)
    for i, j in layers:
        a, b = s[i], s[j]
        s[i] = xp.minimum(a, b)
        s[j] = xp.maximum(a, b)
    return s


_DEVICE_LAYERS: dict = {}


def _device_layers(xp, n: int) -> tuple:
    """Device copies of :func:`network_layers` (uploaded once per module and frame count)."""
    key = (xp.__name__, n)
    if key not in _DEVICE_LAYERS:
        _DEVICE_LAYERS[key] = tuple((xp.asarray(i), xp.asarray(j)) for i, j in network_layers(n))
    return _DEVICE_LAYERS[key]


def take_flat(xp, flat, pos, base, width: int):
    """``flat[pos * width + base]``: element ``pos`` (row) of column ``base`` of a C-ordered 2-D array.

    ``flat`` is the raveled ``(rows, width)`` array, ``pos`` and ``base`` broadcastable integer arrays. One
    gather, whatever the number of columns selected (the per-pixel state of the rejection is a vector
    over the columns still being worked on).
    """
    return xp.take(flat, pos.astype(xp.int64, copy=False) * width + base)


def lower_bound(xp, flat, base, width: int, lo, hi, value, steps: int):
    """Per column, the first row in ``[lo, hi)`` whose sorted value is ``>= value`` (``hi`` if none).

    ``flat``: raveled ``(rows, width)`` array sorted along its rows; ``base``: the columns; ``lo``, ``hi``,
    ``value``: one per column. ``steps`` >= ``ceil(log2(rows + 1))`` bisection steps (no host sync).
    """
    return _bisect(xp, flat, base, width, lo, hi, value, steps, right=False)


def upper_bound(xp, flat, base, width: int, lo, hi, value, steps: int):
    """Per column, the first row in ``[lo, hi)`` whose sorted value is ``> value`` (``hi`` if none)."""
    return _bisect(xp, flat, base, width, lo, hi, value, steps, right=True)


def _bisect(xp, flat, base, width, lo, hi, value, steps, right):
    rows = flat.size // max(width, 1)
    lo = lo.astype(xp.int64, copy=False)
    hi = hi.astype(xp.int64, copy=False)
    for _ in range(steps):
        mid = (lo + hi) >> 1  # == lo == hi once a column has settled, so hi = where(go, hi, mid) keeps it
        v = xp.take(flat, xp.minimum(mid, rows - 1) * width + base)
        go = ((v <= value) if right else (v < value)) & (lo < hi)
        lo = xp.where(go, mid + 1, lo)
        hi = xp.where(go, hi, mid)
    return lo


def bisect_steps(n: int) -> int:
    """Bisection steps that settle any range within ``n`` rows."""
    return max(1, int(n).bit_length())


def sorted_median(xp, flat, base, width: int, a, b):
    """Median of rows ``[a, b)`` of the sorted columns ``base`` (float64; meaningless where ``b <= a``).

    ``0.5 * (s[(a + b - 1) // 2] + s[(a + b) // 2])``: the CPU kernels' median of the same values.
    """
    low = take_flat(xp, flat, (a + b - 1) >> 1, base, width).astype(xp.float64)
    high = take_flat(xp, flat, (a + b) >> 1, base, width).astype(xp.float64)
    return 0.5 * (low + high)


def masked_median_lastaxis(xp, x, ok, method: str = "auto"):
    """Median along the last axis of the entries of ``x`` where ``ok``; NaN where none.

    Same value as ``np.median(x[ok])`` per row (mean of the two middle values for an even count), in ``x``'s
    dtype; ``x`` must be finite where ``ok``. ``method``: ``"sort"`` (the library sort), ``"bisect"``
    (:func:`masked_kth_lastaxis`: no sort, one masked count per bit of the dtype) or ``"auto"``: the sort on
    NumPy and for small arrays, the bisection for large ones on a device (CuPy sorts an N-d array along an axis
    with a global merge sort; the bisection is 64 short passes, which only pay off on millions of entries).
    """
    if method == "auto":
        method = "sort" if is_numpy(xp) or x.size <= _BISECT_MIN_SIZE else "bisect"
    count = ok.sum(axis=-1)
    k_lo, k_hi = (count - 1) // 2, count // 2
    if method == "sort":
        filled = xp.where(ok, x, x.dtype.type(np.inf))
        s = xp.sort(filled, axis=-1)
        last = x.shape[-1] - 1
        lo = xp.take_along_axis(s, xp.clip(k_lo, 0, last)[..., None], axis=-1)[..., 0]
        hi = xp.take_along_axis(s, xp.clip(k_hi, 0, last)[..., None], axis=-1)[..., 0]
    elif method == "bisect":
        lo = masked_kth_lastaxis(xp, x, ok, xp.maximum(k_lo, 0))
        # the upper middle: the same value when it repeats, else the smallest value above it
        above = ok & (x > lo[..., None])
        repeats = (ok & (x <= lo[..., None])).sum(axis=-1) > k_hi
        nxt = xp.where(above, x, x.dtype.type(np.inf)).min(axis=-1)
        hi = xp.where(repeats, lo, nxt)
    else:
        raise ValueError(f"unknown median method {method!r}")
    return xp.where(count > 0, x.dtype.type(0.5) * (lo + hi), x.dtype.type(np.nan))


def masked_kth_lastaxis(xp, x, ok, k):
    """The ``k``-th smallest (0-based) entry of ``x`` where ``ok``, per row of the last axis, without sorting.

    Bisection over the floats' bit patterns mapped to order-preserving integers: the smallest key ``v`` with
    ``count(key <= v) > k`` is an entry's key. One masked count per bit (64 for float64, 32 for float32), no
    host synchronisation. Rows with fewer than ``k + 1`` entries get an arbitrary value.
    """
    if x.dtype == np.float64:
        itype, bits, flip = xp.int64, 64, np.int64(0x7FFFFFFFFFFFFFFF)
    elif x.dtype == np.float32:
        itype, bits, flip = xp.int32, 32, np.int32(0x7FFFFFFF)
    else:
        raise TypeError(f"float32 or float64 expected, got {x.dtype}")
    raw = xp.ascontiguousarray(x).view(itype)
    keys = xp.where(raw < 0, raw ^ flip, raw)  # signed integers in the order of the floats
    big = np.iinfo(itype).max
    lo = xp.where(ok, keys, itype(big)).min(axis=-1)
    hi = xp.where(ok, keys, itype(-big - 1)).max(axis=-1)
    for _ in range(bits):
        mid = (lo >> 1) + (hi >> 1) + (lo & hi & 1)  # floor((lo + hi) / 2) without overflow
        enough = (ok & (keys <= mid[..., None])).sum(axis=-1) > k
        hi = xp.where(enough, mid, hi)
        lo = xp.where(enough, lo, mid + 1)
    found = xp.where(lo < 0, lo ^ flip, lo).astype(itype)
    return xp.ascontiguousarray(found).view(x.dtype)


def cholesky_solve(xp, a, b):
    """Solve the symmetric positive definite systems ``a x = b`` for a batch: ``a`` ``(B, p, p)``, ``b`` ``(B, p, r)``.

    Written out (Cholesky, forward and back substitution over ``p``, vectorised over the batch), so that it is
    the same code on both array modules and never synchronises. A singular or indefinite system yields NaN
    (the callers check the result and hand such a case to the CPU code).
    """
    p = a.shape[-1]
    low = xp.zeros_like(a)
    for j in range(p):
        diag = a[:, j, j] - (low[:, j, :j] ** 2).sum(axis=-1)
        ljj = xp.sqrt(xp.where(diag > 0, diag, xp.nan))
        low[:, j, j] = ljj
        for i in range(j + 1, p):
            low[:, i, j] = (a[:, i, j] - (low[:, i, :j] * low[:, j, :j]).sum(axis=-1)) / ljj
    y = xp.zeros_like(b)
    for i in range(p):
        y[:, i] = (b[:, i] - (low[:, i, :i, None] * y[:, :i]).sum(axis=1)) / low[:, i, i, None]
    x = xp.zeros_like(b)
    for i in range(p - 1, -1, -1):
        x[:, i] = (y[:, i] - (low[:, i + 1:, i, None] * x[:, i + 1:]).sum(axis=1)) / low[:, i, i, None]
    return x
