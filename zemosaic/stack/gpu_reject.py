"""Rejection and combination of one chunk, written once for any array module (``numpy`` or ``cupy``).

The maths are those of the CPU numba kernels (:mod:`zemosaic.stack.cpu`, module docstring); the way they are
computed is chosen for a GPU and costs little on the frame axis:

1. Sort once. The valid samples of each pixel and channel (a *column*) are sorted along the frame axis,
   missing ones as ``+inf`` (:func:`~zemosaic.stack.gpu_xp.sort_axis0`: a sorting network on the device).
   A kept set is then a range ``[a, b)`` of sorted positions, exactly as in the kernels, which keep by value
   (the set ``lo <= v <= hi`` of a sorted column is a range).
2. Prefix sums. ``P1[j] = sum(d[:j])`` and ``P2[j] = sum(d[:j]**2)`` in float64 with ``d = s - c``, ``c`` the
   column's median (a shift against cancellation). The standard deviation of ``clip(s[a:b], low, high)`` is
   then O(log n) per column: two bisections find where the clip starts and stops, the clipped ends count as
   ``low``/``high`` and the middle comes from the prefix sums. No per-round pass over the frame axis is needed
   for kappa-sigma and the winsorized Huber iterations (which were 20 full passes per round before).
3. Work only on the columns still changing. After each round the columns whose range changed and still hold
   three samples are listed (one host synchronisation per round); later rounds and the Huber iterations
   gather from the sorted array at those columns only. Inside a round the Huber loop checks convergence every
   ``check_every`` iterations while many columns are in work (a synchronisation stalls the device's queue) and
   at each iteration once fewer than 2**18 remain (then an iteration's ~200 kernel launches cost more than a
   synchronisation); converged columns are frozen, so the result does not depend on when it checks.

Statistics are float64 like the CPU kernels' (the medians, clip bounds and comparisons of float32 samples
against float64 thresholds are then identical; sums differ only in their rounding order).

``linear_fit_clip`` needs every sample of a column per round (a line through the central normal scores): it
gathers ``(n, columns)`` of the sorted array for the columns still changing and trims as the kernels do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zemosaic.stack.cpu import MIN_FRAMES_FOR_REJECTION, normal_scores
from zemosaic.stack.gpu_xp import (
    bisect_steps,
    lower_bound,
    sort_axis0,
    sorted_median,
    take_flat,
    upper_bound,
)
from zemosaic.stack.options import StackOptions

__all__ = ["xp_reject_range", "xp_combine", "reject_and_combine"]

_HUBER_MAX_ITER = 20
_HUBER_TOL = 1e-3
_BIG_Z = 1e30  # the CPU kernels' stand-in for an infinite winsor clip point
_SMALL_SET = 1 << 18  # columns under which the Huber loop checks convergence at every iteration


@dataclass
class SortedColumns:
    """The samples of a chunk sorted along the frame axis.

    Attributes
    ----------
    s : array, float32 ``(n, Q)``
        Sorted values per column (``Q = pixels x channels``), missing samples ``+inf`` at the end.
    flat : array
        ``s`` raveled (for :func:`~zemosaic.stack.gpu_xp.take_flat`).
    m : array, int64 ``(Q,)``
        Valid samples per column.
    steps : int
        Bisection steps over ``n`` rows.
    """

    s: Any
    flat: Any
    m: Any
    steps: int

    @property
    def n(self) -> int:
        return int(self.s.shape[0])

    @property
    def width(self) -> int:
        return int(self.s.shape[1])


def sort_columns(xp, data, valid, sort: str = "auto") -> SortedColumns:
    """Sort the valid samples of ``data`` ``(n, P, C)`` (``valid`` ``(n, P)``) per column."""
    n, n_pix, n_ch = data.shape
    x = xp.where(valid[..., None], data, np.float32(np.inf)).astype(xp.float32, copy=False)
    s = sort_axis0(xp, x.reshape(n, n_pix * n_ch), sort)
    m = xp.broadcast_to(valid.sum(axis=0).astype(xp.int64)[:, None], (n_pix, n_ch)).reshape(-1)
    return SortedColumns(s=s, flat=s.reshape(-1), m=xp.ascontiguousarray(m), steps=bisect_steps(n))


def xp_reject_range(xp, data, valid, options: StackOptions, *, sort: str = "auto", check_every: int = 4,
                    sorted_columns: SortedColumns | None = None):
    """Kept range ``(lo, hi)`` per pixel and channel: the kept samples are the valid ones with lo <= v <= hi.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    data : array, float32 ``(n, P, C)``
    valid : array, bool ``(n, P)``
    options : StackOptions
    sort : {"auto", "network", "library"}
        How the columns are sorted (:func:`~zemosaic.stack.gpu_xp.sort_axis0`).
    check_every : int
        Huber iterations between two convergence checks (host synchronisations).
    sorted_columns : SortedColumns, optional
        The chunk already sorted (then ``sort`` is ignored).

    Returns
    -------
    lo, hi : arrays, float32 ``(P, C)``
        ``-inf``/``+inf`` where nothing is rejected (method ``none`` or fewer than 3 valid samples).
    """
    n, n_pix, n_ch = data.shape
    lo = xp.full(n_pix * n_ch, -np.inf, dtype=xp.float32)
    hi = xp.full(n_pix * n_ch, np.inf, dtype=xp.float32)
    if options.method_code == 0:
        return lo.reshape(n_pix, n_ch), hi.reshape(n_pix, n_ch)
    srt = sort_columns(xp, data, valid, sort) if sorted_columns is None else sorted_columns
    if options.method_code == 3:
        a, b = _linear_rounds(xp, srt, options)
    else:
        a, b = _clip_rounds(xp, srt, options, max(1, int(check_every)))
    base = xp.arange(srt.width, dtype=xp.int64)
    use = srt.m >= MIN_FRAMES_FOR_REJECTION
    lo = xp.where(use, take_flat(xp, srt.flat, a, base, srt.width), lo)
    hi = xp.where(use, take_flat(xp, srt.flat, xp.maximum(b - 1, 0), base, srt.width), hi)
    return lo.reshape(n_pix, n_ch), hi.reshape(n_pix, n_ch)


def xp_combine(xp, data, valid, lo, hi, weights, method: str, *, sorted_columns: SortedColumns | None = None):
    """Weighted mean (or median) of the kept samples and the rejected-sample count per frame.

    Parameters
    ----------
    data, valid : as in :func:`xp_reject_range`
    lo, hi : arrays, float32 ``(P, C)``
        From :func:`xp_reject_range`.
    weights : array ``(n, C)``
        Per frame and channel (float64 used, as by the CPU kernel).
    method : {"mean", "median"}
    sorted_columns : SortedColumns, optional
        The sorted chunk, which the median reads (sorted here when not given).

    Returns
    -------
    image : array, float32 ``(P, C)``
        NaN where nothing is kept.
    rejected : array, int64 ``(n,)``
        Valid samples outside ``[lo, hi]`` per frame.
    """
    n, n_pix, n_ch = data.shape
    w64 = xp.asarray(weights, dtype=xp.float64)
    rejected = []
    sw = xp.zeros((n_pix, n_ch), dtype=xp.float64)
    swv = xp.zeros((n_pix, n_ch), dtype=xp.float64)
    median = method == "median"
    for i in range(n):
        d = data[i]
        inside = (d >= lo) & (d <= hi)
        vi = valid[i][:, None]
        rejected.append((vi & ~inside).sum(dtype=xp.int64))
        if not median:
            keep = vi & inside
            w = xp.where(keep, w64[i][None, :], 0.0)
            sw += w
            swv += xp.where(keep, w * d, 0.0)  # a missing sample may be NaN: 0 * NaN would poison the sum
    rejected_arr = xp.stack(rejected) if rejected else xp.zeros(0, dtype=xp.int64)
    if median:
        srt = sort_columns(xp, data, valid) if sorted_columns is None else sorted_columns
        base = xp.arange(srt.width, dtype=xp.int64)
        zero = xp.zeros(srt.width, dtype=xp.int64)
        a = lower_bound(xp, srt.flat, base, srt.width, zero, srt.m, lo.reshape(-1), srt.steps)
        b = upper_bound(xp, srt.flat, base, srt.width, a, srt.m, hi.reshape(-1), srt.steps)
        med = sorted_median(xp, srt.flat, base, srt.width, a, b)
        image = xp.where(b > a, med, np.nan).astype(xp.float32).reshape(n_pix, n_ch)
        return image, rejected_arr
    image = xp.where(sw > 0, swv / xp.where(sw > 0, sw, 1.0), np.nan).astype(xp.float32)
    return image, rejected_arr


def reject_and_combine(xp, data, valid, weights, options: StackOptions, *, sort: str = "auto",
                       check_every: int = 4):
    """:func:`xp_reject_range` then :func:`xp_combine`, sorting the chunk once for both."""
    needs_sort = options.method_code != 0 or options.final_combine_method == "median"
    srt = sort_columns(xp, data, valid, sort) if needs_sort else None
    lo, hi = xp_reject_range(xp, data, valid, options, sort=sort, check_every=check_every, sorted_columns=srt)
    return xp_combine(xp, data, valid, lo, hi, weights, options.final_combine_method, sorted_columns=srt)


# --------------------------------------------------------------------------------------------------
# kappa-sigma and winsorized: prefix sums and bisections
# --------------------------------------------------------------------------------------------------

class _Moments:
    """Shifted prefix sums of the sorted columns (float64) and the clipped standard deviation."""

    def __init__(self, xp, srt: SortedColumns):
        self.xp, self.srt = xp, srt
        n, width = srt.n, srt.width
        base = xp.arange(width, dtype=xp.int64)
        mid = xp.maximum((srt.m - 1) // 2, 0)
        self.c = xp.where(srt.m > 0, take_flat(xp, srt.flat, mid, base, width).astype(xp.float64), 0.0)
        p1 = xp.empty((n + 1, width), dtype=xp.float64)
        p2 = xp.empty((n + 1, width), dtype=xp.float64)
        p1[0] = 0.0
        p2[0] = 0.0
        for j in range(n):  # row by row: coalesced, no (n, Q) temporary (CuPy scans axis 0 through a transpose)
            d = xp.where(srt.m > j, srt.s[j].astype(xp.float64) - self.c, 0.0)
            xp.add(p1[j], d, out=p1[j + 1])
            d *= d
            xp.add(p2[j], d, out=p2[j + 1])
        self.p1, self.p2 = p1.reshape(-1), p2.reshape(-1)

    def std(self, cols, a, b, c, low=None, high=None):
        """ddof=1 std of ``clip(s[a:b], low, high)`` per column (0 where ``b - a < 2``); ``low``/``high``
        None: unclipped. ``c``: the columns' shifts."""
        xp, srt = self.xp, self.srt
        width = srt.width
        k = b - a
        if low is None:
            s1 = take_flat(xp, self.p1, b, cols, width) - take_flat(xp, self.p1, a, cols, width)
            s2 = take_flat(xp, self.p2, b, cols, width) - take_flat(xp, self.p2, a, cols, width)
        else:
            i_lo = lower_bound(xp, srt.flat, cols, width, a, b, low, srt.steps)
            i_hi = upper_bound(xp, srt.flat, cols, width, i_lo, b, high, srt.steps)
            n_lo, n_hi = (i_lo - a).astype(xp.float64), (b - i_hi).astype(xp.float64)
            d_lo, d_hi = low - c, high - c
            s1 = (n_lo * d_lo + n_hi * d_hi
                  + take_flat(xp, self.p1, i_hi, cols, width) - take_flat(xp, self.p1, i_lo, cols, width))
            s2 = (n_lo * d_lo * d_lo + n_hi * d_hi * d_hi
                  + take_flat(xp, self.p2, i_hi, cols, width) - take_flat(xp, self.p2, i_lo, cols, width))
        kf = k.astype(xp.float64)
        var = (s2 - s1 * s1 / xp.maximum(kf, 1.0)) / xp.maximum(kf - 1.0, 1.0)
        return xp.where((k >= 2) & (var > 0), xp.sqrt(xp.maximum(var, 0.0)), 0.0)


