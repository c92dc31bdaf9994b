"""Phases 4 to 6 of a run: global grid, inter-tile photometric harmony, assembly, outputs.

The maths lives in :mod:`zemosaic.mosaic` (grid, overlaps, harmony solve, co-addition, writing);
this module decides, logs with the phase tags and records
what it did in the run report.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic import mosaic
from zemosaic.config import ZeMosaicConfig
from zemosaic.io import headers
from zemosaic.mosaic import colour, sky, sky_motion
from zemosaic.mosaic import grid as mosaic_grid
from zemosaic.pipeline import frame_skies
from zemosaic.pipeline.report import RunReport, phase_timer
from zemosaic.progress import ProgressCallback
from zemosaic.stack.frame_cache import check_free_space

__all__ = ["MosaicOutputs", "MosaicRefusedError", "assemble_mosaic_phases", "check_mosaic_sanity"]

log = logging.getLogger(__name__)
_FIRST_LOOK_MIN_FRAMES = 12  # from this many frames, a joint sky fit on half of them may decide a hopeless case
_FIRST_LOOK_MARGIN = 2.5     # ... when all of them would still pin the sky plane 2.5x looser than allowed


class MosaicRefusedError(RuntimeError):
    """The mosaic would be absurd (a memory estimate over ``mosaic_max_memory_mb``, or mostly empty): the run stops
    before allocating it; the one-line message gives the figures and the key that allows it."""


@dataclass(frozen=True)
class MosaicOutputs:
    """Paths and shape of the written mosaic."""

    mosaic_path: Path
    preview_path: Path | None
    shape: tuple[int, ...]


def assemble_mosaic_phases(tiles: Sequence[mosaic.TileInput], output_dir: Path, cfg: ZeMosaicConfig,
                           report: RunReport, progress_callback: ProgressCallback | None = None, *,
                           grid: mosaic.GlobalGrid | None = None, weight_map=None,
                           sky_frames: Sequence[frame_skies.SkyFrame] = ()) -> MosaicOutputs:
    """Run Phases 4, 4.5, 5 and 6 on the master ``tiles`` handed over by Phase 3 (or found in the input folder
    in existing-master-tiles mode).  The pixels are read tile by tile.

    GRID and SDS (:mod:`zemosaic.pipeline.modes`) hand over the ``grid`` their tiles were stacked on (Phase 4 keeps
    it) and ``weight_map``, the per-pixel frame count written as the mosaic's WEIGHT instead of the co-addition's
    weight sum."""
    log.info("PHASE_UPDATE:4 Phase 4: global grid for %d tiles%s", len(tiles),
             "" if grid is None else f" (the {report.mode} grid the tiles were stacked on)")
    with phase_timer(report, "4_grid"):
        grid = grid if grid is not None else mosaic.compute_global_grid(tiles)
        check_mosaic_sanity(grid, [(tuple(t.shape[:2]), t.wcs) for t in tiles], tiles[0].n_channels, cfg, report,
                            stage="tiles")
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
    if weight_map is not None:  # GRID / SDS: the frame count per pixel (the tiles' COVERAGE) is the weight product
        result.weight[...] = np.where(result.weight > 0, weight_map, 0.0)
    sky_model = _remove_mosaic_sky(result, cfg, report, sky_frames)
    calibration = _calibrate_colour(result, cfg, report)
    log.info("PHASE_UPDATE:6 Phase 6: writing outputs to %s", output_dir)
    with phase_timer(report, "6_outputs"):
        h, w = grid.shape
        check_free_space(output_dir, h * w * (tiles[0].n_channels + 1) * 4 + h * w * 4, "writing mosaic.fits")
        outputs = mosaic.write_mosaic_outputs(
            result, output_dir, write_preview=cfg.write_preview,
            header_extra=_mosaic_header(tiles, cfg, report, calibration),
            output_scale=cfg.output_scale, fill_value=float(cfg.output_fill_value),
            export_formats=cfg.export_formats, export_stretch=cfg.export_stretch,
            background=None if sky_model is None else sky_model.background_image,
            presets=cfg.output_presets, crop=cfg.output_crop, alpha_threshold=cfg.altaz_alpha_soft_threshold)
        _drop_master_tiles_if_asked(output_dir, cfg, report)
    framing = outputs.framing
    covered = 1.0 - framing.empty_after
    log.info("Phase 6: framing crop=%s: %d x %d px of %d x %d, empty pixels %.1f%% -> %.1f%%, %d data pixels left "
             "out", framing.mode, framing.shape[1], framing.shape[0], grid.shape[1], grid.shape[0],
             100 * framing.empty_before, 100 * framing.empty_after, framing.data_pixels_dropped)
    shape = list(framing.shape) + list(result.data.shape[2:])
    report.mosaic = {"path": str(outputs.fits), "shape": shape, "assembled_shape": list(result.data.shape),
                     "covered_fraction": round(covered, 4), "n_tiles": len(tiles), "framing": framing.as_dict()}
    if calibration is not None:
        report.mosaic["colour_calibration"] = calibration.as_dict()
    if outputs.presets:
        report.mosaic["presets"] = {name: [str(p) for p in paths] for name, paths in outputs.presets.items()}
    report.mosaic["background"] = {"model": "none"} if sky_model is None else {
        **sky_model.as_dict(), "extension": "BACKGROUND"}
    if outputs.exports:
        report.mosaic["exports"] = [str(p) for p in outputs.exports]
    return MosaicOutputs(outputs.fits, outputs.preview, tuple(shape))


def _mosaic_header(tiles: Sequence[mosaic.TileInput], cfg: ZeMosaicConfig, report: RunReport,
                   calibration: colour.ColourCalibration | None = None):
    """The mosaic's standard keywords: the master tiles' frames and integration summed, earliest start, latest end,
    the keywords they agree on, one HISTORY line per phase."""
    facts = headers.facts_from_products(headers.read_primary_headers(t.path for t in tiles))
    history = headers.mosaic_history(cfg, from_existing_tiles=report.mode == "existing_master_tiles",
                                     output_scale=cfg.output_scale, fill_value=float(cfg.output_fill_value))
    header = headers.product_header(facts, bunit="ADU", bunit_comment="weighted mean of the master tiles",
                                    history=history)
    if calibration is not None:
        for key, value in calibration.header_cards().items():
            header[key] = value
    return header


def check_mosaic_sanity(grid: mosaic.GlobalGrid, footprints, n_channels: int, cfg: ZeMosaicConfig,
                        report: RunReport, *, stage: str) -> dict:
    """Refuse an absurd mosaic before anything of its size is allocated, and record the figures in
    ``report.mosaic_check``.

    ``footprints`` are ``((H, W), wcs)`` of the images the mosaic will hold (the groups' reference frames before
    Phase 3, ``stage="frames"``; the master tiles in Phase 4, ``stage="tiles"``).

    Raises
    ------
    MosaicRefusedError
        The memory estimate (:func:`zemosaic.mosaic.grid.memory_estimate_mb`) exceeds ``cfg.mosaic_max_memory_mb``
        (0 = no limit), or the covered fraction is below ``cfg.mosaic_min_covered_frac`` and
        ``cfg.allow_sparse_mosaic`` is false.
    """
    h, w = grid.shape
    memory_mb = mosaic_grid.memory_estimate_mb(grid.shape, n_channels)
    covered = mosaic_grid.covered_fraction(grid, footprints)
    check = {"stage": stage, "shape": [h, w], "n_channels": n_channels, "memory_estimate_mb": round(memory_mb, 1),
             "covered_fraction_estimate": round(covered, 4), "max_memory_mb": cfg.mosaic_max_memory_mb,
             "min_covered_frac": cfg.mosaic_min_covered_frac, "allow_sparse_mosaic": cfg.allow_sparse_mosaic}
    report.mosaic_check = check
    log.info("mosaic check (%s): %d x %d px, %d channel(s), about %.0f MB, %.2f%% covered", stage, w, h, n_channels,
             memory_mb, 100.0 * covered)
    targets = len(report.targets) if report.targets else 1
    why = f"; the input holds {targets} separate targets (see 'targets' in run_report.json)" if targets > 1 else ""
    if cfg.mosaic_max_memory_mb > 0 and memory_mb > cfg.mosaic_max_memory_mb:
        raise MosaicRefusedError(
            f"mosaic of {w} x {h} px would need about {memory_mb:.0f} MB, over mosaic_max_memory_mb="
            f"{cfg.mosaic_max_memory_mb:.0f} ({100.0 * covered:.2f}% covered){why}; raise it with "
            f"--set mosaic_max_memory_mb=N (0 = no limit) to build it anyway")
    if covered < cfg.mosaic_min_covered_frac and not cfg.allow_sparse_mosaic:
        raise MosaicRefusedError(
            f"mosaic of {w} x {h} px would be only {100.0 * covered:.2f}% covered (mosaic_min_covered_frac="
            f"{cfg.mosaic_min_covered_frac:g}){why}; --set allow_sparse_mosaic=true builds it anyway")
    return check


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


def _remove_mosaic_sky(result: mosaic.MosaicResult, cfg: ZeMosaicConfig, report: RunReport,
                       sky_frames: Sequence[frame_skies.SkyFrame] = ()) -> sky.MosaicSky | None:
    """Phase 5.5: fit and subtract the mosaic's smooth sky in place (``mosaic_background``); the model subtracted
    (None with ``mosaic_background=none``)."""
    if cfg.mosaic_background == "none":
        log.info("PHASE_UPDATE:5.5 Phase 5.5: mosaic background skipped (mosaic_background=none)")
        return None
    how = ("joint fit of the frames' own gradients and the common sky" if cfg.mosaic_background == "motion"
           else "lower envelope of the sky")
    log.info("PHASE_UPDATE:5.5 Phase 5.5: mosaic background (%s, %s)", cfg.mosaic_background, how)
    with phase_timer(report, "5.5_background"), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="zemosaic-sky") as pool:
        # the mosaic's sky samples (every fit reads them) are taken beside the motion model's frames and fit
        samples = pool.submit(sky.sample_mosaic_sky, result.data, result.weight)
        model = _motion_sky(result, sky_frames, report, samples) if cfg.mosaic_background == "motion" else None
        if model is None:
            fallback = "plane" if cfg.mosaic_background == "motion" else cfg.mosaic_background
            model = sky.fit_mosaic_sky(result.data, result.weight, model=fallback, samples=samples.result())
        sky.subtract_mosaic_sky(result.data, model, result.weight)
    log.info("Phase 5.5: %s sky removed: %s", model.model, model.summary())
    return model


def _motion_sky(result: mosaic.MosaicResult, sky_frames: Sequence[frame_skies.SkyFrame], report: RunReport,
                samples: Future) -> sky.MosaicSky | None:
    """The ``motion`` model (:mod:`zemosaic.mosaic.sky_motion`), or None after a log line saying why it falls back
    to the ``plane`` lower envelope (no frames, too few, no rotation to tell the sky's plane from the camera's)."""
    record: dict = {"model": "motion"}
    report.sky_motion = record
    if len(sky_frames) < 3:
        why = ("no frames to fit (existing master tiles, GRID or SDS: only master tiles built in this run keep "
               "their frames)" if not sky_frames else f"only {len(sky_frames)} frames")
        record.update(fallback="plane", reason=why)
        log.info("Phase 5.5: motion sky falls back to the plane lower envelope: %s", why)
        return None
    groups = np.array([f.tile for f in sky_frames])
    spread, no_rotation = sky_motion.rotation_check(frame_skies.frame_jacobians(sky_frames, result.grid.wcs), groups)
    if no_rotation is not None:  # known from the WCS: no frame is read
        record.update(identified=False, reason=no_rotation, frames=len(sky_frames),
                      rotation_spread_deg=round(spread, 3), fallback="plane")
        log.info("Phase 5.5: motion sky falls back to the plane lower envelope: %s", no_rotation)
        return None
    cells, node_step, early = _first_look(sky_frames, result.grid.wcs)
    if early is not None:
        record.update(early.as_dict(), fallback="plane")
        log.info("Phase 5.5: joint sky fit: %s", early.summary())
        log.info("Phase 5.5: motion sky falls back to the plane lower envelope: %s", early.reason)
        return None
    if len(cells) < 3:
        record.update(fallback="plane", reason="fewer than 3 frames readable")
        log.info("Phase 5.5: motion sky falls back to the plane lower envelope: fewer than 3 frames readable")
        return None
    try:
        joint = sky_motion.fit_motion_sky(cells, node_step=node_step)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:  # a singular or degenerate system
        record.update(fallback="plane", reason=f"joint fit failed: {exc}")
        log.warning("Phase 5.5: motion sky falls back to the plane lower envelope: joint fit failed: %s", exc)
        return None
    record.update(joint.as_dict())
    log.info("Phase 5.5: joint sky fit: %s", joint.summary())
    if not joint.identified:
        record.update(fallback="plane")
        log.info("Phase 5.5: motion sky falls back to the plane lower envelope: %s", joint.reason)
        return None
    return sky.fit_mosaic_sky_to(result.data, result.weight, joint, samples=samples.result())


def _first_look(sky_frames: Sequence[frame_skies.SkyFrame], grid_wcs) -> tuple[list, float, Any]:
    """The frames' cells and the sky's node step, read in two halves when there are enough frames: a joint fit on
    every other frame (each tile keeps its rotation) decides a hopeless case before the other half is read and the
    larger system solved. The third item is that first fit when even all the frames would pin the sky's plane
    ``_FIRST_LOOK_MARGIN`` times more loosely than allowed (its uncertainty goes as one over the square root of the
    frames), else None."""
    first = list(sky_frames[::2]) if len(sky_frames) >= _FIRST_LOOK_MIN_FRAMES else list(sky_frames)
    rest = list(sky_frames[1::2]) if len(first) < len(sky_frames) else []
    cells, cell = frame_skies.motion_frame_cells(first, grid_wcs)
    node_step = cell * frame_skies.frame_to_grid_scale(sky_frames[0].wcs, grid_wcs)
    if not rest or len(cells) < 3:
        return cells + (frame_skies.motion_frame_cells(rest, grid_wcs)[0] if rest else []), node_step, None
    try:
        look = sky_motion.fit_motion_sky(cells, node_step=node_step)
    except (RuntimeError, ValueError, np.linalg.LinAlgError):
        look = None  # decided on all the frames
    if look is not None and not look.identified and np.isfinite(look.plane_span_frac):
        expected = look.plane_span_frac * np.sqrt(len(cells) / (len(cells) + len(rest)))
        if expected > _FIRST_LOOK_MARGIN * sky_motion.MAX_PLANE_SPAN:
            why = (f"{look.reason} (a first fit on {len(cells)} of the {len(cells) + len(rest)} frames: all of "
                   f"them would pin it to about {100 * expected:.1f} % only; the other frames are not read)")
            return cells, node_step, dataclasses.replace(look, reason=why)
    return cells + frame_skies.motion_frame_cells(rest, grid_wcs)[0], node_step, None


def _calibrate_colour(result: mosaic.MosaicResult, cfg: ZeMosaicConfig,
                      report: RunReport) -> colour.ColourCalibration | None:
    """Phase 5.6: white balance on the stars (``colour_calibration``), in place; the calibration measured (None
    when off or for a mono mosaic)."""
    if cfg.colour_calibration == "none" or result.data.ndim != 3:
        why = "colour_calibration=none" if cfg.colour_calibration == "none" else "mono mosaic"
        log.info("PHASE_UPDATE:5.6 Phase 5.6: colour calibration skipped (%s)", why)
        return None
    catalogue = colour.read_colour_catalogue(cfg.colour_catalogue) if cfg.colour_catalogue else None
    log.info("PHASE_UPDATE:5.6 Phase 5.6: colour calibration on the stars (white reference: %s)",
             "solar-type stars of " + cfg.colour_catalogue if catalogue is not None else "their average colour")
    with phase_timer(report, "5.6_colour"):
        covered = result.weight > 0
        calibration = colour.calibrate_star_colours(result.data, covered, wcs=result.grid.wcs,
                                                    catalogue=catalogue)
        calibration.apply(result.data, covered)
    log.info("Phase 5.6: reference %s; %d stars, G/R %.3f G/B %.3f measured; factors R %.4f G %.4f B %.4f about "
             "the sky (%.1f, %.1f, %.1f)%s", calibration.reference, calibration.n_stars, calibration.measured[0],
             calibration.measured[2], *calibration.factors, *calibration.sky,
             f"; not applied: {calibration.reason}" if calibration.reason else "")
    return calibration


def _drop_master_tiles_if_asked(output_dir: Path, cfg: ZeMosaicConfig, report: RunReport) -> None:
    tiles_dir = output_dir / "master_tiles"
    if not cfg.keep_master_tiles and tiles_dir.is_dir() and report.mode in ("master_tiles", "grid", "sds"):
        shutil.rmtree(tiles_dir)
        log.info("master tiles removed (keep_master_tiles=false)")
