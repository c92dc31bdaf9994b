"""The run's mode (``mode = auto | tiles | grid | sds``) and the GRID / SDS paths from scanned frames to the tiles
that Phases 4.5 to 6 co-add.

* ``tiles``: master tiles (Phases 2-3, :mod:`zemosaic.pipeline.run`); the mission's coverage mask is active.
* ``grid``: :mod:`zemosaic.pipeline.grid_mode`; chosen by ``auto`` when the input folder holds ``stack_plan.csv``
  (:mod:`zemosaic.pipeline.stack_plan`), whose frames are then the run's frames.
* ``sds``: :mod:`zemosaic.pipeline.sds_mode`; on failure the run falls back to master tiles and logs
  ``sds_and_mosaic_first_failed_fallback_mastertiles`` with the reason.

In GRID and SDS, Phase 3 does not run, so the master-tile lecropper coverage path is a no-op: one log line says
so. Both hand Phase 4 their tiles on the global grid they were stacked on, with the per-pixel frame count as the
mosaic's weight (the WEIGHT product is the coverage count). ``--resume`` reuses the mode's tiles when its manifest
(every input frame, its WCS and the settings) matches.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic.config import ZeMosaicConfig
from zemosaic.io import fits as fits_io
from zemosaic.io.atomic import atomic_write_bytes
from zemosaic.masks import CoverageDecision
from zemosaic.mosaic.grid import grid_for_footprints
from zemosaic.mosaic.tiles import tile_input_from_written
from zemosaic.pipeline import frame_records, global_frames, grid_mode, mode_quality, sds_mode
from zemosaic.pipeline import resume as tile_resume
from zemosaic.pipeline.errors import NothingUsableError
from zemosaic.pipeline.mosaic_phases import MosaicRefusedError, check_mosaic_sanity
from zemosaic.pipeline.report import RunReport, TileReport, phase_timer
from zemosaic.pipeline.stack_plan import StackPlan, find_stack_plan, load_stack_plan
from zemosaic.progress import ProgressCallback

__all__ = ["ModeTiles", "resolve_mode", "run_frame_mode", "scan_plan_frames"]

log = logging.getLogger(__name__)

_RUN_MODES = {"tiles": "master_tiles", "grid": "grid", "sds": "sds"}
MODE_MANIFEST = "mode_manifest.json"
FALLBACK_TAG = "sds_and_mosaic_first_failed_fallback_mastertiles"


@dataclass
class ModeTiles:
    """What a mode hands to Phase 4: the tiles, the grid they lie on (None: Phase 4 computes it) and the weight
    map to write as the mosaic's WEIGHT (None: the co-addition's)."""

    tiles: list
    grid: Any = None
    weight_map: np.ndarray | None = None
    sky_frames: list = field(default_factory=list)  # master tiles built here: their frames (Phase 5.5 motion)


def resolve_mode(cfg: ZeMosaicConfig, input_dir: Path) -> tuple[str, Path | None]:
    """The run's mode (``master_tiles``, ``existing_master_tiles``, ``grid`` or ``sds``) and the stack plan found."""
    if cfg.use_existing_master_tiles_mode:
        return "existing_master_tiles", None
    plan = find_stack_plan(input_dir)
    if cfg.mode == "auto":
        return ("grid" if plan is not None else "master_tiles"), plan
    return _RUN_MODES[cfg.mode], plan


def scan_plan_frames(plan_path: Path, input_dir: Path, report: RunReport, progress_callback, scan_paths
                     ) -> tuple[list, StackPlan]:
    """Phase 1 for a stack plan: the plan's frames (headers read by ``scan_paths(paths)``), its rejected rows
    reported with their line number, the folder's other FITS files listed as ignored."""
    log.info("[GRID] %s found in the input folder: its frames are the run's (%s mode)", plan_path.name,
             report.mode)
    plan = load_stack_plan(plan_path)
    for row in plan.rejected:
        report.reject(row.path if str(row.path) not in ("", ".") else plan.path, row.reason or "", "stack_plan")
    listed = {p.resolve() for p in plan.paths}
    others = [p for p in sorted(input_dir.iterdir()) if p.is_file() and p.resolve() not in listed
              and p.suffix.lower() in (".fit", ".fits", ".fts")]
    for path in others:
        report.input_files.append({"path": str(path), "status": "ignored", "reason": "not listed in stack_plan.csv"})
    return scan_paths(plan.paths), plan


