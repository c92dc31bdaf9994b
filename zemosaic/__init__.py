"""ZeMosaic: mosaics of smart-telescope sub-frames with overlap-aware coverage masks.

The package is split by capability; each sub-package or module holds one job:

``zemosaic.io``         FITS/WCS reading and writing, debayering, atomic writes, the PNG preview
``zemosaic.align``      star detection, registration of a group of frames (astroalign + FFT fallback)
``zemosaic.stack``      the mask-aware stacker (CPU numba kernels and the CuPy twin), frame cache, coverage
``zemosaic.masks``      lecropper's mask maths: coverage-driven alpha, fallbacks, quality crop, edge trim
``zemosaic.background`` sky-background surfaces: frame-to-reference matching, flattening
``zemosaic.mosaic``     global grid, tile overlaps and photometric harmony, co-addition, seams, outputs
``zemosaic.pipeline``   the run: scan, clustering, master tiles, phases, run report
``zemosaic.synthetic``  the Seestar-like synthetic data generator
``zemosaic.config``     the typed, validated run configuration
``zemosaic.cli``        the ``zemosaic`` command

The original ZeMosaic's module names stay importable at the top level as thin seams over this
package: ``zemosaic_worker``, ``zemosaic_align_stack``, ``zemosaic_align_stack_gpu`` and ``lecropper``.
"""
from __future__ import annotations

from zemosaic import _numba_cache

__all__ = ["__version__"]

_numba_cache.ensure_cache_dir()  # before any kernel is defined: a cache folder even with site-packages read-only

__version__ = "0.1.0"
