"""Intra-group alignment: resample every frame of a master-tile group onto the reference frame's grid, or onto a
larger canvas around it.

The public verb is :func:`align_images_in_group` (one pass, onto the reference frame's grid). A master tile whose
grid grows to cover its group (:mod:`zemosaic.pipeline.tile_canvas`) runs it in two passes instead:
:func:`find_group_transforms` measures every frame's frame -> reference transform without warping anything, the
caller chooses a :class:`~zemosaic.align.canvas.Canvas` from those transforms, and :func:`warp_group` resamples
every frame onto it (the transform composed with the canvas origin; the reference frame is copied by an integer
translation). Either way, for each frame it

1. builds a NaN-free luminance plane (mean of the channels; non-finite pixels replaced by the median),
2. detects stars on it (local background mesh, ``detection_sigma`` threshold, ``min_area`` support,
   Gaussian-windowed centroids accurate to a few hundredths of a pixel),
3. lets **astroalign** match the brightest stars to the reference's (its triangle-invariant matching on
   control-point lists; the reference's stars are detected once per group), then refines the similarity
   transform by least squares over *all* stars matched within 1.5 px,
4. falls back to **FFT phase correlation** (translation only) when astroalign is missing, finds too few
   stars or no transform; a frame whose correlation is weak (peak-to-sidelobe ratio below
   ``fft_min_confidence``) or whose four quadrants do not move together (a rotated frame has no single
   translation) is ``"failed"`` with its reason, never stacked wrong,
5. resamples all channels in one pass with our own **Lanczos-3** kernel (numba, parallel over rows;
   weights from a table of 1024 sub-pixel phases, so positions are quantised to 1/2048 px at worst).

The jobs live in sibling modules: star detection in :mod:`zemosaic.align.stars`, the similarity and
its refinement in :mod:`zemosaic.align.transform`, phase correlation in :mod:`zemosaic.align.fft` and
the Lanczos-3 warp (and why Lanczos-3) in :mod:`zemosaic.align.resample`; this module drives them.

Valid masks follow astroalign's convention (its footprint is True where an output pixel has *no* data):
an output pixel is valid when its source position, mapped through the inverse transform, lies inside the
source frame's pixel-centre hull ``0 <= x <= W-1`` and ``0 <= y <= H-1`` (1e-6 px tolerance). For a pure
translation that region is exactly :func:`fft_overlap_rect`. Pixels outside it hold a finite fill value,
the frame's robust sky median per channel; they are not data. On a canvas larger than the reference frame,
the reference frame's own valid mask is its rectangle: canvas pixels that no frame covers are valid in none.

Coordinates are pixel indices (x = column, y = row, origin at the centre of element [0, 0]).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from zemosaic.align.canvas import Canvas
from zemosaic.align.fft import (
    FftShift,
    correlate_spectra,
    fft_overlap_rect,
    fft_spectrum,
    phase_correlate,
    quadrant_slices,
    rect_area,
    rect_mask,
)
from zemosaic.align.resample import fill_non_finite, robust_sky, warp_lanczos3
from zemosaic.align.stars import STAMP_RADIUS, detect_stars, luminance_plane
from zemosaic.align.transform import SimilarityTransform, refine_prediction, refine_similarity
from zemosaic.progress import ProgressCallback, emit

__all__ = [
    "AlignedFrame",
    "Canvas",
    "SimilarityTransform",
    "FftShift",
    "ValidMaskResult",
    "align_images_in_group",
    "find_group_transforms",
    "warp_group",
    "footprint_to_valid_mask",
    "phase_correlate",
    "fft_overlap_rect",
    "DEFAULT_FFT_MIN_CONFIDENCE",
]

logger = logging.getLogger(__name__)

DEFAULT_FFT_MIN_CONFIDENCE = 12.0
"""Lowest peak-to-sidelobe ratio accepted from :func:`phase_correlate` (noise alone gives about 5-8)."""

_MAX_SCALE_DEVIATION = 0.05  # frames of one instrument: |scale - 1| above this is a wrong match
_MIN_PAIRS = 4         # star pairs needed to trust a similarity (4 unknowns, 2 equations per pair)
_FFT_MAX_QUADRANT_SPREAD = 0.5  # px, largest disagreement between quadrant shifts and the global one


class _FrameSource(Protocol):
    """What :func:`align_images_in_group` reads frames from: a list, or a lazy reader such as
    :meth:`zemosaic.stack.frame_cache.FrameCache.reader` (length, integer indexing, iteration)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> np.ndarray | None: ...

    def __iter__(self) -> Iterator[np.ndarray | None]: ...


