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

Why Lanczos-3: its weights are normalised to sum to one, so flux and sky level are preserved exactly;
its passband is flatter than bicubic convolution, so star profiles (FWHM 2-4 px on a Seestar) keep
their width and peak instead of being blurred; it is local (6x6 taps, unlike a spline prefilter that
spreads one hot pixel over the whole row) and it is the usual choice of astronomical resamplers. It rings
slightly next to undersampled or saturated stars; the mask-aware stacker rejects such outliers.

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
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import scipy.fft
from numba import njit, prange
from scipy import ndimage
from scipy.spatial import cKDTree

from zemosaic._stats import mad_sigma
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

_TOL = 1e-6            # px tolerance of the "inside the source frame" test
_STAMP_R = 4           # half size of the centroid stamp (9x9)
_WINDOW_SIGMA = 1.5    # px, Gaussian weight of the windowed centroid
_MAX_STARS = 800       # brightest stars kept per frame for the least-squares refinement
_MATCH_RADIUS = 1.5    # px, pairing radius of the refinement
_MAX_SCALE_DEVIATION = 0.05  # frames of one instrument: |scale - 1| above this is a wrong match
_MIN_PAIRS = 4         # star pairs needed to trust a similarity (4 unknowns, 2 equations per pair)
_FFT_PEAK_SIGMA = 1.0  # px, width of the Gaussian the phase-correlation peak is shaped into
_FFT_MAX_QUADRANT_SPREAD = 0.5  # px, largest disagreement between quadrant shifts and the global one
_BACKGROUND_BOX = 64   # px, mesh size of the local sky background


# ----------------------------------------------------------------------------------------------
# Result types
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarityTransform:
    """A rotation + uniform scale + translation between two pixel grids.

    It maps **frame** pixel coordinates ``(x, y)`` to **reference** pixel coordinates::

        x_ref = scale * (cos(t) * x - sin(t) * y) + dx
        y_ref = scale * (sin(t) * x + cos(t) * y) + dy      with t = radians(rotation_deg)

    A positive angle turns the +x axis toward +y (rows grow downward in numpy order). For a pure
    translation, ``(dx, dy)`` is the shift to apply to the frame to bring it onto the reference.
    """

    rotation_deg: float
    scale: float
    dx: float
    dy: float

    @property
    def matrix(self) -> np.ndarray:
        """The 3x3 homogeneous matrix (float64) of the frame -> reference mapping."""
        t = math.radians(self.rotation_deg)
        c, s = self.scale * math.cos(t), self.scale * math.sin(t)
        return np.array([[c, -s, self.dx], [s, c, self.dy], [0.0, 0.0, 1.0]])

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> "SimilarityTransform":
        """Read a similarity from a 3x3 (or 2x3) matrix; its shear, if any, is ignored."""
        m = np.asarray(matrix, dtype=np.float64)
        a, b = (m[0, 0] + m[1, 1]) / 2.0, (m[1, 0] - m[0, 1]) / 2.0
        return cls(math.degrees(math.atan2(b, a)), math.hypot(a, b), float(m[0, 2]), float(m[1, 2]))

    @classmethod
    def translation(cls, dx: float, dy: float) -> "SimilarityTransform":
        """The pure translation by ``(dx, dy)`` pixels."""
        return cls(0.0, 1.0, float(dx), float(dy))


@dataclass(frozen=True)
class FftShift:
    """Result of :func:`phase_correlate`.

    ``dy, dx`` is the shift (rows, columns) to apply to the frame so that it lands on the reference:
    ``aligned(y, x) = frame(y - dy, x - dx)``; it equals ``SimilarityTransform.translation(dx, dy)``.
    ``confidence`` is the peak-to-sidelobe ratio of the correlation surface:
    ``(peak - mean) / std`` of the surface outside an 11x11 box around the peak.
    """

    dy: float
    dx: float
    confidence: float


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
    image_data_list: Sequence[np.ndarray | None],
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
            res = group.align(frame, propagate_mask)
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


