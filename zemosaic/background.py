"""Sky-background models: frame-to-reference matching and reference flattening.

Two jobs, both pure array maths (no files, tiles or configuration objects):

* :func:`fit_background_match` models one aligned frame, per channel, as
  ``frame ~ gain * reference + S(x, y)`` where ``S`` is a low-order 2D polynomial. Only the
  *difference* to the reference is modelled, so sky structure common to both (a nebula larger than
  the frame) is kept. :meth:`BackgroundMatch.apply` turns the frame into the reference's background
  one row chunk at a time, as the streamed stacker needs.
* :func:`fit_reference_flattening` removes the reference's own smooth gradient (optional, nebula-safe
  but not nebula-proof: a nebula that fills the frame cannot be told from a gradient).

Robustness to stars comes from working on block medians (with a 3-sigma upper clip of the samples) and from
iterative sigma clipping of the fit residuals; the fits read the images only on a decimated grid, so
their cost does not depend on the frame size beyond that grid.

The star-clipped block sampling and a few checks are public too (:func:`block_medians`,
:func:`block_median_grid`, :func:`as_hwc`, :func:`check_images`): the inter-tile harmony
(:mod:`zemosaic.mosaic.harmony`, Phase 4.5) and the star photometry of its gains
(:mod:`zemosaic.mosaic.star_photometry`) build on them.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numba import njit

from zemosaic._numba_pool import parallel_map, run_blocks
from zemosaic._selection import median_inplace, median_of, select_inplace
from zemosaic._sorting_network import sort_lanes, sorting_network
from zemosaic._stats import MAD_TO_SIGMA, robust_sigma, to_blocks

__all__ = [
    "BackgroundMatch",
    "fit_background_match",
    "fit_reference_flattening",
    "MAX_ORDER",
    "SampleBlocks",
    "block_medians",
    "block_median_grid",
    "preload_fit_kernels",
    "as_hwc",
    "check_images",
    "MIN_GRID_SAMPLES",
    "affordable_order",
    "offset_only_match",
    "identity_match",
    "check_order",
    "check_step",
]

logger = logging.getLogger(__name__)

MAX_ORDER = 3
"""Highest polynomial order of a background surface."""


_CLIP_SIGMA = 3.0            # residual clip of the robust fits (in robust sigmas)
_STAR_CLIP_SIGMA = 3.0       # samples this far above their block median are treated as stars
_MAX_ITER = 10               # clip-and-refit iterations
MIN_GRID_SAMPLES = 64        # the sample step is reduced so that the short side keeps this many samples
_MIN_BLOCK_FILL = 0.5        # fraction of a block's samples that must be valid for the block to count
_MIN_BLOCKS_PER_TERM = 3     # blocks needed per fitted parameter before the order is lowered
_GAIN_PRIOR_WIDTH = 0.03     # 1-sigma width of the prior that pulls a poorly constrained gain toward 1
_MIN_STRUCTURE_CORR = 0.3    # correlation of reference blocks with their neighbours needed to fit a gain
_GAIN_RANGE = (0.2, 5.0)     # a fitted gain outside this range is refused (gain 1 is used)
_FLAT_CLIP_HIGH = 2.0        # flattening: cells this far above the sky surface are not sky
_FLAT_CLIP_LOW = 4.0         # flattening: cells this far below it are outliers (dust, defects)


# ---------------------------------------------------------------------------------------------
# Frame-to-reference matching
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BackgroundMatch:
    """A fitted per-channel background model ``frame ~ gain * reference + S(x, y)``.

    Attributes
    ----------
    gain : numpy.ndarray
        ``(C,)`` gain per channel (1 for a flattening or an identity model).
    coeffs : numpy.ndarray
        ``(C, n_terms)`` polynomial coefficients of ``S`` in *normalised* coordinates: ``u`` (columns)
        and ``v`` (rows) map the fit bounds onto ``[-1, 1]``. Terms are ordered by total degree, then
        by increasing power of ``v``: ``1, u, v, u^2, u v, v^2, u^3, u^2 v, u v^2, v^3``.
    order : int
        Polynomial order actually fitted (may be lower than requested, see ``reason``).
    shape : tuple of int
        Shape of the frame the model belongs to, ``(H, W)`` or ``(H, W, C)``.
    bounds : tuple of float
        ``(row_min, row_max, col_min, col_max)`` in pixels: bounding box of the samples the surface
        was fitted on. **Extrapolation guard**: outside this box the surface is evaluated with its
        coordinates clipped to the box, i.e. it is continued as a constant along the clipped
        direction, so it never exceeds the values it takes on the box.
    n_samples : int
        Number of sample blocks kept by the final (clipped) fit, smallest over channels.
    reason : str or None
        Why the model is simplified (lowered order, fixed gain, identity), None when it is not.
    """

    gain: np.ndarray
    coeffs: np.ndarray
    order: int
    shape: tuple
    bounds: tuple
    n_samples: int
    reason: str | None = None

    @property
    def n_channels(self) -> int:
        """Number of channels (1 for a mono frame)."""
        return int(self.gain.shape[0])

    @property
    def is_identity(self) -> bool:
        """True when :meth:`apply` changes nothing (gain 1, zero surface)."""
        return bool(np.all(self.gain == 1.0) and not np.any(self.coeffs))

    def surface(self, row0: int, row1: int) -> np.ndarray:
        """Evaluate ``S`` on rows ``row0:row1`` of the frame (all columns).

        Parameters
        ----------
        row0, row1 : int
            Row range, ``0 <= row0 <= row1 <= H``.

        Returns
        -------
        numpy.ndarray
            float32 ``(row1 - row0, W)`` for a mono frame, ``(row1 - row0, W, C)`` otherwise; finite
            everywhere, clamped to the fit bounds outside them.

        Raises
        ------
        ValueError
            If the row range is outside the frame.
        """
        height = self.shape[0]
        if not 0 <= row0 <= row1 <= height:
            raise ValueError(f"row range {row0}:{row1} outside a frame of {height} rows")
        v, by_power = self.row_coordinates(row0, row1), self.column_polynomials()
        v32 = v.astype(np.float32)[:, None, None]
        surf = np.broadcast_to(by_power[self.order], (v.size,) + by_power.shape[1:]).copy()
        for j in range(self.order - 1, -1, -1):
            surf *= v32
            surf += by_power[j]
        return surf[..., 0] if len(self.shape) == 2 else surf

    def apply(self, chunk: np.ndarray, row0: int) -> np.ndarray:
        """Match a row chunk of the frame to the reference: ``(chunk - S) / gain``.

        Parameters
        ----------
        chunk : numpy.ndarray
            Rows ``row0 : row0 + len(chunk)`` of the frame, ``(rows, W)`` or ``(rows, W, C)``.
        row0 : int
            First row of the chunk in the frame.

        Returns
        -------
        numpy.ndarray
            float32 array of the chunk's shape; NaN stays NaN. Pixels outside the frame's valid area
            get finite, clamped values that the caller must not use (its valid mask excludes them).
        """
        chunk = np.asarray(chunk)
        if chunk.shape[1:] != tuple(self.shape[1:]):
            raise ValueError(f"chunk shape {chunk.shape} does not match frame shape {self.shape}")
        if not 0 <= row0 <= row0 + chunk.shape[0] <= self.shape[0]:
            raise ValueError(f"row range {row0}:{row0 + chunk.shape[0]} outside a frame of {self.shape[0]} rows")
        inv_gain = (1.0 / self.gain).astype(np.float32)
        rows = chunk if chunk.ndim == 3 else chunk[..., None]
        out = np.empty(rows.shape, np.float32)
        run_blocks(_nb_match_rows, rows.shape[0], 1, rows, self.column_polynomials(),  # (chunk - S) / gain
                   self.row_coordinates(row0, row0 + chunk.shape[0]), inv_gain, out)  # S by Horner per row
        return out if chunk.ndim == 3 else out[..., 0]

    def row_coordinates(self, row0: int, row1: int) -> np.ndarray:
        """The model's row coordinate (float64, the fit bounds mapped onto ``[-1, 1]``, clamped) of rows
        ``row0:row1``."""
        return _normalise(np.arange(row0, row1, dtype=np.float64), self.bounds[0], self.bounds[1])

    def column_polynomials(self) -> np.ndarray:
        """float32 ``(order + 1, W, C)``: the polynomial in the column coordinate that multiplies
        each power of the row coordinate (so a row of ``S`` is a Horner sum over these)."""
        u = _normalise(np.arange(self.shape[1], dtype=np.float64), self.bounds[2], self.bounds[3])
        powers = np.arange(self.order + 1)
        return np.einsum("cji,wi->jwc", _coeff_matrix(self.coeffs, self.order),
                         u[:, None] ** powers).astype(np.float32)

    def as_dict(self) -> dict:
        """JSON-able summary: gain, offset at the frame centre, tilt, surface range, order, samples.

        ``tilt_per_kpx`` is the slope magnitude (value units per 1000 px) of the plane that best fits
        the surface over the frame; ``surface_ptp`` its peak-to-peak range over the frame.
        """
        centre, tilt, ptp = _surface_summary(self)
        return {
            "order": self.order,
            "n_samples": self.n_samples,
            "gain": [round(float(g), 6) for g in self.gain],
            "offset": [round(float(c), 4) for c in centre],
            "tilt_per_kpx": [round(float(t), 4) for t in tilt],
            "surface_ptp": [round(float(p), 4) for p in ptp],
            "reason": self.reason,
        }


def fit_background_match(frame: np.ndarray, reference: np.ndarray, valid: np.ndarray | None = None, *,
                         order: int = 1, sample_step: int = 8, fit_gain: bool = True) -> BackgroundMatch:
    """Fit, per channel, ``frame ~ gain * reference + S(x, y)`` on the pixels valid in both.

    The images are read only on the grid ``[::step, ::step]`` (memmaps welcome), with ``step =
    sample_step`` reduced on small frames so that the short side keeps 64 samples. The samples are
    grouped into blocks of up to 4 x 4; a sample more than 3 sigma above its block median in either
    image (a star) is dropped, and each block is summarised by its median. ``S`` is then fitted by
    clip-and-refit least squares (3 sigma) on the block medians.

    The gain is estimated only from the smooth structure of the reference that the polynomial cannot
    explain (nebulae, large galaxies), with an estimator that neither the noise nor the seeing
    biases (see ``_estimate_gain``); a poorly constrained gain is pulled toward 1 by a prior of
    width 0.03. On a featureless sky the gain and the offset cannot be told apart, and gain 1
    matches the background exactly as well; stars do not constrain the gain (star photometry is
    the stacker's business).

    Parameters
    ----------
    frame, reference : numpy.ndarray
        Aligned images of the same shape, ``(H, W)`` or ``(H, W, C)``, any float dtype.
    valid : numpy.ndarray, optional
        ``(H, W)`` bool, True where both images hold data. Non-finite pixels are invalid as well.
    order : int
        Polynomial order of ``S``, 0 to 3. It is lowered (and the reason recorded) when the valid
        area yields too few blocks; with almost nothing left the model is gain 1 plus an offset, and
        with nothing at all it is the identity.
    sample_step : int
        Decimation step of the sample grid, in pixels.
    fit_gain : bool
        False fixes the gain to 1 (only the surface is fitted), e.g. when the frames were already
        scaled photometrically.

    Returns
    -------
    BackgroundMatch
        The model; ``bounds`` is the bounding box of the fit samples (see the extrapolation guard
        there). ``reason`` says why it is simplified. The fitted terms are logged at DEBUG.

    Raises
    ------
    ValueError
        On mismatched shapes, an order outside 0..3 or a step below 1.
    """
    shape = check_images(frame, reference, valid)
    check_order(order)
    step = check_step(sample_step)
    if frame is reference:
        return identity_match(shape, "frame is the reference")
    with _numba_turn() as use_numba:
        blocks = _blocks_from_grid([frame, reference], valid, step, use_numba)
    if blocks is None:
        logger.debug("background match: no common valid pixel -> identity")
        return identity_match(shape, "no pixel valid in both frame and reference")
    if np.array_equal(blocks.values[0], blocks.values[1]):
        return identity_match(shape, "frame equals the reference")
    fit_order, reason = affordable_order(blocks, order, n_extra=int(fit_gain))
    if fit_order is None:
        return offset_only_match(blocks, shape, reason)
    model = _fit_match(blocks, shape, fit_order, reason, fit_gain)
    logger.debug("background match: order=%d n=%d gain=%s coeffs=%s reason=%s", model.order,
                 model.n_samples, np.round(model.gain, 5).tolist(),
                 np.round(model.coeffs, 4).tolist(), model.reason)
    return model


def fit_reference_flattening(reference: np.ndarray, valid: np.ndarray | None = None, *,
                             order: int = 1, sample_step: int = 8) -> BackgroundMatch:
    """Fit the reference's own smooth sky gradient (absolute flattening), gain 1.

    A coarse grid of robust sky estimates (star-clipped block medians on the decimated grid) is fitted
    with a polynomial, first a plane then the requested order, rejecting iteratively the cells more
    than 2 sigma above the surface (nebulosity, galaxies: the sky is the dark side of the cell
    distribution) or more than 4 sigma below it; a cell bright in any channel is rejected in all.
    The returned surface is the fitted one **minus its median over the valid cells**, so
    :meth:`BackgroundMatch.apply` removes the gradient while keeping the overall sky level.

    Nebula-safe, not nebula-proof: nebulosity that covers most of the frame, or whose faint wings sit
    below the clip over large areas, is partly taken for gradient. That is why the caller keeps it off
    by default.

    Parameters
    ----------
    reference : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` image.
    valid : numpy.ndarray, optional
        ``(H, W)`` bool mask of pixels holding data (None = all finite pixels).
    order : int
        Polynomial order, 0 to 3 (lowered when too few cells remain, see ``reason``); 1 (a plane, which eats
        least of a large nebula) as the config key ``background_flatten_order``.
    sample_step : int
        Decimation step of the sample grid, in pixels.

    Returns
    -------
    BackgroundMatch
        Gain 1 in every channel; identity (with a reason) when no valid pixel exists.

    Raises
    ------
    ValueError
        On a bad shape, an order outside 0..3 or a step below 1.
    """
    shape = check_images(reference, None, valid)
    check_order(order)
    step = check_step(sample_step)
    with _numba_turn() as use_numba:
        blocks = _blocks_from_grid([reference], valid, step, use_numba)
    if blocks is None:
        return identity_match(shape, "no valid pixel in the reference")
    fit_order, reason = affordable_order(blocks, order, n_extra=0)
    if fit_order is None:
        assert reason is not None  # affordable_order always says why it found no order
        return identity_match(shape, reason)
    z = blocks.values[0]
    keep = _select_sky_cells(blocks, fit_order)
    basis = _poly_basis(*_block_uv(blocks), fit_order)
    coeffs = np.linalg.lstsq(basis[keep], z[keep], rcond=None)[0].T  # (C, n_terms)
    coeffs[:, 0] -= np.median(basis @ coeffs.T, axis=0)
    model = BackgroundMatch(gain=np.ones(z.shape[1]), coeffs=coeffs, order=fit_order, shape=shape,
                            bounds=blocks.bounds, n_samples=int(keep.sum()), reason=reason)
    logger.debug("reference flattening: order=%d sky cells=%d/%d coeffs=%s", fit_order, keep.sum(),
                 keep.size, np.round(coeffs, 4).tolist())
    return model


# ---------------------------------------------------------------------------------------------
# Shared helpers (also used by tile_harmony and star_photometry)
# ---------------------------------------------------------------------------------------------

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
    with _numba_turn() as use_numba:
        return _block_medians(images, valid, rows, cols, block, use_numba)


def preload_fit_kernels(channels: int, read_only: bool) -> None:
    """Load (or compile) the numba kernels of :func:`fit_background_match` on a tiny sample whose arrays have the
    types of a stack's fits (``channels``; frames ``read_only`` or not), under the kernels' turn (see
    :func:`_numba_turn`): a stack calls it on a thread of its own while its first fits run."""
    with _numba_turn() as use_numba:
        if not use_numba:
            return
        sample = np.zeros((4, 8, channels), np.float32)[:, ::2]  # strided like the decimated grid of a frame
        sample.setflags(write=not read_only)
        _block_medians([sample, sample], np.ones((4, 4), bool), np.arange(4.0), np.arange(4.0), 2, True)
        values = np.arange(8.0)
        _nb_fit_channel(values, values, np.ones((8, 1)), np.zeros((8, 2), np.int64), 1, 1, True, np.zeros(1))


def _block_medians(images: list, valid: np.ndarray, rows: np.ndarray, cols: np.ndarray, block: int,
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



def as_hwc(img: np.ndarray) -> np.ndarray:
    """View a mono (H, W) image as (H, W, 1); an (H, W, C) image is returned as is."""
    return img[:, :, None] if img.ndim == 2 else img


def check_images(image: np.ndarray, other: np.ndarray | None, valid: np.ndarray | None) -> tuple:
    """Validate the shapes of an image, an optional second image and an optional valid mask.

    Returns
    -------
    tuple
        The image shape, ``(H, W)`` or ``(H, W, C)`` with 1 <= C <= 4.

    Raises
    ------
    ValueError
        On another number of dimensions or channels, or shapes that disagree.
    """
    shape = tuple(image.shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and not 1 <= shape[2] <= 4):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {shape}")
    if other is not None and tuple(other.shape) != shape:
        raise ValueError(f"frame shape {shape} differs from reference shape {tuple(other.shape)}")
    if valid is not None and tuple(valid.shape) != shape[:2]:
        raise ValueError(f"valid mask shape {tuple(valid.shape)} differs from image shape {shape[:2]}")
    return shape


# ---------------------------------------------------------------------------------------------
# Private: block sampling
# ---------------------------------------------------------------------------------------------

def _blocks_from_grid(images: list, valid: np.ndarray | None, step: int, use_numba: bool) -> SampleBlocks | None:
    """Decimate the images by ``step`` and summarise them in blocks of up to 4 x 4 samples.

    The step is reduced on small images so that the short side keeps ``MIN_GRID_SAMPLES`` samples.
    """
    step = max(1, min(step, min(images[0].shape[:2]) // MIN_GRID_SAMPLES))
    dec = [as_hwc(np.asarray(img[::step, ::step], dtype=np.float32)) for img in images]
    mask = np.ones(dec[0].shape[:2], dtype=bool) if valid is None else np.asarray(valid[::step, ::step], bool)
    rows = np.arange(dec[0].shape[0], dtype=np.float64) * step
    cols = np.arange(dec[0].shape[1], dtype=np.float64) * step
    block = int(np.clip(min(dec[0].shape[:2]) // 12, 1, 4))
    return _block_medians(dec, mask, rows, cols, block, use_numba)



@contextmanager
def _numba_turn() -> Iterator[bool]:
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


# ---------------------------------------------------------------------------------------------
# Private: polynomial surfaces
# ---------------------------------------------------------------------------------------------

def _terms(order: int) -> list[tuple[int, int]]:
    """Exponents (i of u, j of v) of the terms, by total degree then increasing j."""
    return [(d - j, j) for d in range(order + 1) for j in range(d + 1)]


def _poly_basis(u: np.ndarray, v: np.ndarray, order: int) -> np.ndarray:
    """(n, n_terms) design matrix of the polynomial terms."""
    return np.stack([u ** i * v ** j for i, j in _terms(order)], axis=1)


def _coeff_matrix(coeffs: np.ndarray, order: int) -> np.ndarray:
    """(C, n_terms) -> (C, order+1 [power of v], order+1 [power of u])."""
    mat = np.zeros((coeffs.shape[0], order + 1, order + 1))
    for k, (i, j) in enumerate(_terms(order)):
        mat[:, j, i] = coeffs[:, k]
    return mat


def _normalise(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``[lo, hi]`` onto ``[-1, 1]`` and clip outside (the extrapolation guard)."""
    half = max(0.5 * (hi - lo), 0.5)
    return np.clip((values - 0.5 * (lo + hi)) / half, -1.0, 1.0)


def _block_uv(blocks: SampleBlocks) -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates (u, v) of the block positions."""
    b = blocks.bounds
    return _normalise(blocks.cols, b[2], b[3]), _normalise(blocks.rows, b[0], b[1])


def affordable_order(blocks: SampleBlocks, order: int, *, n_extra: int) -> tuple[int | None, str | None]:
    """Highest order <= ``order`` the blocks support (None: not even order 0 with the extra terms)."""
    n = blocks.rows.size
    n_rows = np.unique(np.round(blocks.rows)).size
    n_cols = np.unique(np.round(blocks.cols)).size
    fit = order
    while fit >= 0:
        n_par = len(_terms(fit)) + n_extra
        if n >= _MIN_BLOCKS_PER_TERM * n_par and min(n_rows, n_cols) >= fit + 1:
            break
        fit -= 1
    if fit == order:
        return fit, None
    if fit < 0:
        reason = f"only {n} sample blocks: too few for any fitted surface"
        logger.info("background: %s", reason)
        return None, reason
    reason = f"order lowered from {order} to {fit}: {n} sample blocks over {n_rows}x{n_cols} positions"
    logger.info("background: %s", reason)
    return fit, reason


def _surface_summary(model: BackgroundMatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface at the frame centre, plane tilt per 1000 px and peak-to-peak, per channel."""
    height, width = model.shape[0], model.shape[1]
    r = np.linspace(0, height - 1, 17)
    c = np.linspace(0, width - 1, 17)
    rr, cc = np.meshgrid(r, c, indexing="ij")
    u = _normalise(cc.ravel(), model.bounds[2], model.bounds[3])
    v = _normalise(rr.ravel(), model.bounds[0], model.bounds[1])
    surf = _poly_basis(u, v, model.order) @ model.coeffs.T            # (n, C)
    design = np.stack([np.ones(rr.size), cc.ravel(), rr.ravel()], axis=1)
    plane = np.linalg.lstsq(design, surf, rcond=None)[0]              # (3, C)
    tilt = np.hypot(plane[1], plane[2]) * 1000.0
    uc = _normalise(np.array([(width - 1) / 2.0]), model.bounds[2], model.bounds[3])
    vc = _normalise(np.array([(height - 1) / 2.0]), model.bounds[0], model.bounds[1])
    centre = (_poly_basis(uc, vc, model.order) @ model.coeffs.T)[0]
    return centre, tilt, np.ptp(surf, axis=0)


# ---------------------------------------------------------------------------------------------
# Private: frame-to-reference fit
# ---------------------------------------------------------------------------------------------

def _fit_match(blocks: SampleBlocks, shape: tuple, order: int, reason: str | None,
               fit_gain: bool) -> BackgroundMatch:
    """Per-channel clip-and-refit of ``f = g r + S`` on the block medians."""
    u, v = _block_uv(blocks)
    basis = _poly_basis(u, v, order)
    n_ch = blocks.values.shape[2]
    gains, coeffs, kept = np.ones(n_ch), np.zeros((n_ch, basis.shape[1])), []
    notes = []
    for c in range(n_ch):
        f, r = blocks.values[0, :, c], blocks.values[1, :, c]
        gains[c], coeffs[c], n_kept, note = _fit_channel(f, r, basis, blocks if fit_gain else None)
        kept.append(n_kept)
        if note:
            notes.append(f"channel {c}: {note}")
    if notes:
        reason = "; ".join(([reason] if reason else []) + notes)
    return BackgroundMatch(gain=gains, coeffs=coeffs, order=order, shape=shape, bounds=blocks.bounds,
                           n_samples=int(min(kept)), reason=reason)


def _fit_channel(f: np.ndarray, r: np.ndarray, basis: np.ndarray,
                 blocks: SampleBlocks | None) -> tuple[float, np.ndarray, int, str | None]:
    """Robust fit of one channel: returns gain, surface coefficients, samples kept, note.

    ``blocks`` None fixes the gain to 1. The clip-and-refit runs in one numba call (:func:`_nb_fit_channel`: least
    squares by the normal equations); where a normal system is singular (the basis degenerate on the kept blocks),
    :func:`_fit_channel_lstsq` (numpy's SVD least squares) fits the channel instead. The kernel runs even while
    numba is being loaded on another thread (the call then waits for it, instead of taking numpy's way as the block
    medians do): the two ways agree to 1e-12, not bit for bit, and a run's numbers must not depend on its timing.
    """
    fit_gain = blocks is not None
    grid = _NO_GRID if blocks is None else blocks.grid
    grid_shape = (1, 1) if blocks is None else blocks.grid_shape
    coef = np.zeros(basis.shape[1])
    gain, n_kept, refused, solved = _nb_fit_channel(
        np.ascontiguousarray(f), np.ascontiguousarray(r), np.ascontiguousarray(basis), np.ascontiguousarray(grid),
        int(grid_shape[0]), int(grid_shape[1]), fit_gain, coef)
    if not solved:
        return _fit_channel_lstsq(f, r, basis, blocks)
    return float(gain), coef, int(n_kept), None if np.isnan(refused) else _refused_note(refused)


_NO_GRID = np.zeros((0, 2), np.int64)


def _refused_note(gain: float) -> str:
    return f"fitted gain {gain:.3g} refused, gain fixed to 1"


def _fit_channel_lstsq(f: np.ndarray, r: np.ndarray, basis: np.ndarray,
                       blocks: SampleBlocks | None) -> tuple[float, np.ndarray, int, str | None]:
    """:func:`_fit_channel` with numpy: least squares by SVD (``lstsq``), which a degenerate basis does not stop."""
    keep = np.ones(f.size, dtype=bool)
    gain, note, coef = 1.0, None, np.zeros(basis.shape[1])
    for _ in range(_MAX_ITER):
        if blocks is not None:
            gain, note = _estimate_gain(f, r, basis, keep, blocks)
        coef = np.linalg.lstsq(basis[keep], f[keep] - gain * r[keep], rcond=None)[0]
        res = f - gain * r - basis @ coef
        sigma = robust_sigma(res[keep])
        new_keep = np.abs(res - np.median(res[keep])) <= _CLIP_SIGMA * sigma if sigma > 0 else keep
        if new_keep.sum() < basis.shape[1] + 2 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return gain, coef, int(keep.sum()), note


def _estimate_gain(f: np.ndarray, r: np.ndarray, basis: np.ndarray, keep: np.ndarray,
                   blocks: SampleBlocks) -> tuple[float, str | None]:
    """Gain from the smooth reference structure the polynomial cannot explain (nebulae).

    A plain regression of ``f`` on ``r`` is biased toward 0 by the reference's own noise (errors in
    variables) and, in dense star fields, by block medians that rise with the seeing (faint star
    light spread over more pixels). Both vary from block to block independently, while nebulosity
    is smooth; so the estimator uses as instrument ``z`` the mean of each block's neighbours in the
    reference: ``g = <z, f> / <z, r>`` after projecting the polynomial out (Frisch-Waugh). The gain
    is refused (1) when ``z`` barely correlates with ``r`` (no smooth structure beyond the
    polynomial), else shrunk toward 1 by a Gaussian prior of width ``_GAIN_PRIOR_WIDTH`` according
    to its standard error.
    """
    z = _neighbour_mean(blocks, r, keep)
    ok = keep & np.isfinite(z)
    n, p = int(ok.sum()), basis.shape[1]
    if n <= p + 2:
        return 1.0, None
    data = np.stack([f[ok], r[ok], z[ok]], axis=1)
    resid = data - basis[ok] @ np.linalg.lstsq(basis[ok], data, rcond=None)[0]
    f_p, r_p, z_p = resid.T
    cross = float(z_p @ r_p)
    if cross <= _MIN_STRUCTURE_CORR * np.sqrt(float(z_p @ z_p) * float(r_p @ r_p)):
        return 1.0, None
    g_hat = float(z_p @ f_p) / cross
    e = f_p - g_hat * r_p
    se = np.sqrt(float(z_p @ z_p) * float(e @ e) / (n - p - 1)) / cross
    w_data, w_prior = 1.0 / max(se, 1e-12) ** 2, 1.0 / _GAIN_PRIOR_WIDTH ** 2
    gain = (g_hat * w_data + w_prior) / (w_data + w_prior)
    if not _GAIN_RANGE[0] <= gain <= _GAIN_RANGE[1]:
        return 1.0, _refused_note(gain)
    return gain, None


def _neighbour_mean(blocks: SampleBlocks, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mean of the kept 8-neighbours of each block (NaN where it has none)."""
    total = np.zeros(blocks.grid_shape)
    count = np.zeros(blocks.grid_shape)
    total[blocks.grid[keep, 0], blocks.grid[keep, 1]] = values[keep]
    count[blocks.grid[keep, 0], blocks.grid[keep, 1]] = 1.0
    total, count = _ring_sum(total), _ring_sum(count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return mean[blocks.grid[:, 0], blocks.grid[:, 1]]


def _ring_sum(grid: np.ndarray) -> np.ndarray:
    """Sum of the 8 neighbours of every cell of a 2D grid, zero beyond its edges: the numbers of
    ``scipy.ndimage.convolve`` with a 3 x 3 ring (``mode="constant"``), bit for bit (the same order of the
    additions), without scipy.ndimage's import (0.35-0.45 s of CPU in every process that stacks)."""
    h, w = grid.shape
    padded = np.zeros((h + 2, w + 2))
    padded[1:-1, 1:-1] = grid
    total = np.zeros((h, w))
    for dy in range(3):
        for dx in range(3):
            if (dy, dx) != (1, 1):
                total = total + padded[dy:dy + h, dx:dx + w]
    return total


def offset_only_match(blocks: SampleBlocks, shape: tuple, reason: str | None) -> BackgroundMatch:
    """Gain 1 and the median offset, for a frame with too few blocks to fit anything else."""
    n_ch = blocks.values.shape[2]
    coeffs = np.median(blocks.values[0] - blocks.values[1], axis=0)[:, None]
    reason = f"{reason}; gain 1 with a median offset"
    logger.debug("background match: %s offset=%s", reason, coeffs[:, 0].tolist())
    return BackgroundMatch(gain=np.ones(n_ch), coeffs=coeffs, order=0, shape=shape, bounds=blocks.bounds,
                           n_samples=int(blocks.rows.size), reason=reason)


def identity_match(shape: tuple, reason: str) -> BackgroundMatch:
    """Gain 1, zero surface."""
    n_ch = 1 if len(shape) == 2 else shape[2]
    return BackgroundMatch(gain=np.ones(n_ch), coeffs=np.zeros((n_ch, 1)), order=0, shape=tuple(shape),
                           bounds=(0.0, float(shape[0] - 1), 0.0, float(shape[1] - 1)), n_samples=0,
                           reason=reason)


def _select_sky_cells(blocks: SampleBlocks, order: int) -> np.ndarray:
    """Cells that belong to the sky (bool (n,)).

    Asymmetric clip-and-refit, first around a plane (which cannot bend into a compact nebula), then
    around the full-order surface; finally the cells next to a rejected bright cell are rejected
    too (the faint wings of a nebula sit just below the clip and would lift the surface).
    """
    z = blocks.values[0]
    u, v = _block_uv(blocks)
    keep = np.ones(z.shape[0], dtype=bool)
    high = np.zeros_like(keep)
    for fit_order in sorted({min(order, 1), order}):
        basis = _poly_basis(u, v, fit_order)
        for _ in range(3 * _MAX_ITER):
            coef = np.linalg.lstsq(basis[keep], z[keep], rcond=None)[0]
            res = z - basis @ coef
            sigma = np.array([robust_sigma(res[keep, c]) for c in range(z.shape[1])])
            high = np.any(res > _FLAT_CLIP_HIGH * sigma, axis=1)
            new_keep = ~high & np.all(res >= -_FLAT_CLIP_LOW * sigma, axis=1)
            if new_keep.sum() < _MIN_BLOCKS_PER_TERM * basis.shape[1] or np.array_equal(new_keep, keep):
                break
            keep = new_keep
    near_high = _grid_dilate(blocks, high)
    if (keep & ~near_high).sum() >= _MIN_BLOCKS_PER_TERM * len(_terms(order)):
        keep &= ~near_high
    return keep


def _grid_dilate(blocks: SampleBlocks, flags: np.ndarray) -> np.ndarray:
    """Flags of the blocks that are, or touch (8-neighbourhood), a cluster of >= 3 flagged blocks.

    Isolated flagged blocks (noise) are not grown.
    """
    from scipy.ndimage import binary_dilation, label  # fast start: only the reference flattening needs them

    eight = np.ones((3, 3), dtype=bool)
    image = np.zeros(blocks.grid_shape, dtype=bool)
    image[blocks.grid[flags, 0], blocks.grid[flags, 1]] = True
    labels, n_labels = label(image, structure=eight)
    sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)
    clusters = (sizes >= 3)[labels] & image
    grown = binary_dilation(clusters, structure=eight)
    return grown[blocks.grid[:, 0], blocks.grid[:, 1]]


# ---------------------------------------------------------------------------------------------
# Validation (shared with the GPU twin, zemosaic.stack.gpu_normalize)
# ---------------------------------------------------------------------------------------------

def check_order(order: int) -> None:
    """ValueError unless ``order`` is an integer in 0..MAX_ORDER."""
    if not isinstance(order, (int, np.integer)) or not 0 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer in 0..{MAX_ORDER}, got {order!r}")


def check_step(step: int) -> int:
    """``step`` as an int; ValueError unless it is an integer >= 1."""
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"sample_step must be an integer >= 1, got {step!r}")
    return int(step)


@njit(nogil=True, cache=True)
def _nb_match_rows(r0, r1, chunk, by_power, v, inv_gain, out):
    """Rows ``r0:r1`` of ``out = (chunk - S) * inv_gain`` with ``S[r, x, c] = sum_j by_power[j, x, c] * v[r] ** j``."""
    rows, width, channels = chunk.shape
    order = by_power.shape[0] - 1
    for r in range(r0, r1):
        vr = np.float32(v[r])
        for x in range(width):
            for c in range(channels):
                s = by_power[order, x, c]
                for j in range(order - 1, -1, -1):
                    s = s * vr + by_power[j, x, c]
                out[r, x, c] = (chunk[r, x, c] - s) * inv_gain[c]


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


# ---------------------------------------------------------------------------------------------
# Private: the clip-and-refit of one channel in numba (_fit_channel)
# ---------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _nb_fit_channel(f, r, basis, grid, grid_h, grid_w, fit_gain, coef):
    """:func:`_fit_channel_lstsq`'s clip-and-refit of ``f = gain r + basis @ coef`` (float64 ``(n,)``, ``(n,)``,
    ``(n, p)``), the gain from :func:`_nb_estimate_gain` when ``fit_gain`` (``grid``: the blocks' ``(n, 2)`` places
    on a ``grid_h x grid_w`` grid), the least squares by the normal equations. Fills ``coef`` and returns the gain,
    the samples kept, the refused fitted gain (NaN if none) and whether every normal system could be solved."""
    n, p = basis.shape
    keep = np.ones(n, np.bool_)
    new_keep = np.empty(n, np.bool_)
    ok = np.empty(n, np.bool_)
    y = np.empty((n, 1))
    sol = np.empty((p, 1))
    res = np.empty(n)
    work = np.empty(n)
    z = np.empty(n)
    padded = np.empty((2, grid_h + 2, grid_w + 2))
    gain, refused = 1.0, np.nan
    n_kept = n
    for t in range(p):
        coef[t] = 0.0
    for _ in range(_MAX_ITER):  # plain loops throughout: numba compiles slice assignments several times slower
        if fit_gain:
            gain, refused, solved = _nb_estimate_gain(f, r, basis, keep, grid, padded, z, ok)
            if not solved:
                return gain, 0, refused, False
        for i in range(n):
            y[i, 0] = f[i] - gain * r[i]
        if not _nb_least_squares(basis, keep, y, sol):
            return gain, 0, refused, False
        for t in range(p):
            coef[t] = sol[t, 0]
        for i in range(n):
            s = 0.0
            for t in range(p):
                s += basis[i, t] * coef[t]
            res[i] = y[i, 0] - s
        centre, sigma = _nb_median_mad(res, keep, work)
        kept, same = 0, True
        for i in range(n):
            new_keep[i] = abs(res[i] - centre) <= _CLIP_SIGMA * sigma if sigma > 0 else keep[i]
            same &= new_keep[i] == keep[i]
            kept += new_keep[i]
        if kept < p + 2 or same:
            break
        for i in range(n):
            keep[i] = new_keep[i]
        n_kept = kept
    return gain, n_kept, refused, True


@njit(cache=True, nogil=True)
def _nb_estimate_gain(f, r, basis, keep, grid, padded, z, ok):
    """:func:`_estimate_gain` in numba: ``(gain, refused gain or NaN, solved)``. ``padded`` ``(2, gh + 2, gw + 2)``,
    ``z`` and ``ok`` ``(n,)`` are scratch."""
    n, p = basis.shape
    total, count = padded[0], padded[1]
    for y in range(total.shape[0]):
        for x in range(total.shape[1]):
            total[y, x] = 0.0
            count[y, x] = 0.0
    for i in range(n):
        if keep[i]:
            total[grid[i, 0] + 1, grid[i, 1] + 1] = r[i]
            count[grid[i, 0] + 1, grid[i, 1] + 1] = 1.0
    n_ok = 0
    for i in range(n):  # the mean of the kept 8-neighbours (the additions in _ring_sum's order)
        y0, x0 = grid[i, 0], grid[i, 1]
        s, c = 0.0, 0.0
        for dy in range(3):
            for dx in range(3):
                if dy != 1 or dx != 1:
                    s += total[y0 + dy, x0 + dx]
                    c += count[y0 + dy, x0 + dx]
        z[i] = s / c if c > 0 else np.nan
        ok[i] = keep[i] and c > 0
        n_ok += ok[i]
    if n_ok <= p + 2:
        return 1.0, np.nan, True
    data = np.empty((n, 3))
    for i in range(n):
        data[i, 0], data[i, 1], data[i, 2] = f[i], r[i], z[i]
    beta = np.empty((p, 3))
    if not _nb_least_squares(basis, ok, data, beta):
        return 1.0, np.nan, False
    zr, zz, rr, zf, ee = 0.0, 0.0, 0.0, 0.0, 0.0
    for i in range(n):
        if ok[i]:
            fp, rp, zp = data[i, 0], data[i, 1], data[i, 2]
            for t in range(p):
                fp -= basis[i, t] * beta[t, 0]
                rp -= basis[i, t] * beta[t, 1]
                zp -= basis[i, t] * beta[t, 2]
            data[i, 0], data[i, 1], data[i, 2] = fp, rp, zp
            zr += zp * rp
            zz += zp * zp
            rr += rp * rp
            zf += zp * fp
    if zr <= _MIN_STRUCTURE_CORR * np.sqrt(zz * rr):
        return 1.0, np.nan, True
    g_hat = zf / zr
    for i in range(n):
        if ok[i]:
            e = data[i, 0] - g_hat * data[i, 1]
            ee += e * e
    se = np.sqrt(zz * ee / (n_ok - p - 1)) / zr
    w_data, w_prior = 1.0 / max(se, 1e-12) ** 2, 1.0 / _GAIN_PRIOR_WIDTH ** 2
    gain = (g_hat * w_data + w_prior) / (w_data + w_prior)
    if not _GAIN_RANGE[0] <= gain <= _GAIN_RANGE[1]:
        return 1.0, gain, True
    return gain, np.nan, True


@njit(cache=True, nogil=True)
def _nb_least_squares(basis, keep, rhs, out):
    """``out`` ``(p, k)`` = the least-squares solution of ``basis[keep] @ out = rhs[keep]`` (``rhs`` ``(n, k)``) by the
    normal equations and a Cholesky factorisation; False (``out`` untouched) when they are not positive definite
    (a pivot at or below 1e-12 of its diagonal entry)."""
    n, p = basis.shape
    k = rhs.shape[1]
    a = np.zeros((p, p))
    b = np.zeros((p, k))
    for i in range(n):
        if keep[i]:
            for s in range(p):
                bs = basis[i, s]
                for t in range(s + 1):
                    a[s, t] += bs * basis[i, t]
                for j in range(k):
                    b[s, j] += bs * rhs[i, j]
    for s in range(p):  # a = L L^T, L in the lower triangle
        for t in range(s + 1):
            v = a[s, t]
            for q in range(t):
                v -= a[s, q] * a[t, q]
            if s == t:
                if not v > 1e-12 * a[s, s] or not v > 0.0:
                    return False
                a[s, s] = np.sqrt(v)
            else:
                a[s, t] = v / a[t, t]
    for j in range(k):
        for s in range(p):  # L w = b
            v = b[s, j]
            for q in range(s):
                v -= a[s, q] * b[q, j]
            b[s, j] = v / a[s, s]
        for s in range(p - 1, -1, -1):  # L^T x = w
            v = b[s, j]
            for q in range(s + 1, p):
                v -= a[q, s] * b[q, j]
            b[s, j] = v / a[s, s]
    for s in range(p):
        for j in range(k):
            out[s, j] = b[s, j]
    return True


@njit(cache=True, nogil=True)
def _nb_median_mad(values, keep, work):
    """The median of ``values[keep]`` and ``MAD_TO_SIGMA`` x the median of their absolute deviations from it (0, 0
    when none is kept), as ``np.median`` and :func:`robust_sigma` compute them; ``work`` is scratch."""
    m = 0
    for i in range(values.size):
        if keep[i]:
            work[m] = values[i]
            m += 1
    if m == 0:
        return 0.0, 0.0
    centre = median_inplace(work[:m])
    for i in range(m):
        work[i] = abs(work[i] - centre)
    return centre, MAD_TO_SIGMA * median_inplace(work[:m])
