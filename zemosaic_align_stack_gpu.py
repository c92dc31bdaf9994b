"""``zemosaic_align_stack_gpu``: the original ZeMosaic's GPU stacker module name, kept for its callers.

This name *is* :mod:`zemosaic.stack.gpu` (the same module object), the CuPy twin of the stacker with
its CPU fallback.
"""
import sys

from zemosaic.stack import gpu as _gpu

sys.modules[__name__] = _gpu