# ----------------------------------------------------------------------------------------------
# Result types
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidMaskResult:
    """Result of :func:`footprint_to_valid_mask`: a 2D bool mask, or None and the reason why."""

    valid: np.ndarray | None
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class AlignedFrame:
    """One frame after alignment (returned in input order by :func:`align_images_in_group`).

    Attributes
    ----------
    image : numpy.ndarray or None
        float32 on the output grid: the reference's shape (H x W or H x W x C), or the canvas's
        (:func:`warp_group`); finite everywhere; pixels outside ``valid`` hold the frame's robust sky
        median (per channel). With an ``output_store`` it is the stored object (e.g. a memmap view).
        None when ``method == "failed"``: a failed frame has no aligned image, so it cannot be stacked
        by mistake; None as well in the results of :func:`find_group_transforms` (nothing warped yet).
    valid : numpy.ndarray or None
        2D bool on the output grid, True where the frame contributes (every channel); None when
        ``propagate_mask`` is False, the frame failed, or nothing was warped yet.
    method : str
        ``"reference"``, ``"wcs"`` (the WCS prediction refined on the stars, :func:`find_group_transforms`),
        ``"astroalign"``, ``"fft"`` or ``"failed"``.
    reason : str or None
        Why the frame failed, or why it fell back to FFT; None otherwise.
    transform : SimilarityTransform or None
        frame -> reference mapping that was applied (identity for the reference).
    n_matched_stars : int or None
        Star pairs of the final least-squares fit (astroalign path).
    fft_confidence : float or None
        Peak-to-sidelobe ratio of the phase correlation (FFT path, or failed after trying it).
    """

    image: np.ndarray | None
    valid: np.ndarray | None
    method: str
    reason: str | None = None
    transform: SimilarityTransform | None = None
    n_matched_stars: int | None = None
    fft_confidence: float | None = None

    @property
    def ok(self) -> bool:
        """True when the frame has an aligned image (any method but ``"failed"``)."""
        return self.method != "failed"


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def align_images_in_group(
    image_data_list: _FrameSource,
    reference_image_index: int = 0,
    *,
    detection_sigma: float = 3.0,
    min_area: int = 5,
    propagate_mask: bool = False,
    progress_callback: ProgressCallback | None = None,
    max_control_points: int = 50,
    fft_min_confidence: float = DEFAULT_FFT_MIN_CONFIDENCE,
    output_store: Any = None,
    mask_store: Any = None,
    debug: bool = False,
) -> list[AlignedFrame]:
    """Align every frame of a group onto the reference frame's pixel grid.

    Parameters
    ----------
    image_data_list : sequence of numpy.ndarray or None
        Frames, float32 H x W or H x W x C (HWC). A None entry, or a frame whose shape differs from
        the reference's, is returned as ``"failed"`` with its reason (the call goes on).
    reference_image_index : int
        Index of the reference frame, returned unchanged (as float32, sharing memory with the input
        when it already is) with an all-True valid mask; only non-finite pixels, if any, are replaced
        by its sky median (in a copy).
    detection_sigma : float
        Star detection threshold in units of the background noise (> 0).
    min_area : int
        Minimum number of pixels above the threshold in the 5x5 box around a star's peak (>= 1).
    propagate_mask : bool
        Compute the per-frame valid masks. When False, ``AlignedFrame.valid`` is None and no
        footprint work is done.
    progress_callback : callable or None
        Receives ``ProgressEvent("align", i + 1, n, message)`` after each frame.
    max_control_points : int
        Brightest stars handed to astroalign's matcher (>= 3).
    fft_min_confidence : float
        Lowest accepted peak-to-sidelobe ratio of the FFT fallback (>= 0).
    output_store : object with ``__setitem__``, optional
        Each aligned image is written to ``output_store[i]``; when the store also has ``__getitem__``
        (a list, a memmap-slot wrapper), ``AlignedFrame.image`` is ``output_store[i]`` so frames need
        not stay in RAM.
    mask_store : object with ``__setitem__``, optional
        Likewise for the valid masks (2D bool), so the masks of hundreds of frames need not stay in
        RAM either.
    debug : bool
        Per-frame detail logs at DEBUG level (index, method, transform, matched stars, footprint
        shape/dtype, valid fraction; FFT: dy, dx, confidence, quadrant spread, overlap rectangle and
        fraction).

    Returns
    -------
    list of AlignedFrame
        One per input frame, in input order.

    Raises
    ------
    TypeError
        An unknown keyword argument.
    ValueError
        An option out of range, or a reference frame that is None or not H x W (x C).
    IndexError
        ``reference_image_index`` outside the list.
    """
    opts = _Options(detection_sigma=float(detection_sigma), min_area=int(min_area),
                    max_control_points=int(max_control_points), fft_min_confidence=float(fft_min_confidence),
                    debug=bool(debug))
    group = _open_group(image_data_list, reference_image_index, opts)
    if group is None:
        return []
    n = len(image_data_list)
    canvas = Canvas.reference(group.ref.shape)
    results = []
    for i, frame in enumerate(image_data_list):
        found = group.reference_found() if i == reference_image_index else _find_one(group, frame, i)
        res = _warp_one(group, frame, found, i, canvas, propagate_mask) if found.ok else found
        res = _store_result(res, i, output_store, mask_store)
        _log_frame(i, res, opts.debug)
        results.append(res)
        emit(progress_callback, "align", i + 1, n, f"frame {i + 1}/{n}: {res.method}")
    _log_group(results, reference_image_index)
    return results


