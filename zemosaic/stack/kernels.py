"""The numba kernels of the CPU stack: normalise a chunk, then reject and combine it in one pass.

Layout
    A chunk is ``data`` float32 ``(n, Q)``: frame-major, ``Q = pixels x channels`` "lanes" (one lane is one
    pixel and channel), each frame's lanes contiguous. A sample that is not valid (masked, or a channel of
    its pixel not finite) is NaN in ``data``; :func:`prepare` writes it so.

Rejection and combine (:func:`reject_combine`)
    Lanes are taken ``L`` at a time (:func:`lane_width`: a multiple of the channel count and of 16, about 96 KB
    of samples, 480 lanes for 50 frames). The ``n x L`` block is copied into a per-thread buffer (NaN as +inf)
    and sorted along the frame axis by a sorting network (Batcher's odd-even merge sort for the next power of
    two, the comparators that only touch the +inf padding left out): each comparator is a min/max over the
    ``L`` lanes, a loop LLVM vectorises, so the sort costs a few tens of nanoseconds per lane where a per-pixel
    sort or selection costs about a microsecond and mispredicts its branches. Each lane then holds its ``m``
    valid samples sorted, the invalid ones after them, and every rejection method keeps a contiguous range
    ``[a, b)`` of that sorted column, trimmed from both ends (the maths of the module docstring of
    :mod:`zemosaic.stack.cpu`): the median is read off the range, the order statistics of the winsorisation
    too, and the (clipped) standard deviations are one vectorised pass over the range. kappa_sigma's first round,
    and winsorized_sigma_clip's up to 24 frames, run over all the lanes of the block at once (each step a loop over
    the lanes of a row); the lanes still trimming go on one by one. The block's lanes are
    then combined from the unsorted ``data`` (still in cache) in frame order, so that the weights of each frame
    apply: kept samples are the valid ones with ``lo <= v <= hi`` (``lo``, ``hi`` the first and last kept
    sorted values). Wide blocks matter: each frame's part of a block is one contiguous run the hardware
    prefetcher follows (with 48 lanes, the combine step alone is 2x slower).

Compilation (the first run after installing pays it): one fused kernel per rejection method and combine, each
holding only its own code (:func:`reject_combine`), so a run compiles what it uses; no allocation inside a
kernel (each array type numba types costs compile time); no separately compiled helper where a few inline lines
do (a helper is compiled on its own, then again inside its caller). The kernels are serial functions that
release the GIL (``nogil``), spread over threads by :mod:`zemosaic._numba_pool` (``parallel=True`` kernels
take 2.5-3x as long to compile). In all, 1.9 s of compile for a stack instead of 8 s.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from zemosaic._numba_pool import n_threads, parallel_map, run_blocks
from zemosaic._selection import median_inplace, median_of
from zemosaic._sorting_network import sort_lanes, sorting_network
from zemosaic._stats import MAD_TO_SIGMA

__all__ = ["prepare", "prepare_surface", "count_valid", "noise_from_rows", "reject_combine", "reject_combine_task",
           "sorting_network", "lane_width", "n_threads", "run_blocks", "parallel_map"]

_HUBER_MAX_ITER = 20
_MAD_TO_SIGMA = MAD_TO_SIGMA
_HUBER_TOL = 1e-3
_BIG = 1e300  # stands for infinity in the fastmath kernels
# winsorized_sigma_clip's first round runs over all the lanes of a block at once up to this many frames (one core,
# ns a lane: 12 frames 321-336 -> 252, 30 frames 395-452 -> 397-406, 200 frames 1659-1980 -> 2459-2607)
_LOCKSTEP_MAX_FRAMES = 24


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------

def lane_width(n_frames: int, channels: int) -> int:
    """Lanes per block: about 96 KiB of float32 samples per block (an L2 cache), 48 to 480 lanes, a multiple of
    16 (vector width) and of ``channels`` (so that lane ``j`` of a block has channel ``j % C``).

    Wide blocks matter with the frame-major layout: each frame's part of a block is one contiguous run that
    the hardware prefetcher follows (with 48 lanes the combine step reads its samples 2x slower).
    """
    unit = 16 * channels // math.gcd(16, channels)
    lanes = min(480, max(48, (96 * 1024) // (4 * max(1, n_frames))))
    return max(unit, lanes // unit * unit)


# --------------------------------------------------------------------------------------------------
# normalisation of one frame's rows
# --------------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def prepare(rows, offset, gain, mask, has_mask, out, valid):
    """Normalise one frame's chunk ``rows`` (``H x W x C``, C-contiguous): ``out = (rows - offset) / gain`` (in
    float64, stored as float32), ``offset`` and ``gain`` given per lane (``W x C`` values: ``np.tile`` of the
    per-channel ones), NaN in every channel of a pixel that is not valid (outside ``mask`` or a channel whose
    float32 value is not finite); ``valid[r, x]`` receives the pixel validity. Returns ``(valid pixels, pixels the
    mask calls valid that are not finite)``. Row by row, the arithmetic is one loop over the lanes (vector code:
    ``error_model="numpy"``, a division by zero gives inf, which is not valid, instead of a check per sample).
    """
    h, w, c = rows.shape
    bad = 0
    good = 0
    for r in range(h):
        src = rows[r].reshape(w * c)
        dst = out[r].reshape(w * c)
        for q in range(w * c):
            dst[q] = (src[q] - offset[q]) / gain[q]
        g, b = _row_validity(dst, c, mask, has_mask, r, valid[r])
        good += g
        bad += b
    return good, bad


@njit(cache=True, nogil=True)
def prepare_surface(rows, polys, v, inv_gain, acc, mask, has_mask, out, valid):
    """:func:`prepare` for a float32 frame matched by a ``background`` model: ``out = (rows - S) * inv_gain`` in
    float32, ``S[r, q] = sum_j polys[j, q] * v[r] ** j`` by Horner (``polys`` the model's column polynomials and
    ``inv_gain`` its ``1 / gain``, per lane ``q = x * C + c``; ``v`` the rows' normalised coordinates):
    ``background.BackgroundMatch.apply``'s arithmetic, bit for bit, in the pass that finds the validity, so no
    matched copy of the rows is written first. ``acc`` is a scratch row of ``W x C`` float32."""
    h, w, c = rows.shape
    order = polys.shape[0] - 1
    bad = 0
    good = 0
    for r in range(h):
        vr = np.float32(v[r])
        for q in range(w * c):
            acc[q] = polys[order, q]
        for j in range(order - 1, -1, -1):
            for q in range(w * c):
                acc[q] = acc[q] * vr + polys[j, q]
        src = rows[r].reshape(w * c)
        dst = out[r].reshape(w * c)
        for q in range(w * c):
            dst[q] = (src[q] - acc[q]) * inv_gain[q]
        g, b = _row_validity(dst, c, mask, has_mask, r, valid[r])
        good += g
        bad += b
    return good, bad


@njit(cache=True, nogil=True)
def _row_validity(dst, c, mask, has_mask, r, valid):
    """One normalised row ``dst`` (``W x C`` lanes): ``valid[x]`` = inside the mask and every channel finite; NaN
    in every channel of the pixels that are not. Returns ``(valid pixels, masked-valid pixels not finite)``."""
    good = 0
    bad = 0
    for x in range(valid.shape[0]):
        finite = True
        for k in range(c):
            finite = finite and np.isfinite(dst[x * c + k])
        inside = mask[r, x] if has_mask else True
        ok = finite and inside
        valid[x] = ok
        if ok:
            good += 1
        else:
            for k in range(c):
                dst[x * c + k] = np.nan
            if inside:
                bad += 1
    return good, bad


@njit(cache=True, nogil=True)
def count_valid(r_start, r_stop, valid, coverage):
    """``coverage[r, x]`` = the number of frames valid at the pixel, for rows ``r_start:r_stop`` of ``valid`` (``(n,
    H, W)`` bool)."""
    n = valid.shape[0]
    for r in range(r_start, r_stop):
        row = coverage[r]
        row[:] = 0
        for i in range(n):
            v = valid[i, r]
            for x in range(row.shape[0]):
                row[x] += v[x]


# --------------------------------------------------------------------------------------------------
# the noise of a frame's sampled rows
# --------------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def noise_from_rows(rows, ok, out, buf, scratch, levels, dim):
    """``normalization.noise_sigma``'s estimate from its sampled rows, the same numbers with selections in place of
    numpy's sorts and copies (:mod:`zemosaic._selection`): ``rows`` float64 ``(R, W, C)``, ``ok`` ``(R, W)`` their
    validity; ``out[c]`` the noise sigma of channel ``c`` (NaN with fewer than 16 valid pairs). ``buf`` and
    ``scratch`` (``R x W`` float64), ``levels`` (``R x C``) and ``dim`` (``R x W`` bool) are scratch.

    A first estimate, 1.4826 x MAD / sqrt(2) of the differences of adjacent valid pixels, flags the bright pixels
    (above their row's median by 2.5 of it in some channel); the estimate is then made again without them when at
    least 16 pairs are left."""
    n_rows, width, channels = rows.shape
    if _diff_mad(rows, ok, out, buf, scratch) < 16:
        out[:] = np.nan
        return
    for c in range(channels):
        if not np.isfinite(out[c]):
            return
    for r in range(n_rows):
        for c in range(channels):
            m = 0
            for x in range(width):
                if ok[r, x]:
                    buf[m] = rows[r, x, c]
                    m += 1
            levels[r, c] = median_inplace(buf[:m]) if m > 0 else np.inf
    for r in range(n_rows):
        for x in range(width):
            bright = False
            for c in range(channels):
                bright = bright or not rows[r, x, c] <= levels[r, c] + 2.5 * out[c]
            dim[r, x] = ok[r, x] and not bright
    first = out.copy()
    if _diff_mad(rows, dim, out, buf, scratch) < 16:
        out[:] = first


@njit(cache=True, nogil=True)
def _diff_mad(rows, ok, out, buf, scratch):
    """``out[c]`` = 1.4826 x MAD / sqrt(2) of the differences of the adjacent pixels both ``ok`` (nothing written
    with fewer than 16); returns their number. ``buf`` and ``scratch`` hold as many values."""
    n_rows, width, channels = rows.shape
    for c in range(channels):
        m = 0
        for r in range(n_rows):
            for x in range(width - 1):
                if ok[r, x] and ok[r, x + 1]:
                    buf[m] = rows[r, x + 1, c] - rows[r, x, c]
                    m += 1
        if m < 16:
            return m
        d = buf[:m]
        centre = median_of(d, scratch)
        for j in range(m):
            d[j] = abs(d[j] - centre)
        out[c] = _MAD_TO_SIGMA * median_of(d, scratch) / math.sqrt(2.0)
    return m


# --------------------------------------------------------------------------------------------------
# rejection on a sorted column
# --------------------------------------------------------------------------------------------------

@njit(cache=True, fastmath=True)
def _std(x, lo, hi):
    """Sample standard deviation (ddof=1) of ``clip(x, lo, hi)`` (one pass, shifted by the clipped ``x[0]``).

    ``fastmath`` lets LLVM vectorise the loop; it assumes finite numbers, so callers pass finite
    bounds (``_BIG`` instead of infinity) and the samples are finite by construction. ``x`` is a contiguous
    view (``s[a:b]``): with an offset range into ``s`` instead, LLVM vectorises the loop with gathers, 4x
    slower.

    The float64 order of the sums is the vectoriser's, so it depends on the machine's vector unit. With AVX2 and
    FMA (read in the assembly): 16 partial sums (four vectors of four doubles, value ``t`` into sum ``t % 16``)
    over the first ``k & -16`` values, folded ``((v0 + v1) + v2) + v3`` for the sum and ``(v0 + v1) + (v2 + v3)``
    for the squares, then across the vector ``(x0 + x2) + (x1 + x3)``; then 4 partial sums up to ``k & -4`` (the
    total so far in the first), folded the same way; then one value at a time; the squares by fused
    multiply-adds. Another vector unit may round a sigma differently in its last bit (which decides a rejection
    only for a sample within ~1e-16, relative, of a threshold; the sums of float32 samples of a few thousand ADU
    are exact and do not depend on the order). This one call is about 7 ns for 12 values: doing the standard
    deviations of all the lanes of a block side by side, in this same order (tried), costs 20-24 ns a lane at 12
    values and 235 at 200. Only the winsorisation's first round runs side by side (:func:`_winsorized_lanes`, in
    frame order, not this one), up to ``_LOCKSTEP_MAX_FRAMES`` frames: there it saves the per-lane loop's
    mispredicted branches.
    """
    k = x.shape[0]
    if k < 2:
        return 0.0
    shift = min(max(x[0], lo), hi)
    total = 0.0
    squares = 0.0
    for j in range(k):
        d = min(max(x[j], lo), hi) - shift
        total += d
        squares += d * d
    var = (squares - total * total / k) / (k - 1)
    return math.sqrt(var) if var > 0 else 0.0


@njit(cache=True)
def _central(k):
    """Values left out of the line fit at each end: 10 % of ``k`` (at least 1, none below 5 values)."""
    t = max(1, int(0.1 * k))
    return t if k - 2 * t >= 3 else 0


@njit(cache=True)
def _linear_trim(x, k_lo, k_hi, scores):
    """One trimming round of linear_fit_clip on the sorted ``x`` against ``scores``, the normal scores of its
    ranks; returns the kept range ``[a, b)`` of ``x``."""
    k = x.shape[0]
    t = _central(k)
    mean_x = 0.0
    mean_v = 0.0
    for j in range(t, k - t):
        mean_x += scores[j]
        mean_v += x[j]
    mean_x /= k - 2 * t
    mean_v /= k - 2 * t
    sxx = 0.0
    sxv = 0.0
    for j in range(t, k - t):
        dx = scores[j] - mean_x
        sxx += dx * dx
        sxv += dx * (x[j] - mean_v)
    slope = sxv / sxx if sxx > 0 else 0.0
    if not slope > 0:
        return 0, k
    na = 0
    while na < k and x[na] - (mean_v + slope * (scores[na] - mean_x)) < -k_lo * slope:
        na += 1
    nb = k
    while nb > na and x[nb - 1] - (mean_v + slope * (scores[nb - 1] - mean_x)) > k_hi * slope:
        nb -= 1
    return na, nb


@njit(cache=True, inline="always")
def _narrow_range(s, a, b, lo, hi):
    """The kept values are a range ``[a, b)`` of the sorted ``s``: move its ends inside ``[lo, hi]``."""
    while a < b and not s[a] >= lo:
        a += 1
    while b > a and not s[b - 1] <= hi:
        b -= 1
    return a, b


@njit(cache=True)
def _trim_kappa(s, k_lo, k_hi, max_iter, min_frames, a, b):
    """kappa_sigma on the sorted samples ``s``, ``max_iter`` rounds from the kept range ``[a, b)``: the kept range."""
    for _ in range(max_iter):
        if b - a < min_frames:
            break
        centre = 0.5 * (s[(a + b - 1) // 2] + s[(a + b) // 2])
        sigma = _std(s[a:b], -_BIG, _BIG)
        if not sigma > 0:
            break
        na, nb = _narrow_range(s, a, b, centre - k_lo * sigma, centre + k_hi * sigma)
        if (na == a and nb == b) or nb <= na:
            break
        a, b = na, nb
    return a, b


@njit(cache=True, inline="always")
def _narrowed(a, b, j, below, above):
    """Lane ``j``'s kept range ``[a[j], b[j])`` of sorted values with ``below`` of them under the low threshold
    and ``above`` over the high one: narrowed, True; False (the range left) when nothing moves or nothing would
    be left, where the lane's trimming ends."""
    na = a[j] + int(below)
    nb = b[j] - int(above)
    if (na == a[j] and nb == b[j]) or nb <= na:
        return False
    a[j] = na
    b[j] = nb
    return True


@njit(cache=True)
def _kappa_lanes(block, w, m, k_lo, k_hi, max_iter, min_frames, ranges, stats):
    """kappa_sigma on the ``w`` sorted columns of ``block`` at once, ``max_iter`` rounds: ``ranges[0, j]:ranges[1,
    j]`` the kept range of lane ``j`` (``m[j]`` valid samples; a lane with fewer than ``min_frames`` is left whole),
    ``ranges[2, j]`` 1 where the lane has not converged yet.

    The same rounds as :func:`_trim_kappa` lane by lane, but each step is a loop over the lanes of one row of the
    block (vector code): the sums of a round run over rows, a lane adding only the rows of its range, and the
    trims count the values of the range outside the thresholds (the column is sorted, so the counts are how far
    each end moves). The kernel runs the first round so (most lanes stop there) and the rest lane by lane: a round
    here costs every lane of the block. ``stats`` is scratch (shift, sums, thresholds)."""
    a, b, active = ranges[0], ranges[1], ranges[2]
    shift, total, squares, t_lo, t_hi = stats[0], stats[1], stats[2], stats[3], stats[4]
    for j in range(w):
        a[j] = 0
        b[j] = m[j]
        active[j] = m[j] >= min_frames
    for _ in range(max_iter):
        top = 0
        for j in range(w):
            if active[j] and b[j] - a[j] < min_frames:
                active[j] = 0
            if active[j]:
                shift[j] = block[a[j], j]
                top = max(top, b[j])
            total[j] = 0.0
            squares[j] = 0.0
        if top == 0:
            break
        for i in range(top):  # one-pass sums shifted by the first kept value, as _std
            row = block[i]
            for j in range(w):
                inside = (i >= a[j]) & (i < b[j]) & (active[j] != 0)
                d = np.float64(row[j]) - shift[j] if inside else 0.0
                total[j] += d
                squares[j] += d * d
        for j in range(w):
            k = b[j] - a[j]
            sigma = 0.0
            if active[j]:
                var = (squares[j] - total[j] * total[j] / k) / (k - 1)
                sigma = math.sqrt(var) if var > 0 else 0.0
            if not sigma > 0:
                active[j] = 0
            else:
                centre = 0.5 * (np.float64(block[(a[j] + b[j] - 1) // 2, j])
                                + np.float64(block[(a[j] + b[j]) // 2, j]))
                t_lo[j] = centre - k_lo * sigma
                t_hi[j] = centre + k_hi * sigma
            total[j] = 0.0  # now: values below t_lo
            squares[j] = 0.0  # now: values above t_hi
        for i in range(top):
            row = block[i]
            for j in range(w):
                inside = (i >= a[j]) & (i < b[j]) & (active[j] != 0)
                v = np.float64(row[j])
                total[j] += 1.0 if inside & (v < t_lo[j]) else 0.0
                squares[j] += 1.0 if inside & (v > t_hi[j]) else 0.0
        for j in range(w):
            if active[j]:
                active[j] = _narrowed(a, b, j, total[j], squares[j])


@njit(cache=True)
def _trim_winsorized(s, k_lo, k_hi, lim_lo, lim_hi, z_lo, z_hi, factor, max_iter, min_frames, a, b, sigma,
                     start_round, huber_done):
    """winsorized_sigma_clip on the sorted samples ``s``: the kept range ``[a, b)``.

    It starts at round ``start_round`` with the kept range ``[a, b)`` and ``sigma`` (round 0: ``[0, len(s))``,
    no sigma yet), ``huber_done`` iterations of that round's Huber loop already run: where
    :func:`_winsorized_lanes` left a lane."""
    for it in range(start_round, max_iter):
        k = b - a
        if k < min_frames:
            break
        centre = 0.5 * (s[(a + b - 1) // 2] + s[(a + b) // 2])
        first = huber_done if it == start_round else 0
        if it == 0 and first == 0:  # start from the order statistics; later rounds from the previous sigma
            half = (k - 1) // 2
            w_lo = s[a + min(int(math.floor(lim_lo * k + 0.5)), half)]
            w_hi = s[b - 1 - min(int(math.floor(lim_hi * k + 0.5)), half)]
            sigma = factor * _std(s[a:b], w_lo, w_hi)
        for _ in range(first, _HUBER_MAX_ITER):  # sigma <- factor * std(clip) to convergence
            new = factor * _std(s[a:b], centre - z_lo * sigma, centre + z_hi * sigma)
            done = abs(new - sigma) <= _HUBER_TOL * sigma
            sigma = new
            if done:
                break
        if not sigma > 0:
            break
        na, nb = _narrow_range(s, a, b, centre - k_lo * sigma, centre + k_hi * sigma)
        if (na == a and nb == b) or nb <= na:
            break
        a, b = na, nb
    return a, b


@njit(cache=True)
def _clipped_std_lanes(block, w, a, b, state, code, lo, hi, shift, total, squares, out):
    """``out[j]`` = the sample standard deviation (ddof=1) of ``clip(block[a[j]:b[j], j], lo[j], hi[j])`` for the
    lanes ``j < w`` whose ``state[j] == code``, as :func:`_std` computes it (one pass shifted by the clipped first
    value, but summed in frame order), each step a loop over the lanes of a row. The rest is scratch."""
    top = 0
    for j in range(w):
        total[j] = 0.0
        squares[j] = 0.0
        if state[j] == code:
            shift[j] = min(max(np.float64(block[a[j], j]), lo[j]), hi[j])
            top = max(top, b[j])
    for i in range(top):
        row = block[i]
        for j in range(w):
            inside = (i >= a[j]) & (i < b[j]) & (state[j] == code)
            d = min(max(np.float64(row[j]), lo[j]), hi[j]) - shift[j] if inside else 0.0
            total[j] += d
            squares[j] += d * d
    for j in range(w):
        k = b[j] - a[j]
        var = (squares[j] - total[j] * total[j] / k) / (k - 1) if state[j] == code and k >= 2 else 0.0
        out[j] = math.sqrt(var) if var > 0 else 0.0


@njit(cache=True)
def _winsorized_lanes(block, w, m, k_lo, k_hi, lim_lo, lim_hi, z_lo, z_hi, factor, max_iter, min_frames, ranges,
                      stats):
    """The first round of winsorized_sigma_clip on the ``w`` sorted columns of ``block`` at once (``m[j]`` valid
    samples; a lane with fewer than ``min_frames`` is left whole), as :func:`_trim_winsorized` runs it lane by
    lane: the order statistics' sigma, then the Huber loop, each iteration the clipped standard deviations of all
    the lanes still iterating (:func:`_clipped_std_lanes`), then the trim.

    Lane ``j`` ends with its kept range ``ranges[0, j]:ranges[1, j]``, its sigma ``stats[3, j]`` and
    ``ranges[2, j]``: 0 when it is done, 1 when :func:`_trim_winsorized` goes on from round 1, 2 when it goes on
    with round 0's Huber loop after ``ranges[3, j]`` iterations. The Huber loop stops here once fewer than half
    the lanes still iterate: a lockstep iteration costs every lane of the block, and a few lanes
    converge slowly (up to the loop's 20 iterations). ``max_iter`` 0 leaves every lane with enough samples to
    :func:`_trim_winsorized` from its start (state 2 after no iteration): above ``_LOCKSTEP_MAX_FRAMES`` frames the
    lockstep passes over the whole column cost more than they save."""
    a, b, state, huber = ranges[0], ranges[1], ranges[2], ranges[3]
    shift, total, squares, sigma, centre, lo, hi, new_sigma = (stats[0], stats[1], stats[2], stats[3], stats[4],
                                                               stats[5], stats[6], stats[7])
    going = 0
    for j in range(w):
        a[j] = 0
        b[j] = m[j]
        huber[j] = 0
        state[j] = 2 if m[j] >= min_frames else 0
        going += state[j] != 0
        if state[j]:
            k = m[j]
            centre[j] = 0.5 * (block[(k - 1) // 2, j] + block[k // 2, j])
            half = (k - 1) // 2
            lo[j] = block[min(int(math.floor(lim_lo * k + 0.5)), half), j]
            hi[j] = block[k - 1 - min(int(math.floor(lim_hi * k + 0.5)), half), j]
    if going == 0 or max_iter == 0:  # max_iter 0: every lane left to the lane-by-lane trim from its start
        return
    _clipped_std_lanes(block, w, a, b, state, 2, lo, hi, shift, total, squares, sigma)
    for j in range(w):
        sigma[j] *= factor
    for _ in range(_HUBER_MAX_ITER):  # state 2: iterating, 3: converged (trimmed below)
        if going == 0 or 2 * going < w:
            break
        for j in range(w):
            if state[j] == 2:
                lo[j] = centre[j] - z_lo * sigma[j]
                hi[j] = centre[j] + z_hi * sigma[j]
        _clipped_std_lanes(block, w, a, b, state, 2, lo, hi, shift, total, squares, new_sigma)
        for j in range(w):
            if state[j] == 2:
                new = factor * new_sigma[j]
                done = abs(new - sigma[j]) <= _HUBER_TOL * sigma[j]
                sigma[j] = new
                huber[j] += 1
                if done:
                    state[j] = 3
                    going -= 1
    for j in range(w):  # the trim of the lanes whose loop converged: values of the range outside the thresholds
        if state[j] == 3:
            if not sigma[j] > 0:
                state[j] = 0
            else:
                lo[j] = centre[j] - k_lo * sigma[j]
                hi[j] = centre[j] + k_hi * sigma[j]
        total[j] = 0.0
        squares[j] = 0.0
    for i in range(max(m[:w].max(), 0)):
        row = block[i]
        for j in range(w):
            inside = (state[j] == 3) & (i < b[j])
            v = row[j]
            total[j] += 1.0 if inside & (not v >= lo[j]) else 0.0
            squares[j] += 1.0 if inside & (not v <= hi[j]) else 0.0
    for j in range(w):
        if state[j] == 3:
            state[j] = 1 if _narrowed(a, b, j, total[j], squares[j]) and max_iter > 1 else 0


@njit(cache=True)
def _trim_linear(s, k_lo, k_hi, max_iter, min_frames, scores):
    """linear_fit_clip on the sorted samples ``s``: the kept range ``[a, b)``."""
    a, b = 0, s.shape[0]
    for _ in range(max_iter):
        k = b - a
        if k < min_frames:
            break
        na, nb = _linear_trim(s[a:b], k_lo, k_hi, scores[k, :k])
        na, nb = a + na, a + nb
        if (na == a and nb == b) or nb <= na:
            break
        a, b = na, nb
    return a, b


# --------------------------------------------------------------------------------------------------
# the fused kernel
# --------------------------------------------------------------------------------------------------

_KERNELS: dict = {}


def reject_combine(method: int, median: bool):
    """The fused reject-and-combine kernel for one rejection ``method`` (0 none, 1 kappa_sigma, 2 winsorized,
    3 linear fit) and combine (``median`` or weighted mean).

    One compiled function per pair, each holding only its own code (the method and the combine are constants
    of the closure, so numba prunes the other branches before compiling): a run compiles what it uses.
    """
    key = (int(method), bool(median))
    if key not in _KERNELS:
        _KERNELS[key] = _make_reject_combine(*key)
    return _KERNELS[key]


def _make_reject_combine(METHOD: int, MEDIAN: bool):  # noqa: N803 (constants of the compiled closure)
    @njit(cache=True, nogil=True)
    def kernel(q_start, q_stop, data, lane_weights, net, k_lo, k_hi, lim_lo, lim_hi, z_lo, z_hi, factor, max_iter,
               min_frames, scores, out, block, col, bounds, sums, ints, counts):
        """Reject and combine lanes ``q_start:q_stop`` of ``data`` (float32 ``(n, Q)``, NaN = not valid), ``L =
        lane_weights.shape[1]`` lanes at a time (``q_start`` a multiple of ``L``, lane ``j`` of a block weighted by
        ``lane_weights[frame, j]``): ``out[q]`` the weighted mean (or median) of the kept samples, NaN if none;
        ``counts[i]`` += the samples of frame ``i`` that are valid but rejected. The rest is scratch (see
        :func:`reject_combine_task`; no allocation here: each array type costs compile time)."""
        n, n_lanes = data.shape
        width = lane_weights.shape[1]
        lo, hi = bounds[0], bounds[1]
        sw, swv, med = sums[0], sums[1], sums[2]
        m, kept = ints[0], ints[1]
        inf = np.float32(np.inf)
        for q0 in range(q_start, q_stop, width):
            w = n_lanes - q0 if n_lanes - q0 < width else width
            if METHOD != 0 or MEDIAN:
                for j in range(width):  # the block, NaN as +inf (sorted last); m: valid samples per lane
                    m[j] = 0
                for i in range(n):
                    row = data[i, q0:q0 + w]
                    dest = block[i]
                    for j in range(w):
                        v = row[j]
                        ok = v == v
                        dest[j] = v if ok else inf
                        m[j] += ok
                    for j in range(w, width):
                        dest[j] = inf
                sort_lanes(block[:n], net, block[n])
                if METHOD == 1:  # the first round over all lanes at once
                    _kappa_lanes(block, w, m, k_lo, k_hi, 1, min_frames, ints[2:5], sums[3:8])
                elif METHOD == 2:
                    _winsorized_lanes(block, w, m, k_lo, k_hi, lim_lo, lim_hi, z_lo, z_hi, factor,
                                      max_iter if n <= _LOCKSTEP_MAX_FRAMES else 0, min_frames, ints[2:6],
                                      sums[3:11])
            for j in range(w):
                lo[j] = -inf
                hi[j] = inf
                if METHOD == 1:  # the lanes still trimming go on one by one
                    k = m[j]
                    a, b = ints[2, j], ints[3, j]
                    if ints[4, j] != 0 and max_iter > 1:
                        for i in range(k):
                            col[i] = block[i, j]
                        a, b = _trim_kappa(col[:k], k_lo, k_hi, max_iter - 1, min_frames, a, b)
                    if k >= min_frames:
                        lo[j] = block[a, j]
                        hi[j] = block[b - 1, j]
                    if MEDIAN and b > a:
                        med[j] = 0.5 * (np.float64(block[(a + b - 1) // 2, j]) + np.float64(block[(a + b) // 2, j]))
                elif METHOD == 2:  # the lanes still trimming go on one by one
                    k = m[j]
                    a, b = ints[2, j], ints[3, j]
                    if ints[4, j] != 0:
                        for i in range(k):
                            col[i] = block[i, j]
                        a, b = _trim_winsorized(col[:k], k_lo, k_hi, lim_lo, lim_hi, z_lo, z_hi, factor, max_iter,
                                                min_frames, a, b, sums[6, j],  # sums[6]: the lanes' sigma
                                                1 if ints[4, j] == 1 else 0,
                                                ints[5, j] if ints[4, j] == 2 else 0)
                    if k >= min_frames:
                        lo[j] = block[a, j]
                        hi[j] = block[b - 1, j]
                    if MEDIAN and b > a:
                        med[j] = 0.5 * (block[(a + b - 1) // 2, j] + block[(a + b) // 2, j])
                elif METHOD != 0 or MEDIAN:
                    k = m[j]
                    for i in range(k):
                        col[i] = block[i, j]
                    a, b = 0, k
                    if METHOD != 0:
                        if k >= min_frames:
                            a, b = _trim_linear(col[:k], k_lo, k_hi, max_iter, min_frames, scores)
                            lo[j] = col[a]
                            hi[j] = col[b - 1]
                    if MEDIAN:
                        if b > a:
                            med[j] = 0.5 * (col[(a + b - 1) // 2] + col[(a + b) // 2])
                sw[j] = 0.0
                swv[j] = 0.0
                kept[j] = 0
            for i in range(n):  # combine in frame order; branch-free (vectorised): a sample not kept adds 0
                row = data[i, q0:q0 + w]
                weights = lane_weights[i]
                rejected = 0
                for j in range(w):
                    v = row[j]
                    keep = (v >= lo[j]) & (v <= hi[j])  # False for NaN (invalid)
                    wt = weights[j] if keep else 0.0
                    sw[j] += wt
                    swv[j] += wt * v if keep else 0.0
                    kept[j] += keep
                    rejected += (v == v) & (not keep)
                counts[i] += rejected
            for j in range(w):
                if kept[j] == 0 or not sw[j] > 0:
                    out[q0 + j] = np.nan
                elif MEDIAN:
                    out[q0 + j] = med[j]
                else:
                    out[q0 + j] = swv[j] / sw[j]

    return kernel


def reject_combine_task(q_start: int, q_stop: int, kernel, data: np.ndarray, lane_weights: np.ndarray,
                        *args) -> np.ndarray:
    """Run ``kernel`` (from :func:`reject_combine`) on lanes ``q_start:q_stop`` with its own scratch arrays;
    ``args`` are the kernel's arguments from ``net`` to ``out``. Returns the rejected samples per frame."""
    n, width = data.shape[0], lane_weights.shape[1]
    counts = np.zeros(n, np.int64)
    kernel(q_start, q_stop, data, lane_weights, *args, np.empty((n + 1, width), np.float32), np.empty(n),
           np.empty((2, width), np.float32), np.empty((11, width)), np.empty((6, width), np.int64), counts)
    return counts
