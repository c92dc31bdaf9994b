"""``zemosaic_worker``: the original ZeMosaic's worker module, as its scripts and tests use it.

A thin seam over :mod:`zemosaic.pipeline`. The mission's hand-off points keep their names and
signatures: ``run_mosaic``, ``create_master_tile`` and ``_apply_lecropper_pipeline(arr, cfg)`` (new
parameters keyword-only and optional). Two things here speak the original's language:

- :func:`_apply_lecropper_pipeline` also takes the original's ``cfg`` dict (its keys translated by
  :mod:`zemosaic.compat`, the others logged once and ignored) with the original's contract: None or an
  empty cfg cleans nothing, ``quality_crop_enabled`` crops the tile (and its coverage) first, and the
  edge cases (not an array, an empty array, a layout the masker refuses, an alpha that would black out
  the tile) return ``(arr, None)``. With our :class:`~zemosaic.config.ZeMosaicConfig` it is exactly
  the pipeline's function.
- ``python -m zemosaic_worker INPUT OUTPUT [--config CFG.json]`` (or ``python zemosaic_worker.py ...``)
  is the original's headless entry: its config JSON is translated the same way and the ignored keys
  are listed once in the run's log (``OUTPUT/zemosaic.log``). The outputs are ours (``mosaic.fits``,
  ``master_tiles/``, ``run_report.json``...); like the original it writes into an existing output folder.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic import compat as _compat
from zemosaic import masks as _masks
from zemosaic.config import ConfigError, ZeMosaicConfig, read_config_json, resolve_config
from zemosaic.masks import edge_trim_rect
from zemosaic.pipeline import master_tile as _master_tile
from zemosaic.pipeline.master_tile import (
    MasterTileResult,
    ScannedFrame,
    create_master_tile,
    crop_wcs,
    resolve_cleanup,
)
from zemosaic.pipeline.run import (
    MosaicRefusedError,
    NothingUsableError,
    RunFolderError,
    RunInterrupted,
    RunResult,
    prepare_output_folder,
    run_mosaic,
    scan_input_folder,
)

__all__ = [
    "NothingUsableError",
    "RunFolderError",
    "RunResult",
    "MasterTileResult",
    "ScannedFrame",
    "run_mosaic",
    "prepare_output_folder",
    "scan_input_folder",
    "create_master_tile",
    "resolve_cleanup",
    "edge_trim_rect",
    "crop_wcs",
    "_apply_lecropper_pipeline",
    "main",
]

log = logging.getLogger(__name__)

_NONZERO_GUARD_DEFAULT = 0.10  # the original's altaz_min_nonzero_frac_guard
_IGNORED_CLI_OPTIONS = ("coadd_use_memmap", "coadd_memmap_dir", "no_auto_limit_frames", "assembly_process_workers",
                        "winsor_workers", "solver_settings")


def _apply_lecropper_pipeline(
    arr: np.ndarray | None,
    cfg: ZeMosaicConfig | Mapping[str, Any] | None,
    *,
    coverage: np.ndarray | None = None,
    altaz_min_coverage_abs: float | None = None,
    altaz_min_coverage_frac: float | None = None,
    altaz_morph_open_px: int | None = None,
    tile_id: int | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Quality crop and Alt-Az cleanup of a master tile; return ``(out, alpha_mask)`` (module docstring).

    Parameters
    ----------
    arr : numpy.ndarray or None
        The stacked tile, ``H x W`` or a cube of channels.
    cfg : ZeMosaicConfig, mapping or None
        Our configuration (the pipeline's call: :func:`zemosaic.pipeline.master_tile._apply_lecropper_pipeline`
        unchanged), or the original's cfg dict; None or empty: nothing to do.
    coverage, altaz_min_coverage_abs, altaz_min_coverage_frac, altaz_morph_open_px, tile_id
        As in the pipeline's function.

    Returns
    -------
    out : numpy.ndarray or None
        The (cropped) tile, NaN where the alpha is at or below ``altaz_nanize_threshold``, never
        multiplied by the alpha; ``arr`` itself when nothing was done.
    alpha_mask : numpy.ndarray or None
        float32 ``H x W`` in [0, 1], or None when the cleanup did not run.

    Raises
    ------
    zemosaic.config.ConfigError
        A value of a known key that cannot be used.
    """
    kwargs: dict[str, Any] = dict(coverage=coverage, altaz_min_coverage_abs=altaz_min_coverage_abs,
                                  altaz_min_coverage_frac=altaz_min_coverage_frac,
                                  altaz_morph_open_px=altaz_morph_open_px, tile_id=tile_id)
    if not isinstance(arr, np.ndarray) or arr.size == 0:
        return arr, None
    if isinstance(cfg, ZeMosaicConfig):
        return _master_tile._apply_lecropper_pipeline(arr, cfg, **kwargs)
    if not cfg:
        return arr, None
    config = _compat.config_from_original(cfg, defaults=_compat.ORIGINAL_LECROPPER_DEFAULTS)
    try:
        if config.quality_crop_enabled:
            arr, kwargs["coverage"] = _quality_crop(arr, coverage, tile_id)
        if config.altaz_cleanup_enabled == "false":
            return arr, None
        out, alpha = _master_tile._apply_lecropper_pipeline(arr, config, **kwargs)
    except ValueError as exc:  # the original's contract: a tile the masker cannot take comes back untouched
        log.warning("MT_PIPELINE tile_id=%s lecropper pipeline skipped: %s", tile_id, exc)
        return arr, None
    guard = float(cfg.get("altaz_min_nonzero_frac_guard", _NONZERO_GUARD_DEFAULT))
    kept = float(np.count_nonzero(alpha > 0)) / alpha.size if alpha is not None else 1.0
    if alpha is not None and kept < guard:
        log.warning("MT_PIPELINE tile_id=%s alpha kept only %.4f of the tile (< altaz_min_nonzero_frac_guard=%.3f): "
                    "tile returned unmasked, without alpha", tile_id, kept, guard)
        return arr, None
    return out, alpha