def find_group_transforms(
    image_data_list: _FrameSource,
    reference_image_index: int = 0,
    *,
    detection_sigma: float = 3.0,
    min_area: int = 5,
    progress_callback: ProgressCallback | None = None,
    max_control_points: int = 50,
    fft_min_confidence: float = DEFAULT_FFT_MIN_CONFIDENCE,
    debug: bool = False,
    star_lists: Sequence[np.ndarray | None] | None = None,
    predicted: Sequence[np.ndarray | None] | None = None,
) -> list[AlignedFrame]:
    """First pass of a canvas alignment: every frame's frame -> reference transform, nothing warped.

    The frames are measured exactly as :func:`align_images_in_group` measures them (same options, same
    failures and reasons), but only the transforms are kept: each result has ``image`` and ``valid``
    None (a frame is read once here and once again by :func:`warp_group`, so no frame stays in RAM
    between the passes). The reference is ``"reference"`` with the identity. A frame whose transform
    cannot be measured is ``"failed"`` with its reason (logged here).

    ``star_lists``: per frame, the stars (N, 2) already detected on its luminance plane with these
    ``detection_sigma`` and ``min_area`` (a frame's stars are found once: the master tile detects them
    while it measures the frame's quality); None (or a None entry) detects them here.

    ``predicted``: per frame, the frame -> reference matrix (3x3) its WCS predicts (the registration Phase 1b
    found while carrying the WCS, composed onto this reference: :func:`zemosaic.align.transform.wcs_transform`).
    A frame with a prediction and a star list is registered by refining the prediction on the stars
    (:func:`zemosaic.align.transform.refine_prediction`, method ``"wcs"``) without reading its pixels; when the
    stars do not support it, the frame is measured from scratch (astroalign, else FFT) and the reason is logged
    at DEBUG level.

    Returns
    -------
    list of AlignedFrame
        One per input frame, in input order; ``ProgressEvent("align", i + 1, n)`` after each.
    """
    opts = _Options(detection_sigma=float(detection_sigma), min_area=int(min_area),
                    max_control_points=int(max_control_points), fft_min_confidence=float(fft_min_confidence),
                    debug=bool(debug))
    group = _open_group(image_data_list, reference_image_index, opts)
    if group is None:
        return []
    n = len(image_data_list)
    stars = list(star_lists) if star_lists is not None else [None] * n
    if len(stars) != n:
        raise ValueError(f"{len(stars)} star lists for {n} frames")
    ref_stars = stars[reference_image_index]
    if ref_stars is not None:
        group.known_ref_stars(ref_stars)
    guesses = list(predicted) if predicted is not None else [None] * n
    if len(guesses) != n:
        raise ValueError(f"{len(guesses)} predicted transforms for {n} frames")
    results = []
    for i in range(n):
        res = group.reference_found() if i == reference_image_index else group.from_prediction(stars[i], guesses[i])
        if res is None:
            res = _find_one(group, image_data_list[i], i, stars[i])
        if not res.ok:
            _log_frame(i, res, opts.debug)
        results.append(res)
        emit(progress_callback, "align", i + 1, n, f"frame {i + 1}/{n}: {res.method}")
    return results


