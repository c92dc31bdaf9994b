"""``zemosaic_align_stack``: the original ZeMosaic's align-and-stack module, as its callers use it.

The functions here keep the original's signatures, defaults and return types (positional options,
tuples and bare arrays); each calls the package's own function and adapts the call and the result,
adding no maths. Our richer API, with result objects, lives in :mod:`zemosaic.align`
(:func:`zemosaic.align.align_images_in_group` returns :class:`AlignedFrame` objects) and
:mod:`zemosaic.stack.cpu` (keyword-only :func:`~zemosaic.stack.cpu.stack_aligned_images` returns a
:class:`StackResult`); the pipeline uses those.

What the original's callers get
-------------------------------
- :func:`align_images_in_group` -> ``(aligned, failed_indices)``: one float32 array per input (None for
  a frame that could not be aligned), with NaN outside the frame's footprint when
  ``propagate_mask=True`` (so ``np.all(np.isfinite(img), axis=-1)`` is its coverage) and a finite fill
  there otherwise.
- :func:`stack_aligned_images` -> a float32 array (None when no frame is usable). None entries are
  skipped and frames whose shape differs from the first are left out with a warning, as in the
  original; NaN pixels are *missing* and excluded from every statistic (the original replaced them
  by 0.0). Where no frame has data the result is NaN, not 0.0.
- :func:`stack_winsorized_sigma_clip` and :func:`stack_kappa_sigma_clip` -> ``(image, rejected_pct)``
  with ``rejected_pct`` in percent of the valid samples.

The original's method names are translated (``sky_mean`` -> ``additive``, ``noise_fwhm`` ->
``noise_variance``, logged); its GPU, worker and memory-planning arguments (``zconfig``,
``parallel_plan``, ``winsor_max_workers``...) are accepted and have no effect, except that a
``zconfig`` asking for a GPU stack (``stack_use_gpu`` / ``use_gpu_stack`` / ``use_gpu``) runs the CuPy
twin, which falls back to the CPU by itself. Options that would change the result and that we do not
have (``apply_radial_weight=True``, ``minimum_signal_adu_target > 0``, custom ``weights``) raise
NotImplementedError rather than being silently dropped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zemosaic import compat as _compat
from zemosaic.align import group as _align
from zemosaic.align.group import AlignedFrame, footprint_to_valid_mask
from zemosaic.progress import ProgressEvent
from zemosaic.stack import cpu as _cpu
from zemosaic.stack.coverage import CoverageAccumulator, CoverageShapeError, CoverageStats
from zemosaic.stack.cpu import StackResult

__all__ = [
    "align_images_in_group",
    "stack_aligned_images",
    "stack_winsorized_sigma_clip",
    "stack_kappa_sigma_clip",
    "AlignedFrame",
    "footprint_to_valid_mask",
    "StackResult",
    "CoverageAccumulator",
    "CoverageStats",
    "CoverageShapeError",
]

log = logging.getLogger(__name__)

_DEFAULT_WINSOR_LIMITS = (0.05, 0.05)
# The original's resource and memory-planning options of its two clip stackers: accepted, no effect here
# (chunking and memory are automatic). progress_callback is honoured; kappa/sigma/winsor_limits are options.
NO_EFFECT_STACK_OPTIONS = frozenset({
    "winsor_max_workers", "rows_per_chunk", "apply_rewinsor", "winsor_max_iters", "winsor_max_frames_per_pass",
    "winsor_min_frames_per_pass", "winsor_auto_fallback_on_memory_error", "winsor_memmap_fallback",
    "winsor_split_strategy"})
_NO_EFFECT_KWARGS = NO_EFFECT_STACK_OPTIONS | {"progress_callback"}


def align_images_in_group(image_data_list: Sequence[np.ndarray | None],
                          reference_image_index: int = 0,
                          detection_sigma: float = 3.0,
                          min_area: int = 5,
                          propagate_mask: bool = False,
                          progress_callback: Callable | None = None) -> tuple[list[np.ndarray | None], list[int]]:
    """Align a group of frames on one of them; the original's call and return (module docstring).

    Parameters
    ----------
    image_data_list : sequence of numpy.ndarray or None
        Frames, ``H x W`` or ``H x W x C`` (HWC).
    reference_image_index : int
        The frame the others are aligned on.
    detection_sigma, min_area
        Star detection threshold (sigma) and minimum star area (px).
    propagate_mask : bool
        Write NaN outside each frame's footprint (the pixels it has no data for).
    progress_callback : callable, optional
        The original's callback ``callback(message, progress, level)``.

    Returns
    -------
    aligned : list of (numpy.ndarray or None)
        float32 copies in the reference's grid, input order; None for a frame that failed.
    failed : list of int
        Indices of the None entries of ``aligned``.
    """
    n = len(image_data_list)
    if n == 0 or not 0 <= reference_image_index < n or image_data_list[reference_image_index] is None:
        log.warning("align_images_in_group: no usable reference frame (index %s of %d)", reference_image_index, n)
        return [None] * n, list(range(n))
    frames = _align.align_images_in_group(image_data_list, reference_image_index,
                                          detection_sigma=detection_sigma, min_area=min_area,
                                          propagate_mask=propagate_mask,
                                          progress_callback=_event_adapter(progress_callback))
    aligned = [_original_image(f, propagate_mask) for f in frames]
    return aligned, [i for i, img in enumerate(aligned) if img is None]


def stack_aligned_images(aligned_image_data_list: Sequence[np.ndarray | None],
                         normalize_method: str = "none",
                         weighting_method: str = "none",
                         rejection_algorithm: str = "kappa_sigma",
                         final_combine_method: str = "mean",
                         sigma_clip_low: float = 3.0,
                         sigma_clip_high: float = 3.0,
                         winsor_limits: tuple[float, float] | None = _DEFAULT_WINSOR_LIMITS,
                         minimum_signal_adu_target: float = 0.0,
                         apply_radial_weight: bool = False,
                         radial_feather_fraction: float = 0.8,
                         radial_shape_power: float = 2.0,
                         winsor_max_workers: int = 1,
                         progress_callback: Callable | None = None,
                         zconfig: Any = None,
                         stack_metadata: dict | None = None,
                         parallel_plan: Any = None) -> np.ndarray | None:
    """Stack aligned frames; the original's call, defaults and bare-array return (module docstring).

    ``normalize_method`` takes the original's names (``none``, ``linear_fit``, ``sky_mean``) or ours;
    ``winsor_limits=None`` means the default ``(0.05, 0.05)``. ``radial_feather_fraction``,
    ``radial_shape_power``, ``winsor_max_workers``, ``stack_metadata`` and ``parallel_plan`` have no
    effect.

    Returns
    -------
    numpy.ndarray or None
        float32 ``H x W`` or ``H x W x C``; NaN where no frame has data. None when no frame is usable.

    Raises
    ------
    NotImplementedError
        ``apply_radial_weight=True`` or ``minimum_signal_adu_target > 0``.
    ValueError
        An unknown method name or an out-of-range option.
    """
    if apply_radial_weight:
        raise NotImplementedError("apply_radial_weight=True: radial weighting is not supported; alpha masks "
                                  "(lecropper) weight the tile borders instead")
    if minimum_signal_adu_target > 0:
        raise NotImplementedError("minimum_signal_adu_target > 0 is not supported (no output offset is applied)")
    frames = _usable_frames(aligned_image_data_list)
    if not frames:
        log.warning("stack_aligned_images: no usable frame")
        return None
    normalize, weighting = _compat.stack_method_names(normalize_method, weighting_method)
    result = _stacker(zconfig)(frames, normalize_method=normalize, weighting_method=weighting,
                               rejection_algorithm=rejection_algorithm, final_combine_method=final_combine_method,
                               sigma_clip_low=sigma_clip_low, sigma_clip_high=sigma_clip_high,
                               winsor_limits=_winsor(winsor_limits),
                               progress_callback=_event_adapter(progress_callback))
    return np.asarray(result.image, dtype=np.float32)


def stack_winsorized_sigma_clip(frames: Sequence[np.ndarray], weights: Any = None, weight_method: str = "none",
                                zconfig: Any = None, stack_metadata: dict | None = None, parallel_plan: Any = None,
                                **kwargs: Any) -> tuple[np.ndarray, float]:
    """Winsorized sigma-clip mean of aligned frames; the original's call and ``(image, rejected_pct)`` return.

    Keyword options: ``sigma_low`` / ``sigma_high`` (default ``kappa``, default 3.0), ``winsor_limits``
    (None or absent: ``(0.05, 0.05)``), ``progress_callback``; the original's resource options are
    accepted without effect. No normalisation, as in the original.

    Raises
    ------
    NotImplementedError
        Custom ``weights`` (per-frame weights come from ``weight_method``).
    TypeError
        An option the original does not have either.
    ValueError
        No frames, or an out-of-range option.
    """
    return _clip_stack("winsorized_sigma_clip", frames, weights, weight_method, zconfig, kwargs)


def stack_kappa_sigma_clip(frames: Sequence[np.ndarray], weight_method: str = "none", zconfig: Any = None,
                           stack_metadata: dict | None = None, parallel_plan: Any = None,
                           **kwargs: Any) -> tuple[np.ndarray, float]:
    """Kappa-sigma-clip mean of aligned frames; the original's call and ``(image, rejected_pct)`` return.

    Keyword options: ``sigma_low`` / ``sigma_high`` (default ``kappa``, default 3.0), ``progress_callback``;
    the original's resource options are accepted without effect. No normalisation, as in the original.

    Raises
    ------
    TypeError
        An option the original does not have either.
    ValueError
        No frames, or an out-of-range option.
    """
    return _clip_stack("kappa_sigma", frames, None, weight_method, zconfig, kwargs)


# ----------------------------------------------------------------------------------------------------------
# adapters


def _original_image(frame: AlignedFrame, propagate_mask: bool) -> np.ndarray | None:
    if not frame.ok or frame.image is None:
        return None
    image = np.array(frame.image, dtype=np.float32, copy=True)
    if propagate_mask and frame.valid is not None:
        image[~frame.valid] = np.nan
    return image


def _event_adapter(callback: Callable | None) -> Callable[[ProgressEvent], None] | None:
    """Our progress events as the original's ``callback(message, progress_percent, level)`` calls."""
    if callback is None:
        return None

    def relay(event: ProgressEvent) -> None:
        callback(event.message or event.phase, 100.0 * event.fraction, "INFO_DETAIL")
    return relay