def phase_correlate(reference_plane: np.ndarray, frame_plane: np.ndarray) -> FftShift:
    """Measure the translation between two 2D planes by phase correlation.

    Both planes get their non-finite pixels replaced by the median, their local sky background
    (64 px mesh) removed and a 2D Hann window applied. The cross-power spectrum is whitened and
    multiplied by a Gaussian low-pass, so the correlation peak is a Gaussian of 1 px sigma centred
    on the shift; a log-parabola fit through the 3 samples around the maximum (per axis) gives the
    sub-pixel position.

    Parameters
    ----------
    reference_plane, frame_plane : numpy.ndarray
        2D arrays of the same shape.

    Returns
    -------
    FftShift
        ``(dy, dx)`` to apply to the frame (``aligned(y, x) = frame(y - dy, x - dx)``) and the
        peak-to-sidelobe ratio as ``confidence`` (about 5-8 for unrelated images, tens to thousands
        for a star field; a rotated frame can still score high: :func:`align_images_in_group`
        therefore also checks that the four quadrants agree).

    Raises
    ------
    ValueError
        The planes are not 2D or differ in shape.
    """
    ref = np.asarray(reference_plane, dtype=np.float32)
    frm = np.asarray(frame_plane, dtype=np.float32)
    if ref.ndim != 2 or ref.shape != frm.shape:
        raise ValueError(f"phase_correlate needs two 2D planes of one shape, got {ref.shape} and {frm.shape}")
    return _correlate_spectra(_fft_spectrum(_finite_plane(ref)), _fft_spectrum(_finite_plane(frm)), ref.shape)


def fft_overlap_rect(shape: Sequence[int], dy: float, dx: float) -> tuple[int, int, int, int]:
    """Output rectangle covered by a frame translated by ``(dy, dx)``.

    Parameters
    ----------
    shape : sequence of int
        Image shape; only the first two entries (H, W) are used.
    dy, dx : float
        Shift applied to the frame (see :class:`FftShift`).

    Returns
    -------
    tuple of int
        ``(y0, x0, y1, x1)``, half-open: rows ``y0 <= y < y1`` and columns ``x0 <= x < x1`` are the
        output pixels whose source position ``(y - dy, x - dx)`` lies inside the frame's pixel-centre
        hull. Empty (``y0 >= y1`` or ``x0 >= x1``) when the frame does not overlap the reference.
    """
    h, w = int(shape[0]), int(shape[1])
    y0, y1 = _overlap_1d(h, dy)
    x0, x1 = _overlap_1d(w, dx)
    return y0, x0, y1, x1


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
        self._lum = self._stars = self._spectrum = self._quadrants = None

    @property
    def ref_lum(self) -> np.ndarray:
        if self._lum is None:
            self._lum = _luminance(self.ref)
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
        lum = _luminance(image)
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


