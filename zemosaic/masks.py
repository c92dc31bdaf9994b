"""Mask maths for master tiles: coverage-driven alpha, Alt-Az artefact fallback, quality crop, edge trim.

Pure array functions, no I/O, no GUI or plotting imports.

Image layout rule
-----------------
A 2-D array is a mono image ``H x W``. A 3-D array is ``H x W x 3`` (HWC, the in-memory convention of the
project) when its **last** axis is 3; otherwise it is ``3 x H x W`` (CHW, the FITS on-disk order) when its
**first** axis is 3; anything else raises ``ValueError``. So a ``3 x 4 x 3`` array is HWC (3 rows, 4 columns),
and a CHW array is recognised only when its last axis is not 3 (a real tile, which is far wider than 3 px).
:func:`mask_altaz_artifacts` (the original ZeMosaic's masker, whose contract it keeps) also takes cubes of any
other channel count (``H x W x 1``, RGBA...): see :func:`masker_layout`.

Coverage path (``compute_alpha_mask(..., coverage=...)``)
---------------------------------------------------------
``thr = max(min_coverage_abs, min_coverage_frac * max(coverage))`` exactly as given: lecropper does **not**
clamp ``min_coverage_abs``. The caller (the worker) clamps it to the number of frames actually stacked, so
that a group of 2 frames is not blanked by the default ``min_coverage_abs = 3``. Pixels with
``coverage >= thr`` form the support, which is then

1. opened with a Euclidean disk of radius ``morph_open_px`` (removes filaments and islands thinner than
   about ``2 * morph_open_px + 1`` px; the image border does not erode the support);
2. stripped of connected components smaller than ``_COMPONENT_MIN_FRAC`` of the largest one;
3. hole-filled: an enclosed hole (a connected non-support region not touching the image border) is filled
   when its mean coverage is at least ``_HOLE_FILL_FRAC * thr`` (it is real data that the threshold or
   the opening cut out); holes whose coverage is truly low stay masked;
4. feathered: with ``d`` the Euclidean distance of a support pixel to the nearest excluded pixel and
   ``w = margin_percent / 100 * min(H, W)``, ``alpha = ramp(d / w)``, where ``ramp`` is a logistic S-curve
   rescaled to go exactly from 0 at ``t = 0`` to 1 at ``t = 1``, of scale ``decay_ratio`` (small: steep,
   step-like at ``t = 0.5``; large: close to linear). ``alpha`` is 0 outside the support, 1 beyond ``w``
   inside it, monotone in between. The image border itself is not feathered, so a coverage that passes
   everywhere gives an alpha of exactly ones.

Fallback path (no coverage, or coverage unusable)
--------------------------------------------------
Alignment fills the rotated corners of an Alt-Az frame with a constant (0, or the frame median). The
artefact region is the union of the border-connected components (each at least ``_MIN_REGION_FRAC`` of the
image) of: non-finite pixels; flat pixels (on a row or column run of ``_FLAT_RUN_PX`` values equal within
``_FLAT_TOL_SIGMA`` noise sigmas, and not brighter than the sky by ``_FILL_MAX_SIGMA`` sigmas, so saturated
star cores are not fill); dark pixels (below ``_DARK_FRAC`` of the sky level, tested only where the sky sits
well above zero, so a mild gradient is not an artefact). That region is feathered like the coverage support,
then multiplied by a gentle radial margin that only touches the extreme corners (``alpha`` falls to 0 at the
corner pixels over the last ``2 * margin_percent`` % of the normalised half-diagonal: about 0.5 % of the
weight of a clean frame at the default 5 %). Isolated non-finite pixels get ``alpha = 0`` without a feather.
"""

from __future__ import annotations

__all__ = [
    "MIN_COVERAGE_ABS_DEFAULT",
    "MIN_COVERAGE_FRAC_DEFAULT",
    "MORPH_OPEN_PX_DEFAULT",
    "AlphaMaskResult",
    "COVERAGE_REASONS",
    "CoverageDecision",
    "compute_alpha_mask",
    "coverage_unusable",
    "group_min_coverage_abs",
    "SMALL_GROUP_RULES",
    "coverage_unusable_reason",
    "detect_quality_crop_rect",
    "edge_trim_rect",
    "image_layout",
    "mask_altaz_artifacts",
    "masker_layout",
]

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import ndimage as ndi
from scipy.special import expit

from zemosaic._numba_pool import run_blocks
from zemosaic._stats import diff_noise_sigma

logger = logging.getLogger(__name__)

MIN_COVERAGE_ABS_DEFAULT = 3.0
MIN_COVERAGE_FRAC_DEFAULT = 0.4
MORPH_OPEN_PX_DEFAULT = 3

_COMPONENT_MIN_FRAC = 0.05  # support components smaller than this fraction of the largest are dropped
_HOLE_FILL_FRAC = 0.5  # an enclosed hole is filled when its mean coverage >= this * thr
_FLAT_TOL_SIGMA = 1e-3  # a run whose range is below this many noise sigmas is a constant fill
_FLAT_RUN_PX = 5  # length of the constant runs (row or column) that make a fill
_FILL_MAX_SIGMA = 5.0  # a flat region brighter than sky + this many sigmas is saturation, not fill
_DARK_FRAC = 0.5  # fallback: below this fraction of the sky level counts as dark
_DARK_MIN_SKY_SIGMA = 10.0  # the dark test runs only when sky > this many noise sigmas
_MIN_REGION_FRAC = 1e-4  # border-connected artefact components smaller than this fraction are ignored
_RADIAL_BAND_PER_MARGIN = 2.0  # radial band width (fraction of half-diagonal) per unit margin fraction
_LINE_STRIDE = 4  # quality crop: sampling stride along a row / column