def warp_group(
    image_data_list: _FrameSource,
    found: Sequence[AlignedFrame],
    canvas: Canvas,
    *,
    propagate_mask: bool = False,
    progress_callback: ProgressCallback | None = None,
    output_store: Any = None,
    mask_store: Any = None,
    debug: bool = False,
    order: Sequence[int] | None = None,
) -> list[AlignedFrame]:
    """Second pass of a canvas alignment: resample every measured frame onto ``canvas``.

    Parameters
    ----------
    image_data_list : sequence of numpy.ndarray or None
        The same frames :func:`find_group_transforms` measured, in the same order.
    found : sequence of AlignedFrame
        Its results: the reference (``"reference"``), the measured frames and the failed ones (passed
        through unchanged, not read again).
    canvas : Canvas
        The output grid: ``Canvas.reference(frame_shape)`` gives exactly :func:`align_images_in_group`'s
        images and masks. Each frame's transform is composed with the canvas origin; the reference is
        copied at its integer offset, never resampled.
    propagate_mask, progress_callback, output_store, mask_store, debug
        As for :func:`align_images_in_group` (stores sized like the canvas).
    order : sequence of int, optional
        Every frame index once, in the order the frames are read and warped (the reference is read first
        whatever the order); default the input order. An ``output_store`` that shares the file of the frames'
        own cache says its order (:meth:`zemosaic.stack.frame_cache.FrameCache.fill_order`).

    Returns
    -------
    list of AlignedFrame
        One per input frame, in input order, ``transform`` still frame -> reference (the canvas origin is
        the caller's to add). A frame whose warp raises is ``"failed"`` with the error as its reason.
    """
    n = len(image_data_list)
    if len(found) != n:
        raise ValueError(f"{len(found)} alignment results for {n} frames")
    if n == 0:
        return []
    ref_index = next((i for i, f in enumerate(found) if f.method == "reference"), None)
    if ref_index is None:
        raise ValueError("the alignment results have no reference frame")
    opts = _Options(detection_sigma=3.0, min_area=5, max_control_points=50, fft_min_confidence=0.0,
                    debug=bool(debug))  # nothing is measured here: only the reference and debug are used
    order = list(range(n)) if order is None else [int(i) for i in order]
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must hold every frame index 0..{n - 1} once, got {order}")
    group = _Group(_reference_image(image_data_list[ref_index]), opts)
    results: list[AlignedFrame] = list(found)
    for done, i in enumerate(order, start=1):
        res = found[i]
        if res.ok:
            frame = group.ref if i == ref_index else image_data_list[i]
            res = _warp_one(group, frame, res, i, canvas, propagate_mask)
            res = _store_result(res, i, output_store, mask_store)
            _log_frame(i, res, opts.debug)
        results[i] = res
        emit(progress_callback, "align", done, n, f"frame {i + 1}/{n} on the canvas: {res.method}")
    _log_group(results, ref_index)
    return results


