"""``zemosaic_align_stack``: the original ZeMosaic's align-and-stack module name, kept for its callers.

A thin seam over the package: the functions and classes below are the package's own objects.
"""
from zemosaic.align.group import AlignedFrame, align_images_in_group, footprint_to_valid_mask
from zemosaic.stack.coverage import CoverageAccumulator, CoverageShapeError, CoverageStats
from zemosaic.stack.cpu import StackResult, stack_aligned_images

__all__ = [
    "AlignedFrame",
    "align_images_in_group",
    "footprint_to_valid_mask",
    "StackResult",
    "stack_aligned_images",
    "CoverageAccumulator",
    "CoverageStats",
    "CoverageShapeError",
]
