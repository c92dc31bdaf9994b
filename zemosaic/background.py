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

The fits sample their images with the star-clipped block medians of :mod:`zemosaic._sample_blocks` (shared with the
inter-tile harmony, the star photometry and the mosaic's sky model); the clip-and-refit of each channel runs in one
numba call (:func:`_nb_fit_channel`). Two checks are public too (:func:`as_hwc`, :func:`check_images`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit

from zemosaic._numba_pool import run_blocks
from zemosaic._sample_blocks import SampleBlocks, block_medians_in_turn, numba_turn
from zemosaic._selection import median_inplace
from zemosaic._stats import MAD_TO_SIGMA, robust_sigma

__all__ = [
    "BackgroundMatch",
    "fit_background_match",
    "fit_reference_flattening",
    "MAX_ORDER",
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
_MAX_ITER = 10               # clip-and-refit iterations
MIN_GRID_SAMPLES = 64        # the sample step is reduced so that the short side keeps this many samples
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
    with numba_turn() as use_numba:
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
    with numba_turn() as use_numba:
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





def preload_fit_kernels(channels: int, read_only: bool) -> None:
    """Load (or compile) the numba kernels of :func:`fit_background_match` on a tiny sample whose arrays have the
    types of a stack's fits (``channels``; frames ``read_only`` or not), under the kernels' turn (see
    :func:`_numba_turn`): a stack calls it on a thread of its own while its first fits run."""
    with numba_turn() as use_numba:
        if not use_numba:
            return
        sample = np.zeros((4, 8, channels), np.float32)[:, ::2]  # strided like the decimated grid of a frame
        sample.setflags(write=not read_only)
        block_medians_in_turn([sample, sample], np.ones((4, 4), bool), np.arange(4.0), np.arange(4.0), 2, True)
        values = np.arange(8.0)
        _nb_fit_channel(values, values, np.ones((8, 1)), np.zeros((8, 2), np.int64), 1, 1, True, np.zeros(1))









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
    return block_medians_in_turn(dec, mask, rows, cols, block, use_numba)















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
