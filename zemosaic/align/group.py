"""Intra-group alignment: resample every frame of a master-tile group onto the reference frame's grid.

The public verb is :func:`align_images_in_group`. For each frame it

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
the frame's robust sky median per channel; they are not data.

Coordinates are pixel indices (x = column, y = row, origin at the centre of element [0, 0]).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from zemosaic.align.fft import (
    FftShift,
    _correlate_spectra,
    _fft_spectrum,
    _quadrant_slices,
    _rect_area,
    _rect_mask,
    fft_overlap_rect,
    phase_correlate,
)
from zemosaic.align.resample import _fill_non_finite, _robust_sky, _warp
from zemosaic.align.stars import _STAMP_R, _detect_stars, luminance_plane
from zemosaic.align.transform import SimilarityTransform, _refine
from zemosaic.progress import ProgressCallback, emit

__all__ = [
    "AlignedFrame",
    "SimilarityTransform",
    "FftShift",
    "ValidMaskResult",
    "align_images_in_group",
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
        float32, same shape as the reference (H x W or H x W x C), finite everywhere; pixels outside
        ``valid`` hold the frame's robust sky median (per channel). With an ``output_store`` it is the
        stored object (e.g. a memmap view). None when ``method == "failed"``: a failed frame has no
        aligned image, so it cannot be stacked by mistake.
    valid : numpy.ndarray or None
        2D bool H x W, True where the frame contributes (every channel); None when ``propagate_mask``
        is False or the frame failed.
    method : str
        ``"reference"``, ``"astroalign"``, ``"fft"`` or ``"failed"``.
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
    n = len(image_data_list)
    if n == 0:
        return []
    if not 0 <= reference_image_index < n:
        raise IndexError(f"reference_image_index {reference_image_index} outside 0..{n - 1}")
    group = _Group(_reference_image(image_data_list[reference_image_index]), opts)
    results = []
    for i, frame in enumerate(image_data_list):
        if i == reference_image_index:
            res = group.reference_result(propagate_mask)
        else:
            res = _align_one(group, frame, i, propagate_mask)
        res = _store_result(res, i, output_store, mask_store)
        _log_frame(i, res, opts.debug)
        results.append(res)
        emit(progress_callback, "align", i + 1, n, f"frame {i + 1}/{n}: {res.method}")
    counts = {m: sum(r.method == m for r in results) for m in ("astroalign", "fft", "failed")}
    logger.info("aligned group of %d frames (reference %d): %s", n, reference_image_index, counts)
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
            self._stars = _detect_stars(self.ref_lum, self.sigma, self.min_area)
        return self._stars

    @property
    def ref_spectrum(self) -> np.ndarray:
        if self._spectrum is None:
            self._spectrum = _fft_spectrum(self.ref_lum)
        return self._spectrum

    def reference_result(self, propagate_mask: bool) -> AlignedFrame:
        valid = np.ones(self.ref.shape[:2], dtype=bool) if propagate_mask else None
        image = self.ref
        if not np.isfinite(image).all():
            image = _fill_non_finite(image, _robust_sky(image))
        return AlignedFrame(image, valid, "reference", transform=SimilarityTransform.translation(0, 0))

    def align(self, frame: Any, propagate_mask: bool) -> AlignedFrame:
        if frame is None:
            return AlignedFrame(None, None, "failed", reason="no image data")
        image = np.asarray(frame, dtype=np.float32)
        if image.shape != self.ref.shape:
            return AlignedFrame(None, None, "failed",
                                reason=f"shape {image.shape} differs from the reference {self.ref.shape}")
        lum = luminance_plane(image)
        found = self._astroalign_transform(lum)
        if isinstance(found, tuple):
            transform, n_matched = found
            aligned, valid = _warp(image, transform, propagate_mask)
            return AlignedFrame(aligned, valid, "astroalign", transform=transform, n_matched_stars=n_matched)
        return self._fft_align(image, lum, found, propagate_mask)

    def _astroalign_transform(self, lum: np.ndarray) -> tuple[SimilarityTransform, int] | str:
        """The refined transform and its number of star pairs, or the reason there is none."""
        if self.aa is None:
            return "astroalign not available"
        if len(self.ref_stars) < 3:
            return f"too few stars in the reference ({len(self.ref_stars)} < 3)"
        stars = _detect_stars(lum, self.sigma, self.min_area)
        if len(stars) < 3:
            return f"too few stars ({len(stars)} < 3)"
        k = int(self.opts.max_control_points)
        try:
            rough, _ = self.aa.find_transform(stars[:k], self.ref_stars[:k], max_control_points=k)
        except (self.aa.MaxIterError, ValueError, TypeError) as exc:
            return f"astroalign found no transform ({type(exc).__name__}: {exc})"
        transform, n_matched = _refine(stars, self.ref_stars, np.asarray(rough.params))
        if n_matched < _MIN_PAIRS:
            return f"too few matched stars ({n_matched} < {_MIN_PAIRS})"
        if abs(transform.scale - 1.0) > _MAX_SCALE_DEVIATION:
            return f"astroalign transform rejected (scale {transform.scale:.4f})"
        return transform, n_matched

    def _fft_align(self, image: np.ndarray, lum: np.ndarray, why: str, propagate_mask: bool) -> AlignedFrame:
        shift = _correlate_spectra(self.ref_spectrum, _fft_spectrum(lum), lum.shape)
        rect = fft_overlap_rect(image.shape, shift.dy, shift.dx)
        thr = float(self.opts.fft_min_confidence)
        spread = self._quadrant_spread(lum, shift) if shift.confidence >= thr else None
        if self.opts.debug:
            logger.debug("FFT fallback: dy=%.3f dx=%.3f confidence=%.1f quadrant_spread=%s overlap_rect=%s "
                         "overlap_frac=%.3f", shift.dy, shift.dx, shift.confidence, spread, rect,
                         _rect_area(rect) / float(lum.size))
        problem = _fft_problem(shift, rect, spread, thr)
        if problem is not None:
            return AlignedFrame(None, None, "failed", reason=f"{why}; FFT fallback rejected ({problem})",
                                fft_confidence=shift.confidence)
        transform = SimilarityTransform.translation(shift.dx, shift.dy)
        aligned, _ = _warp(image, transform, False)
        valid = _rect_mask(image.shape[:2], rect) if propagate_mask else None
        return AlignedFrame(aligned, valid, "fft", reason=why, transform=transform,
                            fft_confidence=shift.confidence)

    def _quadrant_spread(self, lum: np.ndarray, shift: FftShift) -> float | None:
        """Largest distance (px) between the shift of a confident quadrant and the global shift.

        A rotated frame has no single translation: its quadrants move differently (0.1 deg already
        parts them by ~1 px on a Seestar frame) while the global peak can still look confident.
        None when fewer than 2 quadrants correlate confidently (nothing to compare).
        """
        if self._quadrants is None:
            self._quadrants = [(sl, _fft_spectrum(self.ref_lum[sl])) for sl in _quadrant_slices(lum.shape)]
        offsets = []
        for sl, spectrum in self._quadrants:
            plane = lum[sl]
            q = _correlate_spectra(spectrum, _fft_spectrum(plane), plane.shape)
            if q.confidence >= self.opts.fft_min_confidence:
                offsets.append(math.hypot(q.dy - shift.dy, q.dx - shift.dx))
        return max(offsets) if len(offsets) >= 2 else None


def _align_one(group: _Group, frame: Any, i: int, propagate_mask: bool) -> AlignedFrame:
    """Align one frame; any error in this frame's path makes it ``"failed"`` with the error as its reason.

    A deliberate per-frame boundary (STYLE.md): one bad frame must not abort its group; the error is
    logged with its traceback at DEBUG level and reported as the frame's reason.
    """
    try:
        return group.align(frame, propagate_mask)
    except (MemoryError, OSError):  # the machine, not the frame: the run must hear about it
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-frame boundary (see docstring)
        logger.debug("frame %d: alignment error", i, exc_info=True)
        return AlignedFrame(None, None, "failed", reason=f"alignment error ({type(exc).__name__}: {exc})")


def _fft_problem(shift: FftShift, rect: tuple[int, int, int, int], spread: float | None, thr: float
                 ) -> str | None:
    """Why an FFT shift must not be used, or None when it can."""
    if shift.confidence < thr:
        return f"confidence {shift.confidence:.1f} < {thr:g}"
    if _rect_area(rect) == 0:
        return "no overlap"
    if spread is not None and spread > _FFT_MAX_QUADRANT_SPREAD:
        return f"not a translation: quadrant shifts differ by up to {spread:.2f} px (rotation?)"
    return None


def _reference_image(frame: Any) -> np.ndarray:
    if frame is None:
        raise ValueError("the reference frame is None")
    ref = np.asarray(frame, dtype=np.float32)
    if ref.ndim not in (2, 3) or min(ref.shape[:2]) < 2 * _STAMP_R + 2:
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