def _clip_rounds(xp, srt: SortedColumns, options: StackOptions, check_every: int):
    """kappa_sigma / winsorized_sigma_clip: the kept range ``[a, b)`` of every column."""
    width = srt.width
    a_all = xp.zeros(width, dtype=xp.int64)
    b_all = srt.m.copy()
    cols = xp.flatnonzero(srt.m >= MIN_FRAMES_FOR_REJECTION)  # host sync: how many columns to work on
    if int(cols.size) == 0:
        return a_all, b_all
    mom = _Moments(xp, srt)
    k_lo, k_hi = options.sigma_clip_low, options.sigma_clip_high
    winsor = options.method_code == 2
    z_lo, z_hi = (min(z, _BIG_Z) for z in options.winsor_z)
    factor = options.winsor_factor
    a, b = a_all[cols], b_all[cols]
    c = mom.c[cols]
    sigma = None
    for it in range(int(options.rejection_max_iterations)):
        centre = sorted_median(xp, srt.flat, cols, width, a, b)
        if not winsor:
            sigma = mom.std(cols, a, b, c)
        else:
            if it == 0:  # start from the winsorized order statistics, later rounds from the last sigma
                sigma = factor * mom.std(cols, a, b, c, *_order_stats(xp, srt, cols, a, b, options))
            sigma = _huber(xp, mom, cols, a, b, c, centre, sigma, z_lo, z_hi, factor, check_every)
        low, high = centre - k_lo * sigma, centre + k_hi * sigma
        na = lower_bound(xp, srt.flat, cols, width, a, b, low, srt.steps)
        nb = upper_bound(xp, srt.flat, cols, width, na, b, high, srt.steps)
        changed = (sigma > 0) & ((na != a) | (nb != b)) & (nb > na)
        a, b = xp.where(changed, na, a), xp.where(changed, nb, b)
        a_all[cols], b_all[cols] = a, b
        if it + 1 == int(options.rejection_max_iterations):
            break
        going = xp.flatnonzero(changed & ((b - a) >= MIN_FRAMES_FOR_REJECTION))  # host sync, once per round
        if int(going.size) == 0:
            break
        cols, a, b, c, sigma = cols[going], a[going], b[going], c[going], sigma[going]
    return a_all, b_all