def footprint_to_valid_mask(footprint: Any, image_shape: Sequence[int]) -> ValidMaskResult:
    """Reduce an astroalign footprint to the 2D valid mask ``~footprint`` (all channels required).

    Parameters
    ----------
    footprint : array-like or None
        astroalign's footprint: **True (or > 0) where the output pixel has no data**. 2D H x W, or 3D
        in HWC (H x W x C) or CHW (C x H x W) layout; bool or numeric (binarised as ``> 0``; NaN counts
        as "no data").
    image_shape : sequence of int
        Shape of the aligned image, H x W or H x W x C; it decides which layouts are acceptable.

    Returns
    -------
    ValidMaskResult
        ``valid`` is a 2D bool H x W array, True where every channel has data; or None with a
        ``reason`` when the footprint is None, not numeric, or its shape is ambiguous or does not
        match the image (a 3D footprint for a mono image is accepted only with one channel).
    """
    if footprint is None:
        return ValidMaskResult(None, "footprint is None")
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3):
        return ValidMaskResult(None, f"image shape {shape} is neither HxW nor HxWxC")
    fp = np.asarray(footprint)
    if fp.dtype != np.bool_ and not (np.issubdtype(fp.dtype, np.number)):
        return ValidMaskResult(None, f"footprint dtype {fp.dtype} is not bool or numeric")
    no_data = fp if fp.dtype == np.bool_ else ~(fp <= 0)
    hw = shape[:2]
    if no_data.ndim == 2:
        if no_data.shape != hw:
            return ValidMaskResult(None, f"footprint shape {fp.shape} does not match image {shape}")
        return ValidMaskResult(~no_data)
    if no_data.ndim != 3:
        return ValidMaskResult(None, f"footprint has {fp.ndim} dimensions (expected 2 or 3)")
    axis = _channel_axis(fp.shape, shape)
    if isinstance(axis, str):
        return ValidMaskResult(None, axis)
    return ValidMaskResult(~np.any(no_data, axis=axis))




# ----------------------------------------------------------------------------------------------
# Group driver
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """The validated options of one :func:`align_images_in_group` call."""

    detection_sigma: float
    min_area: int
    max_control_points: int
    fft_min_confidence: float
    debug: bool

    def __post_init__(self) -> None:
        if not self.detection_sigma > 0:
            raise ValueError(f"detection_sigma must be > 0, got {self.detection_sigma}")
        if self.min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {self.min_area}")
        if self.max_control_points < 3:
            raise ValueError(f"max_control_points must be >= 3, got {self.max_control_points}")
        if not self.fft_min_confidence >= 0:
            raise ValueError(f"fft_min_confidence must be >= 0, got {self.fft_min_confidence}")


def _load_astroalign():
    """Return the astroalign module, or None when it cannot be imported (tests patch this)."""
    try:
        import astroalign
    except ImportError as exc:
        logger.warning("astroalign unavailable (%s): alignment falls back to FFT phase correlation", exc)
        return None
    return astroalign


