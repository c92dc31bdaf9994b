"""SDS mode (mosaic-first): frames stacked per pixel straight onto the global grid, no master tiles.

1. every frame is resampled onto the global grid ONCE (:func:`zemosaic.pipeline.global_frames.align_frames_to_grid`);
2. the frames are matched photometrically to each other
   (:func:`zemosaic.pipeline.frame_photometry.solve_frame_photometry`), so that a pixel's samples agree before
   rejection;
3. the frames are grouped in batches (:func:`batch_frames`: the plan's ``batch`` column, else nights/sessions
   from the frames' ``DATE-OBS`` separated by more than ``sds_batch_gap_hours``);
4. each batch is stacked per pixel over sky-region chunks of ``sds_chunk_px`` (the stacker of Phase 3, its
   rejection and weighting; normalisation ``none``: the frames are already matched), memory bounded by the chunk
   and ``stack_memory_budget_mb`` whatever the number of frames, and written as one tile on the global grid;
5. Phases 4.5 to 6 match and co-add the batch tiles and write the products as for master tiles.

Any failure raises :class:`SdsFailed` with the reason; the run then falls back to master tiles
(``sds_and_mosaic_first_failed_fallback_mastertiles``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from zemosaic.config import ZeMosaicConfig
from zemosaic.pipeline.frame_photometry import solve_frame_photometry
from zemosaic.pipeline.global_frames import AlignedFrame, FrameSet
from zemosaic.pipeline.region_stack import stack_region, write_region_tile
from zemosaic.progress import ProgressCallback, emit

__all__ = ["SdsBatch", "SdsFailed", "batch_frames", "sds_regions", "stack_sds_batches"]

log = logging.getLogger(__name__)



class SdsFailed(RuntimeError):
    """SDS could not build the mosaic; the message is the reason logged with the fallback to master tiles."""


@dataclass(frozen=True)
class SdsBatch:
    """Frames stacked together (a night, a session or a plan batch): ``key`` names it."""

    key: str
    frames: tuple[AlignedFrame, ...]


def batch_frames(frames: Sequence[AlignedFrame], cfg: ZeMosaicConfig, plan_batches: dict | None = None
                 ) -> list[SdsBatch]:
    """Group frames by the plan's batch column when given, else by time: a gap longer than
    ``sds_batch_gap_hours`` between consecutive ``DATE-OBS`` starts a new batch; frames without a date join the
    first batch. One batch when the data say nothing."""
    if plan_batches:
        keys = [plan_batches.get(str(f.path)) or "plan" for f in frames]
        order = list(dict.fromkeys(keys))
        return [SdsBatch(k, tuple(f for f, fk in zip(frames, keys, strict=True) if fk == k)) for k in order]
    times = [_time(f) for f in frames]
    dated = sorted((t, f.index) for t, f in zip(times, frames, strict=True) if t is not None)
    cut = [0]
    for k in range(1, len(dated)):
        if (dated[k][0] - dated[k - 1][0]) / 3600.0 > cfg.sds_batch_gap_hours:
            cut.append(k)
    groups = [[idx for _, idx in dated[a:b]] for a, b in zip(cut, cut[1:] + [len(dated)], strict=True)] or [[]]
    groups[0] += [f.index for f, t in zip(frames, times, strict=True) if t is None]
    by_index = {f.index: f for f in frames}
    batches = [SdsBatch(f"batch{k}", tuple(by_index[i] for i in sorted(g))) for k, g in enumerate(groups) if g]
    return batches


def _time(frame: AlignedFrame) -> float | None:
    text = getattr(frame.info, "date_obs", None)
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).strip().replace("Z", "")).timestamp()
    except ValueError:
        return None


def sds_regions(shape: tuple[int, int], chunk_px: int) -> list[tuple[int, int, int, int]]:
    """The sky-region chunks ``(y0, y1, x0, x1)`` tiling a canvas of ``shape`` (no overlap)."""
    return [(y, min(y + chunk_px, shape[0]), x, min(x + chunk_px, shape[1]))
            for y in range(0, shape[0], chunk_px) for x in range(0, shape[1], chunk_px)]


def stack_sds_batches(frameset: FrameSet, cfg: ZeMosaicConfig, tiles_dir: Path, plan_batches: dict | None = None,
                      progress_callback: ProgressCallback | None = None,
                      frame_weights: dict[int, float] | None = None) -> tuple[list[dict], dict]:
    """Steps 2-4 of the module docstring: one tile per batch written in ``tiles_dir``; returns the tile records
    and a summary for the run report. ``frame_weights``: the quality gate's factors
    (:mod:`zemosaic.pipeline.mode_quality`).

    Raises
    ------
    SdsFailed
        No frame to stack, or no pixel stacked.
    """
    if not frameset.frames:
        raise SdsFailed("no frame could be aligned on the global grid")
    corrections = solve_frame_photometry(frameset, cfg)
    batches = batch_frames(frameset.frames, cfg, plan_batches)
    log.info("[SDS] %d batch(es): %s", len(batches), ", ".join(f"{b.key}={len(b.frames)}" for b in batches))
    regions = sds_regions(frameset.grid.shape, cfg.sds_chunk_px)
    tiles_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for k, batch in enumerate(batches):
        rec = _stack_batch(k, batch, regions, frameset, (corrections, frame_weights), cfg, tiles_dir,
                           progress_callback)
        if rec is not None:
            records.append(rec)
    if not records:
        raise SdsFailed("no pixel could be stacked on the global grid")
    summary = {"batches": [{"key": b.key, "n_frames": len(b.frames)} for b in batches],
               "chunk_px": cfg.sds_chunk_px, "n_chunks": len(regions),
               "frame_gains": {str(f.path): [round(float(g), 5) for g in corrections[f.index].gain]
                               for f in frameset.frames}}
    return records, summary


def _canvas(shape: tuple[int, int], n_ch: int, cfg: ZeMosaicConfig, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The batch's image (NaN) and coverage (0) on the whole grid: memmaps in the cache folder when larger than
    ``assembly_memmap_mb`` (as Phase 5's accumulators), else in RAM."""
    if shape[0] * shape[1] * (n_ch + 1) * 4 / 2**20 <= cfg.assembly_memmap_mb:
        return np.full(shape + (n_ch,), np.nan, dtype=np.float32), np.zeros(shape, dtype=np.float32)
    image = np.lib.format.open_memmap(folder / "sds_image.npy", mode="w+", dtype=np.float32, shape=shape + (n_ch,))
    image[...] = np.nan
    coverage = np.lib.format.open_memmap(folder / "sds_coverage.npy", mode="w+", dtype=np.float32, shape=shape)
    return image, coverage


