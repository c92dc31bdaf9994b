"""Sky-background models: frame-to-reference matching, reference flattening, inter-tile harmony.

Three jobs, all pure array maths (no files, tiles or configuration objects):

* :func:`fit_background_match` models one aligned frame, per channel, as
  ``frame ~ gain * reference + S(x, y)`` where ``S`` is a low-order 2D polynomial. Only the
  *difference* to the reference is modelled, so sky structure common to both (a nebula larger than
  the frame) is kept. :meth:`BackgroundMatch.apply` turns the frame into the reference's background
  one row chunk at a time, as the streamed stacker needs.
* :func:`fit_reference_flattening` removes the reference's own smooth gradient (optional, nebula-safe
  but not nebula-proof: a nebula that fills the frame cannot be told from a gradient).
* :func:`solve_tile_harmony` (Phase 4.5) solves per tile and channel a gain, an offset and optionally a
  plane so that overlapping tiles agree; :func:`sample_overlap` turns two reprojected tiles into the
  robust block samples it needs for the offsets and planes, and :func:`measure_stars` /
  :func:`match_star_samples` give the star fluxes both tiles share, from which the gains are estimated
  (a star's local-sky-subtracted flux scales with the gain only; diffuse structure mixes gain with sky
  differences, so it is only the fallback).

Robustness to stars comes from working on block medians (with a 3-sigma upper clip of the samples) and from
iterative sigma clipping of the fit residuals; the fits read the images only on a decimated grid, so
their cost does not depend on the frame size beyond that grid.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Sequence

import numpy as np
from scipy.ndimage import binary_dilation, convolve, distance_transform_edt, label, maximum_filter, zoom
from scipy.spatial import cKDTree

__all__ = [
    "BackgroundMatch",
    "fit_background_match",
    "fit_reference_flattening",
    "TileOverlap",
    "TileCorrection",
    "HarmonySolution",
    "OverlapSamples",
    "StarFluxes",
    "StarSamples",
    "solve_tile_harmony",
    "sample_overlap",
    "measure_stars",
    "match_star_samples",
    "MAX_ORDER",
]

logger = logging.getLogger(__name__)

MAX_ORDER = 3
"""Highest polynomial order of a background surface."""

_CLIP_SIGMA = 3.0            # residual clip of the robust fits (in robust sigmas)
_STAR_CLIP_SIGMA = 3.0       # samples this far above their block median are treated as stars
_MAX_ITER = 10               # clip-and-refit iterations
_MIN_GRID_SAMPLES = 64       # the sample step is reduced so that the short side keeps this many samples
_MIN_BLOCK_FILL = 0.5        # fraction of a block's samples that must be valid for the block to count
_MIN_BLOCKS_PER_TERM = 3     # blocks needed per fitted parameter before the order is lowered
_GAIN_PRIOR_WIDTH = 0.03     # 1-sigma width of the prior that pulls a poorly constrained gain toward 1
_MIN_STRUCTURE_CORR = 0.3    # correlation of reference blocks with their neighbours needed to fit a gain
_GAIN_RANGE = (0.2, 5.0)     # a fitted gain outside this range is refused (gain 1 is used)
_FLAT_CLIP_HIGH = 2.0        # flattening: cells this far above the sky surface are not sky
_FLAT_CLIP_LOW = 4.0         # flattening: cells this far below it are outliers (dust, defects)
_HARMONY_CLIP_SIGMA = 3.5    # harmony: residual clip (per overlap, in robust sigmas)
_HARMONY_LOG_GAIN_PRIOR = float(np.log(1.5))  # harmony: mild prior width on log gains
_HARMONY_MIN_CORR = 0.9      # harmony: overlaps whose structure correlates less give no gain information
_HARMONY_DIFFUSE_LOG_FLOOR = 0.02  # harmony: floor on the log-ratio error of the diffuse estimator (its bias)
_MAD_TO_SIGMA = 1.4826
# Star photometry for the harmony gains (see measure_stars / match_star_samples)
_STAR_RADII = (3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0)  # aperture ladder (px); a pair picks one common radius
_STAR_ANNULUS = (2.0, 6.0)        # sky annulus from r + 2 to r + 6 px around an aperture of radius r
_STAR_DETECT_SIGMA = 15.0         # detection: peak above the block-median sky, in noise sigmas
_STAR_MIN_SNR = 10.0              # a star flux counts in a pair when its aperture SNR is this high in both
_STAR_SATURATION = 0.9            # peaks above this fraction of the channel's maximum are taken as saturated
_STAR_APERTURE_FWHM = 2.0         # aperture radius in FWHM of the broader PSF of the pair
_STAR_SKY_BLOCK = 32              # block size (px) of the block-median sky used for detection
_STAR_MAX = 1500                  # brightest candidates kept per image (~1 s for a 1080 x 1920 RGB tile)
_STAR_CHUNK = 256                 # stars photometered per vectorised chunk (bounds the cutout memory)
_STAR_MIN_COUNT = 5               # stars needed for a star-based gain ratio of an overlap
_STAR_LOG_FLOOR = 0.005           # systematic floor on one star's log-ratio error (PSF, sampling)
_STAR_PAIR_FLOOR = 0.002          # systematic floor on an overlap's star log-ratio error (aperture losses)
_STAR_CLIP = 4.0                  # clip of star log ratios, in robust sigmas


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
        height, width = self.shape[0], self.shape[1]
        if not 0 <= row0 <= row1 <= height:
            raise ValueError(f"row range {row0}:{row1} outside a frame of {height} rows")
        v = _normalise(np.arange(row0, row1, dtype=np.float64), self.bounds[0], self.bounds[1])
        u = _normalise(np.arange(width, dtype=np.float64), self.bounds[2], self.bounds[3])
        powers = np.arange(self.order + 1)
        # (order+1, W, C): the column polynomial multiplying each power of v (Horner over the rows)
        by_power = np.einsum("cji,wi->jwc", _coeff_matrix(self.coeffs, self.order),
                             u[:, None] ** powers).astype(np.float32)
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
        inv_gain = (1.0 / self.gain).astype(np.float32)
        out = np.subtract(chunk, self.surface(row0, row0 + chunk.shape[0]), dtype=np.float32)
        out *= inv_gain[0] if len(self.shape) == 2 else inv_gain
        return out

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
    shape = _check_images(frame, reference, valid)
    _check_order(order)
    step = _check_step(sample_step)
    if frame is reference:
        return _identity(shape, "frame is the reference")
    blocks = _blocks_from_grid([frame, reference], valid, step)
    if blocks is None:
        logger.debug("background match: no common valid pixel -> identity")
        return _identity(shape, "no pixel valid in both frame and reference")
    if np.array_equal(blocks.values[0], blocks.values[1]):
        return _identity(shape, "frame equals the reference")
    fit_order, reason = _affordable_order(blocks, order, n_extra=int(fit_gain))
    if fit_order is None:
        return _offset_only(blocks, shape, reason)
    model = _fit_match(blocks, shape, fit_order, reason, fit_gain)
    logger.debug("background match: order=%d n=%d gain=%s coeffs=%s reason=%s", model.order,
                 model.n_samples, np.round(model.gain, 5).tolist(),
                 np.round(model.coeffs, 4).tolist(), model.reason)
    return model


def fit_reference_flattening(reference: np.ndarray, valid: np.ndarray | None = None, *,
                             order: int = 2, sample_step: int = 8) -> BackgroundMatch:
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
        Polynomial order, 0 to 3 (lowered when too few cells remain, see ``reason``).
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
    shape = _check_images(reference, None, valid)
    _check_order(order)
    step = _check_step(sample_step)
    blocks = _blocks_from_grid([reference], valid, step)
    if blocks is None:
        return _identity(shape, "no valid pixel in the reference")
    fit_order, reason = _affordable_order(blocks, order, n_extra=0)
    if fit_order is None:
        return _identity(shape, reason)
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
# Inter-tile harmony (Phase 4.5)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TileOverlap:
    """Samples of one overlap between tiles ``i`` and ``j``.

    Attributes
    ----------
    i, j : int
        Tile indices.
    x, y : numpy.ndarray
        ``(N,)`` sample positions in global mosaic pixel coordinates (x = column, y = row).
    values_i, values_j : numpy.ndarray
        ``(N, C)`` (or ``(N,)`` for mono) values of the two tiles at those positions. Stars and
        outliers are tolerated (the solve clips), block medians (:func:`sample_overlap`) are best.
    weight : float
        Relative weight of this overlap in the solve.
    star_i, star_j : numpy.ndarray
        ``(M, C)`` background-subtracted aperture fluxes of the same M stars in the two tiles
        (:func:`match_star_samples`); NaN where a channel is unusable. Empty by default. With at
        least 5 stars in a channel, the tiles' gain ratio comes from them, not from the diffuse samples.
    star_err : numpy.ndarray or None
        ``(M, C)`` 1-sigma error of ``log(star_i / star_j)``; None weights the stars equally.
    star_x, star_y : numpy.ndarray
        ``(M,)`` star positions in global pixels (for diagnostics; empty by default).
    """

    i: int
    j: int
    x: np.ndarray
    y: np.ndarray
    values_i: np.ndarray
    values_j: np.ndarray
    weight: float = 1.0
    star_i: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    star_j: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    star_err: np.ndarray | None = None
    star_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    star_y: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_samples(self) -> int:
        """Number of samples N."""
        return int(np.asarray(self.x).size)

    @property
    def n_stars(self) -> int:
        """Number of star samples M."""
        return int(np.asarray(self.star_i).shape[0]) if np.asarray(self.star_i).ndim else 0


@dataclass(frozen=True, eq=False)
class TileCorrection:
    """Photometric correction of one tile: ``gain * v + offset + plane[:, 0] * x + plane[:, 1] * y``.

    Attributes
    ----------
    gain, offset : numpy.ndarray
        ``(C,)`` per channel.
    plane : numpy.ndarray
        ``(C, 2)`` coefficients of x (column) and y (row) in global mosaic pixels.
    reason : str or None
        Why the correction is the identity or anchored apart (disconnected tile), None otherwise.
    """

    gain: np.ndarray
    offset: np.ndarray
    plane: np.ndarray
    reason: str | None = None

    @property
    def is_identity(self) -> bool:
        """True when the correction changes nothing."""
        return bool(np.all(self.gain == 1.0) and not np.any(self.offset) and not np.any(self.plane))

    def apply(self, values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Correct tile values at global positions ``(x, y)``.

        Parameters
        ----------
        values : numpy.ndarray
            ``(..., C)``; with a single channel a plain ``(...)`` array is accepted too.
        x, y : numpy.ndarray
            Global pixel coordinates broadcastable to ``values.shape[:-1]`` (or ``values.shape`` for a
            mono array without channel axis), e.g. ``x = np.arange(W)[None, :] + x0``.

        Returns
        -------
        numpy.ndarray
            Corrected values, float32 when ``values`` is float32, float64 otherwise. NaN stays NaN.
        """
        values = np.asarray(values)
        n_ch = self.gain.shape[0]
        no_axis = n_ch == 1 and (values.ndim == 0 or values.shape[-1] != 1)
        v = values[..., None] if no_axis else values
        if v.shape[-1] != n_ch:
            raise ValueError(f"values have {v.shape[-1]} channels, the correction {n_ch}")
        dtype = np.float32 if values.dtype == np.float32 else np.float64
        xx = np.asarray(x, dtype=dtype)[..., None]
        yy = np.asarray(y, dtype=dtype)[..., None]
        plane = self.plane.astype(dtype)
        ramp = self.offset.astype(dtype) + plane[:, 0] * xx + plane[:, 1] * yy
        out = v.astype(dtype, copy=False) * self.gain.astype(dtype) + ramp
        return out[..., 0] if no_axis else out

    def as_dict(self) -> dict:
        """JSON-able summary (plane in value units per 1000 px)."""
        return {"gain": [round(float(g), 6) for g in self.gain],
                "offset": [round(float(o), 4) for o in self.offset],
                "plane_per_kpx": [[round(float(c) * 1000.0, 4) for c in row] for row in self.plane],
                "reason": self.reason}