@dataclass(frozen=True, eq=False)
class AlphaMaskResult:
    """Alpha mask of a tile and how it was obtained.

    Attributes
    ----------
    alpha : numpy.ndarray
        float32 ``H x W`` in [0, 1]; 0 = masked, 1 = fully kept.
    source : str
        ``"coverage"`` when the coverage map drove the mask, ``"fallback"`` otherwise.
    coverage_ignored_reason : str or None
        Why a given coverage was not used; None when coverage was used or not given.
    threshold : float or None
        The coverage threshold ``thr`` applied (coverage path only).
    kept_fraction : float
        Fraction of pixels with ``alpha > 0``.
    """

    alpha: np.ndarray
    source: str
    coverage_ignored_reason: str | None
    threshold: float | None
    kept_fraction: float


@dataclass(frozen=True)
class CoverageDecision:
    """Whether a tile's coverage really drove its alpha, and why not: the one record behind the tile's
    ``COVUSED``/``COVWHY`` cards, the report's ``coverage_used``/``coverage_decision`` and its ``MT_PIPELINE`` line.

    Attributes
    ----------
    used : bool
        True only when the masker was called with the coverage and accepted it.
    code : str
        A key of `COVERAGE_REASONS` (``"used"`` when used).
    detail : str
        What exactly happened (shapes, the dropped keywords, the setting...); may be empty.
    """

    used: bool
    code: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.code not in COVERAGE_REASONS:
            raise ValueError(f"unknown coverage decision code {self.code!r} (one of {', '.join(COVERAGE_REASONS)})")
        if self.used != (self.code == "used"):
            raise ValueError(f"coverage decision code {self.code!r} contradicts used={self.used}")

    @classmethod
    def not_used(cls, code: str, detail: str = "") -> CoverageDecision:
        """The decision for a coverage that did not drive the alpha."""
        return cls(False, code, detail)

    @property
    def reason(self) -> str:
        """``coverage used``, or ``<code>: <words>[ (<detail>)]``, e.g.
        ``shape_mismatch: coverage shape does not match the tile (99x160 vs 100x160)``."""
        if self.used:
            return COVERAGE_REASONS["used"]
        words = COVERAGE_REASONS[self.code]
        return f"{self.code}: {words} ({self.detail})" if self.detail else f"{self.code}: {words}"


#: The vocabulary of `CoverageDecision`: why a tile's alpha was (not) driven by its coverage.
COVERAGE_REASONS: dict[str, str] = {
    "used": "coverage used",
    "cleanup_off": "cleanup off",
    "coverage_off": "coverage source switched off",
    "masker_rejects_coverage_kwargs": "masker does not accept coverage",
    "shape_mismatch": "coverage shape does not match the tile",
    "non_finite": "coverage has non-finite values",
    "empty": "coverage is empty",
    "not_numeric": "coverage is not numeric",
    "coverage_error": "coverage could not be computed",
    "existing_tiles_mode": "existing tiles mode: tiles read from disk, no intra-tile coverage",
    "no_master_tiles": "mode without master tiles",
}


#: How ``min_coverage_abs`` meets a group of fewer frames than it asks for (see `group_min_coverage_abs`).
SMALL_GROUP_RULES = ("intersection", "all_but_one", "fraction")


def group_min_coverage_abs(min_coverage_abs: float, n_frames: int, rule: str = "intersection",
                           min_coverage_frac: float = MIN_COVERAGE_FRAC_DEFAULT) -> float:
    """The absolute coverage threshold for a tile of ``n_frames`` stacked frames, under a small-group ``rule``.

    - ``intersection``: ``min(min_coverage_abs, n_frames)``: a group smaller than the threshold keeps only
      the sky every frame covers.
    - ``all_but_one``: ``min(min_coverage_abs, max(n_frames - 1, min(n_frames, 2)))``: one frame may be missing,
      but a pixel never rests on one frame alone (one sample cannot be checked for outliers), so a group of 2
      keeps its intersection; groups larger than the threshold are not affected.
    - ``fraction``: ``min(min_coverage_abs, min_coverage_frac * n_frames)``: the absolute minimum never asks a
      group for more than the fraction rule does, so small groups (under ``min_coverage_abs /
      min_coverage_frac`` frames) follow ``min_coverage_frac`` of their maximum coverage alone.

    Raises
    ------
    ValueError
        An unknown ``rule``.
    """
    if rule not in SMALL_GROUP_RULES:
        raise ValueError(f"unknown small-group rule {rule!r} (one of {', '.join(SMALL_GROUP_RULES)})")
    n = float(max(int(n_frames), 1))
    if rule == "all_but_one":
        return min(float(min_coverage_abs), max(n - 1.0, min(n, 2.0)))
    if rule == "fraction":
        return min(float(min_coverage_abs), float(min_coverage_frac) * n)
    return min(float(min_coverage_abs), n)