def _order_stats(xp, srt, cols, a, b, options: StackOptions):
    """The winsorisation bounds of the first round: order statistics ``round(limit * k)`` from each end."""
    lim_lo, lim_hi = options.winsor_limits
    k = b - a
    half = (k - 1) // 2
    n_lo = xp.minimum(xp.floor(lim_lo * k + 0.5).astype(xp.int64), half)
    n_hi = xp.minimum(xp.floor(lim_hi * k + 0.5).astype(xp.int64), half)
    w_lo = take_flat(xp, srt.flat, a + n_lo, cols, srt.width).astype(xp.float64)
    w_hi = take_flat(xp, srt.flat, b - 1 - n_hi, cols, srt.width).astype(xp.float64)
    return w_lo, w_hi


def _huber(xp, mom: _Moments, cols, a, b, c, centre, sigma, z_lo, z_hi, factor, check_every: int):
    """Iterate ``sigma <- factor * std(clip(s, centre - z_lo sigma, centre + z_hi sigma))`` per column until
    the relative change is <= 1e-3 (at most 20 times), as the CPU kernel; converged columns are frozen and,
    at each check, dropped from the work when they are the majority."""
    out: Any = sigma  # the result for every input column, rewritten at each check
    idx = None  # positions of the working columns among the input columns (None: all of them, in order)
    done = xp.zeros(sigma.shape, dtype=bool)
    since_check = 0
    for it in range(_HUBER_MAX_ITER):
        new = factor * mom.std(cols, a, b, c, centre - z_lo * sigma, centre + z_hi * sigma)
        newly = ~done & (xp.abs(new - sigma) <= _HUBER_TOL * sigma)
        sigma = xp.where(done, sigma, new)
        done = done | newly
        last = it + 1 == _HUBER_MAX_ITER
        since_check += 1
        # a large working set checks every ``check_every`` iterations (a sync stalls the device's queue);
        # a small one at each (an iteration's ~200 launches cost more than a sync)
        every = check_every if int(done.size) >= _SMALL_SET else 1
        if not (last or since_check >= every):
            continue
        since_check = 0
        if idx is None:
            out = sigma.copy()
        else:
            out[idx] = sigma
        if last:
            break
        rest = xp.flatnonzero(~done)  # host sync every check_every iterations
        n_rest = int(rest.size)
        if n_rest == 0:
            break
        if 2 * n_rest < int(done.size):  # most columns converged: work on the others only
            idx = rest if idx is None else idx[rest]
            cols, a, b, c, centre, sigma, done = (cols[rest], a[rest], b[rest], c[rest], centre[rest],
                                                   sigma[rest], done[rest])
    return out


