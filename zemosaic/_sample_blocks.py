"""Star-clipped block statistics of images on a common grid: what the background fits, the inter-tile harmony, the
star photometry, the colour calibration and the mosaic's sky model sample their images with.

* :class:`SampleBlocks` / :func:`block_medians`: k images cut into blocks of ``block x block`` samples over the pixels
  valid in all of them; a sample more than 3 sigma (neighbour-difference noise) above its block's median in any
  image or channel is a star, dropped in all; each block summarised by its median. In numba: one pass gathers the
  cells (:func:`_nb_gather_image`), one the noise (:func:`_nb_diff_medians`, exact medians from
  :mod:`zemosaic._selection`), one the star clip and the medians (:func:`_nb_clipped_cell_medians`, 64 cells at a
  time sorted by :mod:`zemosaic._sorting_network`); numpy's passes give the same numbers, bit for bit.
* :func:`block_median_grid`: the NaN-ignoring median of every cell of one image, no star clip.
* :func:`numba_turn`: whether a caller may use the kernels now. The first caller loads them (numba's first use costs
  about 0.5 s of CPU); calls meanwhile on other threads take numpy's passes instead of waiting.
  :func:`block_medians_in_turn` is :func:`block_medians` for a caller that holds the turn itself.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numba import njit

from zemosaic._numba_pool import parallel_map
from zemosaic._selection import median_of, select_inplace
from zemosaic._sorting_network import sort_lanes, sorting_network
from zemosaic._stats import MAD_TO_SIGMA, to_blocks

__all__ = ["SampleBlocks", "block_medians", "block_medians_in_turn", "block_median_grid", "numba_turn"]

_STAR_CLIP_SIGMA = 3.0       # samples this far above their block median are treated as stars
_MIN_BLOCK_FILL = 0.5        # fraction of a block's samples that must be valid for the block to count


@dataclass(frozen=True, eq=False)
class SampleBlocks:
    """Star-clipped block medians of k images on the same blocks (:func:`block_medians`)."""

    values: np.ndarray     # (k, n, C) block medians
    rows: np.ndarray       # (n,) mean row of the samples used, pixels
    cols: np.ndarray       # (n,) mean column
    bounds: tuple          # (row_min, row_max, col_min, col_max) of the samples used
    grid: np.ndarray       # (n, 2) block index (row, col) in the block grid
    grid_shape: tuple      # shape of the block grid



def block_medians(images: list, valid: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                  block: int) -> SampleBlocks | None:
    """Block medians of HWC images over the pixels valid (and finite) in all of them, stars clipped.

    A block counts when at least half of its pixels are usable (else, when no block does, any block with one).
    A pixel more than 3 sigma (neighbour-difference noise) above its block median in any image or channel is
    taken as a star and dropped in all images.

    Parameters
    ----------
    images : list of numpy.ndarray
        k images ``(H, W, C)`` of the same shape.
    valid : numpy.ndarray
        ``(H, W)`` bool, True where the pixels may be used.
    rows, cols : numpy.ndarray
        ``(H,)`` and ``(W,)`` pixel coordinates of the images' rows and columns (e.g. with an origin or a step).
    block : int
        Block side in pixels (>= 1).

    Returns
    -------
    SampleBlocks or None
        None when no pixel is usable.
    """
    with numba_turn() as use_numba:
        return block_medians_in_turn(images, valid, rows, cols, block, use_numba)



def block_medians_in_turn(images: list, valid: np.ndarray, rows: np.ndarray, cols: np.ndarray, block: int,
                   use_numba: bool) -> SampleBlocks | None:
    ok = valid.copy()
    cells = _gather_cells(images, ok, block, use_numba)               # (k, n, m, C); ok &= finite in all
    if not ok.any():
        return None
    rr = to_blocks(np.broadcast_to(rows[:, None], ok.shape)[None, :, :, None], block)[0, :, :, 0]
    cc = to_blocks(np.broadcast_to(cols[None, :], ok.shape)[None, :, :, None], block)[0, :, :, 0]
    finite = ~np.isnan(cells[0, :, :, 0])                             # (n, m) valid samples
    keep = finite.sum(axis=1) >= max(1.0, _MIN_BLOCK_FILL * block * block)
    if not keep.any():
        keep = finite.any(axis=1)
    cells, rr, cc, finite = cells[:, keep], rr[keep], cc[keep], finite[keep]
    grid_shape = (-(-ok.shape[0] // block), -(-ok.shape[1] // block))
    grid = np.stack(np.divmod(np.flatnonzero(keep), grid_shape[1]), axis=1)
    med, star = _clipped_cell_medians(cells, _sample_sigma(cells, use_numba), use_numba)
    used = finite & ~star
    rr = np.where(used, rr, np.nan)
    cc = np.where(used, cc, np.nan)
    bounds = (float(np.nanmin(rr)), float(np.nanmax(rr)), float(np.nanmin(cc)), float(np.nanmax(cc)))
    return SampleBlocks(values=med.astype(np.float64), rows=np.nanmean(rr, axis=1),
                        cols=np.nanmean(cc, axis=1), bounds=bounds, grid=grid, grid_shape=grid_shape)



def _clipped_cell_medians(cells: np.ndarray, sigma: np.ndarray, use_numba: bool) -> tuple[np.ndarray, np.ndarray]:
    """The medians ``(k, n, C)`` of the cells ``(k, n, m, C)`` once their stars are dropped, and the stars ``(n, m)``:
    samples more than ``_STAR_CLIP_SIGMA`` x ``sigma`` (``(k, C)``, where > 0) above their cell's median in any
    image or channel. ``cells`` may be overwritten."""
    if use_numba and cells.dtype == np.float32 and cells.shape[2] <= _NETWORK_MAX:
        return _nb_clipped_cell_medians(cells, sigma, _STAR_CLIP_SIGMA, sorting_network(cells.shape[2]))
    sigma = sigma[:, None, None, :]                                   # (k, 1, 1, C)
    star = (cells > _nan_median(cells, use_numba)[:, :, None, :] + _STAR_CLIP_SIGMA * sigma) & (sigma > 0)
    # (n, m): star in any image/channel (numpy's stubs type any(axis=...) as possibly a scalar: not for 4-D input)
    star = star.any(axis=(0, 3))  # type: ignore[assignment]
    cells[:, star] = np.nan
    return _nan_median(cells, use_numba), star



def block_median_grid(image: np.ndarray, block: int) -> np.ndarray:
    """Median of each ``block x block`` cell of an ``(H, W)`` image, ignoring NaN (no star clip).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` image, NaN where unusable; the last row and column of cells may be partial.
    block : int
        Cell side in pixels (>= 1).

    Returns
    -------
    numpy.ndarray
        ``(ceil(H / block), ceil(W / block))`` medians, NaN for cells without a finite pixel.
    """
    h, w = image.shape
    rows = -(-h // block)
    bands = [(rows * k // 2 * block, rows * (k + 1) // 2 * block) for k in range(2)]  # two at once, in threads

    def band(limits: tuple[int, int]) -> np.ndarray:
        cells = to_blocks(image[None, limits[0]:limits[1], :, None], block)  # (1, n, block*block, 1)
        return _nan_median(cells)[0, :, 0]

    parts = parallel_map(band, [b for b in bands if b[1] > b[0]])
    if not parts:
        return np.full((0, -(-w // block)), np.nan, np.float32)
    return np.concatenate(parts).reshape(rows, -(-w // block))



@contextmanager
def numba_turn() -> Iterator[bool]:
    """Whether the block statistics may use their numba kernels: yes once they are loaded in this process. The
    first caller loads them (numba's first use costs ~0.5 s of CPU, over a second of wall time on a busy
    machine); calls made meanwhile on other threads take the numpy passes (the same numbers, bit for bit) instead
    of waiting for it."""
    if _KERNELS_LOADED.is_set():
        yield True
    elif _KERNELS_LOADING.acquire(blocking=False):
        try:
            yield True
            _KERNELS_LOADED.set()
        finally:
            _KERNELS_LOADING.release()
    else:
        yield False



_KERNELS_LOADED = threading.Event()



_KERNELS_LOADING = threading.Lock()



def _gather_cells(images: list, ok: np.ndarray, block: int, use_numba: bool = True) -> np.ndarray:
    """The float32 ``(k, n_blocks, block * block, C)`` cells of ``to_blocks(np.stack(images))``, NaN where ``ok``
    is False or a sample is not finite in some image (``ok`` is cleared there, in place), in one numba pass
    over the (decimated, strided, possibly memmapped) images: the same numbers as the numpy passes, bit for bit."""
    views = tuple(np.asarray(img) for img in images)
    if not use_numba or any(v.dtype != np.float32 for v in views):  # float64: finite before the float32 rounding
        for img in views:
            ok &= np.isfinite(img).all(axis=2)
        stack = np.stack(views).astype(np.float32)                    # (k, H, W, C)
        stack[:, ~ok] = np.nan
        return to_blocks(stack, block)
    h, w = ok.shape
    n_blocks = -(-h // block) * -(-w // block)
    cells = np.full((len(views), n_blocks, block * block, views[0].shape[2]), np.nan, np.float32)
    for i, img in enumerate(views):  # one call per image: their layouts may differ (one numba signature each)
        _nb_gather_image(img, ok, block, cells[i])
    _nb_mask_cells(ok, block, cells)
    return cells



def _sample_sigma(cells: np.ndarray, use_numba: bool = True) -> np.ndarray:
    """(k, C) noise sigma of one sample (for the star clip), from neighbouring samples in the blocks.

    Neighbours are one sample apart, so smooth sky structure cancels in the difference; the blocks'
    star-clipped samples are NaN and drop out. Blocks of one sample fall back on the block spread.
    """
    if use_numba and cells.shape[2] > 1 and cells.dtype == np.float32:
        # nanmedian of |np.diff(cells, axis=2)| over the blocks, bit for bit, by selection in numba
        size = cells.shape[1] * (cells.shape[2] - 1)
        medians = _nb_diff_medians(cells, np.empty(size, np.float32), np.empty(size, np.float32))
        with np.errstate(all="ignore"):
            return np.nan_to_num(MAD_TO_SIGMA / np.sqrt(2.0) * medians)
    if cells.shape[2] > 1:
        diff = np.abs(np.diff(cells, axis=2)).reshape(cells.shape[0], -1, cells.shape[3])
        scale = MAD_TO_SIGMA / np.sqrt(2.0)
    else:
        values = cells[:, :, 0, :]
        diff = np.abs(values - np.nanmedian(values, axis=1, keepdims=True))
        scale = MAD_TO_SIGMA
    with np.errstate(all="ignore"):
        sigma = scale * np.nanmedian(diff, axis=1) if np.isfinite(diff).any() else None
    return np.zeros((cells.shape[0], cells.shape[3])) if sigma is None else np.nan_to_num(sigma)



def _nan_median(a: np.ndarray, use_numba: bool = True) -> np.ndarray:
    """Median over axis 2 ignoring NaN; NaN where no sample (numba for float32 cells, the same numbers as the
    sort-based numpy version below, bit for bit)."""
    if use_numba and a.dtype == np.float32 and a.ndim == 4:
        return _nb_cell_medians(a)
    return _nan_median_numpy(a)



def _nan_median_numpy(a: np.ndarray) -> np.ndarray:
    """Median over axis 2 ignoring NaN (sort-based, vectorised); NaN where no sample."""
    s = np.sort(a, axis=2)                                            # NaN sorted last
    count = np.sum(~np.isnan(a), axis=2, keepdims=True)
    lo = np.take_along_axis(s, np.maximum(count - 1, 0) // 2, axis=2)
    hi = np.take_along_axis(s, np.minimum(count // 2, a.shape[2] - 1), axis=2)
    return (0.5 * (lo + hi))[:, :, 0]



@njit(cache=True, nogil=True)
def _nb_gather_image(img, ok, block, cells):
    """``cells[b, j, c] = img[y, x, c]`` for the sample ``j`` (row-major) of block ``b`` where ``ok``, which is
    cleared where a channel of ``img`` is not finite."""
    h, w = ok.shape
    channels = cells.shape[2]
    blocks_x = -(-w // block)
    for y in range(h):
        for x in range(w):
            if ok[y, x]:
                b = (y // block) * blocks_x + x // block
                j = (y % block) * block + x % block
                for c in range(channels):
                    v = img[y, x, c]
                    cells[b, j, c] = v
                    if not np.isfinite(v):
                        ok[y, x] = False



@njit(cache=True, nogil=True)
def _nb_mask_cells(ok, block, cells):
    """NaN in every image's cells where ``ok`` is False."""
    h, w = ok.shape
    blocks_x = -(-w // block)
    for y in range(h):
        for x in range(w):
            if not ok[y, x]:
                b = (y // block) * blocks_x + x // block
                j = (y % block) * block + x % block
                cells[:, b, j, :] = np.nan



_NETWORK_MAX = 64  # samples per cell up to which the star clip sorts its cells by a sorting network



_CELL_LANES = 64   # cells sorted at once, one lane each



@njit(cache=True, nogil=True)
def _nb_cell_medians(cells):
    """``(k, n, C)`` float32 medians over axis 2 of float32 ``(k, n, m, C)`` cells, NaN ignored (NaN where none):
    ``0.5 * (lo + hi)`` of the two middle values in float32, as the numpy version computes it, each selected
    (:func:`_selected_median`). It serves the 32 x 32 blocks of the star finders and the colour calibration, where
    m steps beat a sort; the sample blocks' star clip (up to 16 samples a cell) has its own kernel,
    :func:`_nb_clipped_cell_medians`."""
    k, n, m, channels = cells.shape
    out = np.empty((k, n, channels), np.float32)
    buf = np.empty(m, np.float32)
    for i in range(k):
        for b in range(n):
            for c in range(channels):
                out[i, b, c] = _selected_median(cells[i, b, :, c], buf)
    return out



@njit(cache=True, nogil=True)
def _nb_clipped_cell_medians(cells, sigma, clip, net):
    """The star-clipped block medians of :func:`block_medians` in one pass over float32 ``(k, n, m, C)`` cells of
    up to ``_NETWORK_MAX`` samples: a sample more than ``clip * sigma[i, c]`` (where ``sigma > 0``) above its cell's
    median in any image ``i`` and channel ``c`` is a star, dropped in every image and channel, and the medians are
    taken again without it. Returns the float32 ``(k, n, C)`` medians and the ``(n, m)`` star flags: the numbers of
    the numpy passes (median, compare in float64, median again), bit for bit, ``_CELL_LANES`` cells at a time."""
    k, n, m, channels = cells.shape
    out = np.empty((k, n, channels), np.float32)
    star = np.zeros((n, m), np.bool_)
    values = np.empty((k, channels, m, _CELL_LANES), np.float32)
    first = np.empty((k, channels, _CELL_LANES), np.float32)
    scratch = np.empty((m + 1, _CELL_LANES), np.float32)
    counts = np.empty(_CELL_LANES, np.int64)
    nan = np.float32(np.nan)
    for b0 in range(0, n, _CELL_LANES):
        w = min(_CELL_LANES, n - b0)
        for i in range(k):
            for c in range(channels):
                _load_lanes(cells, i, c, b0, w, values[i, c])
                _lane_medians(values[i, c], w, net, scratch, counts, first[i, c])
        for ln in range(w):
            for j in range(m):
                hit = False
                for i in range(k):
                    for c in range(channels):
                        s = sigma[i, c]
                        hit |= s > 0 and values[i, c, j, ln] > np.float64(first[i, c, ln]) + clip * s
                if hit:
                    star[b0 + ln, j] = True
                    for i in range(k):
                        for c in range(channels):
                            values[i, c, j, ln] = nan
        for i in range(k):
            for c in range(channels):
                _lane_medians(values[i, c], w, net, scratch, counts, first[i, c])
                for ln in range(w):
                    out[i, b0 + ln, c] = first[i, c, ln]
    return out, star



@njit(cache=True, nogil=True)
def _load_lanes(cells, i, c, b0, w, values):
    """``values[j, l] = cells[i, b0 + l, j, c]`` for the ``w`` cells from ``b0``; NaN in the lanes past them."""
    m, lanes = values.shape
    for j in range(m):
        for ln in range(w):
            values[j, ln] = cells[i, b0 + ln, j, c]
        for ln in range(w, lanes):
            values[j, ln] = np.float32(np.nan)



@njit(cache=True, nogil=True)
def _lane_medians(values, w, net, scratch, counts, out):
    """``out[l]``, ``l < w``: the median of column ``l`` of float32 ``(m, L)`` ``values``, NaN ignored (NaN where
    none), ``0.5 * (lo + hi)`` of the two middle values in float32. The columns are sorted together in
    ``scratch`` (``(m + 1, L)``, NaN as +inf) by the comparators ``net``; ``counts`` (``L``) is scratch too."""
    m, lanes = values.shape
    inf = np.float32(np.inf)
    for ln in range(lanes):
        counts[ln] = 0
    for j in range(m):
        for ln in range(lanes):
            v = values[j, ln]
            finite = not np.isnan(v)
            scratch[j, ln] = v if finite else inf
            counts[ln] += finite
    sort_lanes(scratch[:m], net, scratch[m])
    for ln in range(w):
        count = counts[ln]
        if count == 0:
            out[ln] = np.float32(np.nan)
        else:
            out[ln] = np.float32(0.5) * (scratch[(count - 1) // 2, ln] + scratch[count // 2, ln])



@njit(cache=True, nogil=True)
def _selected_median(values, buf):
    """NaN-ignoring median of ``values`` (float32 ``0.5 * (lo + hi)`` of the two middle values, NaN when none),
    by selection in ``buf`` (scratch of the same length)."""
    count = 0
    for v in values:
        if not np.isnan(v):
            buf[count] = v
            count += 1
    if count == 0:
        return np.float32(np.nan)
    middle = (count - 1) // 2
    lo = select_inplace(buf[:count], middle)
    hi = lo
    if count % 2 == 0:  # the next value up: the least of those the selection left above it
        hi = buf[middle + 1]
        for j in range(middle + 2, count):
            hi = min(hi, buf[j])
    return np.float32(0.5) * (lo + hi)



@njit(cache=True, nogil=True)
def _nb_diff_medians(cells, buf, scratch):
    """``(k, C)`` float32 ``np.nanmedian(|np.diff(cells, axis=2)|)`` over blocks and samples (NaN where none);
    ``buf`` and ``scratch`` hold ``n x (m - 1)`` float32 values."""
    k, n, m, channels = cells.shape
    out = np.empty((k, channels), np.float32)
    for i in range(k):
        for c in range(channels):
            count = 0
            for b in range(n):
                for j in range(m - 1):
                    d = abs(cells[i, b, j + 1, c] - cells[i, b, j, c])
                    if not np.isnan(d):
                        buf[count] = d
                        count += 1
            if count == 0:
                out[i, c] = np.nan
                continue
            out[i, c] = median_of(buf[:count], scratch)  # (lo + hi) / 2 in float32, as numpy's
    return out