@dataclass(frozen=True, eq=False)
class HarmonySolution:
    """Result of :func:`solve_tile_harmony`.

    Attributes
    ----------
    corrections : list of TileCorrection
        One per tile, indexed by tile number.
    anchor : int or None
        Anchor tile of the main component (identity correction), None when anchored on the mean.
    dropped_overlaps : tuple of (int, int)
        Overlaps ignored (too few samples or invalid), as ``(i, j)``.
    disconnected_tiles : tuple of int
        Tiles not connected to the anchor's component (identity, or anchored on their own best tile
        when their component has several tiles; see each correction's ``reason``).
    rms_before, rms_after : numpy.ndarray
        ``(C,)`` RMS of the tile differences on the kept overlap samples (outliers excluded), before
        and after correction.
    gain_estimators : tuple
        Per kept overlap ``(i, j, methods)``, ``methods`` one string per channel: ``"stars"`` (gain
        ratio from matched star fluxes), ``"structure"`` (from the diffuse structure) or ``"none"``.
    """

    corrections: list
    anchor: int | None
    dropped_overlaps: tuple
    disconnected_tiles: tuple
    rms_before: np.ndarray
    rms_after: np.ndarray
    gain_estimators: tuple = ()

    def as_dict(self) -> dict:
        """JSON-able summary."""
        return {"anchor": self.anchor,
                "dropped_overlaps": [list(p) for p in self.dropped_overlaps],
                "disconnected_tiles": list(self.disconnected_tiles),
                "rms_before": [round(float(r), 4) for r in self.rms_before],
                "rms_after": [round(float(r), 4) for r in self.rms_after],
                "gain_estimators": [[i, j, list(m)] for i, j, m in self.gain_estimators],
                "tiles": [c.as_dict() for c in self.corrections]}


class OverlapSamples(NamedTuple):
    """Block-median samples of an overlap (unpacks as ``x, y, values_i, values_j``)."""

    x: np.ndarray
    y: np.ndarray
    values_i: np.ndarray
    values_j: np.ndarray


@dataclass(frozen=True, eq=False)
class StarFluxes:
    """Aperture photometry of the bright stars of one image (:func:`measure_stars`).

    Attributes
    ----------
    x, y : numpy.ndarray
        ``(M,)`` centroids in the image's pixel coordinates (x = column); callers may move them to
        another frame (e.g. global mosaic pixels) with :func:`dataclasses.replace`.
    flux : numpy.ndarray
        ``(M, R, C)`` sky-subtracted aperture sums at each radius of ``radii``. NaN where the aperture
        or its sky annulus leaves the valid area, or where the star is saturated in that channel.
    noise : numpy.ndarray
        ``(M, R, C)`` 1-sigma error of ``flux`` from the sky noise measured in the annulus.
    radii : numpy.ndarray
        ``(R,)`` aperture radii in pixels.
    fwhm : float
        Median FWHM of the stars in pixels, NaN without stars.
    """

    x: np.ndarray
    y: np.ndarray
    flux: np.ndarray
    noise: np.ndarray
    radii: np.ndarray
    fwhm: float

    @property
    def n_stars(self) -> int:
        """Number of stars M."""
        return int(self.x.size)


class StarSamples(NamedTuple):
    """Fluxes of the stars two images share (:func:`match_star_samples`)."""

    x: np.ndarray         # (M,) mean position of the two detections
    y: np.ndarray
    flux_i: np.ndarray    # (M, C), NaN where the channel is unusable (saturated, SNR too low)
    flux_j: np.ndarray
    err: np.ndarray       # (M, C) 1-sigma error of log(flux_i / flux_j)
    radius: float         # aperture radius used (px)