class _Group:
    """Per-group state: the reference and what is derived from it once (stars, spectrum)."""

    def __init__(self, reference: np.ndarray, opts: _Options):
        self.ref = reference
        self.sigma, self.min_area, self.opts = opts.detection_sigma, opts.min_area, opts
        self.aa = _load_astroalign()
        self._lum: np.ndarray | None = None
        self._stars: np.ndarray | None = None
        self._spectrum: np.ndarray | None = None
        self._quadrants: list[tuple[tuple[slice, slice], np.ndarray]] | None = None

    @property
    def ref_lum(self) -> np.ndarray:
        if self._lum is None:
            self._lum = luminance_plane(self.ref)
        return self._lum

    @property
    def ref_stars(self) -> np.ndarray:
        if self._stars is None:
            self._stars = detect_stars(self.ref_lum, self.sigma, self.min_area)
        return self._stars

    def known_ref_stars(self, stars: np.ndarray) -> None:
        """Use the reference's stars detected earlier (same settings) instead of detecting them again."""
        self._stars = np.asarray(stars, dtype=np.float64).reshape(-1, 2)

    @property
    def ref_spectrum(self) -> np.ndarray:
        if self._spectrum is None:
            self._spectrum = fft_spectrum(self.ref_lum)
        return self._spectrum

    @staticmethod
    def reference_found() -> AlignedFrame:
        """The reference's measurement: the identity (nothing warped yet)."""
        return AlignedFrame(None, None, "reference", transform=SimilarityTransform.translation(0, 0))

    def reference_on(self, canvas: Canvas, propagate_mask: bool) -> AlignedFrame:
        """The reference frame on ``canvas``: itself on its own grid (non-finite pixels filled, in a copy),
        else copied at its integer offset into a canvas of its sky median."""
        image = self.ref
        fill = None
        if not np.isfinite(image).all():
            fill = robust_sky(image)
            image = fill_non_finite(image, fill)
        identity = SimilarityTransform.translation(0, 0)
        if canvas.is_reference_grid(image.shape):
            ones = np.ones(image.shape[:2], dtype=bool) if propagate_mask else None
            return AlignedFrame(image, ones, "reference", transform=identity)
        fill = robust_sky(image) if fill is None else fill
        out = np.empty(canvas.shape + tuple(image.shape[2:]), dtype=np.float32)
        out[...] = fill if image.ndim == 3 else fill[0]
        rect = np.zeros(canvas.shape, dtype=bool)
        where = canvas.reference_slices(image.shape)
        if where is not None:
            out[where[0]] = image[where[1]]
            rect[where[0]] = True
        return AlignedFrame(out, rect if propagate_mask else None, "reference", transform=identity)

    def from_prediction(self, stars: np.ndarray | None, matrix: np.ndarray | None) -> AlignedFrame | None:
        """The frame's transform refined from its WCS prediction on its stars (method ``"wcs"``), or None when there
        is no prediction, no star list, or the stars do not support it (the reason logged at DEBUG)."""
        if stars is None or matrix is None:
            return None
        found = refine_prediction(stars, self.ref_stars, matrix, self.ref.shape)
        if isinstance(found, str):
            logger.debug("WCS prediction not used: %s; measuring the frame", found)
            return None
        transform, n_matched = found
        return AlignedFrame(None, None, "wcs", transform=transform, n_matched_stars=n_matched)

    def find(self, frame: Any, stars: np.ndarray | None = None) -> AlignedFrame:
        """The frame's transform (astroalign, else FFT), or ``"failed"`` with the reason; nothing warped.
        ``stars``: the frame's stars when already detected (same settings)."""
        if frame is None:
            return AlignedFrame(None, None, "failed", reason="no image data")
        image = np.asarray(frame, dtype=np.float32)
        if image.shape != self.ref.shape:
            return AlignedFrame(None, None, "failed",
                                reason=f"shape {image.shape} differs from the reference {self.ref.shape}")
        lum = luminance_plane(image)
        found = self._astroalign_transform(lum, stars)
        if isinstance(found, tuple):
            transform, n_matched = found
            return AlignedFrame(None, None, "astroalign", transform=transform, n_matched_stars=n_matched)
        return self._fft_find(lum, found)

    def warp(self, frame: Any, found: AlignedFrame, canvas: Canvas, propagate_mask: bool) -> AlignedFrame:
        """``frame`` resampled onto ``canvas`` by its measured transform, with its valid mask."""
        if found.method == "reference":
            return self.reference_on(canvas, propagate_mask)
        assert found.transform is not None  # a measured frame always carries its transform
        image = np.asarray(frame, dtype=np.float32)
        onto = canvas.from_reference(found.transform)
        if found.method == "fft":  # a translation: its valid region is a rectangle
            aligned, _ = warp_lanczos3(image, onto, False, canvas.shape)
            valid = None
            if propagate_mask:
                valid = rect_mask(canvas.shape, fft_overlap_rect(image.shape, onto.dy, onto.dx, canvas.shape))
        else:
            aligned, valid = warp_lanczos3(image, onto, propagate_mask, canvas.shape)
        return replace(found, image=aligned, valid=valid)

    def _astroalign_transform(self, lum: np.ndarray, stars: np.ndarray | None = None
                              ) -> tuple[SimilarityTransform, int] | str:
        """The refined transform and its number of star pairs, or the reason there is none."""
        if self.aa is None:
            return "astroalign not available"
        if len(self.ref_stars) < 3:
            return f"too few stars in the reference ({len(self.ref_stars)} < 3)"
        if stars is None:
            stars = detect_stars(lum, self.sigma, self.min_area)
        stars = np.asarray(stars, dtype=np.float64).reshape(-1, 2)
        if len(stars) < 3:
            return f"too few stars ({len(stars)} < 3)"
        k = int(self.opts.max_control_points)
        try:
            rough, _ = self.aa.find_transform(stars[:k], self.ref_stars[:k], max_control_points=k)
        except (self.aa.MaxIterError, ValueError, TypeError) as exc:
            return f"astroalign found no transform ({type(exc).__name__}: {exc})"
        transform, n_matched = refine_similarity(stars, self.ref_stars, np.asarray(rough.params))
        if n_matched < _MIN_PAIRS:
            return f"too few matched stars ({n_matched} < {_MIN_PAIRS})"
        if abs(transform.scale - 1.0) > _MAX_SCALE_DEVIATION:
            return f"astroalign transform rejected (scale {transform.scale:.4f})"
        return transform, n_matched

    def _fft_find(self, lum: np.ndarray, why: str) -> AlignedFrame:
        shift = correlate_spectra(self.ref_spectrum, fft_spectrum(lum), lum.shape)
        rect = fft_overlap_rect(lum.shape, shift.dy, shift.dx)
        thr = float(self.opts.fft_min_confidence)
        spread = self._quadrant_spread(lum, shift) if shift.confidence >= thr else None
        if self.opts.debug:
            logger.debug("FFT fallback: dy=%.3f dx=%.3f confidence=%.1f quadrant_spread=%s overlap_rect=%s "
                         "overlap_frac=%.3f", shift.dy, shift.dx, shift.confidence, spread, rect,
                         rect_area(rect) / float(lum.size))
        problem = _fft_problem(shift, rect, spread, thr)
        if problem is not None:
            return AlignedFrame(None, None, "failed", reason=f"{why}; FFT fallback rejected ({problem})",
                                fft_confidence=shift.confidence)
        transform = SimilarityTransform.translation(shift.dx, shift.dy)
        return AlignedFrame(None, None, "fft", reason=why, transform=transform, fft_confidence=shift.confidence)

    def _quadrant_spread(self, lum: np.ndarray, shift: FftShift) -> float | None:
        """Largest distance (px) between the shift of a confident quadrant and the global shift.

        A rotated frame has no single translation: its quadrants move differently (0.1 deg already
        parts them by ~1 px on a Seestar frame) while the global peak can still look confident.
        None when fewer than 2 quadrants correlate confidently (nothing to compare).
        """
        if self._quadrants is None:
            self._quadrants = [(sl, fft_spectrum(self.ref_lum[sl])) for sl in quadrant_slices(lum.shape)]
        offsets = []
        for sl, spectrum in self._quadrants:
            plane = lum[sl]
            q = correlate_spectra(spectrum, fft_spectrum(plane), plane.shape)
            if q.confidence >= self.opts.fft_min_confidence:
                offsets.append(math.hypot(q.dy - shift.dy, q.dx - shift.dx))
        return max(offsets) if len(offsets) >= 2 else None


