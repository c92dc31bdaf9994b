"""ZeMosaic: mosaics of smart-telescope sub-frames with overlap-aware coverage masks.

The front door: the names a user needs, importable from ``zemosaic`` and each loaded on first use (``import
zemosaic`` stays fast: it loads none of the package's parts, nor astropy or numba)::

    import zemosaic

    cfg = zemosaic.resolve_config(overrides=["altaz_min_coverage_frac=0.5"])
    result = zemosaic.run_mosaic("frames/", "out/", cfg)      # a folder of FITS frames -> OUT/mosaic.fits ...
    products = zemosaic.mosaic_from_frames(frames, cfg)      # frames in memory -> CCDData mosaic

=============================  ======================================================================================
``run_mosaic``                 build the mosaic of a folder of frames (:func:`zemosaic.pipeline.run.run_mosaic`)
``mosaic_from_frames``         the same from frames in memory (:func:`zemosaic.pipeline.in_memory.mosaic_from_frames`)
``inspect``                    every frame's quality measures and the gate's decision, nothing stacked
                               (:func:`zemosaic.pipeline.inspect.inspect_frames`, ``zemosaic inspect``)
``ZeMosaicConfig``             the typed, validated settings of a run (:class:`zemosaic.config.ZeMosaicConfig`)
``resolve_config``             settings from defaults, a JSON file and ``key=value`` overrides
``RunResult``                  where a finished run put its outputs
``InMemoryFrame``              a raw frame in memory (data + header or WCS)
``MosaicProducts``             what ``mosaic_from_frames`` returns (CCDData mosaic, weight, master tiles)
``ConfigError``                a setting with a bad name or value (the message names the key)
``NothingUsableError``         nothing in the input could become a mosaic
``MosaicRefusedError``         the mosaic would be absurd (memory estimate, mostly empty)
=============================  ======================================================================================

The package is split by capability; each sub-package or module holds one job:

``zemosaic.io``         FITS/WCS reading and writing, headers, debayering, atomic writes
``zemosaic.align``      star detection, registration of a group of frames (astroalign + FFT fallback)
``zemosaic.stack``      the mask-aware stacker (CPU numba kernels and the CuPy twin), frame cache, coverage
``zemosaic.masks``      lecropper's mask maths: coverage-driven alpha, fallbacks, quality crop, edge trim
``zemosaic.background`` sky-background surfaces: frame-to-reference matching, flattening
``zemosaic.mosaic``     global grid, tile overlaps and photometric harmony, co-addition, seams, outputs, preview
``zemosaic.pipeline``   the run: scan, plate solving, clustering, master tiles, phases, run report
``zemosaic.solve``      local plate solvers, hints, solution cache
``zemosaic.synthetic``  the Seestar-like synthetic data generator
``zemosaic.config``     the typed, validated run configuration
``zemosaic.cli``        the ``zemosaic`` command; ``zemosaic.gui`` the desktop window

The original ZeMosaic's module names stay importable at the top level as thin seams over this
package: ``zemosaic_worker``, ``zemosaic_align_stack``, ``zemosaic_align_stack_gpu`` and ``lecropper``.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zemosaic import _numba_cache
from zemosaic._version import __version__

if TYPE_CHECKING:  # the same names for type checkers and editors; at run time __getattr__ imports them
    from zemosaic.config import ConfigError, ZeMosaicConfig, resolve_config
    from zemosaic.pipeline.in_memory import InMemoryFrame, MosaicProducts, mosaic_from_frames
    from zemosaic.pipeline.inspect import inspect_frames as inspect
    from zemosaic.pipeline.mosaic_phases import MosaicRefusedError
    from zemosaic.pipeline.run import NothingUsableError, RunResult, run_mosaic

# name -> the module that defines it (and the name there when it differs), imported on first use (PEP 562)
_FRONT_DOOR: dict[str, str | tuple[str, str]] = {
    "inspect": ("zemosaic.pipeline.inspect", "inspect_frames"),
    "run_mosaic": "zemosaic.pipeline.run",
    "RunResult": "zemosaic.pipeline.run",
    "NothingUsableError": "zemosaic.pipeline.run",
    "MosaicRefusedError": "zemosaic.pipeline.mosaic_phases",
    "mosaic_from_frames": "zemosaic.pipeline.in_memory",
    "InMemoryFrame": "zemosaic.pipeline.in_memory",
    "MosaicProducts": "zemosaic.pipeline.in_memory",
    "ZeMosaicConfig": "zemosaic.config",
    "resolve_config": "zemosaic.config",
    "ConfigError": "zemosaic.config",
}

__all__ = ["__version__", "run_mosaic", "RunResult", "NothingUsableError", "MosaicRefusedError", "mosaic_from_frames",
           "InMemoryFrame", "MosaicProducts", "ZeMosaicConfig", "resolve_config", "ConfigError", "inspect"]

_numba_cache.ensure_cache_dir()  # before any kernel is defined: a cache folder even with site-packages read-only
_numba_cache.drop_stale_kernels()  # a kernel cached before a shared kernel module was edited is compiled again


def __getattr__(name: str) -> Any:
    """The front door's names, each imported from its module on first use (then kept here)."""
    where = _FRONT_DOOR.get(name)
    if where is None:
        raise AttributeError(f"module 'zemosaic' has no attribute {name!r}")
    module, attribute = (where, name) if isinstance(where, str) else where
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FRONT_DOOR))
