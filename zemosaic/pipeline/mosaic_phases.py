"""Phases 4 to 6 of a run: global grid, inter-tile photometric harmony, assembly, outputs.

The maths lives in :mod:`zemosaic.mosaic` (grid, overlaps, harmony solve, co-addition, writing);
this module decides, logs with the phase tags and records
what it did in the run report.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zemosaic import mosaic
from zemosaic.config import ZeMosaicConfig
from zemosaic.pipeline.report import RunReport, phase_timer
from zemosaic.progress import ProgressCallback

__all__ = ["MosaicOutputs", "assemble_mosaic_phases"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MosaicOutputs:
    """Paths and shape of the written mosaic."""

    mosaic_path: Path
    preview_path: Path | None
    shape: tuple[int, ...]


def assemble_mosaic_phases(tiles: Sequence[mosaic.TileInput], output_dir: Path, cfg: ZeMosaicConfig,
                           report: RunReport, progress_callback: ProgressCallback | None = None) -> MosaicOutputs:
    """Run Phases 4, 4.5, 5 and 6 on the master ``tiles`` handed over by Phase 3 (or found in the input folder
    in existing-master-tiles mode).  The pixels are read tile by tile."""
    log.info("PHASE_UPDATE:4 Phase 4: global grid for %d tiles", len(tiles))
    with phase_timer(report, "4_grid"):
        grid = mosaic.compute_global_grid(tiles)
    log.info("Phase 4: mosaic grid %d x %d px", grid.shape[1], grid.shape[0])
    with phase_timer(report, "4.5_harmony"):
        corrections = _harmonise(tiles, grid, cfg, report)
    log.info("PHASE_UPDATE:5 Phase 5: assembly (%s reprojection, tile weight %s)", cfg.assembly_reproject,
             cfg.assembly_tile_weight)
    with phase_timer(report, "5_assembly"):
        result = mosaic.assemble_mosaic(
            tiles, grid, corrections=corrections, method=cfg.assembly_reproject,
            tile_weight=cfg.assembly_tile_weight, memmap_dir=output_dir,
            memmap_threshold_mb=cfg.assembly_memmap_mb, progress_callback=progress_callback)
    log.info("PHASE_UPDATE:6 Phase 6: writing outputs to %s", output_dir)
    with phase_timer(report, "6_outputs"):
        outputs = mosaic.write_mosaic_outputs(result, output_dir, write_preview=cfg.write_preview)
        _drop_master_tiles_if_asked(output_dir, cfg, report)
    covered = float((result.weight > 0).mean())
    report.mosaic = {"path": str(outputs.fits), "shape": list(result.data.shape),
                     "covered_fraction": round(covered, 4), "n_tiles": len(tiles)}
    return MosaicOutputs(outputs.fits, outputs.preview, tuple(result.data.shape))


def _harmonise(tiles, grid, cfg: ZeMosaicConfig, report: RunReport):
    if not cfg.harmonize_enabled or len(tiles) < 2:
        why = "harmonize_enabled=false" if not cfg.harmonize_enabled else "single tile"
        log.info("PHASE_UPDATE:4.5 Phase 4.5: photometric harmony skipped (%s)", why)
        report.harmony = {"applied": False, "reason": why}
        return None
    log.info("PHASE_UPDATE:4.5 Phase 4.5: photometric harmony on tile overlaps (plane=%s)", cfg.harmonize_plane)
    overlaps = mosaic.measure_tile_overlaps(tiles, grid)
    if not overlaps:
        log.info("Phase 4.5: no overlap between tiles; harmony skipped")
        report.harmony = {"applied": False, "reason": "no overlaps"}
        return None
    solution = mosaic.solve_tile_harmony(
        overlaps, len(tiles), n_channels=tiles[0].n_channels, plane=cfg.harmonize_plane, image_shape=grid.shape)
    for k, corr in enumerate(solution.corrections):
        log.info("Phase 4.5: tile %d correction %s", k, corr.as_dict())
    report.harmony = {"applied": True, "plane": cfg.harmonize_plane, "n_overlaps": len(overlaps),
                      **solution.as_dict()}
    return solution.corrections


def _drop_master_tiles_if_asked(output_dir: Path, cfg: ZeMosaicConfig, report: RunReport) -> None:
    tiles_dir = output_dir / "master_tiles"
    if not cfg.keep_master_tiles and tiles_dir.is_dir() and report.mode == "master_tiles":
        shutil.rmtree(tiles_dir)
        log.info("master tiles removed (keep_master_tiles=false)")