def main(argv: Sequence[str] | None = None) -> int:
    """The original's headless entry: ``zemosaic_worker INPUT OUTPUT [--config CFG.json]``; the exit code.

    0: mosaic written; 1: nothing usable in INPUT; 2: bad arguments, configuration or folders; 3: a
    file-system error (disk full...); 4: mosaic refused (absurd size); 130/143: interrupted by SIGINT/SIGTERM.
    Every failure is one line on stderr.
    """
    args = _parser().parse_args(argv)
    try:
        original = _read_original_config(args.config)
        if args.max_raw_per_master_tile is not None:
            original["max_raw_per_master_tile"] = args.max_raw_per_master_tile
        translation = _compat.translate_original_config(original)
        cfg = resolve_config(base=translation.values)
    except ConfigError as exc:
        print(f"zemosaic_worker: error: {exc}", file=sys.stderr)
        return 2
    ignored_options = [f"--{name}" for name in _IGNORED_CLI_OPTIONS if getattr(args, name) not in (None, False)]
    translation = _compat.Translation(translation.values, translation.ignored + tuple(ignored_options),
                                      translation.notes)
    if translation.ignored:
        print(f"zemosaic_worker: {len(translation.ignored)} setting(s) of the original ignored (listed in "
              f"{Path(args.output_folder) / 'zemosaic.log'})", file=sys.stderr)
    return _run(Path(args.input_folder), Path(args.output_folder), cfg, translation)


# ----------------------------------------------------------------------------------------------------------
# helpers