# --------------------------------------------------------------------------------------------------
# linear_fit_clip: the columns still changing, gathered whole each round
# --------------------------------------------------------------------------------------------------

def _linear_rounds(xp, srt: SortedColumns, options: StackOptions):
    n, width = srt.n, srt.width
    a_all = xp.zeros(width, dtype=xp.int64)
    b_all = srt.m.copy()
    cols = xp.flatnonzero(srt.m >= MIN_FRAMES_FOR_REJECTION)
    if int(cols.size) == 0:
        return a_all, b_all
    table = xp.asarray(normal_scores(n))
    pos = xp.arange(n, dtype=xp.int64)[:, None]
    a, b = a_all[cols], b_all[cols]
    for it in range(int(options.rejection_max_iterations)):
        s = take_flat(xp, srt.flat, pos, cols[None, :], width).astype(xp.float64)  # (n, columns)
        na, nb = _linear_trim(xp, s, a, b, pos, table, options.sigma_clip_low, options.sigma_clip_high)
        changed = ((na != a) | (nb != b)) & (nb > na)
        a, b = xp.where(changed, na, a), xp.where(changed, nb, b)
        a_all[cols], b_all[cols] = a, b
        if it + 1 == int(options.rejection_max_iterations):
            break
        going = xp.flatnonzero(changed & ((b - a) >= MIN_FRAMES_FOR_REJECTION))
        if int(going.size) == 0:
            break
        cols, a, b = cols[going], a[going], b[going]
    return a_all, b_all


