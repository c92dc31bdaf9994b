"""``lecropper``: the original ZeMosaic's mask module name, kept for the scripts and tests written for it.

This name *is* :mod:`zemosaic.masks` (the same module object, not a copy), so whatever a script sets on
it, ``lecropper.mask_altaz_artifacts = my_masker`` included, is what the master-tile pipeline calls.

Why the same object and not a compatibility module of its own: the mission's contract is that the
pipeline calls *lecropper's* masker (a test replaces it with ``monkeypatch.setattr`` and the
TypeError fallback is exercised that way). A separate module would need the pipeline to look every
function up through it, two places to keep in step. Instead the original's contract for the one
function the mission names, ``mask_altaz_artifacts`` (its signature and defaults, ``fill_value=None``
meaning "no hard fill", ``H x W``, ``H x W x C`` and ``C x H x W`` cubes of any channel count), is
implemented by :func:`zemosaic.masks.mask_altaz_artifacts` itself, where it adds no maths: the alpha
of a cube is the alpha of the mean of its channels, as for RGB. The original's other helpers
(``detect_autocrop_rgb``, ``apply_altaz_cleanup``, its Tk viewer) are not provided; the quality crop
is :func:`zemosaic.masks.detect_quality_crop_rect`.
"""
import sys

from zemosaic import masks as _masks

sys.modules[__name__] = _masks
