"""``lecropper``: the original ZeMosaic's mask module name, kept for the scripts and tests written for it.

This name *is* :mod:`zemosaic.masks` (the same module object, not a copy), so whatever a script sets on
it, ``lecropper.mask_altaz_artifacts = my_masker`` included, is what the master-tile pipeline calls.
"""
import sys

from zemosaic import masks as _masks

sys.modules[__name__] = _masks