def _linear_trim(xp, s, a, b, pos, table, k_lo, k_hi):
    """One round of linear_fit_clip on the sorted columns ``s`` ``(n, q)`` (float64), ranges ``[a, b)``."""
    n = s.shape[0]
    k = b - a
    x = table[k[None, :], xp.clip(pos - a[None, :], 0, n - 1)]  # normal score of each rank
    t = xp.maximum(1, (0.1 * k).astype(xp.int64))  # ends left out of the fit, as in the CPU kernel
    t = xp.where(k - 2 * t >= 3, t, 0)
    central = (pos >= (a + t)[None, :]) & (pos < (b - t)[None, :])
    kf = xp.maximum(k - 2 * t, 1).astype(xp.float64)
    mean_x = xp.where(central, x, 0.0).sum(axis=0) / kf
    mean_v = xp.where(central, s, 0.0).sum(axis=0) / kf
    dx = xp.where(central, x - mean_x[None, :], 0.0)
    sxx = (dx * dx).sum(axis=0)
    sxv = (dx * xp.where(central, s - mean_v[None, :], 0.0)).sum(axis=0)
    slope = xp.where(sxx > 0, sxv / xp.where(sxx > 0, sxx, 1.0), 0.0)
    inside = (pos >= a[None, :]) & (pos < b[None, :])
    resid = s - (mean_v[None, :] + slope[None, :] * (x - mean_x[None, :]))
    bad_low = (inside & (resid < -k_lo * slope[None, :])) | (pos < a[None, :])
    bad_high = (inside & (resid > k_hi * slope[None, :])) | (pos >= b[None, :])
    lead = xp.cumprod(bad_low.astype(xp.int32), axis=0).sum(axis=0)
    trail = xp.cumprod(bad_high[::-1].astype(xp.int32), axis=0).sum(axis=0)
    ok = slope > 0
    na = xp.where(ok, xp.minimum(lead, b), a)
    nb = xp.where(ok, xp.maximum(n - trail, na), b)
    return na.astype(xp.int64), nb.astype(xp.int64)