def _open_group(image_data_list: _FrameSource, reference_image_index: int, opts: _Options) -> _Group | None:
    """The group state of a non-empty frame list (None when it is empty), its reference index checked."""
    n = len(image_data_list)
    if n == 0:
        return None
    if not 0 <= reference_image_index < n:
        raise IndexError(f"reference_image_index {reference_image_index} outside 0..{n - 1}")
    return _Group(_reference_image(image_data_list[reference_image_index]), opts)


def _find_one(group: _Group, frame: Any, i: int, stars: np.ndarray | None = None) -> AlignedFrame:
    """Measure one frame; any error in this frame's path makes it ``"failed"`` with the error as its reason.

    A deliberate per-frame boundary (STYLE.md): one bad frame must not abort its group; the error is
    logged with its traceback at DEBUG level and reported as the frame's reason.
    """
    try:
        return group.find(frame, stars)
    except (MemoryError, OSError):  # the machine, not the frame: the run must hear about it
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-frame boundary (see docstring)
        logger.debug("frame %d: alignment error", i, exc_info=True)
        return AlignedFrame(None, None, "failed", reason=f"alignment error ({type(exc).__name__}: {exc})")


def _warp_one(group: _Group, frame: Any, found: AlignedFrame, i: int, canvas: Canvas,
              propagate_mask: bool) -> AlignedFrame:
    """Warp one measured frame; the same per-frame error boundary as :func:`_find_one`."""
    try:
        return group.warp(frame, found, canvas, propagate_mask)
    except (MemoryError, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-frame boundary (see _find_one)
        logger.debug("frame %d: warp error", i, exc_info=True)
        return AlignedFrame(None, None, "failed", reason=f"alignment error ({type(exc).__name__}: {exc})",
                            fft_confidence=found.fft_confidence)


def _log_group(results: Sequence[AlignedFrame], reference_index: int) -> None:
    counts = {m: sum(r.method == m for r in results) for m in ("wcs", "astroalign", "fft", "failed")}
    logger.info("aligned group of %d frames (reference %d): %s", len(results), reference_index, counts)


def _fft_problem(shift: FftShift, rect: tuple[int, int, int, int], spread: float | None, thr: float
                 ) -> str | None:
    """Why an FFT shift must not be used, or None when it can."""
    if shift.confidence < thr:
        return f"confidence {shift.confidence:.1f} < {thr:g}"
    if rect_area(rect) == 0:
        return "no overlap"
    if spread is not None and spread > _FFT_MAX_QUADRANT_SPREAD:
        return f"not a translation: quadrant shifts differ by up to {spread:.2f} px (rotation?)"
    return None


def _reference_image(frame: Any) -> np.ndarray:
    if frame is None:
        raise ValueError("the reference frame is None")
    ref = np.asarray(frame, dtype=np.float32)
    if ref.ndim not in (2, 3) or min(ref.shape[:2]) < 2 * STAMP_RADIUS + 2:
        raise ValueError(f"the reference frame must be HxW or HxWxC and at least 10x10, got {ref.shape}")
    return ref


def _store_result(res: AlignedFrame, i: int, store: Any, mask_store: Any) -> AlignedFrame:
    if store is not None and res.image is not None:
        store[i] = res.image
        if hasattr(store, "__getitem__"):
            res = replace(res, image=store[i])
    if mask_store is not None and res.valid is not None:
        mask_store[i] = res.valid
        if hasattr(mask_store, "__getitem__"):
            res = replace(res, valid=mask_store[i])
    return res


def _log_frame(i: int, res: AlignedFrame, debug: bool) -> None:
    if res.method == "failed":
        logger.warning("frame %d not aligned: %s", i, res.reason)
    elif res.method == "fft" and res.transform is not None:  # an FFT result always carries its translation
        logger.info("frame %d aligned by FFT (dx=%.2f dy=%.2f, confidence %.1f): %s", i,
                    res.transform.dx, res.transform.dy, res.fft_confidence, res.reason)
    if not debug:
        return
    t = res.transform
    valid = res.valid
    logger.debug(
        "img_idx=%d method=%s rot=%s dx=%s dy=%s matched=%s footprint_shape=%s dtype=%s valid_frac=%s", i,
        res.method, f"{t.rotation_deg:.4f}" if t else None, f"{t.dx:.3f}" if t else None,
        f"{t.dy:.3f}" if t else None, res.n_matched_stars, None if valid is None else valid.shape,
        None if valid is None else valid.dtype, None if valid is None else f"{valid.mean():.4f}")


def _channel_axis(fp_shape: tuple[int, ...], image_shape: tuple[int, ...]) -> int | str:
    """Channel axis of a 3D footprint (2 for HWC, 0 for CHW) or the reason it cannot be told."""
    hw = image_shape[:2]
    channels = image_shape[2] if len(image_shape) == 3 else 1
    hwc = fp_shape == (*hw, channels)
    chw = fp_shape == (channels, *hw)
    if hwc and chw:
        return f"footprint shape {fp_shape} is ambiguous (HWC and CHW) for image {image_shape}"
    if hwc:
        return 2
    if chw:
        return 0
    return f"footprint shape {fp_shape} does not match image {image_shape} (HWC or CHW)"