def solve_tile_harmony(overlaps: Sequence[TileOverlap], n_tiles: int, *, n_channels: int,
                       anchor: int | str | None = None, plane: bool = True, min_samples: int = 50,
                       image_shape: tuple | None = None, min_stars: int = _STAR_MIN_COUNT) -> HarmonySolution:
    """Solve per tile and channel ``gain, offset (+ plane)`` so that overlapping tiles agree.

    The model asks ``g_i v_i + o_i + p_i(x, y) ~= g_j v_j + o_j + p_j(x, y)`` on every overlap sample.
    It is solved in two linear steps per channel and connected component:

    1. gains, in log space: each overlap gives a ratio ``r_ij = v_i / v_j`` per channel. With at
       least ``min_stars`` star samples (``star_i``, ``star_j``) it is the clipped, error-weighted mean
       of ``log(star_i / star_j)`` (weighted median first, 4-sigma clip on the MAD-scaled residuals,
       uncertainty inflated by that scale): stars are point sources, so their local-sky-subtracted
       fluxes scale with the gain only, whatever the tiles' sky levels and gradients. Otherwise it
       falls back on a total least-squares fit ``v_i ~ r_ij v_j + plane`` of the diffuse structure
       both tiles share (clipped; no ratio below a correlation of 0.9), whose error is floored at 2 %
       because sky differences bias it. The log gains then come from a weighted least-squares solve
       over the overlap graph, anchor fixed, with a mild prior toward gain 1; which estimator each
       overlap used is logged and returned in ``gain_estimators``;
    2. offsets and planes (gains fixed): a weighted least-squares solve with per-overlap noise
       weights and iterative 3.5-sigma clipping of the residuals.

    Guards: overlaps with fewer than ``min_samples`` samples (or bad indices/shapes) are dropped and
    logged; a tile without any kept overlap gets the identity with a reason; a component not
    connected to the anchor's is anchored on its own best-covered tile (reason recorded, tiles
    listed in ``disconnected_tiles``).

    Parameters
    ----------
    overlaps : sequence of TileOverlap
        Overlap samples, positions in global pixels.
    n_tiles : int
        Number of tiles.
    n_channels : int
        Number of channels C of the values.
    anchor : int, "mean" or None
        Tile whose correction is the identity. None picks the tile with the most overlap samples.
        ``"mean"`` anchors each component on the mean: average gain 1, offset 0 and plane 0.
    plane : bool
        Also fit a plane per tile and channel.
    min_samples : int
        Overlaps with fewer samples are dropped.
    image_shape : tuple, optional
        ``(H, W)`` of the mosaic, to normalise x, y (else the sample extent is used).
    min_stars : int
        Star samples needed in a channel for the star-based gain ratio of an overlap.

    Returns
    -------
    HarmonySolution

    Raises
    ------
    ValueError
        On ``n_tiles < 1``, ``n_channels < 1`` or an anchor index out of range.
    """
    if n_tiles < 1 or n_channels < 1:
        raise ValueError(f"need n_tiles >= 1 and n_channels >= 1, got {n_tiles}, {n_channels}")
    if isinstance(anchor, str) and anchor != "mean":
        raise ValueError(f"anchor must be a tile index, 'mean' or None, got {anchor!r}")
    if isinstance(anchor, (int, np.integer)) and not 0 <= anchor < n_tiles:
        raise ValueError(f"anchor {anchor} outside 0..{n_tiles - 1}")
    kept, dropped = _filter_overlaps(overlaps, n_tiles, n_channels, min_samples)
    frame = _CoordFrame.from_overlaps(kept, image_shape)
    score = _tile_scores(kept, n_tiles)
    main_anchor = int(anchor) if isinstance(anchor, (int, np.integer)) else int(np.argmax(score))
    plan, reasons, disconnected = _anchor_plan(kept, n_tiles, main_anchor, score)
    ratios = [_pair_log_ratios(ov, n_channels, plane, frame, min_stars) for ov in kept]
    params = np.zeros((n_tiles, n_channels, 4))  # gain, offset, a, b (normalised coordinates)
    params[:, :, 0] = 1.0
    inlier_masks: dict[int, np.ndarray] = {}
    for comp, comp_anchor in plan:
        comp_ov = [k for k, ov in enumerate(kept) if ov.i in comp]
        _solve_component(kept, ratios, comp_ov, comp, comp_anchor, frame, plane, params, inlier_masks)
        if anchor == "mean":
            _renormalise_to_mean(params, comp)
    corrections = [_to_correction(params[t], frame, reasons[t]) for t in range(n_tiles)]
    rms_before, rms_after = _harmony_rms(kept, inlier_masks, corrections, n_channels)
    logger.debug("harmony: anchor=%s rms before=%s after=%s", main_anchor, rms_before, rms_after)
    return HarmonySolution(corrections=corrections, anchor=None if anchor == "mean" else main_anchor,
                           dropped_overlaps=tuple(dropped), disconnected_tiles=tuple(disconnected),
                           rms_before=rms_before, rms_after=rms_after,
                           gain_estimators=tuple((ov.i, ov.j, r.methods) for ov, r in zip(kept, ratios)))


def sample_overlap(values_i: np.ndarray, values_j: np.ndarray, valid_i: np.ndarray, valid_j: np.ndarray,
                   *, block: int = 16, origin: tuple = (0, 0)) -> OverlapSamples:
    """Turn two tiles reprojected onto one grid window into star-robust block-median samples.

    Parameters
    ----------
    values_i, values_j : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` values of the two tiles on the same window.
    valid_i, valid_j : numpy.ndarray
        ``(H, W)`` bool masks (True where the tile has data; non-finite pixels are invalid too).
    block : int
        Block size in pixels. A block counts when at least half of its pixels are valid in both.
    origin : tuple of int
        ``(row, col)`` of the window's first pixel in the global grid, added to the positions.

    Returns
    -------
    OverlapSamples
        ``x, y`` (N,) block positions (mean of the pixels used) in global pixels, ``values_i,
        values_j`` (N, C) star-clipped block medians. N may be 0.
    """
    if values_i.shape != values_j.shape:
        raise ValueError(f"tile windows differ in shape: {values_i.shape} vs {values_j.shape}")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    valid = np.asarray(valid_i, dtype=bool) & np.asarray(valid_j, dtype=bool)
    rows = np.arange(values_i.shape[0], dtype=np.float64) + origin[0]
    cols = np.arange(values_i.shape[1], dtype=np.float64) + origin[1]
    blocks = _block_medians([_as_hwc(values_i), _as_hwc(values_j)], valid, rows, cols, block)
    if blocks is None:
        n_ch = 1 if values_i.ndim == 2 else values_i.shape[2]
        empty = np.zeros(0)
        return OverlapSamples(empty, empty, np.zeros((0, n_ch)), np.zeros((0, n_ch)))
    return OverlapSamples(blocks.cols, blocks.rows, blocks.values[0], blocks.values[1])


def measure_stars(image: np.ndarray, valid: np.ndarray | None = None, *,
                  detect_sigma: float = _STAR_DETECT_SIGMA, max_stars: int = _STAR_MAX) -> StarFluxes:
    """Detect the bright stars of an image and measure their fluxes in a ladder of apertures.

    Stars are local maxima (5 x 5) of the channel-mean image that stand ``detect_sigma`` noise
    sigmas (from neighbour differences, so sky structure does not inflate it) above a block-median
    sky surface (32-px blocks, bilinearly interpolated), so sky levels,
    gradients and nebulae larger than a few blocks do not count as stars. Each star is measured at
    every radius of the ladder (3 to 13 px) with the sky taken as the median of an annulus from
    ``r + 2`` to ``r + 6`` px, so that two images can later be compared at one common radius
    (:func:`match_star_samples`). A star whose brightest pixel in a channel reaches 90 % of that
    channel's maximum over the valid area is taken as saturated there (flux NaN).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` full-resolution image (stars unresolved by decimation).
    valid : numpy.ndarray, optional
        ``(H, W)`` bool, True where the pixels may be used; non-finite pixels are never used.
        Apertures or annuli touching an invalid pixel give NaN fluxes.
    detect_sigma : float
        Detection threshold in noise sigmas of the channel mean.
    max_stars : int
        At most this many candidates, the brightest, are measured (cost and memory bound: the
        stars are photometered 256 at a time on small cutouts).

    Returns
    -------
    StarFluxes
        Positions in the image's pixel coordinates. Empty (M = 0) on a featureless image.

    Raises
    ------
    ValueError
        On shapes that disagree.
    """
    _check_images(np.asarray(image), None, valid)
    img = _as_hwc(np.asarray(image, dtype=np.float32))
    ok = np.isfinite(img).all(axis=2)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    radii = np.asarray(_STAR_RADII)
    half = int(np.ceil(radii[-1] + _STAR_ANNULUS[1]))
    lum = np.where(ok, img.mean(axis=2), np.nan)
    resid = lum - _sky_surface(lum, _STAR_SKY_BLOCK)
    sigma = _pixel_noise(lum)
    rows, cols = _find_peaks(resid, ok, detect_sigma * sigma, 2, max_stars) if sigma > 0 else ((), ())
    if len(rows) == 0:
        empty = np.zeros((0, radii.size, img.shape[2]))
        return StarFluxes(np.zeros(0), np.zeros(0), empty, empty.copy(), radii, float("nan"))
    ceiling = np.max(np.where(ok[..., None], img, -np.inf), axis=(0, 1))
    parts = [_photometer(img, ok, resid, rows[k:k + _STAR_CHUNK], cols[k:k + _STAR_CHUNK], radii, half, ceiling)
             for k in range(0, len(rows), _STAR_CHUNK)]
    x, y, flux, noise, fwhm = (np.concatenate(p) for p in zip(*parts))
    fwhm = fwhm[np.isfinite(fwhm)]
    logger.debug("stars: %d measured (threshold %.1f sigma = %.3g), fwhm %.2f px", len(x), detect_sigma,
                 detect_sigma * sigma, np.median(fwhm) if fwhm.size else np.nan)
    return StarFluxes(x, y, flux, noise, radii, float(np.median(fwhm)) if fwhm.size else float("nan"))


