"""Intra-group alignment, one module per job.

* :mod:`~zemosaic.align.group`: :func:`align_images_in_group` (astroalign + FFT fallback, valid masks) and
  :func:`footprint_to_valid_mask`, with their result types.
* :mod:`~zemosaic.align.stars`: star detection and windowed centroids on a luminance plane.
* :mod:`~zemosaic.align.transform`: :class:`SimilarityTransform` and its least-squares refinement on matched stars.
* :mod:`~zemosaic.align.fft`: phase correlation (:func:`phase_correlate`) and the overlap rectangle of a shift.
* :mod:`~zemosaic.align.resample`: the Lanczos-3 warp onto the reference grid.
"""
from zemosaic.align.fft import FftShift, fft_overlap_rect, phase_correlate
from zemosaic.align.group import (
    DEFAULT_FFT_MIN_CONFIDENCE,
    AlignedFrame,
    ValidMaskResult,
    align_images_in_group,
    footprint_to_valid_mask,
)
from zemosaic.align.transform import SimilarityTransform

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