def image_layout(image) -> str:
    """Return the layout of an image array: ``"mono"``, ``"hwc"`` or ``"chw"``.

    Parameters
    ----------
    image : array_like or tuple of int
        The image, or its shape.

    Returns
    -------
    str
        ``"mono"`` for 2-D; ``"hwc"`` when the last axis is 3; else ``"chw"`` when the first axis is 3.

    Raises
    ------
    ValueError
        For any other shape (1-D, 4-D, 3-D without a 3-long first or last axis).
    """
    shape = tuple(image) if isinstance(image, tuple) else np.shape(image)
    if len(shape) == 2:
        return "mono"
    if len(shape) == 3 and shape[-1] == 3:
        return "hwc"
    if len(shape) == 3 and shape[0] == 3:
        return "chw"
    raise ValueError(f"image shape {shape} is neither H x W, H x W x 3 nor 3 x H x W")


def compute_alpha_mask(image, *, coverage=None, min_coverage_abs=None, min_coverage_frac=None,
                       morph_open_px=None, margin_percent=5.0, decay_ratio=0.15) -> AlphaMaskResult:
    """Compute the alpha mask of a tile from its coverage map, or from the image when coverage is unusable.

    Parameters
    ----------
    image : array_like
        ``H x W``, ``H x W x 3`` or ``3 x H x W`` (see the module docstring for the layout rule); any real
        dtype. Only read by the fallback path (and for its shape).
    coverage : array_like, optional
        ``H x W`` count of frames contributing to each pixel. Used only when it has exactly the image's
        ``H x W`` shape, is finite everywhere and its max is > 0; it is never resized.
    min_coverage_abs : float, optional
        Absolute coverage threshold (default ``MIN_COVERAGE_ABS_DEFAULT``). Not clamped here: the caller
        clamps it to the number of frames stacked. An unclamped value above the max coverage masks the tile.
    min_coverage_frac : float, optional
        Threshold as a fraction of the max coverage (default ``MIN_COVERAGE_FRAC_DEFAULT``).
    morph_open_px : int, optional
        Radius of the opening disk in px (default ``MORPH_OPEN_PX_DEFAULT``; 0 disables it).
    margin_percent : float
        Feather width in percent of the short side (also sets the radial margin of the fallback).
    decay_ratio : float
        Scale of the logistic feather ramp, as a fraction of the feather width.

    Returns
    -------
    AlphaMaskResult
        ``alpha`` (float32 ``H x W`` in [0, 1]), the ``source`` path, why coverage was ignored, ``threshold``
        and ``kept_fraction``.

    Raises
    ------
    ValueError
        Unsupported image layout or out-of-range parameters.
    """
    shape = _plane_shape(image)
    abs_thr, frac_thr, open_px = _resolve_thresholds(min_coverage_abs, min_coverage_frac, morph_open_px)
    _check_feather_params(margin_percent, decay_ratio)
    width_px = margin_percent / 100.0 * min(shape)
    reason = None
    if coverage is not None:
        cov, reason = _usable_coverage(coverage, shape)
        if cov is not None:
            max_cov = float(cov.max())
            thr = max(abs_thr, frac_thr * max_cov)
            if thr > max_cov:
                logger.warning("coverage threshold %.3g exceeds max coverage %.3g: tile fully masked "
                               "(the caller should clamp min_coverage_abs to the frames stacked)", thr, max_cov)
            support = _coverage_support(cov, thr, open_px)
            alpha = _feather(support, width_px, decay_ratio)
            return AlphaMaskResult(alpha, "coverage", None, float(thr), _kept(alpha))
    lum = _luminance(np.asarray(image), image_layout(image))
    alpha = _fallback_alpha(lum, width_px, margin_percent, decay_ratio)
    return AlphaMaskResult(alpha, "fallback", reason, None, _kept(alpha))


def mask_altaz_artifacts(full_img, margin_percent=5.0, decay_ratio=0.15, fill_value=0.0,
                         return_mask=False, hard_threshold=1e-3, coverage=None, min_coverage_abs=None,
                         min_coverage_frac=None, morph_open_px=None):
    """Mask under-covered borders and Alt-Az artefacts of a tile (thin wrapper over `compute_alpha_mask`).

    The signature, defaults and layouts are the original ZeMosaic ``lecropper.mask_altaz_artifacts``'s
    (see `masker_layout`): scripts written for it call this function unchanged.

    Parameters
    ----------
    full_img : array_like
        ``H x W``, or a cube of any number of channels, channel-last (``H x W x C``) or channel-first
        (``C x H x W``); any real dtype (integers are cast to a float32 copy). With ``C != 3`` the alpha
        is computed on the mean of the channels, exactly as for 3 channels.
    margin_percent, decay_ratio : float
        Feather width (percent of the short side) and ramp scale; see `compute_alpha_mask`.
    fill_value : float or None
        Value written where ``alpha <= hard_threshold``. None keeps the soft attenuation (image x alpha)
        without a hard fill, as in the original.
    return_mask : bool
        Also return the alpha mask.
    hard_threshold : float
        Alpha at or below which a pixel is replaced by ``fill_value``.
    coverage, min_coverage_abs, min_coverage_frac, morph_open_px
        See `compute_alpha_mask`. ``min_coverage_abs`` is used as given: the caller clamps it to the number of
        frames stacked. An unusable coverage is logged at DEBUG (``coverage ignored: <reason>``) and the
        result is identical to the call without coverage.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        The masked image (float32 copy in the input layout: image x alpha, ``fill_value`` where alpha is at
        or below ``hard_threshold`` unless it is None; other non-finite input pixels stay non-finite), or
        ``(masked, alpha)`` with ``return_mask=True``, ``alpha`` being float32 ``H x W`` in [0, 1].

    Raises
    ------
    ValueError
        Fewer than 2 or more than 3 dimensions, or out-of-range parameters.
    """
    image = np.array(full_img, dtype=np.float32, copy=True)
    channel_axis = masker_layout(image.shape)
    plane_source = image if channel_axis is None or image.shape[channel_axis] == 3 else \
        np.mean(image, axis=channel_axis, dtype=np.float32)
    result = compute_alpha_mask(plane_source, coverage=coverage, min_coverage_abs=min_coverage_abs,
                                min_coverage_frac=min_coverage_frac, morph_open_px=morph_open_px,
                                margin_percent=margin_percent, decay_ratio=decay_ratio)
    if result.coverage_ignored_reason is not None:
        logger.debug("coverage ignored: %s", result.coverage_ignored_reason)
    masked = _apply_alpha(image, channel_axis, result.alpha, fill_value, hard_threshold)
    return (masked, result.alpha) if return_mask else masked