def _quality_crop(arr: np.ndarray, coverage, tile_id) -> tuple[np.ndarray, Any]:
    """Crop the tile (and a coverage of its H x W) to the quality-crop rectangle, as the original does here."""
    channel_axis = _masks.masker_layout(arr.shape)
    plane = arr if channel_axis is None or arr.shape[channel_axis] == 3 else np.mean(arr, axis=channel_axis)
    rect = _masks.detect_quality_crop_rect(plane)
    if rect is None:
        return arr, coverage
    y0, x0, y1, x1 = rect
    hw = arr.shape[1:] if channel_axis == 0 else arr.shape[:2]
    log.info("MT_PIPELINE tile_id=%s quality crop rect=(y0=%d, x0=%d, y1=%d, x1=%d)", tile_id, *rect)
    cropped = arr[:, y0:y1, x0:x1] if channel_axis == 0 else arr[y0:y1, x0:x1]
    if coverage is not None and np.shape(coverage) == tuple(hw):
        coverage = np.asarray(coverage)[y0:y1, x0:x1]
    return cropped, coverage


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zemosaic_worker", description="ZeMosaic worker (the original's headless "
                                "entry): build the mosaic of INPUT into OUTPUT.")
    p.add_argument("input_folder", help="folder of FITS frames (or of master tiles with use_existing_master_tiles)")
    p.add_argument("output_folder", help="destination folder")
    p.add_argument("--config", default=None, help="the original's config JSON (translated; other keys ignored)")
    p.add_argument("--max-raw-per-master-tile", dest="max_raw_per_master_tile", type=int, default=None,
                   help="cap raw frames per master tile (0 = automatic)")
    p.add_argument("--coadd_use_memmap", action="store_true", help="accepted, no effect (memmaps are automatic)")
    p.add_argument("--coadd_memmap_dir", default=None, help="accepted, no effect")
    p.add_argument("--coadd_cleanup_memmap", action="store_true", help="accepted, no effect")
    p.add_argument("--no_auto_limit_frames", action="store_true", help="accepted, no effect")
    p.add_argument("--assembly_process_workers", type=int, default=None, help="accepted, no effect")
    p.add_argument("-W", "--winsor-workers", dest="winsor_workers", type=int, default=None,
                   help="accepted, no effect")
    p.add_argument("--solver-settings", dest="solver_settings", default=None, help="accepted, no effect")
    return p



def _read_original_config(path: str | None) -> dict[str, Any]:
    return {} if path is None else read_config_json(path)


def _run(input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig, translation: _compat.Translation) -> int:
    from zemosaic.cli import ProgressPrinter

    start = time.perf_counter()
    try:
        with ProgressPrinter() as printer:
            result = run_mosaic(input_dir, output_dir, cfg, progress_callback=_LogFirst(printer, translation),
                                overwrite=True)
    except RunFolderError as exc:
        print(f"zemosaic_worker: error: {exc}", file=sys.stderr)
        return 2
    except NothingUsableError as exc:
        print(f"zemosaic_worker: nothing usable: {exc}", file=sys.stderr)
        return 1
    except MosaicRefusedError as exc:
        print(f"zemosaic_worker: mosaic refused: {exc}", file=sys.stderr)
        return 4
    except RunInterrupted as exc:
        print(f"zemosaic_worker: {exc}; temporary files removed", file=sys.stderr)
        return 143 if exc.signal_name == "SIGTERM" else 130
    except OSError as exc:  # a file-system refusal (disk full, permissions): one line naming the file
        print(f"zemosaic_worker: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    print(result.summary_text(elapsed_s=time.perf_counter() - start))
    return 0


class _LogFirst:
    """Relays progress events; at the first one, when the run's log file is open, logs the translation."""

    def __init__(self, relay, translation: _compat.Translation):
        self._relay = relay
        self._translation: _compat.Translation | None = translation

    def __call__(self, event) -> None:
        if self._translation is not None:
            _compat.log_translation(self._translation, log, once=False)
            self._translation = None
        self._relay(event)


if __name__ == "__main__":
    sys.exit(main())