def _quadrant_slices(shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    h, w = shape
    if min(h, w) < 128:
        return []
    ys = (slice(0, h // 2), slice(h // 2, h))
    xs = (slice(0, w // 2), slice(w // 2, w))
    return [(sy, sx) for sy in ys for sx in xs]


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
    elif res.method == "fft":
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


# ----------------------------------------------------------------------------------------------
# Planes, background, stars
# ----------------------------------------------------------------------------------------------


def _finite_plane(plane: np.ndarray) -> np.ndarray:
    """float32 plane with non-finite pixels replaced by the median of the finite ones."""
    plane = np.asarray(plane, dtype=np.float32)
    bad = ~np.isfinite(plane)
    if not bad.any():
        return plane
    good = plane[~bad]
    return np.where(bad, np.float32(np.median(good)) if good.size else np.float32(0), plane)


def _luminance(image: np.ndarray) -> np.ndarray:
    """NaN-free 2D detection plane: the frame itself (mono) or the mean of its channels."""
    if image.ndim == 2 or image.shape[2] == 1:
        return _finite_plane(image.reshape(image.shape[:2]))
    lum = image[:, :, 0] + image[:, :, 1]
    for c in range(2, image.shape[2]):
        lum += image[:, :, c]
    lum *= np.float32(1.0 / image.shape[2])
    return _finite_plane(lum)


def _robust_sky(image: np.ndarray) -> np.ndarray:
    """Per-channel median (float32, shape (C,)) over ~65k subsampled finite pixels; 0 if none."""
    h, w = image.shape[:2]
    step = max(1, int(math.sqrt(h * w / 65536.0)))
    sample = image[::step, ::step].reshape(-1, 1 if image.ndim == 2 else image.shape[2]).astype(np.float32)
    sample[~np.isfinite(sample)] = np.nan
    with np.errstate(all="ignore"):
        med = np.nanmedian(sample, axis=0) if np.isfinite(sample).any() else np.zeros(sample.shape[1])
    return np.nan_to_num(med, nan=0.0).astype(np.float32)


def _fill_non_finite(image: np.ndarray, fill: np.ndarray) -> np.ndarray:
    out = np.array(image, dtype=np.float32, copy=True)
    bad = ~np.isfinite(out)
    if out.ndim == 2:
        out[bad] = fill[0]
    else:
        out[bad] = np.broadcast_to(fill, out.shape)[bad]
    return out


def _background(plane: np.ndarray, box: int = _BACKGROUND_BOX) -> np.ndarray:
    """Smooth sky background: median per ~box x box cell, 3x3 median-filtered, bilinear upsampling."""
    h, w = plane.shape
    ny, nx = max(1, round(h / box)), max(1, round(w / box))
    sub = plane[::4, ::4]                       # 256 samples per 64 px cell: plenty for a median
    by, bx = sub.shape[0] // ny, sub.shape[1] // nx
    cells = sub[: ny * by, : nx * bx].reshape(ny, by, nx, bx).transpose(0, 2, 1, 3).reshape(ny, nx, -1)
    mesh = np.median(cells, axis=-1).astype(np.float32)
    mesh = ndimage.median_filter(mesh, size=3, mode="nearest")
    return (_interp_matrix(h, ny, 4 * by) @ mesh) @ _interp_matrix(w, nx, 4 * bx).T


def _interp_matrix(n: int, cells: int, size: int) -> np.ndarray:
    """n x cells float32 matrix of bilinear weights from cell centres to pixel positions."""
    pos = np.clip((np.arange(n) + 0.5) / size - 0.5, 0, cells - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, cells - 1)
    f = (pos - i0).astype(np.float32)
    m = np.zeros((n, cells), dtype=np.float32)
    rows = np.arange(n)
    m[rows, i0] += 1 - f
    m[rows, i1] += f
    return m


def _noise_sigma(residual: np.ndarray) -> float:
    """Robust noise (1.4826 MAD) of ~65k subsampled pixels; their std when the MAD is 0 (noiseless data)."""
    h, w = residual.shape
    step = max(1, int(math.sqrt(h * w / 65536.0)))
    s = residual[::step, ::step].ravel()
    mad = float(mad_sigma(s))
    return mad if mad > 0 else float(s.std())


def _detect_stars(plane: np.ndarray, detection_sigma: float, min_area: int) -> np.ndarray:
    """Star positions (N, 2) as (x, y), brightest first, at most ``_MAX_STARS``.

    A star is a local maximum of the background-subtracted plane above ``detection_sigma`` x noise,
    with at least ``min_area`` pixels above that threshold in the 5x5 box around it and its 9x9
    stamp inside the frame, that also stands ``detection_sigma`` x noise above the median of its
    stamp's border: noise peaks on nebulosity brighter than the sky mesh are not stars. Fluxes are
    measured above that border level; sources within 2 px of a brighter one are dropped (doubles
    make degenerate triangles for the matcher). Positions come from :func:`_window_centroids`.
    """
    resid = plane - _background(plane)
    noise = _noise_sigma(resid)
    if not noise > 0:
        return np.empty((0, 2))
    thr = detection_sigma * noise
    r = _STAMP_R
    peaks = np.zeros(resid.shape, dtype=np.bool_)
    _peak_map(resid, np.float32(thr), int(min_area), r, peaks)
    ys, xs = np.nonzero(peaks)
    off = np.arange(-r, r + 1)
    stamps = resid[ys[:, None, None] + off[None, :, None], xs[:, None, None] + off[None, None, :]]
    ring = np.concatenate([stamps[:, 0, :], stamps[:, -1, :], stamps[:, 1:-1, 0], stamps[:, 1:-1, -1]], axis=1)
    stamps = stamps - np.median(ring, axis=1)[:, None, None]
    sharp = stamps[:, r, r] > thr
    ys, xs, stamps = ys[sharp], xs[sharp], stamps[sharp]
    order = np.argsort(-stamps.sum(axis=(1, 2)), kind="stable")[:_MAX_STARS]
    cx, cy, ok = _window_centroids(stamps[order])
    xy = np.column_stack([xs[order] + cx, ys[order] + cy])[ok]
    return xy[_isolated(xy, 2.0)]


def _isolated(xy: np.ndarray, radius: float) -> np.ndarray:
    """Mask of points (ordered brightest first) with no brighter point within ``radius``."""
    keep = np.ones(len(xy), dtype=bool)
    if len(xy) < 2:
        return keep
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    keep[pairs.max(axis=1)] = False
    return keep


@njit(parallel=True, cache=True)
def _peak_map(resid, thr, min_area, border, peaks):  # pragma: no cover - compiled
    """Mark local maxima above ``thr`` (3x3; ties go to the first pixel in raster order) that have at
    least ``min_area`` pixels above ``thr`` in their 5x5 box, ``border`` px or more from the edges."""
    h, w = resid.shape
    for y in prange(border, h - border):
        for x in range(border, w - border):
            v = resid[y, x]
            if v <= thr:
                continue
            peak = True
            for oy in range(-1, 2):
                for ox in range(-1, 2):
                    nb = resid[y + oy, x + ox]
                    before = oy < 0 or (oy == 0 and ox < 0)
                    if (before and v <= nb) or (not before and v < nb):
                        peak = False
            if not peak:
                continue
            count = 0
            for oy in range(-2, 3):
                for ox in range(-2, 3):
                    if resid[y + oy, x + ox] > thr:
                        count += 1
            peaks[y, x] = count >= min_area


def _window_centroids(stamps: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian-windowed centroids of (N, 9, 9) stamps relative to their centre pixel.

    Iterates ``c += 2 * sum(w I (x - c)) / sum(w I)`` with ``w`` a Gaussian of ``_WINDOW_SIGMA``
    centred on the current estimate; the fixed point is the centre of a symmetric profile, free of
    the pixel-phase bias of plain moments. Returns (cx, cy, ok); ``ok`` is False for stamps whose
    weighted flux is not positive or whose centroid drifts more than 2 px.
    """
    r = stamps.shape[1] // 2
    grid = np.arange(-r, r + 1, dtype=np.float64)
    cx = np.zeros(len(stamps))
    cy = np.zeros(len(stamps))
    data = stamps.astype(np.float64)
    norm = np.ones(len(stamps))
    for _ in range(iterations):
        ux = grid[None, :] - cx[:, None]
        uy = grid[None, :] - cy[:, None]
        wx = np.exp(-0.5 * (ux / _WINDOW_SIGMA) ** 2)
        wy = np.exp(-0.5 * (uy / _WINDOW_SIGMA) ** 2)
        wi = data * wy[:, :, None] * wx[:, None, :]
        norm = wi.sum(axis=(1, 2))
        safe = np.where(norm > 0, norm, 1.0)
        cx = np.clip(cx + 2 * (wi * ux[:, None, :]).sum(axis=(1, 2)) / safe, -r, r)
        cy = np.clip(cy + 2 * (wi * uy[:, :, None]).sum(axis=(1, 2)) / safe, -r, r)
    ok = (norm > 0) & (np.abs(cx) <= 2) & (np.abs(cy) <= 2)
    return cx, cy, ok


# ----------------------------------------------------------------------------------------------
# Transform refinement
# ----------------------------------------------------------------------------------------------


def _refine(src: np.ndarray, dst: np.ndarray, matrix: np.ndarray) -> tuple[SimilarityTransform, int]:
    """Least-squares similarity over all stars paired within ``_MATCH_RADIUS`` of ``matrix``'s prediction.

    Two rounds (the second with a radius of 3 x the residual RMS, at least 0.3 px). Keeps ``matrix``
    when fewer than 3 pairs are found.
    """
    tree = cKDTree(dst)
    radius = _MATCH_RADIUS
    best, n_pairs = SimilarityTransform.from_matrix(matrix), 0
    for _ in range(2):
        pred = src @ matrix[:2, :2].T + matrix[:2, 2]
        dist, j = tree.query(pred, distance_upper_bound=radius)
        pair = np.isfinite(dist)
        if pair.sum() < 3:
            break
        matrix, rms = _fit_similarity(src[pair], dst[j[pair]])
        best, n_pairs = SimilarityTransform.from_matrix(matrix), int(pair.sum())
        radius = max(3.0 * rms, 0.3)
    return best, n_pairs


def _fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear least squares for x' = a x - b y + tx, y' = b x + a y + ty; returns (3x3, rms)."""
    n = len(src)
    design = np.zeros((2 * n, 4))
    design[:n, 0], design[:n, 1], design[:n, 2] = src[:, 0], -src[:, 1], 1.0
    design[n:, 0], design[n:, 1], design[n:, 3] = src[:, 1], src[:, 0], 1.0
    rhs = np.concatenate([dst[:, 0], dst[:, 1]])
    (a, b, tx, ty), *_ = np.linalg.lstsq(design, rhs, rcond=None)
    rms = float(np.sqrt(np.mean((design @ np.array([a, b, tx, ty]) - rhs) ** 2)))
    return np.array([[a, -b, tx], [b, a, ty], [0.0, 0.0, 1.0]]), rms


# ----------------------------------------------------------------------------------------------
# FFT phase correlation
# ----------------------------------------------------------------------------------------------


def _fft_spectrum(plane: np.ndarray) -> np.ndarray:
    """rfft2 of the background-subtracted, Hann-windowed plane (already finite)."""
    h, w = plane.shape
    resid = plane - _background(plane)
    window = np.outer(np.hanning(h).astype(np.float32), np.hanning(w).astype(np.float32))
    return scipy.fft.rfft2(resid * window, workers=-1)


def _correlate_spectra(ref_spec: np.ndarray, frm_spec: np.ndarray, shape: tuple[int, int]) -> FftShift:
    h, w = shape
    cross = ref_spec * np.conj(frm_spec)
    cross /= np.abs(cross) + 1e-20 * (np.abs(cross).max() + 1e-30)
    fy = scipy.fft.fftfreq(h)[:, None]
    fx = scipy.fft.rfftfreq(w)[None, :]
    cross *= np.exp(-2.0 * (math.pi * _FFT_PEAK_SIGMA) ** 2 * (fy ** 2 + fx ** 2))
    surf = scipy.fft.irfft2(cross, s=(h, w), workers=-1)
    py, px = np.unravel_index(int(np.argmax(surf)), surf.shape)
    dy = py + _peak_offset(surf[(py - 1) % h, px], surf[py, px], surf[(py + 1) % h, px])
    dx = px + _peak_offset(surf[py, (px - 1) % w], surf[py, px], surf[py, (px + 1) % w])
    dy = dy - h if dy > h / 2 else dy
    dx = dx - w if dx > w / 2 else dx
    return FftShift(float(dy), float(dx), _peak_to_sidelobe(surf, py, px))


def _peak_offset(left: float, centre: float, right: float) -> float:
    """Sub-sample offset of a peak from 3 samples: Gaussian (log-parabola) fit, parabola if not positive."""
    if min(left, centre, right) > 0:
        left, centre, right = math.log(left), math.log(centre), math.log(right)
    denom = left - 2.0 * centre + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def _peak_to_sidelobe(surf: np.ndarray, py: int, px: int, half: int = 5) -> float:
    rolled = np.roll(surf, (half - py, half - px), axis=(0, 1))
    side = rolled.copy()
    side[: 2 * half + 1, : 2 * half + 1] = np.nan
    std = float(np.nanstd(side))
    return float((surf[py, px] - np.nanmean(side)) / std) if std > 0 else 0.0


def _overlap_1d(n: int, shift: float) -> tuple[int, int]:
    lo = max(0, math.ceil(shift - _TOL))
    hi = min(n, math.floor(n - 1 + shift + _TOL) + 1)
    return lo, max(lo, hi)


def _rect_area(rect: tuple[int, int, int, int]) -> int:
    y0, x0, y1, x1 = rect
    return max(0, y1 - y0) * max(0, x1 - x0)


def _rect_mask(hw: tuple[int, int], rect: tuple[int, int, int, int]) -> np.ndarray:
    y0, x0, y1, x1 = rect
    mask = np.zeros(hw, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


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


# ----------------------------------------------------------------------------------------------
# Resampling
# ----------------------------------------------------------------------------------------------


def _warp(image: np.ndarray, transform: SimilarityTransform, want_valid: bool
          ) -> tuple[np.ndarray, np.ndarray | None]:
    """Lanczos-3 resampling of all channels onto the reference grid, plus the valid mask if asked.

    RGB frames go through one kernel that interpolates the 3 channels of each tap together (one
    short vector operation per tap); other channel counts are resampled plane by plane.
    """
    fill = _robust_sky(image)
    src = image if np.isfinite(image).all() else _fill_non_finite(image, fill)
    src = np.ascontiguousarray(src)
    inverse = np.linalg.inv(transform.matrix)[:2].copy()
    valid = np.empty(image.shape[:2] if want_valid else (1, 1), dtype=np.bool_)
    out = np.empty(image.shape, dtype=np.float32)
    if image.ndim == 3 and image.shape[2] == 3:
        _lanczos3_rgb(src, inverse, fill, out, valid, want_valid, _LANCZOS3_LUT)
    elif image.ndim == 2:
        _lanczos3_plane(src, inverse, float(fill[0]), out, valid, want_valid, _LANCZOS3_LUT)
    else:
        for c in range(image.shape[2]):
            plane = np.empty(image.shape[:2], dtype=np.float32)
            _lanczos3_plane(np.ascontiguousarray(src[:, :, c]), inverse, float(fill[c]), plane, valid,
                            want_valid and c == 0, _LANCZOS3_LUT)
            out[:, :, c] = plane
    return out, (valid if want_valid else None)


_LUT_STEPS = 1024  # sub-pixel phases of the weight table: position quantised to 1/2048 px at worst


def _lanczos3_table(steps: int = _LUT_STEPS) -> np.ndarray:
    """(steps + 1, 6) float32 normalised Lanczos-3 weights of taps -2..3 for offsets k / steps."""
    frac = np.arange(steps + 1) / steps
    t = frac[:, None] - np.arange(-2, 4)[None, :]          # distance from each tap to the sample
    weights = np.sinc(t) * np.sinc(t / 3.0)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


_LANCZOS3_LUT = _lanczos3_table()


@njit(cache=True, inline="always")
def _source_position(inverse, x, y, h, w, steps):
    """Source position of output pixel (x, y): (inside, ix, iy, qx, qy) with q the table phase."""
    xs = inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]
    ys = inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]
    inside = xs >= -_TOL and xs <= w - 1 + _TOL and ys >= -_TOL and ys <= h - 1 + _TOL
    ix = int(math.floor(xs))
    iy = int(math.floor(ys))
    return inside, ix, iy, int((xs - ix) * steps + 0.5), int((ys - iy) * steps + 0.5)


@njit(parallel=True, cache=True, fastmath=True)
def _lanczos3_rgb(src, inverse, fill, out, valid, want_valid, lut):  # pragma: no cover - compiled
    """src H x W x 3 float32 -> out H x W x 3, edge-clamped taps, fill outside the source frame."""
    h, w = src.shape[0], src.shape[1]
    steps = lut.shape[0] - 1
    for y in prange(out.shape[0]):
        line = np.empty(3, dtype=np.float32)
        acc = np.empty(3, dtype=np.float32)
        for x in range(out.shape[1]):
            inside, ix, iy, qx, qy = _source_position(inverse, x, y, h, w, steps)
            if want_valid:
                valid[y, x] = inside
            if not inside:
                for c in range(3):
                    out[y, x, c] = fill[c]
                continue
            for c in range(3):
                acc[c] = 0.0
            for j in range(6):
                row = min(max(iy + j - 2, 0), h - 1)
                for c in range(3):
                    line[c] = 0.0
                for i in range(6):
                    col = min(max(ix + i - 2, 0), w - 1)
                    wx = lut[qx, i]
                    for c in range(3):
                        line[c] += wx * src[row, col, c]
                wy = lut[qy, j]
                for c in range(3):
                    acc[c] += wy * line[c]
            for c in range(3):
                out[y, x, c] = acc[c]


@njit(parallel=True, cache=True, fastmath=True)
def _lanczos3_plane(src, inverse, fill, out, valid, want_valid, lut):  # pragma: no cover - compiled
    """Single-plane twin of :func:`_lanczos3_rgb`."""
    h, w = src.shape
    steps = lut.shape[0] - 1
    for y in prange(out.shape[0]):
        for x in range(out.shape[1]):
            inside, ix, iy, qx, qy = _source_position(inverse, x, y, h, w, steps)
            if want_valid:
                valid[y, x] = inside
            if not inside:
                out[y, x] = fill
                continue
            acc = np.float32(0.0)
            for j in range(6):
                row = min(max(iy + j - 2, 0), h - 1)
                line = np.float32(0.0)
                for i in range(6):
                    line += lut[qx, i] * src[row, min(max(ix + i - 2, 0), w - 1)]
                acc += lut[qy, j] * line
            out[y, x] = acc