def masker_layout(shape: tuple[int, ...]) -> int | None:
    """Channel axis of an image of ``shape`` for `mask_altaz_artifacts`: None (``H x W``), 2 or 0.

    A 3-channel cube follows `image_layout` (the last axis wins). Any other cube follows the original
    ZeMosaic's rule: the spatial plane is the pair of axes, first two or last two, of larger area, so
    ``H x W x 1``, ``H x W x 4`` and ``4 x H x W`` are all understood.

    Raises
    ------
    ValueError
        Fewer than 2 or more than 3 dimensions.
    """
    if len(shape) == 2:
        return None
    if len(shape) != 3:
        raise ValueError(f"image shape {tuple(shape)} is neither H x W nor a cube of channels")
    if 3 in (shape[0], shape[-1]):
        return 2 if image_layout(tuple(shape)) == "hwc" else 0
    return 2 if shape[0] * shape[1] >= shape[1] * shape[2] else 0


def coverage_unusable_reason(coverage, shape: tuple[int, int]) -> str | None:
    """Why ``coverage`` cannot drive the alpha of an image plane of ``shape`` (H, W), or None if it can.

    The rule :func:`compute_alpha_mask` applies: numeric, exactly ``shape`` (never resized), all
    finite, maximum > 0. Callers that must log the decision before masking use it.
    """
    return _usable_coverage(coverage, shape)[1]


def detect_quality_crop_rect(image, *, dark_frac=0.5, band_frac=0.5, cast_frac=0.25, min_crop_frac=0.005,
                             min_keep_frac=0.25, valid=None):
    """Find the rectangle that drops dark, flat or colour-cast border bands of a tile.

    A row (column) is bad when at least ``band_frac`` of its pixels are non-finite or a constant fill, when
    its median luminance is below ``dark_frac`` times the sky level (tested only when the sky is well above
    zero), or (colour images) when its median colour offset from the luminance departs from the tile's by
    more than ``cast_frac`` times ``max(sky, 10 noise sigmas)``. The bands are the runs of bad rows
    (columns) that start at each image edge; rows and columns are evaluated twice, each time on the part
    the other axis keeps.

    Parameters
    ----------
    image : array_like
        ``H x W``, ``H x W x 3`` or ``3 x H x W``; NaN-safe (non-finite pixels count as bad).
    dark_frac : float
        Darkness threshold as a fraction of the sky level.
    band_frac : float
        Fraction of bad pixels that makes a row or column bad.
    cast_frac : float
        Colour-cast threshold, fraction of the brightness scale.
    min_crop_frac : float
        Crops that would remove less than this fraction of the area are not worth it: None.
    min_keep_frac : float
        Crops that would keep less than this fraction of the area are not sensible: None (logged).
    valid : array_like of bool, optional
        ``H x W``, True where the tile holds data (e.g. its coverage is > 0). Pixels outside it are not judged:
        a line's bad fraction and medians are taken over its valid pixels, and a line without any is bad. The
        corners of a master tile whose canvas covers a rotated group hold no data by design; without ``valid``
        they would count as non-finite (bad) pixels. None: every pixel is judged.

    Returns
    -------
    tuple of int or None
        ``(y0, x0, y1, x1)`` with ``y1`` and ``x1`` exclusive, or None when no crop is warranted.

    Raises
    ------
    ValueError
        Unsupported image layout.
    """
    arr = np.asarray(image)
    layout = image_layout(arr)
    planes = _colour_planes(arr, layout)
    lum = _luminance(arr, layout)
    stats = _SkyStats.of(lum)
    bad_pix = _fill_or_invalid(lum, stats)
    nodata = None
    if valid is not None:
        nodata = ~np.asarray(valid, dtype=bool)
        if nodata.shape != lum.shape:
            raise ValueError(f"valid mask shape {nodata.shape} does not match the image plane {lum.shape}")
        bad_pix &= ~nodata
    y0, x0, y1, x1 = _band_rect(lum, bad_pix, planes, stats, (dark_frac, band_frac, cast_frac), nodata)
    h, w = lum.shape
    kept = max(y1 - y0, 0) * max(x1 - x0, 0) / float(h * w)
    if kept < min_keep_frac:
        logger.warning("quality crop would keep only %.1f%% of the tile: not applied", 100.0 * kept)
        return None
    if kept > 1.0 - min_crop_frac:
        return None
    return (int(y0), int(x0), int(y1), int(x1))