def match_star_samples(stars_i: StarFluxes, stars_j: StarFluxes, *, aperture_fwhm: float = _STAR_APERTURE_FWHM,
                       min_snr: float = _STAR_MIN_SNR, tolerance: float | None = None) -> StarSamples:
    """Pair the stars two images share and return their fluxes at one common aperture radius.

    The two catalogues must be in the same pixel frame (e.g. global mosaic pixels). Stars are paired
    when each is the other's nearest neighbour within ``tolerance``; the radius is the smallest of the
    ladder reaching ``aperture_fwhm`` times the broader of the two FWHMs (at 2 FWHM a Gaussian PSF is
    fully enclosed and a Moffat beta = 2.5 one at 93 %, so a 5 % seeing difference between the images
    biases the ratio by under 1 %; larger radii would cost noise and neighbours' light). Neighbours need
    no isolation cut: the apertures are centred on the centroids with soft edges, so both images sum
    the same patch of sky, and the solve clips the few stars a neighbour still upsets. A channel's flux
    pair is kept
    when both fluxes have an SNR of at least ``min_snr`` (else NaN); stars with no kept channel are
    dropped.

    Parameters
    ----------
    stars_i, stars_j : StarFluxes
        From :func:`measure_stars`, positions in one common frame.
    aperture_fwhm : float
        Aperture radius in FWHM.
    min_snr : float
        Minimum aperture SNR in both images.
    tolerance : float, optional
        Pairing distance in pixels; default ``max(1.5, FWHM / 2)``.

    Returns
    -------
    StarSamples
        M may be 0.

    Raises
    ------
    ValueError
        When the two catalogues were measured with different radii or channel counts.
    """
    if not np.array_equal(stars_i.radii, stars_j.radii) or stars_i.flux.shape[2] != stars_j.flux.shape[2]:
        raise ValueError("star catalogues differ in aperture radii or channel count")
    fwhms = [f for f in (stars_i.fwhm, stars_j.fwhm) if np.isfinite(f)]
    fwhm = max(fwhms) if fwhms else float(stars_i.radii[len(stars_i.radii) // 2]) / aperture_fwhm
    k = min(int(np.searchsorted(stars_i.radii, aperture_fwhm * fwhm)), stars_i.radii.size - 1)
    tol = max(1.5, 0.5 * fwhm) if tolerance is None else float(tolerance)
    ia, ib = _mutual_nearest(stars_i, stars_j, tol)
    fi, fj = stars_i.flux[ia, k], stars_j.flux[ib, k]
    ni, nj = stars_i.noise[ia, k], stars_j.noise[ib, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        good = (fi >= min_snr * ni) & (fj >= min_snr * nj) & (ni > 0) & (nj > 0)
        err = np.hypot(ni / fi, nj / fj)
    rows = good.any(axis=1)
    fi, fj, err = (np.where(good, a, np.nan)[rows] for a in (fi, fj, err))
    x = 0.5 * (stars_i.x[ia] + stars_j.x[ib])[rows]
    y = 0.5 * (stars_i.y[ia] + stars_j.y[ib])[rows]
    return StarSamples(x, y, fi, fj, err, float(stars_i.radii[k]))


# ---------------------------------------------------------------------------------------------
# Private: block sampling
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Blocks:
    """Star-clipped block medians of k images on the same blocks."""

    values: np.ndarray     # (k, n, C) block medians
    rows: np.ndarray       # (n,) mean row of the samples used, pixels
    cols: np.ndarray       # (n,) mean column
    bounds: tuple          # (row_min, row_max, col_min, col_max) of the samples used
    grid: np.ndarray       # (n, 2) block index (row, col) in the block grid
    grid_shape: tuple      # shape of the block grid


def _blocks_from_grid(images: list, valid: np.ndarray | None, step: int) -> _Blocks | None:
    """Decimate the images by ``step`` and summarise them in blocks of up to 4 x 4 samples.

    The step is reduced on small images so that the short side keeps ``_MIN_GRID_SAMPLES`` samples.
    """
    step = max(1, min(step, min(images[0].shape[:2]) // _MIN_GRID_SAMPLES))
    dec = [_as_hwc(np.asarray(img[::step, ::step], dtype=np.float32)) for img in images]
    mask = np.ones(dec[0].shape[:2], dtype=bool) if valid is None else np.asarray(valid[::step, ::step], bool)
    rows = np.arange(dec[0].shape[0], dtype=np.float64) * step
    cols = np.arange(dec[0].shape[1], dtype=np.float64) * step
    block = int(np.clip(min(dec[0].shape[:2]) // 12, 1, 4))
    return _block_medians(dec, mask, rows, cols, block)


def _block_medians(images: list, valid: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   block: int) -> _Blocks | None:
    """Block medians of HWC images over pixels valid (and finite) in all, stars clipped."""
    ok = valid.copy()
    for img in images:
        ok &= np.isfinite(img).all(axis=2)
    if not ok.any():
        return None
    stack = np.stack(images).astype(np.float32)                      # (k, H, W, C)
    stack[:, ~ok] = np.nan
    cells = _to_blocks(stack, block)                                  # (k, n, m, C)
    rr = _to_blocks(np.broadcast_to(rows[:, None], ok.shape)[None, :, :, None], block)[0, :, :, 0]
    cc = _to_blocks(np.broadcast_to(cols[None, :], ok.shape)[None, :, :, None], block)[0, :, :, 0]
    finite = ~np.isnan(cells[0, :, :, 0])                             # (n, m) valid samples
    keep = finite.sum(axis=1) >= max(1.0, _MIN_BLOCK_FILL * block * block)
    if not keep.any():
        keep = finite.any(axis=1)
    cells, rr, cc, finite = cells[:, keep], rr[keep], cc[keep], finite[keep]
    grid_shape = (-(-ok.shape[0] // block), -(-ok.shape[1] // block))
    grid = np.stack(np.divmod(np.flatnonzero(keep), grid_shape[1]), axis=1)
    sigma = _sample_sigma(cells)[:, None, None, :]                   # (k, 1, 1, C)
    star = (cells > _nan_median(cells)[:, :, None, :] + _STAR_CLIP_SIGMA * sigma) & (sigma > 0)
    star = star.any(axis=(0, 3))                                      # (n, m): star in any image/channel
    cells[:, star] = np.nan
    used = finite & ~star
    med = _nan_median(cells)
    rr = np.where(used, rr, np.nan)
    cc = np.where(used, cc, np.nan)
    bounds = (float(np.nanmin(rr)), float(np.nanmax(rr)), float(np.nanmin(cc)), float(np.nanmax(cc)))
    return _Blocks(values=med.astype(np.float64), rows=np.nanmean(rr, axis=1),
                   cols=np.nanmean(cc, axis=1), bounds=bounds, grid=grid, grid_shape=grid_shape)


def _to_blocks(stack: np.ndarray, block: int) -> np.ndarray:
    """(k, H, W, C) -> (k, n_blocks, block*block, C), NaN-padded to whole blocks."""
    k, h, w, c = stack.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    if (hp, wp) != (h, w):
        padded = np.full((k, hp, wp, c), np.nan, dtype=stack.dtype)
        padded[:, :h, :w] = stack
        stack = padded
    cells = stack.reshape(k, hp // block, block, wp // block, block, c).transpose(0, 1, 3, 2, 4, 5)
    return cells.reshape(k, (hp // block) * (wp // block), block * block, c)


def _sample_sigma(cells: np.ndarray) -> np.ndarray:
    """(k, C) noise sigma of one sample (for the star clip), from neighbouring samples in the blocks.

    Neighbours are one sample apart, so smooth sky structure cancels in the difference; the blocks'
    star-clipped samples are NaN and drop out. Blocks of one sample fall back on the block spread.
    """
    if cells.shape[2] > 1:
        diff = np.abs(np.diff(cells, axis=2)).reshape(cells.shape[0], -1, cells.shape[3])
        scale = _MAD_TO_SIGMA / np.sqrt(2.0)
    else:
        values = cells[:, :, 0, :]
        diff = np.abs(values - np.nanmedian(values, axis=1, keepdims=True))
        scale = _MAD_TO_SIGMA
    with np.errstate(all="ignore"):
        sigma = scale * np.nanmedian(diff, axis=1) if np.isfinite(diff).any() else None
    return np.zeros((cells.shape[0], cells.shape[3])) if sigma is None else np.nan_to_num(sigma)


def _nan_median(a: np.ndarray) -> np.ndarray:
    """Median over axis 2 ignoring NaN (sort-based, vectorised); NaN where no sample."""
    s = np.sort(a, axis=2)                                            # NaN sorted last
    count = np.sum(~np.isnan(a), axis=2, keepdims=True)
    lo = np.take_along_axis(s, np.maximum(count - 1, 0) // 2, axis=2)
    hi = np.take_along_axis(s, np.minimum(count // 2, a.shape[2] - 1), axis=2)
    return (0.5 * (lo + hi))[:, :, 0]


# ---------------------------------------------------------------------------------------------
# Private: star photometry (harmony gains)
# ---------------------------------------------------------------------------------------------

def _sky_surface(lum: np.ndarray, block: int) -> np.ndarray:
    """Block-median surface of an (H, W) image with NaN holes, bilinearly interpolated to full size.

    Blocks without valid pixels take their nearest valid block's median.
    """
    h, w = lum.shape
    cells = _to_blocks(lum[None, :, :, None], block)                   # (1, n, block*block, 1)
    gh, gw = -(-h // block), -(-w // block)
    med = _nan_median(cells)[0, :, 0].reshape(gh, gw)
    hole = np.isnan(med)
    if hole.all():
        return np.zeros((h, w), dtype=np.float32)
    if hole.any():
        idx = distance_transform_edt(hole, return_distances=False, return_indices=True)
        med = med[idx[0], idx[1]]
    if min(gh, gw) < 2:
        return np.broadcast_to(np.repeat(np.repeat(med, block, 0), block, 1)[:h, :w], (h, w)).astype(np.float32)
    return zoom(med.astype(np.float32), block, order=1, mode="nearest", grid_mode=True)[:h, :w]


def _pixel_noise(lum: np.ndarray) -> float:
    """Robust per-pixel noise sigma from differences of horizontal neighbours (smooth structure cancels)."""
    diff = np.diff(lum, axis=1)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return 0.0
    return float(_MAD_TO_SIGMA / np.sqrt(2.0) * np.median(np.abs(diff - np.median(diff))))


def _find_peaks(resid: np.ndarray, ok: np.ndarray, threshold: float, margin: int,
                max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows, columns of the 5 x 5 local maxima above ``threshold``, ``margin`` px off the edges, brightest first."""
    r = np.where(ok, resid, -np.inf)
    peak = (r == maximum_filter(r, size=5, mode="constant", cval=-np.inf)) & (r > threshold)
    peak[:margin], peak[-margin:], peak[:, :margin], peak[:, -margin:] = False, False, False, False
    rows, cols = np.nonzero(peak)
    order = np.argsort(-r[rows, cols], kind="stable")[:max_n]
    return rows[order], cols[order]


def _photometer(img: np.ndarray, ok: np.ndarray, resid: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                radii: np.ndarray, half: int, ceiling: np.ndarray) -> tuple:
    """Aperture photometry of a chunk of stars on cutouts: ``(x, y, flux, noise, fwhm)`` per star."""
    off = np.arange(-half, half + 1)
    rr, cc = rows[:, None, None] + off[None, :, None], cols[:, None, None] + off[None, None, :]
    inside = (rr >= 0) & (rr < ok.shape[0]) & (cc >= 0) & (cc < ok.shape[1])   # (n, S, S)
    rr, cc = np.clip(rr, 0, ok.shape[0] - 1), np.clip(cc, 0, ok.shape[1] - 1)
    good = ok[rr, cc] & inside                                            # (n, S, S)
    cut = np.where(good[..., None], img[rr, cc], 0.0)                     # (n, S, S, C), float32
    lum = np.where(good, resid[rr, cc], np.nan)
    dx, dy, fwhm = _centroid_fwhm(lum, half, radii)
    dist = np.hypot(off[None, :, None] - dy[:, None, None], off[None, None, :] - dx[:, None, None])
    flux = np.full((len(rows), radii.size, cut.shape[3]), np.nan)
    noise = np.full_like(flux, np.nan)
    grid_dist = np.hypot(off[:, None], off[None, :])
    for k, r in enumerate(radii):
        flux[:, k], noise[:, k] = _aperture_sums(cut, good, dist, grid_dist, r)
    core = cut[:, half - 1:half + 2, half - 1:half + 2].max(axis=(1, 2))  # (n, C) brightest pixel
    saturated = core >= _STAR_SATURATION * ceiling
    flux[np.broadcast_to(saturated[:, None, :], flux.shape)] = np.nan
    fwhm[saturated.any(axis=1)] = np.nan
    return cols + dx, rows + dy, flux, noise, fwhm


def _centroid_fwhm(lum: np.ndarray, half: int, radii: np.ndarray) -> tuple:
    """Centroid offsets (3 x 3 first moment) and FWHM (area above half maximum) of sky-subtracted cutouts."""
    c3 = np.clip(np.nan_to_num(lum[:, half - 1:half + 2, half - 1:half + 2]), 0.0, None)
    total = np.maximum(c3.sum(axis=(1, 2)), 1e-30)
    dx = (c3.sum(axis=1) @ np.arange(-1.0, 2.0)) / total
    dy = (c3.sum(axis=2) @ np.arange(-1.0, 2.0)) / total
    off = np.arange(-half, half + 1)
    near = np.hypot(off[:, None], off[None, :]) <= 0.5 * radii[-1]     # neighbours rarely reach this close
    peak = lum[:, half, half]
    n_half = np.sum((np.nan_to_num(lum) > 0.5 * peak[:, None, None]) & near, axis=(1, 2))
    fwhm = np.where(peak > 0, 2.0 * np.sqrt(n_half / np.pi), np.nan)
    return dx, dy, fwhm


def _aperture_sums(cut: np.ndarray, good: np.ndarray, dist: np.ndarray, grid_dist: np.ndarray, r: float) -> tuple:
    """Sky-subtracted flux and its error ``(n, C)`` in apertures of radius ``r`` around each star's centroid.

    Pixel weights fall linearly from 1 to 0 across the aperture edge (``clip(r + 0.5 - d, 0, 1)``, close
    to the pixel's area inside the circle), so the sum varies smoothly with the centre and two images
    with different pixel grids measure the same patch of sky. The sky annulus is centred on the peak
    pixel (``grid_dist``; half a pixel does not matter to a median), so all stars share one index set.
    NaN when the aperture or its annulus touches an unusable pixel.
    """
    w = np.clip(r + 0.5 - dist, 0.0, 1.0)                               # (n, S, S)
    ann = (grid_dist >= r + _STAR_ANNULUS[0]) & (grid_dist <= r + _STAR_ANNULUS[1])
    usable = good[:, (grid_dist <= r + 1.5) | ann].all(axis=1)
    sky_px = cut[:, ann]                                                  # (n, n_ann, C)
    sky = np.median(sky_px, axis=1)
    sig = _MAD_TO_SIGMA * np.median(np.abs(sky_px - sky[:, None]), axis=1)
    n_ap = w.sum(axis=(1, 2))[:, None]
    flux = np.einsum("nij,nijc->nc", w, cut) - n_ap * sky
    noise = sig * np.sqrt(n_ap + 0.5 * np.pi * n_ap ** 2 / ann.sum())
    flux[~usable], noise[~usable] = np.nan, np.nan
    return flux, noise


def _mutual_nearest(a: StarFluxes, b: StarFluxes, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the star pairs that are each other's nearest neighbour within ``tol`` px."""
    if a.n_stars == 0 or b.n_stars == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    pa, pb = np.stack([a.x, a.y], axis=1), np.stack([b.x, b.y], axis=1)
    _, ab = cKDTree(pb).query(pa, distance_upper_bound=tol)
    _, ba = cKDTree(pa).query(pb, distance_upper_bound=tol)
    ia = np.flatnonzero(ab < b.n_stars)
    ib = ab[ia]
    mutual = ba[ib] == ia
    return ia[mutual], ib[mutual]


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


def _block_uv(blocks: _Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates (u, v) of the block positions."""
    b = blocks.bounds
    return _normalise(blocks.cols, b[2], b[3]), _normalise(blocks.rows, b[0], b[1])


def _affordable_order(blocks: _Blocks, order: int, *, n_extra: int) -> tuple[int | None, str | None]:
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

def _fit_match(blocks: _Blocks, shape: tuple, order: int, reason: str | None,
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
                 blocks: _Blocks | None) -> tuple[float, np.ndarray, int, str | None]:
    """Robust fit of one channel: returns gain, surface coefficients, samples kept, note.

    ``blocks`` None fixes the gain to 1.
    """
    keep = np.ones(f.size, dtype=bool)
    gain, note, coef = 1.0, None, np.zeros(basis.shape[1])
    for _ in range(_MAX_ITER):
        if blocks is not None:
            gain, note = _estimate_gain(f, r, basis, keep, blocks)
        coef = np.linalg.lstsq(basis[keep], f[keep] - gain * r[keep], rcond=None)[0]
        res = f - gain * r - basis @ coef
        sigma = _robust_sigma(res[keep])
        new_keep = np.abs(res - np.median(res[keep])) <= _CLIP_SIGMA * sigma if sigma > 0 else keep
        if new_keep.sum() < basis.shape[1] + 2 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return gain, coef, int(keep.sum()), note


def _estimate_gain(f: np.ndarray, r: np.ndarray, basis: np.ndarray, keep: np.ndarray,
                   blocks: _Blocks) -> tuple[float, str | None]:
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
        return 1.0, f"fitted gain {gain:.3g} refused, gain fixed to 1"
    return gain, None


def _neighbour_mean(blocks: _Blocks, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mean of the kept 8-neighbours of each block (NaN where it has none)."""
    total = np.zeros(blocks.grid_shape)
    count = np.zeros(blocks.grid_shape)
    total[blocks.grid[keep, 0], blocks.grid[keep, 1]] = values[keep]
    count[blocks.grid[keep, 0], blocks.grid[keep, 1]] = 1.0
    ring = np.ones((3, 3))
    ring[1, 1] = 0.0
    total = convolve(total, ring, mode="constant")
    count = convolve(count, ring, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return mean[blocks.grid[:, 0], blocks.grid[:, 1]]


def _robust_sigma(x: np.ndarray) -> float:
    """MAD-based standard deviation."""
    if x.size == 0:
        return 0.0
    return float(_MAD_TO_SIGMA * np.median(np.abs(x - np.median(x))))


def _offset_only(blocks: _Blocks, shape: tuple, reason: str | None) -> BackgroundMatch:
    """Gain 1 and the median offset, for a frame with too few blocks to fit anything else."""
    n_ch = blocks.values.shape[2]
    coeffs = np.median(blocks.values[0] - blocks.values[1], axis=0)[:, None]
    reason = f"{reason}; gain 1 with a median offset"
    logger.debug("background match: %s offset=%s", reason, coeffs[:, 0].tolist())
    return BackgroundMatch(gain=np.ones(n_ch), coeffs=coeffs, order=0, shape=shape, bounds=blocks.bounds,
                           n_samples=int(blocks.rows.size), reason=reason)


def _identity(shape: tuple, reason: str) -> BackgroundMatch:
    """Gain 1, zero surface."""
    n_ch = 1 if len(shape) == 2 else shape[2]
    return BackgroundMatch(gain=np.ones(n_ch), coeffs=np.zeros((n_ch, 1)), order=0, shape=tuple(shape),
                           bounds=(0.0, float(shape[0] - 1), 0.0, float(shape[1] - 1)), n_samples=0,
                           reason=reason)


def _select_sky_cells(blocks: _Blocks, order: int) -> np.ndarray:
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
            sigma = np.array([_robust_sigma(res[keep, c]) for c in range(z.shape[1])])
            high = np.any(res > _FLAT_CLIP_HIGH * sigma, axis=1)
            new_keep = ~high & np.all(res >= -_FLAT_CLIP_LOW * sigma, axis=1)
            if new_keep.sum() < _MIN_BLOCKS_PER_TERM * basis.shape[1] or np.array_equal(new_keep, keep):
                break
            keep = new_keep
    near_high = _grid_dilate(blocks, high)
    if (keep & ~near_high).sum() >= _MIN_BLOCKS_PER_TERM * len(_terms(order)):
        keep &= ~near_high
    return keep


def _grid_dilate(blocks: _Blocks, flags: np.ndarray) -> np.ndarray:
    """Flags of the blocks that are, or touch (8-neighbourhood), a cluster of >= 3 flagged blocks.

    Isolated flagged blocks (noise) are not grown.
    """
    eight = np.ones((3, 3), dtype=bool)
    image = np.zeros(blocks.grid_shape, dtype=bool)
    image[blocks.grid[flags, 0], blocks.grid[flags, 1]] = True
    labels, n_labels = label(image, structure=eight)
    sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)
    clusters = (sizes >= 3)[labels] & image
    grown = binary_dilation(clusters, structure=eight)
    return grown[blocks.grid[:, 0], blocks.grid[:, 1]]


# ---------------------------------------------------------------------------------------------
# Private: harmony
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CoordFrame:
    """Normalisation of global pixel coordinates: ``x_n = (x - cx) / hx``, ``y_n = (y - cy) / hy``."""

    cx: float
    cy: float
    hx: float
    hy: float

    @classmethod
    def from_overlaps(cls, overlaps: list, image_shape: tuple | None) -> "_CoordFrame":
        if image_shape is not None:
            h, w = float(image_shape[0]), float(image_shape[1])
            return cls(cx=w / 2.0, cy=h / 2.0, hx=max(w / 2.0, 0.5), hy=max(h / 2.0, 0.5))
        if not overlaps:
            return cls(0.0, 0.0, 1.0, 1.0)
        x = np.concatenate([ov.x for ov in overlaps])
        y = np.concatenate([ov.y for ov in overlaps])
        return cls(cx=float(x.min() + x.max()) / 2, cy=float(y.min() + y.max()) / 2,
                   hx=max(float(np.ptp(x)) / 2, 0.5), hy=max(float(np.ptp(y)) / 2, 0.5))


def _filter_overlaps(overlaps: Sequence[TileOverlap], n_tiles: int, n_channels: int,
                     min_samples: int) -> tuple[list, list]:
    """Keep valid overlaps with enough finite samples (values as (N, C) float64); log the others."""
    kept, dropped = [], []
    for ov in overlaps:
        why = _overlap_problem(ov, n_tiles, n_channels)
        if why is None:
            vi = np.asarray(ov.values_i, dtype=np.float64).reshape(-1, n_channels)
            vj = np.asarray(ov.values_j, dtype=np.float64).reshape(-1, n_channels)
            x, y = np.asarray(ov.x, np.float64).ravel(), np.asarray(ov.y, np.float64).ravel()
            good = np.isfinite(vi).all(axis=1) & np.isfinite(vj).all(axis=1) & np.isfinite(x) & np.isfinite(y)
            if good.sum() < min_samples:
                why = f"{int(good.sum())} usable samples < min_samples={min_samples}"
        if why is not None:
            logger.info("harmony: overlap (%d, %d) dropped: %s", ov.i, ov.j, why)
            dropped.append((int(ov.i), int(ov.j)))
            continue
        kept.append(TileOverlap(int(ov.i), int(ov.j), x[good], y[good], vi[good], vj[good], float(ov.weight),
                                **_clean_stars(ov, n_channels)))
    return kept, dropped


def _clean_stars(ov: TileOverlap, n_channels: int) -> dict:
    """Star fields of an overlap as float64 (M, C) arrays; none (logged) when their sizes disagree."""
    si, sj = np.asarray(ov.star_i, dtype=np.float64), np.asarray(ov.star_j, dtype=np.float64)
    m = si.shape[0] if si.ndim else 0
    err = None if ov.star_err is None else np.asarray(ov.star_err, dtype=np.float64)
    sizes_ok = si.size == sj.size == m * n_channels and (err is None or err.size == si.size)
    if m == 0 or not sizes_ok:
        if m and not sizes_ok:
            logger.warning("harmony: overlap (%d, %d): star samples of inconsistent sizes ignored", ov.i, ov.j)
        return {}
    return {"star_i": si.reshape(m, n_channels), "star_j": sj.reshape(m, n_channels),
            "star_err": None if err is None else err.reshape(m, n_channels),
            "star_x": np.asarray(ov.star_x), "star_y": np.asarray(ov.star_y)}


def _overlap_problem(ov: TileOverlap, n_tiles: int, n_channels: int) -> str | None:
    """Why an overlap cannot be used, None if it can."""
    if not (0 <= ov.i < n_tiles and 0 <= ov.j < n_tiles) or ov.i == ov.j:
        return f"tile indices ({ov.i}, {ov.j}) invalid for {n_tiles} tiles"
    n = np.asarray(ov.x).size
    if np.asarray(ov.y).size != n or np.asarray(ov.values_i).size != n * n_channels \
            or np.asarray(ov.values_j).size != n * n_channels:
        return "sample arrays disagree in size"
    if not ov.weight > 0:
        return f"weight {ov.weight} <= 0"
    return None


def _tile_scores(overlaps: list, n_tiles: int) -> np.ndarray:
    """Weighted number of overlap samples per tile (how well each tile is tied to the others)."""
    score = np.zeros(n_tiles)
    for ov in overlaps:
        score[ov.i] += ov.n_samples * ov.weight
        score[ov.j] += ov.n_samples * ov.weight
    return score


def _components(overlaps: list, n_tiles: int) -> list[list[int]]:
    """Connected components of the overlap graph (lists of tile indices, sorted)."""
    parent = list(range(n_tiles))

    def root(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for ov in overlaps:
        parent[root(ov.i)] = root(ov.j)
    groups: dict[int, list[int]] = {}
    for t in range(n_tiles):
        groups.setdefault(root(t), []).append(t)
    return list(groups.values())


def _anchor_plan(overlaps: list, n_tiles: int, main_anchor: int,
                 score: np.ndarray) -> tuple[list, list, list]:
    """Components to solve with their anchors, per-tile reasons, and the tiles cut off the anchor.

    A tile alone keeps the identity; a component without the main anchor is anchored on its own
    best-covered tile. Both are logged.
    """
    plan, reasons, disconnected = [], [None] * n_tiles, []
    for comp in _components(overlaps, n_tiles):
        if len(comp) == 1:
            if comp[0] != main_anchor or not overlaps:
                reasons[comp[0]] = "no usable overlap with any other tile: identity"
        elif main_anchor in comp:
            plan.append((comp, main_anchor))
        else:
            own = comp[int(np.argmax(score[comp]))]
            plan.append((comp, own))
            for t in comp:
                reasons[t] = (f"not connected to anchor tile {main_anchor}; "
                              f"component anchored on its tile {own}")
        if main_anchor not in comp:
            disconnected.extend(comp)
    for t in disconnected:
        logger.info("harmony: tile %d %s", t, reasons[t])
    return plan, reasons, sorted(disconnected)


def _solve_component(overlaps: list, ratios: list, comp_ov: list, comp: list, anchor: int, frame: _CoordFrame,
                     plane: bool, params: np.ndarray, inliers: dict) -> None:
    """Solve gains then offsets/planes of one connected component, channel by channel (in place)."""
    free = [t for t in comp if t != anchor]
    index = {t: k for k, t in enumerate(free)}
    for c in range(params.shape[1]):
        log_gain = _solve_log_gains([overlaps[k] for k in comp_ov], [ratios[k] for k in comp_ov], c, index)
        for t in free:
            params[t, c, 0] = np.exp(log_gain[index[t]])
        lin, masks = _solve_offsets(overlaps, comp_ov, c, index, params[:, c, 0], plane, frame)
        for t in free:
            params[t, c, 1:] = lin[index[t]]
        for k, m in masks.items():
            inliers[k] = m if k not in inliers else inliers[k] & m


class _PairRatios(NamedTuple):
    """Per-channel log gain ratio ``log(v_i / v_j)`` of one overlap, its error and its estimator."""

    log_ratio: np.ndarray   # (C,), NaN where no estimate
    se: np.ndarray          # (C,), inf where no estimate
    methods: tuple          # per channel: "stars", "structure" or "none"


def _pair_log_ratios(ov: TileOverlap, n_ch: int, plane: bool, frame: _CoordFrame, min_stars: int) -> _PairRatios:
    """Gain ratio per channel from the stars when there are enough, else from the diffuse structure (logged)."""
    log_ratio, se, methods = np.full(n_ch, np.nan), np.full(n_ch, np.inf), []
    for c in range(n_ch):
        method = "none"
        if ov.n_stars:
            err = None if ov.star_err is None else ov.star_err[:, c]
            log_ratio[c], se[c] = _star_log_ratio(ov.star_i[:, c], ov.star_j[:, c], err, min_stars)
            method = "stars" if np.isfinite(se[c]) else method
        if method == "none":
            ratio, ratio_se = _pair_ratio(ov, c, plane, frame)
            if ratio is not None:
                log_ratio[c], se[c] = np.log(ratio), np.hypot(ratio_se / ratio, _HARMONY_DIFFUSE_LOG_FLOOR)
                method = "structure"
        methods.append(method)
    logger.info("harmony: overlap (%d, %d) gain ratio from %s (%d stars): %s +- %s", ov.i, ov.j,
                "/".join(methods), ov.n_stars, np.round(np.exp(log_ratio), 4).tolist(), np.round(se, 4).tolist())
    return _PairRatios(log_ratio, se, tuple(methods))


def _star_log_ratio(si: np.ndarray, sj: np.ndarray, err: np.ndarray | None,
                    min_stars: int) -> tuple[float, float]:
    """Robust error-weighted mean of ``log(si / sj)`` and its uncertainty; ``(nan, inf)`` with too few stars.

    Start from the weighted median, clip at 4 robust sigmas of the error-normalised residuals and
    average the rest; the uncertainty is the formal one scaled up by the residuals' MAD-based scale
    (when the stars scatter more than their errors say), with a small systematic floor.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(si) & np.isfinite(sj) & (si > 0) & (sj > 0)
        if err is not None:
            ok &= np.isfinite(err) & (err > 0)
    if ok.sum() < max(min_stars, 1):
        return float("nan"), float("inf")
    lr = np.log(si[ok] / sj[ok])
    s = np.full(lr.size, max(_robust_sigma(lr), _STAR_LOG_FLOOR)) if err is None else np.hypot(err[ok], _STAR_LOG_FLOOR)
    w = 1.0 / s ** 2
    centre, scale = _weighted_median(lr, w), 1.0
    for _ in range(3):
        z = (lr - centre) / s
        scale = max(1.0, _MAD_TO_SIGMA * float(np.median(np.abs(z))))
        keep = np.abs(z) <= _STAR_CLIP * scale
        if keep.sum() < max(min_stars, 1):
            return float("nan"), float("inf")
        centre = float(np.sum(w[keep] * lr[keep]) / np.sum(w[keep]))
    return centre, float(np.hypot(scale / np.sqrt(np.sum(w[keep])), _STAR_PAIR_FLOOR))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median (lower)."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _solve_log_gains(overlaps: list, ratios: list, c: int, index: dict) -> np.ndarray:
    """Weighted least squares on log gain differences over the overlap graph, prior toward 0."""
    n_free = len(index)
    mat = np.eye(n_free) / _HARMONY_LOG_GAIN_PRIOR ** 2
    rhs = np.zeros(n_free)
    for ov, est in zip(overlaps, ratios):
        log_ratio, se = est.log_ratio[c], est.se[c]
        if not np.isfinite(se):
            continue
        w = ov.weight / se ** 2
        # corrected gains make g_i v_i == g_j v_j, and v_i ~ ratio v_j: log g_i - log g_j = -log ratio
        row = np.zeros(n_free)
        if ov.i in index:
            row[index[ov.i]] = 1.0
        if ov.j in index:
            row[index[ov.j]] = -1.0
        mat += w * np.outer(row, row)
        rhs += w * row * -log_ratio
    return np.linalg.solve(mat, rhs)


def _pair_ratio(ov: TileOverlap, c: int, plane: bool, frame: _CoordFrame) -> tuple[float | None, float]:
    """Ratio ``v_i / v_j`` of the shared structure (TLS after removing offset/plane), with its error.

    Gross outliers are first clipped on the plain difference ``v_i - v_j``; the TLS fit is then
    iterated with clipping of its orthogonal residuals. None when the structure is too weak.
    """
    vi, vj = ov.values_i[:, c], ov.values_j[:, c]
    basis = _offset_design(ov, frame, plane)
    keep = _clip_to_surface(vi - vj, basis)
    ratio, corr2 = None, 0.0
    for _ in range(_MAX_ITER):
        ratio, corr2 = _tls_ratio(vi[keep], vj[keep], basis[keep])
        if ratio is None:
            return None, np.inf
        new_keep = _clip_to_surface((vi - ratio * vj) / np.sqrt(1.0 + ratio ** 2), basis, keep, max_iter=1)
        if new_keep.sum() < basis.shape[1] + 3 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    if corr2 < _HARMONY_MIN_CORR ** 2:
        return None, np.inf
    se = ratio * np.sqrt(max(1.0 - corr2, 1e-12) / (corr2 * max(keep.sum() - basis.shape[1] - 1, 1)))
    return float(ratio), float(se)


def _tls_ratio(vi: np.ndarray, vj: np.ndarray, basis: np.ndarray) -> tuple[float | None, float]:
    """TLS slope of ``vi`` on ``vj`` with ``basis`` projected out, and their squared correlation."""
    both = np.stack([vi, vj], axis=1)
    p, q = (both - basis @ np.linalg.lstsq(basis, both, rcond=None)[0]).T
    spp, sqq, spq = float(p @ p), float(q @ q), float(p @ q)
    if spq <= 0:
        return None, 0.0
    ratio = (spp - sqq + np.sqrt((spp - sqq) ** 2 + 4.0 * spq ** 2)) / (2.0 * spq)
    return ratio, spq ** 2 / (spp * sqq)


def _clip_to_surface(values: np.ndarray, basis: np.ndarray, keep: np.ndarray | None = None, *,
                     max_iter: int = _MAX_ITER) -> np.ndarray:
    """Samples within 3.5 robust sigma of the least-squares ``basis`` fit (clip-and-refit)."""
    keep = np.ones(values.size, dtype=bool) if keep is None else keep
    for _ in range(max_iter):
        coef = np.linalg.lstsq(basis[keep], values[keep], rcond=None)[0]
        res = values - basis @ coef
        sigma = _robust_sigma(res[keep])
        if sigma <= 0:
            break
        new_keep = np.abs(res - np.median(res[keep])) <= _HARMONY_CLIP_SIGMA * sigma
        if new_keep.sum() < basis.shape[1] + 3 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return keep


def _offset_design(ov: TileOverlap, frame: _CoordFrame, plane: bool) -> np.ndarray:
    """(N, n_lin) design of the offset (and plane) terms at the overlap's samples."""
    ones = np.ones(ov.n_samples)
    if not plane:
        return ones[:, None]
    return np.stack([ones, (ov.x - frame.cx) / frame.hx, (ov.y - frame.cy) / frame.hy], axis=1)


def _solve_offsets(overlaps: list, comp_ov: list, c: int, index: dict, gains: np.ndarray, plane: bool,
                   frame: _CoordFrame) -> tuple[np.ndarray, dict]:
    """IRLS for offsets (+ planes) with gains fixed; returns (n_free, 3) and inlier masks per overlap.

    Each overlap is weighted by its own robust residual scale and clipped at 3.5 sigma; the normal
    equations are accumulated overlap by overlap on the few columns each one touches.
    """
    n_lin = 3 if plane else 1
    n_par = len(index) * n_lin
    rows = {k: _offset_rows(overlaps[k], c, index, gains, plane, frame) for k in comp_ov}
    masks = {k: np.ones(overlaps[k].n_samples, dtype=bool) for k in comp_ov}
    sigmas = {k: max(_robust_sigma(rows[k][2]), 1e-12) for k in comp_ov}
    sol = np.zeros(n_par)
    for it in range(_MAX_ITER):
        mat, rhs = np.zeros((n_par, n_par)), np.zeros(n_par)
        for k in comp_ov:
            design, cols, target = rows[k]
            w = masks[k] * overlaps[k].weight / sigmas[k] ** 2
            mat[np.ix_(cols, cols)] += design.T @ (design * w[:, None])
            rhs[cols] += design.T @ (w * target)
        mat += np.eye(n_par) * 1e-9 * max(np.trace(mat) / max(n_par, 1), 1e-30)
        sol = np.linalg.solve(mat, rhs)
        changed = False
        for k in comp_ov:
            design, cols, target = rows[k]
            res = target - design @ sol[cols]
            sigmas[k] = max(_robust_sigma(res[masks[k]]), 1e-12)
            new = np.abs(res - np.median(res[masks[k]])) <= _HARMONY_CLIP_SIGMA * sigmas[k]
            if new.sum() >= n_lin + 2 and not np.array_equal(new, masks[k]):
                masks[k], changed = new, True
        if not changed and it > 0:
            break
    lin = np.zeros((len(index), 3))
    lin[:, :n_lin] = sol.reshape(len(index), n_lin)
    return lin, masks


def _offset_rows(ov: TileOverlap, c: int, index: dict, gains: np.ndarray, plane: bool,
                 frame: _CoordFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``design @ params[cols] ~ target`` of one overlap, ``target = -(g_i v_i - g_j v_j)``.

    Only the free tiles' columns appear (the anchor's parameters are fixed at zero).
    """
    local = _offset_design(ov, frame, plane)
    n_lin = local.shape[1]
    parts, cols = [], []
    for tile, sign in ((ov.i, 1.0), (ov.j, -1.0)):
        if tile in index:
            parts.append(sign * local)
            cols.extend(range(index[tile] * n_lin, (index[tile] + 1) * n_lin))
    design = np.concatenate(parts, axis=1) if parts else np.zeros((ov.n_samples, 0))
    target = -(gains[ov.i] * ov.values_i[:, c] - gains[ov.j] * ov.values_j[:, c])
    return design, np.asarray(cols, dtype=np.intp), target


def _renormalise_to_mean(params: np.ndarray, comp: list) -> None:
    """Apply one common affine map so that the component's mean gain is 1 and mean offset/plane 0."""
    sub = params[comp]                                   # (n, C, 4)
    mean_gain = sub[:, :, 0].mean(axis=0)
    mean_lin = sub[:, :, 1:].mean(axis=0)
    params[comp, :, 0] = sub[:, :, 0] / mean_gain
    params[comp, :, 1:] = (sub[:, :, 1:] - mean_lin) / mean_gain[:, None]


def _to_correction(p: np.ndarray, frame: _CoordFrame, reason: str | None) -> TileCorrection:
    """Normalised (gain, offset, a, b) per channel -> correction in global pixel coordinates."""
    gain, off, a, b = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    plane = np.stack([a / frame.hx, b / frame.hy], axis=1)
    offset = off - a * frame.cx / frame.hx - b * frame.cy / frame.hy
    return TileCorrection(gain=gain.copy(), offset=offset, plane=plane, reason=reason)


def _harmony_rms(overlaps: list, inliers: dict, corrections: list,
                 n_ch: int) -> tuple[np.ndarray, np.ndarray]:
    """RMS of tile differences on the kept overlap samples, before and after correction."""
    before, after = [], []
    for k, ov in enumerate(overlaps):
        m = inliers.get(k, np.ones(ov.n_samples, dtype=bool))
        vi, vj, x, y = ov.values_i[m], ov.values_j[m], ov.x[m], ov.y[m]
        before.append(vi - vj)
        after.append(corrections[ov.i].apply(vi, x, y) - corrections[ov.j].apply(vj, x, y))
    if not before:
        return np.full(n_ch, np.nan), np.full(n_ch, np.nan)
    b, a = np.concatenate(before), np.concatenate(after)
    return np.sqrt(np.mean(b ** 2, axis=0)), np.sqrt(np.mean(a ** 2, axis=0))


# ---------------------------------------------------------------------------------------------
# Private: validation
# ---------------------------------------------------------------------------------------------

def _as_hwc(img: np.ndarray) -> np.ndarray:
    """View a mono (H, W) image as (H, W, 1)."""
    return img[:, :, None] if img.ndim == 2 else img


def _check_images(image: np.ndarray, other: np.ndarray | None, valid: np.ndarray | None) -> tuple:
    """Validate shapes; returns the image shape."""
    shape = tuple(image.shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and not 1 <= shape[2] <= 4):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {shape}")
    if other is not None and tuple(other.shape) != shape:
        raise ValueError(f"frame shape {shape} differs from reference shape {tuple(other.shape)}")
    if valid is not None and tuple(valid.shape) != shape[:2]:
        raise ValueError(f"valid mask shape {tuple(valid.shape)} differs from image shape {shape[:2]}")
    return shape


def _check_order(order: int) -> None:
    if not isinstance(order, (int, np.integer)) or not 0 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer in 0..{MAX_ORDER}, got {order!r}")


def _check_step(step: int) -> int:
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"sample_step must be an integer >= 1, got {step!r}")
    return int(step)