def _usable_frames(frames: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """The non-None frames of the first frame's shape (the others left out with a warning)."""
    present = [f for f in frames if f is not None]
    if not present:
        return []
    shape = np.shape(present[0])
    kept = [f for f in present if np.shape(f) == shape]
    if len(kept) < len(present):
        log.warning("stack: %d frame(s) whose shape differs from %s left out", len(present) - len(kept), shape)
    return kept


def _winsor(limits: tuple[float, float] | None) -> tuple[float, float]:
    return _DEFAULT_WINSOR_LIMITS if limits is None else (float(limits[0]), float(limits[1]))


def _stacker(zconfig: Any) -> Callable[..., StackResult]:
    """Our CPU stacker, or its CuPy twin when the original's ``zconfig`` asks for a GPU stack."""
    wants_gpu = zconfig is not None and bool(getattr(zconfig, "stack_use_gpu", getattr(
        zconfig, "use_gpu_stack", getattr(zconfig, "use_gpu", False))))
    if wants_gpu:
        from zemosaic.stack.gpu import stack_aligned_images_gpu
        return stack_aligned_images_gpu
    return _cpu.stack_aligned_images


def _clip_stack(rejection: str, frames, weights, weight_method: str, zconfig: Any,
                kwargs: dict[str, Any]) -> tuple[np.ndarray, float]:
    if weights is not None:
        raise NotImplementedError("custom weights are not supported: use weight_method='noise_variance' or 'none'")
    unknown = set(kwargs) - _NO_EFFECT_KWARGS - {"kappa", "sigma_low", "sigma_high", "winsor_limits"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    usable = _usable_frames(list(frames))
    if not usable:
        raise ValueError("frames is empty")
    kappa = float(kwargs.get("kappa", 3.0))
    _, weighting = _compat.stack_method_names("none", weight_method)
    result = _stacker(zconfig)(usable, normalize_method="none", weighting_method=weighting,
                               rejection_algorithm=rejection, final_combine_method="mean",
                               sigma_clip_low=float(kwargs.get("sigma_low", kappa)),
                               sigma_clip_high=float(kwargs.get("sigma_high", kappa)),
                               winsor_limits=_winsor(kwargs.get("winsor_limits")),
                               progress_callback=_event_adapter(kwargs.get("progress_callback")))
    return np.asarray(result.image, dtype=np.float32), 100.0 * float(result.rejected_fraction)