def edge_trim_rect(alpha: np.ndarray, valid_frac: float, *,
                   max_trim_frac: float = 0.45) -> tuple[int, int, int, int] | None:
    """Rect ``(y0, x0, y1, x1)`` after peeling edge rows/columns whose fraction of alpha > 0 is below
    ``valid_frac``; None when nothing is peeled. Guard: never more than ``max_trim_frac`` of either
    axis in total, so a tile never collapses.
    """
    valid = alpha > 0
    row_frac, col_frac = valid.mean(axis=1), valid.mean(axis=0)
    y0, y1 = _peel(row_frac, valid_frac, max_trim_frac)
    x0, x1 = _peel(col_frac, valid_frac, max_trim_frac)
    if (y0, x0, y1, x1) == (0, 0, alpha.shape[0], alpha.shape[1]):
        return None
    return y0, x0, y1, x1


def _peel(frac: np.ndarray, valid_frac: float, max_trim_frac: float) -> tuple[int, int]:
    n = len(frac)
    good = np.flatnonzero(frac >= valid_frac)
    if len(good) == 0:
        return 0, n
    lo, hi = int(good[0]), int(good[-1]) + 1
    budget = int(max_trim_frac * n)
    if lo + (n - hi) > budget:
        scale = budget / max(lo + (n - hi), 1)
        lo, hi = int(lo * scale), n - int((n - hi) * scale)
    return lo, hi


# ----------------------------------------------------------------------------------------------------------
# parameters and layout


def _plane_shape(image) -> tuple[int, int]:
    shape = np.shape(image)
    layout = image_layout(shape)
    return {"mono": shape, "hwc": shape[:2], "chw": shape[1:]}[layout]


def _resolve_thresholds(min_coverage_abs, min_coverage_frac, morph_open_px) -> tuple[float, float, int]:
    abs_thr = MIN_COVERAGE_ABS_DEFAULT if min_coverage_abs is None else float(min_coverage_abs)
    frac_thr = MIN_COVERAGE_FRAC_DEFAULT if min_coverage_frac is None else float(min_coverage_frac)
    open_px = MORPH_OPEN_PX_DEFAULT if morph_open_px is None else morph_open_px
    if not np.isfinite(abs_thr) or abs_thr < 0:
        raise ValueError(f"min_coverage_abs must be finite and >= 0, got {min_coverage_abs!r}")
    if not 0.0 <= frac_thr <= 1.0:
        raise ValueError(f"min_coverage_frac must be in [0, 1], got {min_coverage_frac!r}")
    if int(open_px) != open_px or open_px < 0:
        raise ValueError(f"morph_open_px must be a non-negative integer, got {morph_open_px!r}")
    return abs_thr, frac_thr, int(open_px)


def _check_feather_params(margin_percent, decay_ratio) -> None:
    if not 0.0 <= margin_percent <= 100.0:
        raise ValueError(f"margin_percent must be in [0, 100], got {margin_percent!r}")
    if not decay_ratio >= 0.0 or not np.isfinite(decay_ratio):
        raise ValueError(f"decay_ratio must be finite and >= 0, got {decay_ratio!r}")


def _colour_planes(arr: np.ndarray, layout: str) -> list[np.ndarray]:
    if layout == "mono":
        return []
    if layout == "hwc":
        return [arr[..., c] for c in range(3)]
    return [arr[c] for c in range(3)]


def _luminance(arr: np.ndarray, layout: str) -> np.ndarray:
    """Mean of the channels as float32 ``H x W``; NaN where any channel is non-finite."""
    if layout == "mono":
        lum = np.array(arr, dtype=np.float32, copy=True)
    else:
        lum = np.mean(arr, axis=-1 if layout == "hwc" else 0, dtype=np.float32)
    lum[~np.isfinite(lum)] = np.nan
    return lum


def _apply_alpha(image: np.ndarray, channel_axis: int | None, alpha: np.ndarray, fill_value,
                 hard_threshold) -> np.ndarray:
    """Multiply ``image`` (a float32 array owned by the caller) by alpha in place and, unless
    ``fill_value`` is None, fill the pixels whose alpha is at or below ``hard_threshold``."""
    expand = {None: alpha, 2: alpha[:, :, None], 0: alpha[None, :, :]}[channel_axis]
    image *= expand
    if fill_value is not None:
        masked = np.broadcast_to(expand <= hard_threshold, image.shape)
        np.copyto(image, np.float32(fill_value), where=masked)
    return image


def _kept(alpha: np.ndarray) -> float:
    return float(np.count_nonzero(alpha > 0)) / alpha.size


# ----------------------------------------------------------------------------------------------------------
# coverage path