def run_frame_mode(mode: str, frames: list, plan: StackPlan | None, output_dir: Path, cfg: ZeMosaicConfig,
                   report: RunReport, progress_callback: ProgressCallback | None, resume: bool,
                   tiles_from_frames: Callable[[list], list]) -> ModeTiles:
    """GRID or SDS from the scanned frames (with WCS); SDS falls back to ``tiles_from_frames(frames)`` (Phases 2-3)
    when it fails."""
    if mode == "grid":
        log.info("[GRID] Invoking grid_mode.run_grid_mode(...): no Phase 3 (master tiles are not built); the "
                 "master-tile lecropper coverage path is a no-op in GRID mode")
        return _frames_to_tiles("grid", frames, plan, output_dir, cfg, report, progress_callback, resume)

    log.info("[SDS] mosaic-first: frames stacked per pixel on the global grid")
    try:
        built = _frames_to_tiles("sds", frames, plan, output_dir, cfg, report, progress_callback, resume)
    except MosaicRefusedError:  # an absurd mosaic is refused in every mode
        raise
    except (sds_mode.SdsFailed, ValueError, RuntimeError, ArithmeticError, LookupError, fits_io.FitsInputError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("%s: SDS (mosaic-first) failed: %s; building master tiles instead (Phase 3, coverage mask "
                    "active)", FALLBACK_TAG, reason)
        report.mode = "master_tiles"
        report.mode_info = {"requested": "sds", "fallback": FALLBACK_TAG, "reason": reason}
        _clear_mode_tiles(output_dir / "master_tiles")
        return ModeTiles(tiles_from_frames(frames))
    log.info("[SDS] Phase 5 polish on global SDS mosaic (skipping master tiles); the master-tile lecropper "
             "coverage path is a no-op in SDS mode")
    return built


def _frames_to_tiles(mode: str, frames: list, plan: StackPlan | None, output_dir: Path, cfg: ZeMosaicConfig,
                     report: RunReport, progress_callback, resume: bool) -> ModeTiles:

    tiles_dir = output_dir / "master_tiles"
    with phase_timer(report, f"2_{mode}_grid"):
        grid = grid_for_footprints([(tuple(f.info.shape[:2]), f.info.wcs) for f in frames])
        _check_estimate(grid, frames, cfg, report)
    log.info("[%s] global grid %d x %d px at %.3f arcsec/px for %d frame(s)", mode.upper(), grid.shape[1],
             grid.shape[0], grid.pixel_scale_arcsec, len(frames))
    digest = _inputs_digest(frames, cfg, mode)
    manifest = _reused(tiles_dir, digest) if resume else None
    if manifest is None:
        records, judged = _build_records(mode, frames, plan, grid, output_dir, tiles_dir, cfg, report,
                                         progress_callback, (digest, resume))
        _write_manifest(tiles_dir, digest, records, judged)
    else:
        records, judged = list(manifest["records"]), manifest.get("judged", {})
        log.info("resume: %d %s tile(s) reused (inputs and settings unchanged)", len(records), mode)
        report.resume = {"reused": [r["tile_id"] for r in records], "rebuilt": []}
        for path, reason, phase in judged.get("rejected", []):
            report.reject(path, reason, phase)
    frame_records.record_quality(report, output_dir, frames, [(g, r) for g, r in judged.get("quality", [])])
    return _hand_over(records, grid, report, mode)


def _build_records(mode, frames, plan, grid, output_dir, tiles_dir, cfg, report, progress_callback, resuming
                   ) -> tuple[list[dict], dict]:
    """Align, judge (the frame-quality gate) and stack; the tile records and what the gate judged (``quality``
    records, ``rejected`` inputs), which the manifest keeps for ``--resume``. ``resuming``: (the inputs' digest,
    ``--resume``): a resumed GRID run reuses the grid tiles whose inputs are unchanged
    (:func:`zemosaic.pipeline.grid_mode.stack_grid_tiles`)."""
    digest, resume = resuming
    reuse = resume and mode == "grid"
    if not reuse:
        _clear_mode_tiles(tiles_dir)
    (tiles_dir / MODE_MANIFEST).unlink(missing_ok=True)  # written again once every tile is done
    with phase_timer(report, f"3_{mode}_align"):
        frameset = global_frames.align_frames_to_grid(frames, grid, cfg, output_dir, progress_callback)
    with frameset:
        rejected = [(str(path), reason, mode) for path, reason in frameset.failed]
        with phase_timer(report, f"3_{mode}_quality"):
            gate = mode_quality.gate_frames(frameset, cfg, mode.upper())
        rejected += [(str(path), reason, "frame_quality") for path, reason in gate.rejected]
        for path, reason, phase in rejected:
            report.reject(path, reason, phase)
        with phase_timer(report, f"3_{mode}_stack"):
            if mode == "grid":
                if not frameset.frames:
                    raise NothingUsableError("no frame could be aligned on the global grid (see run_report.json)")
                keys = grid_mode.TileKeys(digest["config_digest"], {
                    r["path"]: r["sha256"] + r["wcs_sha256"] for r in digest["inputs"]["frames"]})
                records = grid_mode.stack_grid_tiles(frameset, cfg, tiles_dir, progress_callback, gate.factors, keys,
                                                     reuse)
                report.mode_info = {"n_grid_tiles": len(records)}
                if reuse:
                    _resumed_grid(records, tiles_dir, report)
            else:
                batches = {str(r.path): r.batch for r in plan.rows} if plan is not None and any(
                    r.batch for r in plan.rows) else None
                records, summary = sds_mode.stack_sds_batches(frameset, cfg, tiles_dir, batches, progress_callback,
                                                              gate.factors)
                report.mode_info = summary
    report.mode_info["frame_quality"] = gate.summary
    if not records:
        if mode == "sds":
            raise sds_mode.SdsFailed("no tile could be stacked")
        raise RuntimeError("[GRID] no tile stacked")
    return records, {"quality": gate.records, "rejected": rejected}


def _resumed_grid(records: list[dict], tiles_dir: Path, report: RunReport) -> None:
    """After a resumed GRID stack: the tiles reused and rebuilt in the report and the log; the earlier run's tiles
    that are no grid tile of this run removed."""
    reused = [r["tile_id"] for r in records if r.get("reused")]
    report.resume = {"reused": reused, "rebuilt": [r["tile_id"] for r in records if not r.get("reused")]}
    log.info("resume: %d grid tile(s) reused, %d stacked", len(reused), len(records) - len(reused))
    kept = {Path(r["path"]).name for r in records}
    for path in tiles_dir.glob("master_tile_*.fits"):
        if path.name not in kept:
            path.unlink()
            log.info("resume: %s removed (not a grid tile of this run)", path.name)


def _hand_over(records: list[dict], grid, report: RunReport, mode: str) -> ModeTiles:

    tiles: list = []
    weight = np.zeros(grid.shape, dtype=np.float32)
    for rec in records:
        tiles.append(tile_input_from_written(rec["path"], len(tiles), shape=rec["shape"], n_frames=rec["n_frames"]))
        tr = TileReport(tile_id=rec["tile_id"], path=rec["path"], frames_in_group=len(rec["frames"]),
                        frames_used=len(rec["frames"]), shape=list(rec["shape"]), stack=rec.get("stack", {}),
                        coverage_decision=CoverageDecision.not_used(
                            "no_master_tiles", f"{mode}: no Phase 3, the master-tile coverage mask is not applied"
                        ).reason,
                        frames=[{"path": p, "method": "wcs"} for p in rec["frames"]])
        report.tiles.append(tr)
        _add_coverage(weight, rec["path"], mode)
    report.groups = [{"tile_id": r["tile_id"], "n_frames": len(r["frames"]), "region": r.get("region"),
                      "batch": r.get("batch")} for r in records]
    return ModeTiles(tiles, grid, weight)


def _add_coverage(weight: np.ndarray, path: str, mode: str) -> None:
    """The tile's COVERAGE on the grid: SDS batches add up (different frames), GRID tiles overlap with the same
    frames (the largest count is the pixel's)."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        y0, x0 = int(hdul[0].header["GRIDY0"]), int(hdul[0].header["GRIDX0"])
        cov = np.asarray(hdul["COVERAGE"].data, dtype=np.float32)
    view = weight[y0:y0 + cov.shape[0], x0:x0 + cov.shape[1]]
    if mode == "sds":
        view += cov
    else:
        np.maximum(view, cov, out=view)


def _check_estimate(grid, frames, cfg: ZeMosaicConfig, report: RunReport) -> None:

    footprints = [(tuple(f.info.shape[:2]), f.info.wcs) for f in frames]
    check_mosaic_sanity(grid, footprints, max(f.info.n_channels for f in frames), cfg, report, stage="frames")


def _inputs_digest(frames: list, cfg: ZeMosaicConfig, mode: str) -> dict:
    inputs = tile_resume.inputs_record(frames, 0)
    return {"mode": mode, "config_digest": _config_digest(cfg), "inputs": inputs}


_NOT_MODE_KEYS = ("output_", "export_", "colour_")  # keys that act after the mode's tiles only


def _config_digest(cfg: ZeMosaicConfig) -> str:
    """SHA-256 of the settings that shape GRID / SDS tiles: the master tiles' keys (``resume.config_digest``) plus
    the quality gate's (judged here on the frames) and ``harmonize_*`` / ``assembly_*`` (the frames' photometric
    solve and their resampling onto the grid)."""
    keys = {f.name: getattr(cfg, f.name) for f in fields(cfg)
            if f.name not in tile_resume.NOT_TILE_KEYS and not f.name.startswith(_NOT_MODE_KEYS)}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _write_manifest(tiles_dir: Path, digest: dict, records: list[dict], judged: dict) -> None:
    files = {Path(r["path"]).name: tile_resume.file_sha256(Path(r["path"])) for r in records}
    payload = {**digest, "records": records, "tile_sha256": files, "judged": judged}
    atomic_write_bytes(tiles_dir / MODE_MANIFEST, json.dumps(payload, indent=1).encode("utf-8"))


def _reused(tiles_dir: Path, digest: dict) -> dict | None:
    """The manifest of the mode's tiles when every input, setting and tile file is unchanged, else None."""
    try:
        manifest = json.loads((tiles_dir / MODE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("resume: %s tiles rebuilt (no usable manifest: %s)", digest["mode"], exc)
        return None
    why = None
    if any(manifest.get(k) != v for k, v in digest.items()):
        why = "inputs or settings changed"
    else:
        for name, sha in manifest.get("tile_sha256", {}).items():
            path = tiles_dir / name
            if not path.is_file() or tile_resume.file_sha256(path) != sha:
                why = f"{name} missing or changed"
                break
    if why is not None:
        log.info("resume: %s tiles rebuilt (%s)", digest["mode"], why)
        return None
    return manifest


def _clear_mode_tiles(tiles_dir: Path) -> None:
    """Remove the tiles and manifests an earlier run left in ``tiles_dir`` (ours only)."""
    if not tiles_dir.is_dir():
        return
    for path in tiles_dir.iterdir():
        if path.is_file() and (path.name == MODE_MANIFEST or
                               (path.name.startswith("master_tile_") and path.suffix in (".fits", ".json"))):
            path.unlink()