def _stack_batch(k: int, batch: SdsBatch, regions, frameset: FrameSet, weighting, cfg: ZeMosaicConfig,
                 tiles_dir: Path, progress_callback) -> dict | None:
    """One batch stacked chunk by chunk; ``weighting``: (photometric corrections, quality-gate factors)."""
    corrections, frame_weights = weighting
    grid = frameset.grid
    n_ch = max(f.n_channels for f in batch.frames)
    sub = FrameSet(grid, list(batch.frames), [], frameset.cache_dir)
    image, coverage = _canvas(grid.shape, n_ch, cfg, frameset.cache_dir)
    rejected = []
    for r, region in enumerate(regions):
        members = sub.touching(region, 1e-9)
        if members:
            res = stack_region(members, region, cfg, normalize_method="none", corrections=corrections,
                               frame_weights=frame_weights)
            y0, y1, x0, x1 = region
            image[y0:y1, x0:x1] = res.image
            coverage[y0:y1, x0:x1] = res.coverage
            rejected.append(res.stack["rejected_fraction"])
        emit(progress_callback, "sds", r + 1, len(regions), f"SDS {batch.key} chunk {r + 1}/{len(regions)}")
    path = tiles_dir / f"master_tile_{k:03d}.fits"
    written = write_region_tile(path, image, coverage, grid, (0, 0), [f.path for f in batch.frames], cfg,
                                mode="sds", tile_id=k, normalize="none (frames matched globally)")
    if written is None:
        return None
    log.info("[SDS] %s: %d frame(s) stacked per pixel in %d chunk(s), rejected %.2f%% (median), written %s",
             batch.key, len(batch.frames), len(regions), 100.0 * (float(np.median(rejected)) if rejected else 0.0),
             path.name)
    return {"tile_id": k, "path": str(written[0]), "shape": list(written[1]), "n_frames": written[2],
            "frames": [str(f.path) for f in batch.frames], "batch": batch.key,
            "region": [0, grid.shape[0], 0, grid.shape[1]], "n_frames_batch": len(batch.frames),
            "rejected_fraction": round(float(np.median(rejected)), 5) if rejected and not math.isnan(
                float(np.median(rejected))) else 0.0}