def _usable_coverage(coverage, shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """Return ``(coverage as float32, None)`` or ``(None, reason)``; never resizes."""
    decision = coverage_unusable(coverage, shape)
    if decision is not None:
        return None, decision.reason
    return np.asarray(coverage).astype(np.float32, copy=False), None


def coverage_unusable(coverage, shape: tuple[int, int]) -> CoverageDecision | None:
    """The `CoverageDecision` that refuses ``coverage`` for an image plane of ``shape``, or None if it is usable
    (numeric, exactly ``shape`` -- never resized --, all finite, maximum > 0)."""
    cov = np.asarray(coverage)
    if cov.dtype.kind not in "biuf":
        return CoverageDecision.not_used("not_numeric", f"dtype {cov.dtype}")
    if cov.shape != tuple(shape):
        return CoverageDecision.not_used("shape_mismatch", f"{_hxw(cov.shape)} vs {_hxw(shape)}")
    n_bad = cov.size - int(np.count_nonzero(np.isfinite(cov)))
    if n_bad:
        return CoverageDecision.not_used("non_finite", f"{n_bad} non-finite values")
    max_cov = float(np.max(cov)) if cov.size else 0.0
    if not max_cov > 0:
        return CoverageDecision.not_used("empty", f"max {max_cov:g} <= 0")
    return None


def _hxw(shape) -> str:
    return "x".join(str(int(n)) for n in shape)


def _coverage_support(cov: np.ndarray, thr: float, open_px: int) -> np.ndarray:
    """Thresholded, opened, de-speckled and hole-filled support of the coverage (bool ``H x W``)."""
    support = cov >= thr
    if support.all() or not support.any():
        return support
    support = _open_disk(support, open_px)
    support = _drop_small_components(support)
    return _fill_real_holes(support, cov, thr)


def _open_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary opening by the Euclidean disk ``dy^2 + dx^2 <= radius^2``; pixels outside the image count as inside
    the mask. Eroding keeps the pixels with no excluded pixel within the disk, dilating takes those with a kept one
    within it: both are exact comparisons of squared distances (:func:`_squared_distance_to_false`), the same masks
    as scipy's erosion and dilation by that disk at any radius."""
    if radius <= 0:
        return mask
    eroded = _squared_distance_to_false(mask) > radius * radius
    if not eroded.any():
        return eroded
    return _squared_distance_to_false(~eroded) <= radius * radius


def _distance_to_false(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of each True pixel to the nearest False one (inf when there is none), float32: scipy's
    ``distance_transform_edt``, bit for bit (both are the square root of the exact squared distance)."""
    if mask.all():
        return np.full(mask.shape, np.inf, dtype=np.float32)
    return np.sqrt(_squared_distance_to_false(mask).astype(np.float64)).astype(np.float32)


_NO_FALSE = np.iinfo(np.int64).max // 4  # squared distance of a pixel with no False pixel in reach


def _squared_distance_to_false(mask: np.ndarray) -> np.ndarray:
    """int64 ``(H, W)`` exact squared Euclidean distance of each pixel to the nearest False pixel of ``mask`` (0 on
    the False ones; a huge value when the mask has none): Felzenszwalb and Huttenlocher's two passes, the distance
    down the columns, then the lower envelope of parabolas along the rows, each on the thread pool."""
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    h, w = mask.shape
    column = np.empty((h, w), np.int64)
    out = np.empty((h, w), np.int64)
    if mask.size:
        run_blocks(_nb_column_distances, w, 64, mask, column)
        run_blocks(_nb_row_envelopes, h, 1, column, out)
    return out


@njit(nogil=True, cache=True)
def _nb_column_distances(x0, x1, mask, column):  # pragma: no cover - compiled
    """Columns ``x0:x1``: rows to the nearest False pixel of the same column (``_NO_FALSE`` when none), by a sweep
    down and a sweep up, row by row (the columns of a row are contiguous)."""
    h = mask.shape[0]
    far = _NO_FALSE
    for y in range(h):
        for x in range(x0, x1):
            if not mask[y, x]:
                column[y, x] = 0
            elif y == 0 or column[y - 1, x] >= far:
                column[y, x] = far
            else:
                column[y, x] = column[y - 1, x] + 1
    for y in range(h - 2, -1, -1):
        for x in range(x0, x1):
            below = column[y + 1, x]
            if below < far and below + 1 < column[y, x]:
                column[y, x] = below + 1


@njit(nogil=True, cache=True)
def _nb_row_envelopes(y0, y1, column, out):  # pragma: no cover - compiled
    """Rows ``y0:y1``: ``out[y, x] = min over x' of (x - x')^2 + column[y, x']^2`` (columns without a False pixel
    left out), by the lower envelope of the parabolas rooted at every column. The breakpoints are exact enough in
    float64: two parabolas' integer values at an integer x differ by 2 (q - v)(s - x), so a breakpoint s within less
    than 1 / (2 W) of an integer x is x itself, where both give the same value."""
    w = column.shape[1]
    far = _NO_FALSE
    roots = np.empty(w, np.int64)
    bounds = np.empty(w + 1, np.float64)
    for y in range(y0, y1):
        k = -1
        for q in range(w):
            g = column[y, q]
            if g >= far:
                continue
            fq = g * g + q * q
            while k >= 0:
                v = roots[k]
                gv = column[y, v]
                s = (fq - (gv * gv + v * v)) / (2.0 * (q - v))
                if s <= bounds[k]:
                    k -= 1
                else:
                    break
            if k < 0:
                k = 0
                roots[0] = q
                bounds[0] = -np.inf
            else:
                v = roots[k]
                gv = column[y, v]
                k += 1
                roots[k] = q
                bounds[k] = (fq - (gv * gv + v * v)) / (2.0 * (q - v))
        if k < 0:
            for x in range(w):
                out[y, x] = far
            continue
        j = 0
        for x in range(w):
            while j < k and bounds[j + 1] < x:
                j += 1
            v = roots[j]
            g = column[y, v]
            out[y, x] = (x - v) * (x - v) + g * g


def _drop_small_components(mask: np.ndarray) -> np.ndarray:
    labels, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= _COMPONENT_MIN_FRAC * sizes.max()
    keep[0] = False
    return keep[labels]


def _fill_real_holes(mask: np.ndarray, cov: np.ndarray, thr: float) -> np.ndarray:
    holes = ndi.binary_fill_holes(mask) & ~mask
    if not holes.any():
        return mask
    labels, n = ndi.label(holes)
    mean_cov = np.asarray(ndi.mean(cov, labels, np.arange(1, n + 1)))
    fill = np.concatenate(([False], mean_cov >= _HOLE_FILL_FRAC * thr))
    return mask | fill[labels]


# ----------------------------------------------------------------------------------------------------------
# feather


def _feather(support: np.ndarray, width_px: float, decay_ratio: float) -> np.ndarray:
    """Alpha = 0 off the support, ramp(d / width) inside, 1 beyond ``width_px`` from the excluded pixels."""
    if support.all():
        return np.ones(support.shape, dtype=np.float32)
    if width_px < 1.0 or not support.any():
        return support.astype(np.float32)
    dist = _distance_to_false(support)
    return _ramp(dist / np.float32(width_px), decay_ratio)


def _ramp(t: np.ndarray, decay_ratio: float) -> np.ndarray:
    """Monotone S-curve from exactly 0 at ``t <= 0`` to exactly 1 at ``t >= 1`` (float32)."""
    t = np.clip(t, 0.0, 1.0).astype(np.float32, copy=False)
    if decay_ratio < 1e-6:
        return (t >= 0.5).astype(np.float32)
    scale = np.float32(decay_ratio)
    lo = expit(np.float32(-0.5) / scale)
    hi = expit(np.float32(0.5) / scale)
    out = (expit((t - np.float32(0.5)) / scale) - lo) / (hi - lo)
    out[t <= 0] = 0.0
    out[t >= 1] = 1.0
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


# ----------------------------------------------------------------------------------------------------------
# fallback path


@dataclass(frozen=True)
class _SkyStats:
    """Robust sky level and per-pixel noise sigma of a luminance plane."""

    sky: float
    sigma: float

    @classmethod
    def of(cls, lum: np.ndarray) -> _SkyStats:
        sub = lum[::2]
        diff = (sub[:, 1:] - sub[:, :-1]).ravel()
        diff = diff[np.isfinite(diff) & (diff != 0)]
        sigma = 0.0
        if diff.size:
            sigma = float(diff_noise_sigma(diff))
        vals = lum[::4, ::4]
        flat = _flat_mask(vals, sigma)
        vals = vals[np.isfinite(vals) & ~flat]
        sky = float(np.median(vals)) if vals.size else 0.0
        return cls(sky, sigma)

    def dark_threshold(self, dark_frac: float) -> float:
        """Luminance below which a pixel is dark; -inf when the sky is not clearly above zero."""
        if self.sky > _DARK_MIN_SKY_SIGMA * self.sigma and self.sky > 0:
            return dark_frac * self.sky
        return -np.inf


def _flat_mask(lum: np.ndarray, sigma: float) -> np.ndarray:
    """Pixels lying on a (nearly) constant run of ``_FLAT_RUN_PX`` pixels along a row or a column.

    Runs, not 2-D windows, so that the 1-2 px slivers a small rotation leaves along the edges are found.
    """
    filled = np.where(np.isfinite(lum), lum, np.float32(0.0)).astype(np.float32, copy=False)
    tol = _FLAT_TOL_SIGMA * sigma
    return _flat_runs(filled, tol) | _flat_runs(filled.T, tol).T


def _flat_runs(arr: np.ndarray, tol: float) -> np.ndarray:
    """Pixels on a run of ``_FLAT_RUN_PX`` values within ``tol`` of their neighbours, along the last axis."""
    n, run = arr.shape[-1], _FLAT_RUN_PX
    flat = np.zeros(arr.shape, dtype=bool)
    if n < run:
        return flat
    equal = np.abs(arr[:, 1:] - arr[:, :-1]) <= tol  # pairs (i, i + 1)
    full = equal[:, : n - run + 1].copy()  # window i .. i + run - 1 has all its pairs equal
    for k in range(1, run - 1):
        full &= equal[:, k: n - run + 1 + k]
    for k in range(run):
        flat[:, k: n - run + 1 + k] |= full
    return flat


def _fill_or_invalid(lum: np.ndarray, stats: _SkyStats) -> np.ndarray:
    """Non-finite pixels and constant-fill pixels not brighter than the sky (bool ``H x W``)."""
    with np.errstate(invalid="ignore"):
        fill = _flat_mask(lum, stats.sigma) & (lum <= stats.sky + _FILL_MAX_SIGMA * stats.sigma)
    return fill | ~np.isfinite(lum)


def _artefact_pixels(lum: np.ndarray, stats: _SkyStats, dark_frac: float) -> np.ndarray:
    """Non-finite, constant-fill or dark pixels (bool ``H x W``)."""
    with np.errstate(invalid="ignore"):
        dark = lum < stats.dark_threshold(dark_frac)
    return _fill_or_invalid(lum, stats) | dark


def _border_connected(mask: np.ndarray, min_size: float) -> np.ndarray:
    labels, n = ndi.label(mask)
    if n == 0:
        return mask
    edge = np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1]))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(edge)] = True
    keep &= sizes >= min_size
    keep[0] = False
    return keep[labels]


def _fallback_alpha(lum: np.ndarray, width_px: float, margin_percent: float, decay_ratio: float) -> np.ndarray:
    stats = _SkyStats.of(lum)
    bad = _artefact_pixels(lum, stats, _DARK_FRAC)
    region = _border_connected(bad, _MIN_REGION_FRAC * lum.size)
    if region.all():
        logger.warning("fallback mask: no usable pixel in the tile (constant or empty image)")
    alpha = _feather(~region, width_px, decay_ratio)
    alpha *= _radial_margin(lum.shape, margin_percent, decay_ratio)
    alpha[~np.isfinite(lum)] = 0.0
    return alpha


def _radial_margin(shape: tuple[int, int], margin_percent: float, decay_ratio: float) -> np.ndarray:
    """1 in the field, falling to 0 at the corner pixels over the outer band of the normalised radius."""
    band = min(_RADIAL_BAND_PER_MARGIN * margin_percent / 100.0, 1.0)
    if band <= 0:
        return np.ones(shape, dtype=np.float32)
    h, w = shape
    ry = (np.arange(h, dtype=np.float32) - (h - 1) / 2.0) / max((h - 1) / 2.0, 1.0)
    rx = (np.arange(w, dtype=np.float32) - (w - 1) / 2.0) / max((w - 1) / 2.0, 1.0)
    radius = np.sqrt((ry[:, None] ** 2 + rx[None, :] ** 2) / 2.0)
    return np.float32(1.0) - _ramp((radius - (1.0 - band)) / np.float32(band), decay_ratio)


# ----------------------------------------------------------------------------------------------------------
# quality crop


def _band_rect(lum, bad_pix, planes, stats: _SkyStats, fracs, nodata=None) -> tuple[int, int, int, int]:
    """Peel the bad edge rows and columns, twice each, alternating axes; may return an empty rect."""
    y0, x0, (y1, x1) = 0, 0, lum.shape
    for _ in range(2):
        before = (y0, x0, y1, x1)
        for axis in (1, 0):
            sub = (slice(y0, y1), slice(x0, x1))
            flags = _bad_lines(lum[sub], bad_pix[sub], [p[sub] for p in planes], stats, axis, *fracs,
                               nodata=None if nodata is None else nodata[sub])
            start, end = _edge_runs(flags)
            if axis == 1:
                y0, y1 = y0 + start, y1 - end
            else:
                x0, x1 = x0 + start, x1 - end
            if y1 <= y0 or x1 <= x0:
                return y0, x0, y0, x0
        if (x0, x1) == (before[1], before[3]):
            break  # no column peeled: the rows were evaluated on the final columns already
    return y0, x0, y1, x1


def _bad_lines(lum, bad_pix, planes, stats: _SkyStats, axis: int, dark_frac, band_frac, cast_frac, *,
               nodata=None) -> np.ndarray:
    """Flags of bad rows (``axis=1``: reduce along x) or columns (``axis=0``) of a sub-image.

    Lines are evaluated on every ``_LINE_STRIDE``-th pixel along the reduced axis (exact along the other);
    ``nodata`` pixels (None: none) are left out of every line statistic.
    """
    take = (slice(None), slice(None, None, _LINE_STRIDE)) if axis == 1 else (slice(None, None, _LINE_STRIDE),)
    lum, bad_pix = lum[take], bad_pix[take]
    if nodata is None:
        bad = bad_pix.mean(axis=axis) >= band_frac
        skip = bad_pix
    else:
        nodata = nodata[take]
        n_data = np.count_nonzero(~nodata, axis=axis)
        bad = (np.count_nonzero(bad_pix, axis=axis) >= band_frac * n_data) | (n_data == 0)
        skip = bad_pix | nodata
    med = _line_medians(np.where(skip, np.float32(np.nan), lum), axis)
    with np.errstate(invalid="ignore"):
        bad |= ~np.isfinite(med) | (med < stats.dark_threshold(dark_frac))
        if planes:
            chans = [np.where(skip, np.float32(np.nan), p[take].astype(np.float32)) for p in planes]
            bad |= _cast_lines(chans, med, stats, axis, cast_frac)
    return bad


def _line_medians(arr: np.ndarray, axis: int) -> np.ndarray:
    """Median of the finite values of each line along ``axis`` (NaN for an all-NaN line), vectorised."""
    ordered = np.sort(arr, axis=axis)  # NaN sort last
    count = np.count_nonzero(np.isfinite(arr), axis=axis)
    lo = np.expand_dims(np.maximum((count - 1) // 2, 0), axis)
    hi = np.expand_dims(np.maximum(count // 2, 0), axis)
    lo = np.minimum(lo, arr.shape[axis] - 1)
    hi = np.minimum(hi, arr.shape[axis] - 1)
    med = 0.5 * (np.take_along_axis(ordered, lo, axis) + np.take_along_axis(ordered, hi, axis))
    med = np.squeeze(med, axis=axis)
    med[count == 0] = np.nan
    return med


def _cast_lines(chans, med, stats: _SkyStats, axis: int, cast_frac: float) -> np.ndarray:
    """Lines whose median colour offset from the luminance departs from the tile's typical offset."""
    scale = max(stats.sky, 10.0 * stats.sigma)
    if not scale > 0:
        return np.zeros(med.shape, dtype=bool)
    offsets = np.stack([_line_medians(c, axis) - med for c in chans])
    ref = _line_medians(offsets, 1)[:, None]
    dev = np.max(np.nan_to_num(np.abs(offsets - ref), nan=0.0), axis=0)
    return dev > cast_frac * scale


def _edge_runs(flags: np.ndarray) -> tuple[int, int]:
    """Lengths of the runs of True at the start and at the end of a 1-D bool array."""
    if flags.all():
        return flags.size, 0
    return int(np.argmin(flags)), int(np.argmin(flags[::-1]))
